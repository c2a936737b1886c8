import { defineScenario, lower, none } from './define.js';
import { PROG_METRICS, PROG_METRICS_NOTE } from './prog-metrics.js';

const K = 1024;
const M = 1024 * K;
/** max_entries per map type (ringbuf: bytes; perf_event_array: always one slot per possible CPU). */
const SIZES: Record<string, { full: number[]; quick: number[] }> = {
  hash: { full: [K, 64 * K, M], quick: [K, 64 * K, M] },
  percpu_hash: { full: [K, 64 * K, M], quick: [K, 64 * K] },
  lru_hash: { full: [K, 64 * K, M], quick: [K, 64 * K] },
  array: { full: [K, 64 * K, M], quick: [K, 64 * K, M] },
  percpu_array: { full: [K, 64 * K, M], quick: [K, 64 * K] },
  queue: { full: [K, 64 * K, M], quick: [K, 64 * K] },
  bloom_filter: { full: [K, 64 * K, M], quick: [K, 64 * K] },
  stack_trace: { full: [K, 16 * K], quick: [K] }, // 1016-byte values: 64k entries is 64 MiB
  ringbuf: { full: [64 * K, M, 16 * M], quick: [64 * K, M] },
  perf_event_array: { full: [], quick: [] },
};

/** Maps whose per-CPU values the kernels measured (6.1, 6.12) charge to the root memcg rather than the creator's. */
export const PERCPU_MAPS = ['percpu_hash', 'percpu_array'];

/**
 * The factor within which memcg_bytes and memlock_bytes of a map of 1 MiB and more agree, or undefined where they are
 * not expected to: before 5.11 (memcg does not see BPF maps) and for the percpu maps (see PERCPU_MAPS). 5.11–6.3:
 * memlock is (key + value size) × max_entries, which leaves out a hash element's header and its bucket (6.1: 80 bytes
 * per 4+8-byte hash entry, memlock 16: a factor 5) and counts an array's key (a factor 1/2); a bloom filter, which
 * keeps bits, not values, is left out there too (6.1, 1M entries of 8 bytes: memlock 8 MiB, memcg 1 MiB). 6.4+:
 * memlock is the map type's own count (6.12: within 2% of memcg).
 */
export function memlockMemcgFactor(release: string, map: string): number | undefined {
  const [a, b] = release.split('.').map(Number);
  const atLeast = (x: number, y: number) => a > x || (a === x && b >= y);
  if (!atLeast(5, 11) || PERCPU_MAPS.includes(map)) return undefined;
  if (atLeast(6, 4)) return 1.25;
  return map === 'bloom_filter' ? undefined : 6;
}

export default defineScenario({
  id: 'memory-usage',
  title: 'Kernel memory per BPF map type and size, and per loaded program type',
  description:
    'Each map is created empty with default flags (hash maps preallocated: their memory does not grow as they fill), 4-byte ' +
    'keys and `valueSize`-byte values (stack_trace: 127 frames, 1016 bytes; ringbuf: max_entries is its size in bytes; ' +
    'perf_event_array: one slot per possible CPU, its perf buffers not included), one at a time, and freed before the next. ' +
    'Three sources per map (labelled max_entries): memlock_bytes, the kernel\'s own estimate in the map fd\'s fdinfo (what ' +
    'bpftool map show prints; from key/value sizes and max_entries up to 6.3, the map type\'s mem_usage callback from 6.4); ' +
    'memcg_bytes, the delta of memory.current of a cgroup2 group the driver creates and moves into for the create call, with ' +
    'the memcg\'s per-CPU charge caches flushed on every CPU before each reading (exact to a page or so); meminfo_*_bytes, ' +
    'the deltas of Slab, Percpu and VmallocUsed in /proc/meminfo after vm.stat_refresh (what the allocators took from the page ' +
    'allocator: slab pages or percpu chunks reused from an earlier map show as less, and the ring buffer\'s vmap()ed pages in ' +
    'none of them). BPF memory is charged to the creator\'s memory cgroup from 5.11; before, it is charged to RLIMIT_MEMLOCK ' +
    'and memcg sees little of it, so bytes_per_entry (memcg_bytes / max_entries) is reported from 5.11 only. ' +
    `memlock and memcg agree within a factor ${memlockMemcgFactor('6.4', 'hash')} for maps of 1 MiB and more from 6.4 (memlock ` +
    `is then the map type's own count), within a factor ${memlockMemcgFactor('6.1', 'hash')} from 5.11 (memlock is (key + ` +
    'value size) × max_entries: no element header or hash bucket, an array\'s key counted; a bloom filter, which keeps bits, ' +
    'shows 8 to 64 times its memory); on 5.10 memlock is the map\'s RLIMIT_MEMLOCK charge. On 6.1 and 6.12 the per-CPU ' +
    'values of percpu maps are charged to the root memcg, not the creator\'s (the map is tied to its memcg only after its ' +
    'memory is allocated), so memcg_bytes and bytes_per_entry leave them out and those maps are not held to the factor: ' +
    'meminfo_percpu_bytes shows them when they need new percpu chunks. ' +
    'Programs: memusage.bpf.c has one program per type with the same body (a ' +
    'clock read, no maps), each loaded alone and never attached: memcg and meminfo deltas of the load (BTF, program, JIT ' +
    'image; on 6.1+ the JIT writes into shared 2 MiB packs, so a load may show a whole pack in meminfo_vmalloc_bytes or none), ' +
    'labelled with the program type.' + PROG_METRICS_NOTE,
  requires: { kernel: '5.10', maps: ['hash', 'array'], config: ['MEMCG', 'CGROUPS'] },
  covers: [{ entry: 'memory' }],
  params: { valueSize: [8, 64] },
  quickParams: { valueSize: [8] },
  metrics: {
    memcg_bytes: none('bytes'), bytes_per_entry: lower('bytes'),
    meminfo_slab_bytes: none('bytes'), meminfo_percpu_bytes: none('bytes'), meminfo_vmalloc_bytes: none('bytes'), meminfo_bytes: none('bytes'),
    ...PROG_METRICS,
  },
  estimateS: (_p, quick) => (quick ? 120 : 400),
  async run(ctx, p) {
    const maps = Object.entries(SIZES).map(([type, s]) => {
      const sizes = ctx.quick ? s.quick : s.full;
      return sizes.length ? `${type}:${sizes.join('/')}` : type;
    });
    await ctx.runDriver('memusage', ['--maps', maps.join(','), '--value-size', p.valueSize as number, '--programs', 1]);
  },
  references: [],
});
