import { defineScenario, durations, higher, lower, none, type ScenarioContext } from './define.js';
import type { Params } from '../lab/agent/protocol.js';
import { PROG_METRICS, PROG_METRICS_NOTE } from './prog-metrics.js';

const TRIG = 'Andrii Nakryiko, "[PATCH bpf-next 3/3] selftest/bpf: add BPF triggering benchmark", bpf list 2020-05-08 (selftests/bpf/benchs/bench_trigger.c)';
const TRIG_SETUP = 'Xeon E5-2680 v4 @ 2.4 GHz, bare metal, `bench -w2 -d5 -a trig-*`, producer loops on getpgid(), program increments a counter; ratio = variant M/s ÷ trig-base M/s (base 9.200 M/s)';

/** Shared by kprobe-overhead and tracepoint-overhead: one driver (bpf/drivers/trigger.c) attaching one program at a time. */
export async function runTrigger(ctx: ScenarioContext, p: Params, variants: string[]): Promise<void> {
  const d = durations(ctx.quick);
  await ctx.runDriver('trigger', [
    '--variants', variants.join(','), '--producers', p.producers as number,
    '--warmup', d.warmup, '--duration', d.duration, '--interval-ms', d.intervalMs,
  ]);
}

export const TRIGGER_METRICS = {
  syscalls_per_s: higher('calls/s'), ns_per_call: lower('ns'), overhead_ns: lower('ns'), overhead_pct: lower('%'), ratio_to_baseline: higher('ratio'),
  calls_made: none('calls'), records_counted: none('calls'),
  ...PROG_METRICS,
};

export function triggerReference(variant: string, value: number, bench: string) {
  return { metric: 'ratio_to_baseline', variant, params: { producers: 1 }, value, unit: 'ratio', source: TRIG, setup: `${TRIG_SETUP}; ${bench}` };
}

export default defineScenario({
  id: 'kprobe-overhead',
  title: 'kprobe / kretprobe / fentry / fexit: ns added per getpgid() call',
  description:
    'Native producer threads loop on getpgid(); one program at a time (kprobe, kretprobe, fentry, fexit on the getpgid syscall ' +
    'function resolved from /proc/kallsyms, e.g. __x64_sys_getpgid) adds one to a global counter with an atomic add, the work of the kernel bench\'s trig-* programs. ' +
    'The baseline variant runs the same loop with nothing attached, first and again last, in the same driver run; overhead_ns = ' +
    'ns_per_call − ns per call at the mean baseline rate (both phases, which cancels slow host drift). fentry/fexit run only where the kernel supports tracing programs. calls_made must equal records_counted.' + PROG_METRICS_NOTE,
  requires: { kernel: '5.5', programs: ['kprobe'], config: ['BPF_EVENTS', 'FTRACE_SYSCALLS', 'KPROBES', 'KPROBE_EVENTS'] },
  covers: [{ entry: 'kprobe', variants: ['kprobe', 'kretprobe'] }, { entry: 'fentry', variants: ['fentry', 'fexit'] }],
  params: { producers: [1, 2] },
  quickParams: { producers: [1] },
  metrics: TRIGGER_METRICS,
  baseline: 'baseline',
  estimateS: (_p, quick) => { const d = durations(quick); return 6 * (d.warmup + d.duration) + 5; },
  async run(ctx, p) {
    const tracing = ctx.features?.programs.tracing !== false;
    if (!tracing) for (const v of ['fentry', 'fexit']) ctx.skipVariant(v, 'the kernel lacks tracing programs (fentry/fexit)');
    await runTrigger(ctx, p, ['baseline', 'kprobe', 'kretprobe', ...(tracing ? ['fentry', 'fexit'] : [])]);
  },
  references: [
    triggerReference('kprobe', 0.699, 'trig-kprobe 6.431 M/s'),
    triggerReference('fentry', 0.973, 'trig-fentry 8.955 M/s'),
  ],
});
