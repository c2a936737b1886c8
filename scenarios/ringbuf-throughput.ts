import { defineScenario, durations, higher, lower, none } from './define.js';

const NAKRYIKO = 'Andrii Nakryiko, "bpf: add BPF ringbuf and perf buffer benchmarks", bpf list 2020-05-29 (selftests/bpf/benchs/bench_ringbufs.c)';
const SETUP = 'Xeon E5-2680 v4 @ 2.4 GHz, bare metal, fentry on getpgid, batch 500 x 8 B records, 512 KiB ring';

export default defineScenario({
  id: 'ringbuf-throughput',
  title: 'BPF ring buffer: events/s kernel → user',
  description:
    'A tracepoint program on sys_enter_getpgid writes `batch` records per call into a BPF ring buffer; native producer threads ' +
    'drive getpgid(), a native consumer drains the ring (libbpf ring_buffer__poll or a hand-written reader). ' +
    'The baseline variant runs the same producers with nothing attached.',
  requires: { kernel: '5.8', maps: ['ringbuf'], programs: ['tracepoint'] },
  // Full matrix trimmed to the published shape (8-byte records, batch 500: every reference below) x the axes the
  // references vary (producers, wakeup, placement, api, consumer): 32 runs instead of 192.
  params: {
    recordSize: [8],
    batch: [500],
    producers: [1, 2],
    wakeup: ['every', 'sampled'],
    placement: ['parallel', 'back-to-back'],
    api: ['reserve', 'output'],
    consumer: ['libbpf', 'custom'],
  },
  quickParams: { recordSize: [64], batch: [50], producers: [1], wakeup: ['every'], placement: ['parallel'], api: ['reserve'], consumer: ['libbpf'] },
  metrics: {
    events_per_s: higher('events/s'), drops_per_s: lower('events/s'), mb_per_s: higher('MB/s'), syscalls_per_s: higher('calls/s'),
    records_produced: none('records'), records_consumed: none('records'), records_dropped: none('records'),
  },
  baseline: 'baseline',
  estimateS: (_p, quick) => { const d = durations(quick); return 2 * (d.warmup + d.duration) + 5; },
  async run(ctx, p) {
    const d = durations(ctx.quick);
    await ctx.runDriver('ringbuf', [
      '--record-size', p.recordSize as number, '--batch', p.batch as number, '--producers', p.producers as number,
      '--wakeup-every', p.wakeup === 'sampled' ? 500 : 0, '--placement', p.placement as string, '--api', p.api as string,
      '--consumer', p.consumer as string, '--warmup', d.warmup, '--duration', d.duration, '--interval-ms', d.intervalMs,
    ]);
  },
  references: [
    { metric: 'events_per_s', variant: 'ringbuf', params: { recordSize: 8, batch: 500, producers: 1, wakeup: 'every', placement: 'parallel', api: 'reserve', consumer: 'libbpf' }, value: 12.054e6, unit: 'events/s', source: NAKRYIKO, setup: `${SETUP}; rb-libbpf, 1 producer, parallel` },
    { metric: 'events_per_s', variant: 'ringbuf', params: { recordSize: 8, batch: 500, producers: 1, wakeup: 'every', placement: 'parallel', api: 'reserve', consumer: 'custom' }, value: 8.158e6, unit: 'events/s', source: NAKRYIKO, setup: `${SETUP}; rb-custom, 1 producer, parallel` },
    { metric: 'events_per_s', variant: 'ringbuf', params: { recordSize: 8, batch: 500, producers: 1, wakeup: 'sampled', placement: 'parallel', api: 'reserve', consumer: 'libbpf' }, value: 11.563e6, unit: 'events/s', source: NAKRYIKO, setup: `${SETUP}; rb-libbpf, parallel, sampled notification` },
    { metric: 'events_per_s', variant: 'ringbuf', params: { recordSize: 8, batch: 500, producers: 1, wakeup: 'sampled', placement: 'parallel', api: 'reserve', consumer: 'custom' }, value: 15.895e6, unit: 'events/s', source: NAKRYIKO, setup: `${SETUP}; rb-custom, parallel, sampled notification` },
    { metric: 'events_per_s', variant: 'ringbuf', params: { recordSize: 8, batch: 500, producers: 1, wakeup: 'every', placement: 'back-to-back', api: 'reserve', consumer: 'libbpf' }, value: 15.507e6, unit: 'events/s', source: NAKRYIKO, setup: `${SETUP}; rb-libbpf, back-to-back` },
    { metric: 'events_per_s', variant: 'ringbuf', params: { recordSize: 8, batch: 500, producers: 1, wakeup: 'every', placement: 'back-to-back', api: 'reserve', consumer: 'custom' }, value: 21.449e6, unit: 'events/s', source: NAKRYIKO, setup: `${SETUP}; rb-custom, back-to-back` },
    { metric: 'events_per_s', variant: 'ringbuf', params: { recordSize: 8, batch: 500, producers: 1, wakeup: 'sampled', placement: 'back-to-back', api: 'reserve', consumer: 'libbpf' }, value: 14.692e6, unit: 'events/s', source: NAKRYIKO, setup: `${SETUP}; rb-libbpf, back-to-back, sampled` },
    { metric: 'events_per_s', variant: 'ringbuf', params: { recordSize: 8, batch: 500, producers: 1, wakeup: 'sampled', placement: 'back-to-back', api: 'reserve', consumer: 'custom' }, value: 20.024e6, unit: 'events/s', source: NAKRYIKO, setup: `${SETUP}; rb-custom, back-to-back, sampled` },
    { metric: 'events_per_s', variant: 'ringbuf', params: { recordSize: 8, batch: 500, producers: 2, wakeup: 'every', placement: 'parallel', api: 'reserve', consumer: 'libbpf' }, value: 4.931e6, unit: 'events/s', source: NAKRYIKO, setup: `${SETUP}; rb-libbpf, 2 contending producers` },
  ],
});
