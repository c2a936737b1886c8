import test from 'ava';
import { join } from 'node:path';
import { lab, readCsv, unprivilegedCheckout, values, total, type CsvRow } from './helpers.js';

// Correctness, not speed: the phase-2 suite and the program metrics of the drivers that report them, one 6.1 boot.
const as = unprivilegedCheckout('bpf-lab-phase2');
const SCENARIOS = ['uprobe-tracing', 'tracepoint-overhead', 'ringbuf-throughput', 'perfbuf-throughput'];
// every program each scenario loads in quick mode on 6.1 (perfbuf and ringbuf: the fentry hook)
const PROGRAMS: Record<string, string[]> = {
  'uprobe-tracing': ['on_uprobe', 'on_uretprobe', 'on_usdt', 'stamp'],
  'tracepoint-overhead': ['on_tp', 'on_raw_tp'],
  'ringbuf-throughput': ['produce_fentry'],
  'perfbuf-throughput': ['produce_fentry'],
};

type Row = CsvRow;

test.serial('phase 2 on 6.1, quick: uprobe/uretprobe/USDT rates and exact hit accounting, uprobe → ring buffer latency, program metrics', async (t) => {
  const r = await lab(['--kernel', '6.1', '--scenario', SCENARIOS.join(','), '--quick', '--out', join(as.cwd, 'results-phase2')], as);
  t.is(r.code, 0, r.stderr);
  const rows = readCsv(join(r.lastLine, 'results.csv'));
  const summary = readCsv(join(r.lastLine, 'summary.csv'));
  for (const id of SCENARIOS) t.false(summary.some((x) => x.scenario === id && x.status !== 'ok'), `${id}: all runs ok`);

  const up = 'uprobe-tracing';
  const base = values(rows, up, 'baseline', 'calls_per_s');
  t.true(base.length >= 4 && base.every((v) => v > 0), `baseline (first and last): ${base.join(' ')}`);
  for (const v of ['uprobe', 'uretprobe', 'usdt']) {
    const rate = values(rows, up, v, 'calls_per_s');
    t.true(rate.length >= 2 && rate.every((x) => x > 0), `${v}: rate ${rate.join(' ')}`);
    t.is(values(rows, up, v, 'overhead_ns').length, rate.length, `${v}: an overhead per interval`);
    t.true(values(rows, up, v, 'ratio_to_baseline').every((x) => x > 0));
    const calls = total(rows, up, v, 'calls_made');
    t.true(calls > 0, `${v}: calls made`);
    // the probe fires once per call: no call missed, none counted twice
    t.is(total(rows, up, v, 'probe_hits'), calls, `${v}: hits == calls`);
  }
  t.is(total(rows, up, 'usdt', 'usdt_arg_errors'), 0, 'every USDT argument arrived');

  const lat = 'uprobe-ringbuf';
  const [p50, p95, p99, p999] = ['latency_p50_ns', 'latency_p95_ns', 'latency_p99_ns', 'latency_p999_ns'].map((m) => values(rows, up, lat, m));
  t.true(p50.length >= 2, 'latency samples');
  for (let i = 0; i < p50.length; i++) t.true(p50[i] > 0 && p50[i] <= p95[i] && p95[i] <= p99[i] && p99[i] <= p999[i], `interval ${i}`);
  const produced = total(rows, up, lat, 'records_produced');
  t.is(produced, total(rows, up, lat, 'calls_made'), 'one record per call');
  t.is(total(rows, up, lat, 'records_consumed') + total(rows, up, lat, 'records_dropped'), produced);

  // program metrics: one row each per loaded program, from the verifier log and the kernel's prog info
  for (const [id, progs] of Object.entries(PROGRAMS)) {
    for (const p of progs) {
      for (const m of ['verified_insns', 'xlated_bytes', 'jited_bytes']) {
        const v = values(rows, id, `prog:${p}`, m);
        t.true(v.length >= 1 && v.every((x) => x > 0), `${id} prog:${p} ${m}: ${v.join(' ')}`);
      }
      const states = values(rows, id, `prog:${p}`, 'verifier_states');
      t.true(states.length >= 1 && states.every((x) => x >= 0), `${id} prog:${p} verifier_states`);
    }
    t.true(rows.some((x) => x.scenario === id && x.variant.startsWith('object:') && x.metric === 'load_ms' && Number(x.value) > 0), `${id}: load_ms`);
  }
  // the USDT program carries libbpf's argument-fetching code: more to verify than a bare counter
  t.true(total(rows, up, 'prog:on_usdt', 'verified_insns') > total(rows, up, 'prog:on_uprobe', 'verified_insns'));
});
