import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lab, readCsv, unprivilegedCheckout } from './helpers.js';
import { memlockMemcgFactor } from '../scenarios/memory-usage.js';

// Correctness, not speed: memory-usage on 6.1 (quick) with its three sources cross-checked, and BPF run-time stats of a
// scenario whose programs run (tracepoint-overhead), in one boot.
const as = unprivilegedCheckout('bpf-lab-memory');

type Row = Record<string, string>;
const MEM = 'memory-usage';
const value = (rows: Row[], variant: string, metric: string, entries?: number) => {
  const v = rows.filter((r) => r.scenario === MEM && r.variant === variant && r.metric === metric &&
    (entries === undefined || r.params.split(';').includes(`max_entries=${entries}`))).map((r) => Number(r.value));
  return v.length === 1 ? v[0] : NaN;
};
const K = 1024;

let rows: Row[] = [];
let summary: Row[] = [];
let report = '';

test.before(async () => {
  const r = await lab(['--kernel', '6.1', '--scenario', `${MEM},tracepoint-overhead`, '--quick', '--out', join(as.cwd, 'results-memory')], as);
  if (r.code !== 0) throw new Error(`lab exited ${r.code}:\n${r.stderr.split('\n').slice(-30).join('\n')}`);
  rows = readCsv(join(r.lastLine, 'results.csv'));
  summary = readCsv(join(r.lastLine, 'summary.csv'));
  report = readFileSync(join(r.lastLine, 'report.md'), 'utf8');
});

test.serial('every run is ok and every map type of 6.1 has rows (bloom_filter included: 5.16+)', (t) => {
  t.deepEqual(summary.filter((x) => x.status !== 'ok').map((x) => `${x.scenario} ${x.variant}: ${x.status} ${x.note}`), []);
  for (const m of ['hash', 'percpu_hash', 'lru_hash', 'array', 'percpu_array', 'queue', 'bloom_filter', 'stack_trace', 'ringbuf', 'perf_event_array']) {
    const mine = rows.filter((r) => r.scenario === MEM && r.variant === m);
    // before 6.4 memlock is (key + value size) × max_entries: 0 for a ring buffer, which has neither
    t.true(mine.some((r) => r.metric === 'memlock_bytes' && Number(r.value) >= (m === 'ringbuf' ? 0 : 1)), `${m}: memlock`);
    t.true(mine.some((r) => r.metric === 'memcg_bytes'), `${m}: memcg`);
    for (const s of ['slab', 'percpu', 'vmalloc']) t.true(mine.some((r) => r.metric === `meminfo_${s}_bytes`), `${m}: meminfo ${s}`);
  }
});

test.serial('sizes are ordered: 1M entries > 64k > 1k, in memlock and in memcg', (t) => {
  for (const m of ['hash', 'array']) {
    for (const metric of ['memlock_bytes', 'memcg_bytes']) {
      const [a, b, c] = [K, 64 * K, K * K].map((n) => value(rows, m, metric, n));
      t.true(a > 0 && a < b && b < c, `${m} ${metric}: 1k ${a}, 64k ${b}, 1M ${c}`);
    }
  }
  for (const m of ['percpu_hash', 'lru_hash', 'percpu_array', 'queue']) {
    t.true(value(rows, m, 'memcg_bytes', K) < value(rows, m, 'memcg_bytes', 64 * K), `${m}: 1k < 64k`);
  }
  t.true(value(rows, 'ringbuf', 'memcg_bytes', 64 * K) < value(rows, 'ringbuf', 'memcg_bytes', K * K), 'ringbuf 64 KiB < 1 MiB');
});

test.serial('memlock and the memcg delta agree within the stated factor for maps of 1 MiB and more', (t) => {
  const release = rows.find((r) => r.scenario === MEM)!.kernel_release;
  // the maps the factor applies to (not the percpu maps: their per-CPU values go to the root memcg)
  const big = rows.filter((r) => r.scenario === MEM && r.metric === 'memlock_bytes' && !r.variant.startsWith('prog:') &&
    memlockMemcgFactor(release, r.variant) !== undefined && Number(r.value) >= K * K);
  t.true(big.length >= 6, `${big.length} maps of 1 MiB+: ${big.map((r) => `${r.variant} ${r.params}`).join(', ')}`);
  for (const r of big) {
    const factor = memlockMemcgFactor(release, r.variant)!;
    const memlock = Number(r.value);
    const memcg = Number(rows.find((x) => x.scenario === MEM && x.variant === r.variant && x.params === r.params && x.metric === 'memcg_bytes')?.value);
    const ratio = memcg / memlock;
    t.true(ratio > 1 / factor && ratio < factor, `${r.variant} ${r.params}: memcg ${memcg} vs memlock ${memlock} (factor ${factor})`);
  }
  // a preallocated hash entry holds at least its key and value; a bloom filter bit array much less than a hash
  const perEntry = value(rows, 'hash', 'bytes_per_entry', K * K);
  t.true(perEntry >= 4 + 8 && perEntry < 1024, `hash bytes per entry ${perEntry}`);
  t.true(value(rows, 'bloom_filter', 'memcg_bytes', 64 * K) < value(rows, 'hash', 'memcg_bytes', 64 * K));
  // meminfo sees the big preallocated hash too (slab, vmalloc or percpu pages)
  t.true(value(rows, 'hash', 'meminfo_bytes', K * K) > 0.5 * value(rows, 'hash', 'memcg_bytes', K * K), 'meminfo delta of the 1M hash');
});

test.serial('programs: one per type loaded alone, with memlock, JIT size and a memcg delta', (t) => {
  const progs = [...new Set(rows.filter((r) => r.scenario === MEM && r.variant.startsWith('prog:')).map((r) => r.variant))];
  t.true(progs.length >= 8, progs.join(' '));
  for (const p of progs) {
    t.true(value(rows, p, 'memlock_bytes') > 0, `${p} memlock`);
    t.true(value(rows, p, 'jited_bytes') > 0, `${p} jited`);
    t.true(value(rows, p, 'memcg_bytes') > 0, `${p} memcg`);
  }
  t.regex(report, /\| memlock B \|/);
});

test.serial('BPF run-time stats: programs that ran in the warm-ups have run_cnt > 0 and a time per run; never-run ones none', (t) => {
  for (const p of ['prog:on_tp', 'prog:on_raw_tp']) {
    const get = (m: string) => rows.filter((r) => r.scenario === 'tracepoint-overhead' && r.variant === p && r.metric === m).map((r) => Number(r.value));
    const [cnt] = get('run_cnt');
    const [ns] = get('run_time_ns');
    const [per] = get('ns_per_run');
    t.true(cnt > 0 && ns > 0, `${p}: run_cnt ${cnt}, run_time_ns ${ns}`);
    t.true(Math.abs(per - ns / cnt) <= 1e-6 * per, `${p}: ns_per_run ${per}`);
  }
  // memory-usage never attaches its programs and has no bench phase: no run stats there
  t.false(rows.some((r) => r.scenario === MEM && r.metric === 'run_cnt'));
});
