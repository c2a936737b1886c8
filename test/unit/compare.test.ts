import test from 'ava';
import { relativeChange, isWorse, verdictOf, pairKernels, setupDifferences, compareData, fmtChange, type RunData } from '../../lab/results/compare.js';
import { UsageError } from '../../lab/errors.js';
import type { Manifest } from '../../lab/results/manifest.js';
import type { Better } from '../../scenarios/define.js';

test('relative change is taken against |a|: signs and zeros', (t) => {
  t.is(relativeChange(100, 80), -0.2);
  t.is(relativeChange(-10, -50), -4, '−10 → −50 moved down by 4×|a|, not a ×5 ratio');
  t.is(relativeChange(-10, -5), 0.5);
  t.is(relativeChange(0, 5000), Infinity);
  t.is(relativeChange(0, -3), -Infinity);
  t.is(relativeChange(0, 0), 0);
  t.is(fmtChange(-4), '−400.0%');
  t.is(fmtChange(Infinity), '+∞% (from 0)');
});

test('worse follows the declared direction, for negative values too', (t) => {
  t.true(isWorse('higher', 10, 9));
  t.false(isWorse('lower', 10, 9));
  t.true(isWorse('lower', -50, -10), 'a lower-is-better value rising from −50 to −10 is worse');
  t.false(isWorse('lower', -10, -50), '−10 → −50 on a lower-is-better metric is an improvement');
  t.true(isWorse('higher', -10, -50));
});

test('verdicts: 0 → 5000 drops/s is a regression, not NaN; noise and small changes are not', (t) => {
  const drops = verdictOf('lower', [0, 0, 0, 0], [5000, 4000, 6000, 5000], 5);
  t.is(drops.verdict, 'regression');
  t.is(drops.change, Infinity);
  t.true(drops.p < 0.01);
  t.is(verdictOf('higher', [0, 0, 0], [0, 0, 0], 5).verdict, 'same');
  t.is(verdictOf('higher', [100, 101, 99, 100], [80, 81, 79, 80], 5).verdict, 'regression');
  t.is(verdictOf('higher', [100, 101, 99, 100], [120, 121, 119, 120], 5).verdict, 'improvement');
  t.is(verdictOf('higher', [100, 101, 99, 100], [98, 99, 97, 98], 5).verdict, 'within threshold', 'significant but −2% < 5%');
  t.is(verdictOf('higher', [100, 140, 60, 100], [80, 120, 40, 80], 5).verdict, 'not significant');
  t.is(verdictOf('higher', [100], [50], 5).verdict, 'untested', 'one sample: no test, never a regression');
  t.is(verdictOf('lower', [-10, -10.5, -9.5, -10], [-50, -49, -51, -50], 5).verdict, 'improvement');
  t.is(verdictOf('higher', [-10, -10.5, -9.5, -10], [-50, -49, -51, -50], 5).verdict, 'regression');
});

test('kernels pair with themselves, or across when each run booted one', (t) => {
  t.deepEqual(pairKernels(['6.1'], ['6.1']), [['6.1', '6.1']]);
  t.deepEqual(pairKernels(['6.1'], ['6.12']), [['6.1', '6.12']]);
  t.deepEqual(pairKernels(['6.1', '6.12'], ['6.12', '7.3']), [['6.12', '6.12']]);
  t.throws(() => pairKernels(['6.1', '5.10'], ['6.12', '7.3']), { instanceOf: UsageError, message: /A: 6\.1, 5\.10; B: 6\.12, 7\.3/ });
});

const manifest = (over: Partial<Manifest> & { kernels?: Manifest['kernels'] } = {}, lines = ['6.1']): Manifest => ({
  runId: 'r', runDirName: 'd', command: '', argv: [], startedAt: '',
  options: { kernels: lines, scenarios: ['s'], quick: true, cpus: 2, memoryMb: 2048, accel: 'auto' },
  git: 'abc', host: { cpuModel: 'X', qemu: 'QEMU 7.2', virtiofsd: '', node: 'v20', user: 'u' },
  accel: { accel: 'tcg', reason: '', cached: false }, vm: { cpus: 2, memoryMb: 2048, kernelCmdline: '' },
  toolchain: { clang: '14', bpftool: '7.1', libbpf: '1.1', cc: '12' }, build: { key: 'k', btfFrom: '', objects: { 'a.bpf.o': '1', 'b.bpf.o': '2' } },
  kernels: lines.map((line) => ({ line, release: `${line}.0-x`, packages: [], image: '' })), scenarios: [], timings: { phases: {} }, warnings: [],
  ...over,
});

test('setup differences: accel, vCPUs, memory, toolchain, QEMU, objects are named one line each', (t) => {
  const a = manifest();
  t.deepEqual(setupDifferences(a, manifest()), []);
  const b = manifest({
    accel: { accel: 'kvm', reason: '', cached: false }, vm: { cpus: 4, memoryMb: 1024, kernelCmdline: '' },
    toolchain: { clang: '16', bpftool: '7.1', libbpf: '1.1', cc: '12' }, host: { cpuModel: 'X', qemu: 'QEMU 10.0', virtiofsd: '', node: 'v20', user: 'u' },
    build: { key: 'k2', btfFrom: '', objects: { 'a.bpf.o': '1', 'b.bpf.o': '3' } },
  });
  const d = setupDifferences(a, b);
  t.true(d.includes('accelerator: A tcg, B kvm'));
  t.true(d.includes('vCPUs: A 2, B 4'));
  t.true(d.includes('memory MiB: A 2048, B 1024'));
  t.true(d.includes('clang: A 14, B 16'));
  t.true(d.includes('QEMU: A QEMU 7.2, B QEMU 10.0'));
  t.true(d.includes('BPF objects differ: b.bpf.o'));
});

