import { defineScenario, durations, higher, lower, none, ScenarioSkip, unmetRequirement, type Requirements } from './define.js';
import { PROG_METRICS, PROG_METRICS_NOTE } from './prog-metrics.js';

/** What each hook needs beyond the scenario's own requirements; a run on a kernel without it is skipped with the reason. */
const HOOK_NEEDS: Record<string, Requirements> = {
  kprobe: {},
  kprobe_multi: { kernel: '5.18' },
  tracepoint: {},
  fentry: { programs: ['tracing'] },
  // freplace links into a program that is already loaded (the dispatcher's slots): 5.10
  xdp: { kernel: '5.10', programs: ['xdp'] },
};
export const MULTIPROG_HOOKS = Object.keys(HOOK_NEEDS);

export default defineScenario({
  id: 'multi-program-attachment',
  title: '1 to 16 programs on one hook: ns added per call, and per program, as programs are added',
  description:
    'One native producer loops on getpgid(); `programs` copies of the same program, each loaded from its own copy of the ' +
    'object so it counts into its own global with one atomic add (the kernel bench\'s trig-* work), are attached to one hook: ' +
    'hook=kprobe (the getpgid syscall function resolved from /proc/kallsyms, e.g. __x64_sys_getpgid; several kprobes on one ' +
    'address share one aggregated kprobe), kprobe_multi (one kprobe.multi link per program on that function: fprobe, 5.18+ ' +
    'and CONFIG_FPROBE), tracepoint (syscalls/sys_enter_getpgid: the programs share the event\'s program array), fentry (one ' +
    'BPF trampoline calling every program). hook=xdp: several XDP programs on one hook need a dispatcher; the lab builds the ' +
    'one libxdp\'s design uses, without libxdp: an XDP program calling a row of global stub functions, each replaced by one ' +
    'program with freplace (BPF_PROG_TYPE_EXT); every program returns XDP_PASS so the packet goes through all of them. The ' +
    'dispatcher runs with BPF_PROG_TEST_RUN (10000 repetitions per call, a 64-byte frame; timed by the kernel: its run time per repetition, because each call with repeat > 1 also swaps the kernel\'s own XDP dispatcher to the program and back), not on a device: one call is one ' +
    'packet through the chain, and its baseline is the dispatcher alone (no slot called). The baseline (nothing attached) runs ' +
    'first and again last in the same driver run; overhead_ns = ns_per_call − ns per call at the mean baseline rate, and ' +
    'overhead_ns_per_program = overhead_ns ÷ programs: constant across `programs` when the cost grows linearly. Accounting: ' +
    'calls_made (calls while the programs were attached), records_counted once per program (repetition = the program\'s ' +
    'index; each must equal calls_made) and programs_miscounted (how many do not).' + PROG_METRICS_NOTE,
  requires: { kernel: '5.5', programs: ['kprobe', 'tracepoint'], config: ['BPF_EVENTS', 'FTRACE_SYSCALLS', 'KPROBES', 'KPROBE_EVENTS'] },
  params: { hook: MULTIPROG_HOOKS, programs: [1, 2, 4, 8, 16] },
  quickParams: { hook: MULTIPROG_HOOKS, programs: [1, 4, 16] },
  metrics: {
    calls_per_s: higher('calls/s'), ns_per_call: lower('ns'), overhead_ns: lower('ns'), overhead_pct: lower('%'),
    ratio_to_baseline: higher('ratio'), overhead_ns_per_program: lower('ns'),
    calls_made: none('calls'), records_counted: none('calls'), programs_miscounted: none('programs'),
    ...PROG_METRICS,
  },
  baseline: 'baseline',
  // three phases, plus loading a copy of the object per program (each parses the kernel's BTF under TCG for fentry)
  estimateS: (p, quick) => { const d = durations(quick); return 3 * (d.warmup + d.duration) + 10 + Number(p.programs); },
  async run(ctx, p) {
    const hook = String(p.hook);
    const needs = HOOK_NEEDS[hook];
    if (!needs) throw new Error(`unknown hook '${hook}' (valid: ${MULTIPROG_HOOKS.join(', ')})`);
    const why = unmetRequirement(needs, ctx.release, ctx.features);
    if (why) throw new ScenarioSkip(`hook ${hook}: ${why}`);
    const d = durations(ctx.quick);
    await ctx.runDriver('multiprog', [
      '--hook', hook, '--programs', Number(p.programs), '--repeat', 10000,
      '--warmup', d.warmup, '--duration', d.duration, '--interval-ms', d.intervalMs,
    ]);
  },
  references: [],
  covers: [{ entry: 'multi-program' }],
});
