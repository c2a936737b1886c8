import test from 'ava';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { lab, readCsv, unprivilegedCheckout, isRoot } from './helpers.js';

const as = unprivilegedCheckout('bpf-lab-kernel-bench');

// kernel-bench --quick runs bench with -w1 -d2: it prints iterations 0..3; 1..3 are kept, as in bench's own summary
const QUICK_ITERATIONS = 3;

test.serial('kernel-bench beside the lab\'s ringbuf and trigger scenarios on 6.1: both measure, the fidelity table pairs them', async (t) => {
  const r = await lab(['--kernel', '6.1', '--scenario', 'kernel-bench,ringbuf-throughput,kprobe-overhead,tracepoint-overhead', '--quick', '--verbose',
    '--out', join(as.cwd, 'results')], as);
  t.is(r.code, 0, r.stderr);
  const dir = r.lastLine;
  const rows = readCsv(join(dir, 'results.csv'));

  // the bench: every variant has one non-zero sample per iteration after warm-up
  const bench = rows.filter((x) => x.scenario === 'kernel-bench');
  const variants = [...new Set(bench.map((x) => x.variant))];
  t.deepEqual(variants.filter((v) => v.startsWith('trig-')).sort(), ['trig-base', 'trig-fentry', 'trig-kprobe', 'trig-rawtp', 'trig-tp']);
  t.deepEqual(variants.filter((v) => !v.startsWith('trig-')).sort(), ['pb-libbpf:b2b', 'pb-libbpf:b2b-sampled', 'pb-libbpf:parallel', 'pb-libbpf:parallel-sampled',
    'rb-libbpf:b2b', 'rb-libbpf:b2b-sampled', 'rb-libbpf:parallel', 'rb-libbpf:parallel-sampled']);
  for (const v of variants) {
    const metric = v.startsWith('trig-') ? 'calls_per_s' : 'events_per_s';
    const values = bench.filter((x) => x.variant === v && x.metric === metric).map((x) => Number(x.value));
    t.is(values.length, QUICK_ITERATIONS, v);
    t.true(values.every((x) => x > 0), `${v}: ${values}`);
    // bench's own per-iteration lines (logged with --verbose): every one after warm-up is a sample, in order
    const lines = [...r.stderr.matchAll(new RegExp(`\\[kernel-bench\\] ${v.replace(/[-:]/g, '\\$&')}: Iter\\s+(\\d+) \\([^)]*\\): hits\\s+([\\d.]+)M/s`, 'g'))];
    t.is(lines.length, QUICK_ITERATIONS + 1, `${v}: bench printed warm-up + ${QUICK_ITERATIONS} iterations`);
    t.deepEqual(values, lines.filter((m) => Number(m[1]) >= 1).map((m) => Math.round(Number(m[2]) * 1e6)), `${v}: samples = bench's iterations after warm-up`);
  }

  // the lab's own rows in the same run
  const labRate = (scenario: string, variant: string) => rows.filter((x) => x.scenario === scenario && x.variant === variant && x.metric === 'syscalls_per_s').map((x) => Number(x.value));
  t.true(labRate('kprobe-overhead', 'kprobe').every((x) => x > 0) && labRate('kprobe-overhead', 'kprobe').length > 0);
  t.true(rows.some((x) => x.scenario === 'ringbuf-throughput' && x.metric === 'events_per_s' && Number(x.value) > 0));

  // the report opens with the fidelity table; matched rows have both columns, a ratio and a verdict
  const report = readFileSync(join(dir, 'report.md'), 'utf8');
  const fidelity = report.indexOf('## Fidelity: lab harness vs the kernel\'s bench');
  t.true(fidelity > 0 && fidelity < report.indexOf('## Environment'), 'fidelity is the first section');
  const rowCells = (prefix: string) => report.split('\n').find((l) => l.startsWith(prefix))?.split(' | ');
  for (const [row, lab] of [['rb-libbpf, parallel', 'ringbuf-throughput ringbuf'], ['trig-base', 'kprobe-overhead baseline'], ['trig-tp', 'tracepoint-overhead tracepoint'],
    ['trig-rawtp', 'tracepoint-overhead raw_tracepoint'], ['trig-kprobe', 'kprobe-overhead kprobe'], ['trig-fentry', 'kprobe-overhead fentry']]) {
    const cells = rowCells(`| 6.1 | ${row} — ${lab} |`);
    t.truthy(cells, row);
    t.regex(cells![2], /^[\d.]+ [kM]? ?\(n=\d+\)$/, `${row}: lab column`);
    t.regex(cells![3], /^[\d.]+ [kM]? ?\(n=3\)$/, `${row}: bench column`);
    t.regex(cells![5], /^\d+\.\d\d$/, `${row}: lab / bench`);
    t.regex(cells![6], /^(within ±10%|differs: .+) \|$/, `${row}: verdict`);
  }
  // perfbuf-throughput is not in this run: its bench rows stand alone, and say so
  const pb = rowCells('| 6.1 | pb-libbpf, parallel |');
  t.truthy(pb);
  t.is(pb![2], '—');
  t.regex(pb![3], /^[\d.]+ [kM]? ?\(n=3\)$/);
  t.is(pb![6], 'not measured in this run (lab row) |');

  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  t.is(m.kernelBench['6.1'].source, 'linux-source-6.1 6.1.192-2');
  t.deepEqual(m.kernelBench['6.1'].patched, ['benchs/bench_trigger.c: load only the program under test',
    'Makefile: user space (bench and its libbpf) at -O2 instead of the tree\'s -O0']);
  t.true(m.timings.phases.kernel_bench >= 0);
  // built as the invoking user, in that user's cache
  if (isRoot) t.is(statSync(m.kernelBench['6.1'].bench).uid, statSync(as.home!).uid);
});
