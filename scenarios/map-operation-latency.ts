import { defineScenario, durations, lower } from './define.js';
import { PROG_METRICS, PROG_METRICS_NOTE } from './prog-metrics.js';

const PROTOPOPOV = 'Anton Protopopov, "[PATCH bpf-next v2 7/7] selftest/bpf/benchs: Add benchmark for hashmap lookups", bpf list 2023-02-13 (selftests/bpf/benchs/bench_bpf_hashmap_lookup.c)';
const SETUP = 'Ryzen 9 3950X, bare metal, 6.3-rc, `bench -d2 -a bpf-hashmap-lookup --key_size=4 --max_entries=65536 --nr_loops=1000000 --map_flags=0x40` ' +
  '(nested bpf_loop around bpf_map_lookup_elem, loop overhead included); published as M lookups/s, encoded here as ns_per_op = 1e9 / rate';
const MAPS = ['hash', 'array', 'percpu_array', 'percpu_hash', 'lru_hash'];
const MAX_ENTRIES = 65536;

function ref(fill: number, mps: number) {
  return {
    metric: 'ns_per_op', variant: 'in-kernel', params: { keySize: 4, fill, map: 'hash', op: 'lookup' }, value: 1e3 / mps, unit: 'ns',
    source: PROTOPOPOV, setup: `${SETUP}; ${fill}% full: ${mps} M lookups/s`,
  };
}

export default defineScenario({
  id: 'map-operation-latency',
  title: 'BPF map operations: ns per lookup / update / delete',
  description:
    `Maps of ${MAX_ENTRIES} entries (array, hash, percpu_array, percpu_hash, lru_hash; hash maps preallocated) filled to \`fill\` % ` +
    'of max_entries; keys cycle over the filled range. Variant in-kernel: a raw_tp program per (map, op) is run with ' +
    'BPF_PROG_TEST_RUN, 256 ops between two bpf_ktime_get_ns() per run (loop overhead included). Variant syscall: the same ops ' +
    'from user space with bpf_map_lookup_elem / update / delete, timed per batch of 256. delete re-inserts the deleted keys ' +
    'after each timed batch; arrays have no delete and only 4-byte keys (skipped at keySize 64). ' +
    'Each sample is labelled with map and op (they appear in params).' + PROG_METRICS_NOTE,
  requires: { kernel: '5.10', maps: MAPS, programs: ['raw_tracepoint'], helpers: ['ktime_get_ns'], config: ['BPF_EVENTS'] },
  covers: [
    { entry: 'hash-ops', params: { map: 'hash' } }, { entry: 'map:hash', params: { map: 'hash' } },
    { entry: 'array-ops', params: { map: 'array' } }, { entry: 'map:array', params: { map: 'array' } },
    { entry: 'percpu-ops', params: { map: 'percpu_array' } }, { entry: 'percpu-ops', params: { map: 'percpu_hash' } },
    { entry: 'map:percpu', params: { map: 'percpu_array' } }, { entry: 'map:percpu', params: { map: 'percpu_hash' } },
    { entry: 'map:lru_hash', params: { map: 'lru_hash' } },
  ],
  params: { keySize: [4, 64], valueSize: [8], fill: [6, 100] },
  quickParams: { keySize: [4], valueSize: [8], fill: [100] },
  metrics: { ns_per_op: lower('ns'), ...PROG_METRICS },
  estimateS: (p, quick) => {
    const d = durations(quick);
    const combos = p.keySize === 4 ? 13 : 9; // (map, op) pairs that run
    return combos * 2 * (d.warmup + d.duration) + 30;
  },
  async run(ctx, p) {
    const d = durations(ctx.quick);
    await ctx.runDriver('mapops', [
      '--maps', MAPS.join(','), '--ops', 'lookup,update,delete', '--key-size', p.keySize as number, '--value-size', p.valueSize as number,
      '--fill', p.fill as number, '--max-entries', MAX_ENTRIES,
      '--warmup', d.warmup, '--duration', d.duration, '--interval-ms', d.intervalMs,
    ]);
  },
  references: [ref(6, 50.739), ref(100, 31.497)],
});
