import { defineScenario, durations, lower, none } from './define.js';
import { PROG_METRICS_NOTE } from './prog-metrics.js';
import { SAMPLING_METRICS, SAMPLING_NOTE } from './perf-event-sampling.js';

export default defineScenario({
  id: 'stack-trace-collection',
  title: 'Stack traces from a CPU-clock perf_event program: bpf_get_stackid into a stack map vs bpf_get_stack into a ring buffer',
  description:
    'A sampling profiler\'s shape: every sample takes the kernel stack, and samples in the workload\'s process (filtered on the tgid) ' +
    'also the user stack. Variants: perf-event-only (the events with an empty program: the cost of sampling), stackid ' +
    '(bpf_get_stackid into two BPF_MAP_TYPE_STACK_TRACE maps of 16384 stacks × 127 frames, no flags: a hash collision is -EEXIST, ' +
    'an empty walk -EFAULT, each counted; a sample that interrupted user mode has no kernel stack, so kernel_stackid_efault counts those; a user -EFAULT is a sample of a workload thread that is exiting, its memory already released), get-stack-ringbuf (bpf_get_stack into a 2 KiB ring buffer record per sample, 4 MiB ring, ' +
    'a libbpf ring_buffer consumer thread on the first vCPU). stackid − perf-event-only is the stack walk, perf-event-only − baseline the sampling. ' +
    'Correctness: user stacks holding the recursion have at least depth frames (user_stack_depth_max ≥ depth) and ' +
    'recursion_frames_max = depth − 1 (return addresses into the recursive call: the frame-pointer walk is whole); ' +
    'records_produced = records_consumed + ringbuf_drops. Depths: stackid over the distinct stacks in the map (no median: the map ' +
    'holds each stack once), get-stack-ringbuf over the samples (user_stack_depth_p50 too). ' + SAMPLING_NOTE + PROG_METRICS_NOTE,
  requires: {
    kernel: '5.8', maps: ['stack_trace', 'ringbuf'], programs: ['perf_event'], helpers: ['get_stackid', 'get_stack', 'ringbuf_reserve'],
    config: ['PERF_EVENTS', 'BPF_EVENTS'],
  },
  covers: [{ entry: 'stack-traces', variants: ['stackid', 'get-stack-ringbuf'] }, { entry: 'map:stack_trace', variants: ['stackid'] }],
  // 999 Hz: the rate a profiler uses, one below a round number (no lockstep with the tick), and under TCG mostly delivered
  params: { freq: [999], depth: [32] },
  metrics: {
    ...SAMPLING_METRICS,
    workload_samples: none('samples'),
    // a kernel -EFAULT is a sample that interrupted user mode: no kernel stack to walk, not a failure
    kernel_stackid_eexist: lower('calls'), kernel_stackid_efault: none('calls'),
    user_stackid_eexist: lower('calls'), user_stackid_efault: lower('calls'), stackid_other_errors: lower('calls'),
    distinct_kernel_stacks: none('stacks'), distinct_user_stacks: none('stacks'), workload_user_stacks: none('stacks'),
    kernel_stack_depth_max: none('frames'), user_stack_depth_max: none('frames'), user_stack_depth_p50: none('frames'), recursion_frames_max: none('frames'),
    records_produced: none('records'), records_consumed: none('records'), ringbuf_drops: lower('records'), get_stack_errors: lower('records'),
  },
  baseline: 'baseline',
  estimateS: (_p, quick) => { const d = durations(quick); return 5 * (d.warmup + d.duration) + 15; },
  async run(ctx, p) {
    const d = durations(ctx.quick);
    await ctx.runDriver('stacktrace', [
      '--variants', 'baseline,perf-event-only,stackid,get-stack-ringbuf', '--freq', p.freq as number, '--depth', p.depth as number,
      '--warmup', d.warmup, '--duration', d.duration, '--interval-ms', d.intervalMs,
    ]);
  },
  references: [],
});
