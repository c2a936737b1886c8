/**
 * What the lab sets out to measure: the program types, data mechanisms and map types of its eBPF reference (README's
 * coverage table). Scenarios say which entries they measure (`covers` in their definitions); the README table and
 * the report's coverage section are generated from those declarations, never written by hand.
 */
export const COVERAGE_KINDS = ['program type', 'mechanism', 'map type'] as const;
export type CoverageKind = (typeof COVERAGE_KINDS)[number];

export interface CoverageEntry { id: string; kind: CoverageKind; name: string }

export const COVERAGE_ENTRIES: CoverageEntry[] = [
  { id: 'kprobe', kind: 'program type', name: 'kprobe / kretprobe' },
  { id: 'fentry', kind: 'program type', name: 'fentry / fexit (BPF trampoline)' },
  { id: 'tracepoint', kind: 'program type', name: 'tracepoint' },
  { id: 'raw-tracepoint', kind: 'program type', name: 'raw tracepoint' },
  { id: 'uprobe', kind: 'program type', name: 'uprobe / uretprobe' },
  { id: 'usdt', kind: 'program type', name: 'USDT' },
  { id: 'xdp', kind: 'program type', name: 'XDP' },
  { id: 'tc', kind: 'program type', name: 'TC classifier' },
  { id: 'sock-ops', kind: 'program type', name: 'socket operations (sock_ops)' },
  { id: 'socket-filter', kind: 'program type', name: 'socket filter' },
  { id: 'perf-event', kind: 'program type', name: 'perf event' },
  { id: 'multi-program', kind: 'program type', name: 'several programs on one hook' },
  { id: 'ringbuf', kind: 'mechanism', name: 'ring buffer: throughput' },
  { id: 'ringbuf-latency', kind: 'mechanism', name: 'ring buffer: kernel → user latency' },
  { id: 'perfbuf', kind: 'mechanism', name: 'perf buffer' },
  { id: 'hash-ops', kind: 'mechanism', name: 'hash map operations' },
  { id: 'array-ops', kind: 'mechanism', name: 'array map operations' },
  { id: 'percpu-ops', kind: 'mechanism', name: 'per-CPU map operations' },
  { id: 'stack-traces', kind: 'mechanism', name: 'stack trace collection' },
  { id: 'memory', kind: 'mechanism', name: 'kernel memory footprint' },
  { id: 'map:array', kind: 'map type', name: 'ARRAY' },
  { id: 'map:hash', kind: 'map type', name: 'HASH' },
  { id: 'map:lru_hash', kind: 'map type', name: 'LRU_HASH' },
  { id: 'map:percpu', kind: 'map type', name: 'PERCPU_ARRAY / PERCPU_HASH' },
  { id: 'map:ringbuf', kind: 'map type', name: 'RINGBUF' },
  { id: 'map:perf_event_array', kind: 'map type', name: 'PERF_EVENT_ARRAY' },
  { id: 'map:stack_trace', kind: 'map type', name: 'STACK_TRACE' },
  { id: 'map:prog_array', kind: 'map type', name: 'PROG_ARRAY (tail calls)' },
  { id: 'map:devmap', kind: 'map type', name: 'DEVMAP' },
  { id: 'map:sockmap', kind: 'map type', name: 'SOCKMAP / SOCKHASH' },
  { id: 'map:cgroup_array', kind: 'map type', name: 'CGROUP_ARRAY' },
  { id: 'map:queue', kind: 'map type', name: 'QUEUE / STACK' },
  { id: 'map:bloom_filter', kind: 'map type', name: 'BLOOM_FILTER' },
  { id: 'map:of_maps', kind: 'map type', name: 'ARRAY_OF_MAPS / HASH_OF_MAPS' },
];

export const COVERAGE_IDS = COVERAGE_ENTRIES.map((e) => e.id);

/** One scenario's claim to measure an entry: through these variants (all when absent), from this kernel on. */
export interface Cover {
  entry: string;
  variants?: string[];
  /** only rows with these parameter values or labels (e.g. `{ map: 'hash' }`) */
  params?: Record<string, string | number>;
  /** the entry needs a newer kernel than the scenario as a whole (e.g. the bloom filter: 5.16) */
  since?: string;
}