function run(dir: string, kernel: string, rows: [string, string, number[]][], better: Record<string, Better> = {}, status: Record<string, string> = {}): RunData {
  return {
    dir, manifest: manifest({}, [kernel]),
    samples: rows.flatMap(([variant, metric, values]) => values.map((value) => ({ kernel, scenario: 's', variant, params: 'n=1', metric, value }))),
    better: new Map(Object.entries(better).map(([m, b]) => [`s\t${m}`, b])),
    status: new Map(Object.entries(status)),
  };
}

test('compareData: every metric with a direction is compared, totals are not, rows pair across kernels', (t) => {
  const better = { pps: 'higher', softirq_ns_per_packet: 'lower', ratio_to_baseline: 'higher', drops_per_s: 'lower', packets_sent: 'none' } as const;
  const A = run('A', '6.1', [['x', 'pps', [100, 101, 99, 100]], ['x', 'softirq_ns_per_packet', [50, 51, 49, 50]], ['x', 'ratio_to_baseline', [0.5, 0.51, 0.49, 0.5]],
    ['x', 'drops_per_s', [0, 0, 0, 0]], ['x', 'packets_sent', [1000]], ['x', 'mystery', [1, 2]]], better);
  const B = run('B', '6.12', [['x', 'pps', [100, 100.5, 99.5, 100]], ['x', 'softirq_ns_per_packet', [50, 50.5, 49.5, 50]], ['x', 'ratio_to_baseline', [0.3, 0.31, 0.29, 0.3]],
    ['x', 'drops_per_s', [5000, 4000, 6000, 5000]], ['x', 'packets_sent', [1]], ['x', 'mystery', [5, 6]], ['y', 'pps', [1, 2]]], better);
  const c = compareData(A, B, 5, () => undefined);
  t.deepEqual(c.rows.map((r) => r.metric).sort(), ['drops_per_s', 'pps', 'ratio_to_baseline', 'softirq_ns_per_packet']);
  t.true(c.rows.every((r) => r.kernelA === '6.1' && r.kernelB === '6.12'));
  t.is(c.regressions, 2);
  t.deepEqual(c.rows.filter((r) => r.verdict === 'regression').map((r) => r.metric).sort(), ['drops_per_s', 'ratio_to_baseline']);
  t.true(c.notCompared.some((l) => /mystery.*no declared direction/.test(l)));
  t.true(c.notCompared.some((l) => /s y pps .*only in B/.test(l)));
  t.regex(c.text, /REGRESSION\s+6\.1 → 6\.12 s x drops_per_s ↓ \[n=1\]: 0\.000 → 5000 \(\+∞% \(from 0\)/);
  t.regex(c.text, /kernels differ: rows pair A 6\.1 with B 6\.12/);
});

test('compareData: the current definitions give the direction for runs without one; failed rows are not compared; nothing in common is a usage error', (t) => {
  const A = run('A', '6.1', [['x', 'ns_per_op', [10, 10.1, 9.9, 10]], ['x', 'events_per_s', [5, 5, 5, 5]]]);
  const B = run('B', '6.1', [['x', 'ns_per_op', [20, 20.1, 19.9, 20]], ['x', 'events_per_s', [1, 1, 1, 1]]], {}, { '6.1\ts\tx\tn=1\tevents_per_s': 'failed in B' });
  const c = compareData(A, B, 5, (_s, m) => (m === 'ns_per_op' ? 'lower' : 'higher'));
  t.is(c.regressions, 1);
  t.is(c.rows[0].metric, 'ns_per_op');
  t.true(c.notCompared.some((l) => /events_per_s.*failed in B/.test(l)));
  t.throws(() => compareData(run('A', '6.1', [['x', 'a', [1, 2]]]), run('B', '6.1', [['x', 'b', [1, 2]]]), 5, () => 'higher'), { instanceOf: UsageError });
  const declared = (r: RunData, b: Better) => ({ ...r, better: new Map([['s\tns_per_op', b], ['s\tevents_per_s', b]]) });
  t.throws(() => compareData(declared(A, 'lower'), declared(B, 'higher'), 5, () => 'lower'), { instanceOf: UsageError }, 'A declares lower, B higher: nothing comparable');
});

test('compareData: exact metrics (verifier counts, one sample a side) are compared without a test; the threshold decides', (t) => {
  const A = run('A', '6.1', [['prog:p', 'verified_insns', [1000]], ['prog:q', 'verified_insns', [500]], ['prog:r', 'verified_insns', [800]], ['prog:p', 'verify_us', [90]]]);
  const B = run('B', '7.3', [['prog:p', 'verified_insns', [1200]], ['prog:q', 'verified_insns', [500]], ['prog:r', 'verified_insns', [790]], ['prog:p', 'verify_us', [300]]]);
  const c = compareData(A, B, 5, () => 'lower', (_s, m) => m === 'verified_insns');
  const by = (v: string, m = 'verified_insns') => c.rows.find((r) => r.variant === v && r.metric === m)!;
  t.like(by('prog:p'), { verdict: 'regression', exact: true, change: 0.2 });
  t.is(by('prog:q').verdict, 'same');
  t.is(by('prog:r').verdict, 'within threshold');
  t.is(by('prog:p', 'verify_us').verdict, 'untested', 'a timing with one sample a side stays untested');
  t.is(c.regressions, 1);
  t.regex(c.text, /REGRESSION\s+6\.1 → 7\.3 s prog:p verified_insns ↓ \[n=1\]: 1000 → 1200 \(\+20\.0%, exact, n 1\/1\)/);
});
