import { defineScenario, durations } from './define.js';
import { runTrigger, TRIGGER_METRICS, triggerReference } from './kprobe-overhead.js';
import { PROG_METRICS_NOTE } from './prog-metrics.js';

export default defineScenario({
  id: 'tracepoint-overhead',
  title: 'tracepoint / raw_tracepoint: ns added per getpgid() call',
  description:
    'Native producer threads loop on getpgid(); one program at a time counts the calls with one atomic add (the kernel bench\'s trig-* work): a tracepoint ' +
    'program on syscalls/sys_enter_getpgid, or a raw_tracepoint on sys_enter filtered to the getpgid syscall number (it fires ' +
    'on every syscall of every process). The baseline (nothing attached) is measured first and again last in the same driver run; ' +
    'ratio_to_baseline = variant calls/s ÷ baseline calls/s per interval.' + PROG_METRICS_NOTE,
  requires: { kernel: '5.5', programs: ['tracepoint', 'raw_tracepoint'], config: ['BPF_EVENTS', 'FTRACE_SYSCALLS'] },
  covers: [{ entry: 'tracepoint', variants: ['tracepoint'] }, { entry: 'raw-tracepoint', variants: ['raw_tracepoint'] }],
  params: { producers: [1, 2] },
  quickParams: { producers: [1] },
  metrics: TRIGGER_METRICS,
  baseline: 'baseline',
  estimateS: (_p, quick) => { const d = durations(quick); return 4 * (d.warmup + d.duration) + 5; },
  async run(ctx, p) {
    await runTrigger(ctx, p, ['baseline', 'tracepoint', 'raw_tracepoint']);
  },
  references: [
    triggerReference('tracepoint', 0.727, 'trig-tp 6.690 M/s'),
    triggerReference('raw_tracepoint', 0.932, 'trig-rawtp 8.571 M/s'),
  ],
});
