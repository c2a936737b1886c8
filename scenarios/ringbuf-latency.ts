import { defineScenario, durations, higher, lower, none } from './define.js';
import { PROG_METRICS, PROG_METRICS_NOTE } from './prog-metrics.js';

export default defineScenario({
  id: 'ringbuf-latency',
  title: 'BPF ring buffer: kernel → user delivery latency (kprobe)',
  description:
    'A kprobe on the getpgid syscall function (resolved from /proc/kallsyms, e.g. __x64_sys_getpgid) writes one 16-byte ' +
    'record per getpgid() of the producer, stamped with bpf_ktime_get_ns(); the consumer thread (libbpf ring_buffer__poll, ' +
    'woken on every record, pinned to the last CPU) stamps CLOCK_MONOTONIC when it reads the record. Latencies are ' +
    'recorded natively in a log-linear (HdrHistogram-layout, ≤1.6% error) histogram; per interval the driver emits P50/P95/P99/P99.9. ' +
    'rate=10000: a paced producer (absolute schedule, spin-wait) at 10k events/s; rate=max: the producer calls getpgid() as fast as it can. ' +
    'consumer=epoll: the consumer sleeps in epoll_wait and is woken by the ring buffer\'s irq_work notification; consumer=busy-poll: ' +
    'it spins on ring_buffer__consume (data path only, no wakeup). Under TCG the producer and consumer vCPUs are host threads: when ' +
    'the host is busy (other VMs), a descheduled vCPU adds milliseconds, so tails (and even P50) vary widely from run to run.' + PROG_METRICS_NOTE,
  requires: { kernel: '5.8', maps: ['ringbuf'], programs: ['kprobe'], helpers: ['ringbuf_reserve', 'ktime_get_ns'], config: ['BPF_EVENTS', 'KPROBES', 'KPROBE_EVENTS'] },
  covers: [{ entry: 'ringbuf-latency', variants: ['ringbuf'] }],
  params: { rate: [10000, 'max'], consumer: ['epoll', 'busy-poll'] },
  quickParams: { rate: [10000, 'max'], consumer: ['epoll'] },
  metrics: {
    latency_p50_ns: lower('ns'), latency_p95_ns: lower('ns'), latency_p99_ns: lower('ns'), latency_p999_ns: lower('ns'),
    events_per_s: higher('events/s'), drops_per_s: lower('events/s'), syscalls_per_s: higher('calls/s'),
    records_produced: none('records'), records_consumed: none('records'), records_dropped: none('records'),
    ...PROG_METRICS,
  },
  estimateS: (_p, quick) => { const d = durations(quick); return d.warmup + d.duration + 5; },
  async run(ctx, p) {
    const d = durations(ctx.quick);
    await ctx.runDriver('ringbuf_lat', [
      '--rate', p.rate === 'max' ? 0 : (p.rate as number), '--consumer', p.consumer as string,
      '--warmup', d.warmup, '--duration', d.duration, '--interval-ms', d.intervalMs,
    ]);
  },
  references: [],
});
