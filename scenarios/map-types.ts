import { defineScenario, durations, higher, lower, none } from './define.js';
import { PROG_METRICS, PROG_METRICS_NOTE } from './prog-metrics.js';

/** The map types this scenario measures, one variant each (the driver's --maps names). */
export const MAP_TYPES = [
  'lru_hash', 'percpu_hash', 'percpu_array', 'queue', 'stack', 'bloom_filter', 'prog_array',
  'array_of_maps', 'hash_of_maps', 'cgroup_array', 'sockmap', 'sockhash', 'stack_trace',
];
const TAIL_DEPTH = 32;

const KOONG = 'Joanne Koong, "[PATCH v6 bpf-next 5/5] bpf/benchs: Add benchmarks for comparing hashmap lookups w/ vs. w/out bloom filter", bpf list 2021-10-27 (selftests/bpf/benchs/bench_bloom_filter_map.c)';
const KOONG_SETUP = '`bench -p 8 --nr_hash_funcs 5 --value_size 4 --nr_entries N hashmap-with-bloom` vs `hashmap-without-bloom`, ' +
  'one NUMA node, mean of 3 runs; published as "X% faster" (total operations/s with the bloom filter / without − 1), encoded as bloom_speedup_pct';
const KOONG_NOT_COMPARABLE = 'the bench triggers an fentry program on getpgid() from 8 producer threads, each call looks up 1024 values read at ' +
  'random offsets of a random buffer, and the rate includes the syscall and the loop; here one thread runs BPF_PROG_TEST_RUN ' +
  'loops on absent keys only, with the loop cost subtracted, under emulation (TCG) — the ratio depends on all of these';

function koong(entries: number, pct: number) {
  return {
    metric: 'bloom_speedup_pct', variant: 'bloom_filter', params: { entries }, value: pct, unit: '%',
    source: KOONG, setup: `${KOONG_SETUP}; ${entries} entries: ${pct}% faster`, notComparable: KOONG_NOT_COMPARABLE,
  };
}

export default defineScenario({
  id: 'map-types',
  title: 'BPF map types beyond hash/array: ns per lookup, update, push/pop/peek, tail call, stack id',
  description:
    'Measured inside the kernel: per map type (the variant) and operation (label op), a raw_tp program run with BPF_PROG_TEST_RUN does ' +
    '256 operations between two bpf_ktime_get_ns(); an empty loop of the same shape runs in the same batch, and per interval ' +
    'ns_per_op = (time with ops − time without) / 256, from the median run of each (a run the host preempted moves one run, not the ' +
    'value; loop_ns_per_iter is what was subtracted). Keys are scattered over the key range by a multiplicative hash, each op of a batch ' +
    'on other keys. lru_hash: `entries` entries, keys over 2 × entries, so updates evict and lookups miss ' +
    '(hit_pct). percpu_hash / percpu_array: `entries` entries, at the guest\'s vCPU count (--cpus; the vcpus column), plus the same ' +
    'lookups and updates from user space (via=syscall, gross ns per bpf() call: the value of every possible CPU is copied). queue / stack ' +
    '(256 entries): one run pushes 256 values into the empty map, the next peeks 256 times, the next pops them all and checks FIFO / LIFO ' +
    'order (order_errors). bloom_filter (5.16+; 5 hash functions, `entries` values, 4 bytes): push, peek of present values (no false ' +
    'negatives allowed), peek of absent values (hit_pct = false positives), and the selftests bench\'s comparison on absent keys: a hash ' +
    'map lookup alone (hash_lookup_absent) vs the bloom filter first (bloom_then_hash_absent); bloom_speedup_pct = without / with − 1. ' +
    `prog_array: a chain of ${TAIL_DEPTH} tail calls (one program tail-calling itself), minus a chain of none, divided by ${TAIL_DEPTH}; ` +
    `op_hits counts complete chains. array_of_maps / hash_of_maps: 16 inner arrays of 64 entries; outer lookup alone and outer + inner lookup. ` +
    'cgroup_array: bpf_current_task_under_cgroup against the cgroup the driver runs in (always 1). sockmap / sockhash: from user space ' +
    '(bpf_map_update_elem with a socket fd, then delete) on 64 established TCP connections over loopback, gross ns per call; ' +
    'msg/skb redirect is not measured (it needs sk_msg/sk_skb programs and a traffic generator across a socket pair, another ' +
    'scenario\'s scope). stack_trace: bpf_get_stackid of the kernel stack (the same one every time) and of the user stack. At the end of each ' +
    'map type: ops_requested (counted by the producer), ops_done (counted where the op ran) and op_hits per op, so that the accounting ' +
    'can be checked (every op done, pops == pushes, tail-call chains of full depth). A map type the kernel lacks is a skipped variant with ' +
    'the reason (bloom_filter on 5.10). The bloom filter series\' published speedups are listed beside bloom_speedup_pct as not comparable.' +
    PROG_METRICS_NOTE,
  covers: [
    { entry: 'map:lru_hash', variants: ['lru_hash'] }, { entry: 'map:percpu', variants: ['percpu_hash', 'percpu_array'] },
    { entry: 'percpu-ops', variants: ['percpu_hash', 'percpu_array'] }, { entry: 'map:queue', variants: ['queue', 'stack'] },
    { entry: 'map:bloom_filter', variants: ['bloom_filter'], since: '5.16' }, { entry: 'map:prog_array', variants: ['prog_array'] },
    { entry: 'map:of_maps', variants: ['array_of_maps', 'hash_of_maps'] }, { entry: 'map:cgroup_array', variants: ['cgroup_array'] },
    { entry: 'map:sockmap', variants: ['sockmap', 'sockhash'] }, { entry: 'map:stack_trace', variants: ['stack_trace'] },
  ],
  requires: { kernel: '5.10', maps: ['lru_hash', 'percpu_hash', 'percpu_array'], programs: ['raw_tracepoint'], helpers: ['ktime_get_ns'], config: ['BPF_EVENTS'] },
  params: { entries: [10000, 50000] },
  quickParams: { entries: [10000] },
  metrics: {
    ns_per_op: lower('ns'), loop_ns_per_iter: lower('ns'), bloom_speedup_pct: higher('%'),
    ops_requested: none('ops'), ops_done: none('ops'), op_hits: none('ops'), order_errors: none('ops'), hit_pct: none('%'),
    ...PROG_METRICS,
  },
  estimateS: (_p, quick) => {
    const d = durations(quick);
    return MAP_TYPES.length * (d.warmup + d.duration) + 40;
  },
  async run(ctx, p) {
    const d = durations(ctx.quick);
    await ctx.runDriver('maptypes', [
      '--maps', MAP_TYPES.join(','), '--entries', p.entries as number, '--depth', TAIL_DEPTH,
      '--warmup', d.warmup, '--duration', d.duration, '--interval-ms', d.intervalMs,
    ]);
  },
  references: [koong(10000, 30), koong(50000, 40)],
});
