import { defineScenario, durations, higher, lower, none } from './define.js';
import { PROG_METRICS, PROG_METRICS_NOTE } from './prog-metrics.js';

const NAKRYIKO = 'Andrii Nakryiko, "bpf: add BPF ringbuf and perf buffer benchmarks", bpf list 2020-05-29 (selftests/bpf/benchs/bench_ringbufs.c)';
const SETUP = 'Xeon E5-2680 v4 @ 2.4 GHz, bare metal, fentry on getpgid, batch 500 x 8 B records, perf buffer 128 pages/CPU';
const REF = { hook: 'fentry', recordSize: 8, batch: 500, producers: 1 };

export default defineScenario({
  id: 'perfbuf-throughput',
  title: 'BPF perf buffer: events/s kernel → user',
  description:
    'The method of the kernel selftests\' perfbuf bench (pb-libbpf in bench_ringbufs.c): a program on the getpgid syscall ' +
    '(hook=fentry, the bench\'s; or hook=tracepoint, without a published counterpart) writes `batch` 8-byte records per call with ' +
    'bpf_perf_event_output into the calling CPU\'s buffer of a BPF_MAP_TYPE_PERF_EVENT_ARRAY (128 pages per CPU); one consumer on ' +
    'CPU 0 drains every CPU with libbpf perf_buffer__poll. placement and wakeup as in ringbuf-throughput; sampled sets ' +
    'perf_event_attr sample_period = wakeup_events = 500, as the bench does. drops_per_s is the program\'s count of failed outputs; ' +
    'records_lost_reported is what PERF_RECORD_LOST told the consumer (late). The baseline variant runs the producers with nothing attached.' + PROG_METRICS_NOTE,
  requires: { kernel: '4.4', maps: ['perf_event_array'], programs: ['tracepoint'], helpers: ['perf_event_output'], config: ['BPF_EVENTS', 'FTRACE_SYSCALLS', 'PERF_EVENTS'] },
  covers: [{ entry: 'perfbuf', variants: ['perfbuf'] }, { entry: 'map:perf_event_array', variants: ['perfbuf'] }],
  params: {
    recordSize: [8, 1024],
    batch: [1, 500],
    producers: [1],
    wakeup: ['every', 'sampled'],
    placement: ['parallel', 'back-to-back'],
    hook: ['fentry', 'tracepoint'],
  },
  quickParams: { recordSize: [8], batch: [500], producers: [1], wakeup: ['every'], placement: ['parallel'], hook: ['fentry'] },
  excluded: (p) => {
    if (p.placement === 'back-to-back' && p.producers !== 1) return 'back-to-back takes one producer: the consumer triggers each batch';
    if (p.hook === 'tracepoint' && (p.recordSize !== 8 || p.batch !== 500)) return 'the tracepoint hook is measured at the published shape only (8 B x 500)';
    return undefined;
  },
  metrics: {
    events_per_s: higher('events/s'), drops_per_s: lower('events/s'), mb_per_s: higher('MB/s'), syscalls_per_s: higher('calls/s'),
    records_produced: none('records'), records_consumed: none('records'), records_dropped: none('records'), records_lost_reported: none('records'),
    ...PROG_METRICS,
  },
  baseline: 'baseline',
  estimateS: (_p, quick) => { const d = durations(quick); return 2 * (d.warmup + d.duration) + 5; },
  async run(ctx, p) {
    const d = durations(ctx.quick);
    await ctx.runDriver('perfbuf', [
      '--record-size', p.recordSize as number, '--batch', p.batch as number, '--producers', p.producers as number,
      '--wakeup-every', p.wakeup === 'sampled' ? 500 : 0, '--placement', p.placement as string, '--hook', p.hook as string,
      '--warmup', d.warmup, '--duration', d.duration, '--interval-ms', d.intervalMs,
    ]);
  },
  references: [
    { metric: 'events_per_s', variant: 'perfbuf', params: { ...REF, wakeup: 'every', placement: 'parallel' }, value: 0.931e6, unit: 'events/s', source: NAKRYIKO, setup: `${SETUP}; pb-libbpf, 1 producer, parallel` },
    { metric: 'events_per_s', variant: 'perfbuf', params: { ...REF, wakeup: 'sampled', placement: 'parallel' }, value: 9.889e6, unit: 'events/s', source: NAKRYIKO, setup: `${SETUP}; pb-libbpf, parallel, sampled notification` },
    { metric: 'events_per_s', variant: 'perfbuf', params: { ...REF, wakeup: 'every', placement: 'back-to-back' }, value: 1.601e6, unit: 'events/s', source: NAKRYIKO, setup: `${SETUP}; pb-libbpf, back-to-back` },
    { metric: 'events_per_s', variant: 'perfbuf', params: { ...REF, wakeup: 'sampled', placement: 'back-to-back' }, value: 8.545e6, unit: 'events/s', source: NAKRYIKO, setup: `${SETUP}; pb-libbpf, back-to-back, sampled` },
  ],
});
