import test from 'ava';
import { join } from 'node:path';
import { lab, readCsv, unprivilegedCheckout } from './helpers.js';
import { MAP_TYPES } from '../scenarios/map-types.js';

// Correctness, not speed: every map type of map-types on 6.1 (quick, one boot) has a positive, finite cost per
// operation and its accounting adds up.
const as = unprivilegedCheckout('bpf-lab-map-types');
const ID = 'map-types';

// ops per map type (label op; via=syscall where marked) and what their hits must be
type Hits = 'all' | 'none' | 'some';
const OPS: Record<string, [op: string, via: 'bpf' | 'syscall', hits: Hits][]> = {
  lru_hash: [['update', 'bpf', 'all'], ['lookup', 'bpf', 'some']],
  percpu_hash: [['lookup', 'bpf', 'all'], ['update', 'bpf', 'all'], ['lookup', 'syscall', 'all'], ['update', 'syscall', 'all']],
  percpu_array: [['lookup', 'bpf', 'all'], ['update', 'bpf', 'all'], ['lookup', 'syscall', 'all'], ['update', 'syscall', 'all']],
  queue: [['push', 'bpf', 'all'], ['peek', 'bpf', 'all'], ['pop', 'bpf', 'all']],
  stack: [['push', 'bpf', 'all'], ['peek', 'bpf', 'all'], ['pop', 'bpf', 'all']],
  bloom_filter: [['push', 'bpf', 'all'], ['peek', 'bpf', 'all'], ['peek_absent', 'bpf', 'some'], ['hash_lookup_absent', 'bpf', 'none'], ['bloom_then_hash_absent', 'bpf', 'none']],
  prog_array: [['tail_call', 'bpf', 'some']],
  array_of_maps: [['outer_lookup', 'bpf', 'all'], ['outer_inner_lookup', 'bpf', 'all']],
  hash_of_maps: [['outer_lookup', 'bpf', 'all'], ['outer_inner_lookup', 'bpf', 'all']],
  cgroup_array: [['current_task_under_cgroup', 'bpf', 'all']],
  sockmap: [['update', 'syscall', 'all'], ['delete', 'syscall', 'all']],
  sockhash: [['update', 'syscall', 'all'], ['delete', 'syscall', 'all']],
  stack_trace: [['get_stackid_kernel', 'bpf', 'all'], ['get_stackid_user', 'bpf', 'some']],
};

type Row = Record<string, string>;
const values = (rows: Row[], variant: string, metric: string, params?: string) =>
  rows.filter((r) => r.scenario === ID && r.variant === variant && r.metric === metric && (!params || r.params.endsWith(params))).map((r) => Number(r.value));
const total = (rows: Row[], variant: string, metric: string, params: string) => {
  const v = values(rows, variant, metric, params);
  return v.length === 1 ? v[0] : NaN;
};

test.serial('map-types on 6.1, quick: every map type and op has a positive finite ns/op; ops, hits, pops and tail-call depth account', async (t) => {
  t.deepEqual(Object.keys(OPS).sort(), [...MAP_TYPES].sort(), 'the test covers every map type the scenario runs');
  const r = await lab(['--kernel', '6.1', '--scenario', ID, '--quick', '--out', join(as.cwd, 'results-map-types')], as);
  t.is(r.code, 0, r.stderr);
  const rows = readCsv(join(r.lastLine, 'results.csv'));
  const summary = readCsv(join(r.lastLine, 'summary.csv'));
  t.false(summary.some((x) => x.scenario === ID && x.status !== 'ok'), 'no variant skipped or failed on 6.1');

  for (const [map, ops] of Object.entries(OPS)) {
    for (const [op, via, hits] of ops) {
      const p = `op=${op};via=${via}`;
      const ns = values(rows, map, 'ns_per_op', p);
      t.true(ns.length >= 2 && ns.every((x) => Number.isFinite(x) && x > 0), `${map} ${p}: ns/op ${ns.join(' ')}`);
      const requested = total(rows, map, 'ops_requested', p);
      const done = total(rows, map, 'ops_done', p);
      const hit = total(rows, map, 'op_hits', p);
      t.true(requested > 0, `${map} ${p}: ops requested`);
      t.is(done, requested, `${map} ${p}: ops done == requested`);
      if (hits === 'all') t.is(hit, done, `${map} ${p}: every op hit`);
      if (hits === 'none') t.is(hit, 0, `${map} ${p}: no op hit`);
    }
    if (OPS[map].some(([, via]) => via === 'bpf')) {
      t.true(values(rows, map, 'loop_ns_per_iter').every((x) => x > 0), `${map}: empty loop timed`);
    }
  }
  for (const qs of ['queue', 'stack']) {
    const p = (op: string) => `op=${op};via=bpf`;
    t.is(total(rows, qs, 'op_hits', p('pop')), total(rows, qs, 'op_hits', p('push')), `${qs}: pops == pushes`);
    t.is(total(rows, qs, 'order_errors', p('pop')), 0, `${qs}: ${qs === 'queue' ? 'FIFO' : 'LIFO'} order kept`);
  }
  // prog_array: ops are tail calls, hits are chains; every chain reached the requested depth
  const tail = 'op=tail_call;via=bpf';
  const chains = total(rows, 'prog_array', 'op_hits', tail);
  t.true(chains > 0);
  t.is(total(rows, 'prog_array', 'ops_done', tail), chains * 32, 'depth reached == 32 in every chain');
  // LRU under eviction: some lookups miss; the bloom filter's rate of false positives is a rate
  const lruHit = total(rows, 'lru_hash', 'hit_pct', 'op=lookup;via=bpf');
  t.true(lruHit > 0 && lruHit < 100, `lru_hash lookups under eviction hit ${lruHit}%`);
  const fp = total(rows, 'bloom_filter', 'hit_pct', 'op=peek_absent;via=bpf');
  t.true(fp >= 0 && fp < 100, `bloom false positives ${fp}%`);
  t.true(values(rows, 'bloom_filter', 'bloom_speedup_pct').every(Number.isFinite));
  // program metrics for the loaded programs
  for (const prog of ['loop_empty', 'lru_update', 'bloom_peek_present', 'tail_entry', 'tail_hop', 'stackid_kernel']) {
    t.true(values(rows, `prog:${prog}`, 'verified_insns').every((x) => x > 0) && values(rows, `prog:${prog}`, 'verified_insns').length === 1, `prog:${prog}`);
  }
  // the published bloom filter speedup is listed as not comparable, with no ratio
  const row = summary.find((x) => x.scenario === ID && x.variant === 'bloom_filter' && x.metric === 'bloom_speedup_pct');
  t.truthy(row?.reference, 'reference listed beside bloom_speedup_pct');
  t.is(row?.ratio_to_reference ?? '', '', 'no ratio to a reference whose method differs');
});
