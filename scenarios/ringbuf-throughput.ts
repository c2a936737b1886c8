import { defineScenario, durations, higher, lower, none } from './define.js';
import { PROG_METRICS, PROG_METRICS_NOTE } from './prog-metrics.js';

const NAKRYIKO = 'Andrii Nakryiko, "bpf: add BPF ringbuf and perf buffer benchmarks", bpf list 2020-05-29 (selftests/bpf/benchs/bench_ringbufs.c)';
const SETUP = 'Xeon E5-2680 v4 @ 2.4 GHz, bare metal, fentry on getpgid, batch 500 x 8 B records, 512 KiB ring';

export default defineScenario({
  id: 'ringbuf-throughput',
  title: 'BPF ring buffer: events/s kernel → user',
  description:
    'The method of the kernel selftests\' ringbuf benches (bench_ringbufs.c): a program on the getpgid syscall (hook=fentry, ' +
    'the bench\'s; or hook=tracepoint on sys_enter_getpgid, a variant without a published counterpart) writes `batch` records per ' +
    'call, each one 8-byte value (reserve + submit, or bpf_ringbuf_output), nothing else per record. placement=parallel: producer ' +
    'threads loop on getpgid() on their own CPUs while one consumer on CPU 0 drains the ring (libbpf ring_buffer__poll, or a ' +
    'hand-written reader of the mmap\'ed ring); placement=back-to-back is the bench\'s b2b: one batch is seeded, then the consumer ' +
    'triggers the next batch after each drain (one producer only). wakeup=sampled forces a wakeup once 500 records of data are ' +
    'unconsumed (the bench\'s --rb-sampled). The baseline variant runs the producers with nothing attached. ' +
    'records_produced = program runs × batch = records_consumed + records_dropped.' + PROG_METRICS_NOTE,
  requires: { kernel: '5.8', maps: ['ringbuf'], programs: ['tracepoint'], config: ['BPF_EVENTS', 'FTRACE_SYSCALLS'] },
  covers: [{ entry: 'ringbuf', variants: ['ringbuf'] }, { entry: 'map:ringbuf', variants: ['ringbuf'] }],
  // The published shape (8-byte records, batch 500) × the axes the references vary. The tracepoint hook is measured on
  // the one-producer reserve/libbpf slice only: 28 runs.
  params: {
    recordSize: [8],
    batch: [500],
    producers: [1, 2],
    wakeup: ['every', 'sampled'],
    placement: ['parallel', 'back-to-back'],
    api: ['reserve', 'output'],
    consumer: ['libbpf', 'custom'],
    hook: ['fentry', 'tracepoint'],
  },
  quickParams: { producers: [1], wakeup: ['every'], placement: ['parallel'], api: ['reserve'], consumer: ['libbpf'], hook: ['fentry'] },
  excluded: (p) => {
    if (p.placement === 'back-to-back' && p.producers !== 1) return 'back-to-back takes one producer: the consumer triggers each batch';
    if (p.hook === 'tracepoint' && (p.api !== 'reserve' || p.consumer !== 'libbpf' || p.producers !== 1)) return 'the tracepoint hook is measured on the 1-producer reserve/libbpf slice';
    return undefined;
  },
  metrics: {
    events_per_s: higher('events/s'), drops_per_s: lower('events/s'), mb_per_s: higher('MB/s'), syscalls_per_s: higher('calls/s'),
    records_produced: none('records'), records_consumed: none('records'), records_dropped: none('records'),
    ...PROG_METRICS,
  },
  baseline: 'baseline',
  estimateS: (_p, quick) => { const d = durations(quick); return 2 * (d.warmup + d.duration) + 5; },
  async run(ctx, p) {
    const d = durations(ctx.quick);
    await ctx.runDriver('ringbuf', [
      '--record-size', p.recordSize as number, '--batch', p.batch as number, '--producers', p.producers as number,
      '--wakeup-every', p.wakeup === 'sampled' ? 500 : 0, '--placement', p.placement as string, '--api', p.api as string,
      '--consumer', p.consumer as string, '--hook', p.hook as string, '--warmup', d.warmup, '--duration', d.duration, '--interval-ms', d.intervalMs,
    ]);
  },
  references: [
    { metric: 'events_per_s', variant: 'ringbuf', params: { hook: 'fentry', recordSize: 8, batch: 500, producers: 1, wakeup: 'every', placement: 'parallel', api: 'reserve', consumer: 'libbpf' }, value: 12.054e6, unit: 'events/s', source: NAKRYIKO, setup: `${SETUP}; rb-libbpf, 1 producer, parallel` },
    { metric: 'events_per_s', variant: 'ringbuf', params: { hook: 'fentry', recordSize: 8, batch: 500, producers: 1, wakeup: 'every', placement: 'parallel', api: 'reserve', consumer: 'custom' }, value: 8.158e6, unit: 'events/s', source: NAKRYIKO, setup: `${SETUP}; rb-custom, 1 producer, parallel` },
    { metric: 'events_per_s', variant: 'ringbuf', params: { hook: 'fentry', recordSize: 8, batch: 500, producers: 1, wakeup: 'sampled', placement: 'parallel', api: 'reserve', consumer: 'libbpf' }, value: 11.563e6, unit: 'events/s', source: NAKRYIKO, setup: `${SETUP}; rb-libbpf, parallel, sampled notification` },
    { metric: 'events_per_s', variant: 'ringbuf', params: { hook: 'fentry', recordSize: 8, batch: 500, producers: 1, wakeup: 'sampled', placement: 'parallel', api: 'reserve', consumer: 'custom' }, value: 15.895e6, unit: 'events/s', source: NAKRYIKO, setup: `${SETUP}; rb-custom, parallel, sampled notification` },
    { metric: 'events_per_s', variant: 'ringbuf', params: { hook: 'fentry', recordSize: 8, batch: 500, producers: 1, wakeup: 'every', placement: 'back-to-back', api: 'reserve', consumer: 'libbpf' }, value: 15.507e6, unit: 'events/s', source: NAKRYIKO, setup: `${SETUP}; rb-libbpf, back-to-back` },
    { metric: 'events_per_s', variant: 'ringbuf', params: { hook: 'fentry', recordSize: 8, batch: 500, producers: 1, wakeup: 'every', placement: 'back-to-back', api: 'reserve', consumer: 'custom' }, value: 21.449e6, unit: 'events/s', source: NAKRYIKO, setup: `${SETUP}; rb-custom, back-to-back` },
    { metric: 'events_per_s', variant: 'ringbuf', params: { hook: 'fentry', recordSize: 8, batch: 500, producers: 1, wakeup: 'sampled', placement: 'back-to-back', api: 'reserve', consumer: 'libbpf' }, value: 14.692e6, unit: 'events/s', source: NAKRYIKO, setup: `${SETUP}; rb-libbpf, back-to-back, sampled` },
    { metric: 'events_per_s', variant: 'ringbuf', params: { hook: 'fentry', recordSize: 8, batch: 500, producers: 1, wakeup: 'sampled', placement: 'back-to-back', api: 'reserve', consumer: 'custom' }, value: 20.024e6, unit: 'events/s', source: NAKRYIKO, setup: `${SETUP}; rb-custom, back-to-back, sampled` },
    { metric: 'events_per_s', variant: 'ringbuf', params: { hook: 'fentry', recordSize: 8, batch: 500, producers: 2, wakeup: 'every', placement: 'parallel', api: 'reserve', consumer: 'libbpf' }, value: 4.931e6, unit: 'events/s', source: NAKRYIKO, setup: `${SETUP}; rb-libbpf, 2 contending producers` },
  ],
});
