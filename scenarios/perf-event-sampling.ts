import { defineScenario, durations, higher, lower, none, type MetricSpec } from './define.js';
import { PROG_METRICS, PROG_METRICS_NOTE } from './prog-metrics.js';

/** Rows both CPU-clock sampling drivers emit (bpf/drivers/cpu_sampling.h). */
export const SAMPLING_METRICS: Record<string, MetricSpec> = {
  iterations_per_s: higher('calls/s'), ns_per_call: lower('ns'), overhead_ns: lower('ns'), overhead_pct: lower('%'), ratio_to_baseline: higher('ratio'),
  // at a fixed requested frequency, fewer delivered samples means samples were lost (throttled, late hrtimers)
  samples_per_s: higher('samples/s'), delivered_pct: higher('%'),
  ns_per_sample: lower('ns'), lost_ns_per_sample: lower('ns'),
  samples_kernel: none('samples'), samples_requested: none('samples'), samples_counted: none('samples'), perf_max_sample_rate: none('samples/s'),
  ...PROG_METRICS,
};

/** How the workload, the events and the accounting work: the part of both descriptions that is the same. */
export const SAMPLING_NOTE =
  'The workload: one native worker per vCPU (pinned), each calling a recursive function --depth frames deep whose deepest frame spins ' +
  'a multiply-add loop, compiled with frame pointers; iterations_per_s counts those calls. Sampling: one PERF_COUNT_SW_CPU_CLOCK software ' +
  'event per CPU (pid -1, sample_freq = freq), a BPF_PROG_TYPE_PERF_EVENT program attached to each (returning 0: no perf buffer output). ' +
  'The kernel turns a frequency on the CPU clock into a fixed hrtimer period of 1e9/freq ns (at least 10 µs), so it fires under TCG too, ' +
  'on the guest\'s clock; a vCPU the host descheduled misses periods (perf forwards the hrtimer past them, and a late timer interrupt can ' +
  'trip the kernel\'s "hrtimer: interrupt took N ns" hang guard, which defers every hrtimer a while), which shows as delivered_pct below 100. The baseline variant runs ' +
  'the workload with no event, first and again last; overhead_pct compares iterations_per_s with the mean baseline. BPF stats are on ' +
  '(BPF_ENABLE_STATS) for the whole run, also in the baseline phases: samples_per_s is the program\'s run_cnt per second (the kernel\'s ' +
  'count of samples that ran it), ns_per_sample run_time_ns/run_cnt (the program alone, not the interrupt around it; left out with a ' +
  'warning when sched_clock(), which times it, runs more than 25% off the guest\'s clock: a TSC the kernel calibrated wrong at boot, ' +
  'which happens under TCG on a busy host), delivered_pct ' +
  'samples_per_s / (freq × vCPUs), lost_ns_per_sample the workload CPU time lost per sample ((1 − rate/baseline) × vCPUs × 1e9 / ' +
  'samples_per_s: interrupt, perf and program together). samples_requested is the events\' enabled time × freq; perf_max_sample_rate ' +
  'is kernel.perf_event_max_sample_rate after the phase (restored before each; the kernel lowers it when perf interrupts run long).';

export default defineScenario({
  id: 'perf-event-sampling',
  title: 'BPF_PROG_TYPE_PERF_EVENT on the CPU clock: overhead on a CPU-bound workload by sampling frequency',
  description:
    'A perf_event program that adds one to a global per sample runs at each sampling frequency in turn while the workload runs; ' +
    'samples_counted (the program\'s counter) must equal samples_kernel (run_cnt). Frequencies are one below a round number, as ' +
    'profilers pick them, so the sample timer does not run in lockstep with the 250 Hz tick: 99, 999 and 9999 Hz, and 49999 Hz ' +
    '(a 20 µs period: above the CPU-clock hrtimer\'s 10 µs floor and below the default 100000 perf_event_max_sample_rate, so it ' +
    'opens on every kernel). Under TCG each sample is an emulated local-APIC timer interrupt and the guest clock is the emulated HPET ' +
    '(the guest marks the TSC unstable): a 6.1 guest on a loaded 2-CPU host took a few thousand per vCPU per second at most, so 9999 ' +
    'and 49999 Hz show that ceiling (delivered_pct) rather than more samples; under KVM they are real rates. ' + SAMPLING_NOTE + PROG_METRICS_NOTE,
  requires: { kernel: '5.2', programs: ['perf_event'], config: ['PERF_EVENTS', 'BPF_EVENTS'] },
  covers: [{ entry: 'perf-event', variants: ['perf-event'] }],
  params: { freq: [99, 999, 9999, 49999], depth: [32] },
  quickParams: { freq: [999, 9999] },
  metrics: SAMPLING_METRICS,
  baseline: 'baseline',
  estimateS: (_p, quick) => { const d = durations(quick); return 3 * (d.warmup + d.duration) + 10; },
  async run(ctx, p) {
    const d = durations(ctx.quick);
    await ctx.runDriver('perf_sampling', [
      '--freq', p.freq as number, '--depth', p.depth as number,
      '--warmup', d.warmup, '--duration', d.duration, '--interval-ms', d.intervalMs,
    ]);
  },
  references: [],
});
