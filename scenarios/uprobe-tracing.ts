import { defineScenario, durations, higher, lower, none } from './define.js';
import { PROG_METRICS, PROG_METRICS_NOTE } from './prog-metrics.js';

const UPROBE_RCU = 'Andrii Nakryiko, "[PATCH 0/8] uprobes: RCU-protected hot path optimizations", linux-trace-kernel list 2024-07-31';
const UPROBE_SETUP = 'Xeon Gold 6138, bare metal, `bench -w3 -d5 -p1 -a trig-uprobe-nop` / `trig-uretprobe-nop` before the series: a producer calls a nop function, a uprobe on it adds one to a counter';
const NOT_COMPARABLE = 'an absolute rate on bare metal (Xeon Gold 6138); the lab runs in a QEMU guest (TCG here) and the cover letter gives no base rate to form a ratio';

export default defineScenario({
  id: 'uprobe-tracing',
  title: 'uprobe / uretprobe / USDT: ns added per call of a user function, and uprobe → ring buffer latency',
  description:
    'The probed code is the driver\'s own lab_uprobe_target(): a USDT probe (sys/sdt.h, provider bpf_lab, name tick, one argument: ' +
    'a nop in the code) and a return, called in a loop by a native producer, the shape of the kernel bench\'s trig-uprobe-nop (compiled: nop; ret, so the entry uprobe and the USDT probe sit on the same instruction and differ only in what the program does). ' +
    'mode=overhead: one program at a time, attached with pid -1 to /proc/self/exe as the bench does — uprobe at the function\'s entry, ' +
    'uretprobe at its return, or the USDT probe (libbpf bpf_program__attach_usdt; the program reads the argument with bpf_usdt_arg) — ' +
    'adds one to a global counter with an atomic add (before 5.15, without BPF cookies, libbpf attaches USDT to a PIE binary only with a pid: the USDT program then filters on this process, and the run says so in a warning). The baseline variant runs the same loop with nothing attached, first and again last; ' +
    'overhead_ns = ns_per_call − ns per call at the mean baseline rate. probe_hits must equal calls_made; usdt_arg_errors (sum of the ' +
    'arguments the program saw minus the sum passed) must be 0. mode=latency (variant uprobe-ringbuf): a uprobe on the function writes ' +
    'one 16-byte ring buffer record stamped with bpf_ktime_get_ns() per call; one producer calls it 10000 times per second (paced by ' +
    'spinning on the clock); the consumer (libbpf ring_buffer__poll, epoll wakeups) stamps CLOCK_MONOTONIC; P50/P95/P99/P99.9 per ' +
    'interval from a log-linear histogram, as in ringbuf-latency. The kernel bench\'s published trig-uprobe-nop and ' +
    'trig-uretprobe-nop rates are listed beside calls_per_s as context only: same shape, but absolute rates on bare metal, with no ' +
    'published base rate to form a ratio.' + PROG_METRICS_NOTE,
  requires: { kernel: '5.8', maps: ['ringbuf'], programs: ['kprobe'], helpers: ['ringbuf_reserve', 'ktime_get_ns'], config: ['BPF_EVENTS', 'UPROBES', 'UPROBE_EVENTS'] },
  covers: [{ entry: 'uprobe', variants: ['uprobe', 'uretprobe', 'uprobe-ringbuf'] }, { entry: 'usdt', variants: ['usdt'] }],
  params: { mode: ['overhead', 'latency'] },
  quickParams: { mode: ['overhead', 'latency'] },
  metrics: {
    calls_per_s: higher('calls/s'), ns_per_call: lower('ns'), overhead_ns: lower('ns'), overhead_pct: lower('%'), ratio_to_baseline: higher('ratio'),
    calls_made: none('calls'), probe_hits: none('calls'), usdt_arg_errors: none('count'),
    latency_p50_ns: lower('ns'), latency_p95_ns: lower('ns'), latency_p99_ns: lower('ns'), latency_p999_ns: lower('ns'),
    events_per_s: higher('events/s'), drops_per_s: lower('events/s'),
    records_produced: none('records'), records_consumed: none('records'), records_dropped: none('records'),
    ...PROG_METRICS,
  },
  baseline: 'baseline',
  estimateS: (p, quick) => {
    const d = durations(quick);
    return (p.mode === 'latency' ? 1 : 5) * (d.warmup + d.duration) + 10;
  },
  async run(ctx, p) {
    const d = durations(ctx.quick);
    await ctx.runDriver('uprobe', [
      '--mode', p.mode as string, '--producers', 1, '--rate', 10000,
      '--warmup', d.warmup, '--duration', d.duration, '--interval-ms', d.intervalMs,
    ]);
  },
  references: [
    { metric: 'calls_per_s', variant: 'uprobe', params: { mode: 'overhead' }, value: 3.032e6, unit: 'calls/s', source: UPROBE_RCU, setup: `${UPROBE_SETUP}; uprobe-nop`, notComparable: NOT_COMPARABLE },
    { metric: 'calls_per_s', variant: 'uretprobe', params: { mode: 'overhead' }, value: 1.979e6, unit: 'calls/s', source: UPROBE_RCU, setup: `${UPROBE_SETUP}; uretprobe-nop`, notComparable: NOT_COMPARABLE },
  ],
});
