import test from 'ava';
import { loadCatalog } from '../../lab/kernels/catalog.js';
import { loadOnlyProgramUnderTest, optimizeLikeRelease } from '../../lab/host/kernel-bench.js';
import { fidelityRows } from '../../lab/results/fidelity.js';
import { summarizeRows, type ResultRow, type SummaryRow } from '../../lab/results/csv.js';
import { scenarioById } from '../../scenarios/index.js';
import type { Sample } from '../../lab/agent/protocol.js';
import type { ScenarioContext } from '../../scenarios/define.js';
import kernelBench, { parseBenchOutput, benchSamples, fidelityMatches, benchVariant } from '../../scenarios/kernel-bench.js';

// bench's output as printed by a 6.1 guest (`bench -w1 -d2 -a trig-tp`), the negative deltas included
const TRIG_OUTPUT = `Setting up benchmark 'trig-tp'...
Benchmark 'trig-tp' started.
Iter   0 (14347.580us): hits    0.099M/s (  0.099M/prod), drops    0.000M/s, total operations    0.099M/s
Iter   1 (12272.740us): hits    0.180M/s (  0.180M/prod), drops    0.000M/s, total operations    0.180M/s
Iter   2 (-25645.210us): hits    0.205M/s (  0.205M/prod), drops    0.000M/s, total operations    0.205M/s
Iter   3 (-302.810us): hits    0.118M/s (  0.118M/prod), drops    0.000M/s, total operations    0.118M/s
Summary: hits    0.166 ± 0.043M/s (  0.166M/prod), drops    0.000 ± 0.000M/s, total operations    0.166 ± 0.043M/s
`;

test('kernel-bench: parses every iteration and keeps those after warm-up, like bench\'s own summary', (t) => {
  const p = parseBenchOutput(TRIG_OUTPUT);
  t.is(p.iterations.length, 4);
  t.deepEqual(p.iterations[2], { iter: 2, hitsMps: 0.205, dropsMps: 0 });
  t.regex(p.summary!, /^Summary: hits\s+0\.166/);
  const trig = benchSamples(p.iterations, 1, 'trig-tp', 'trig');
  t.deepEqual(trig.map((s) => [s.repetition, s.metric, s.value]), [[0, 'calls_per_s', 180000], [1, 'calls_per_s', 205000], [2, 'calls_per_s', 118000]]);
  const mean = trig.reduce((a, s) => a + s.value, 0) / trig.length / 1e6;
  t.true(Math.abs(mean - 0.166) < 0.002, 'the samples average to bench\'s summary');
  const rb = benchSamples(p.iterations, 1, benchVariant('rb-libbpf', 'b2b'), 'rb');
  t.deepEqual([...new Set(rb.map((s) => s.metric))], ['events_per_s', 'drops_per_s']);
  t.is(rb[0].variant, 'rb-libbpf:b2b');
});

const TRIGGER_SHAPE = `#include "bench.h"
static struct trigger_ctx { struct trigger_bench *skel; } ctx;

static struct counter base_hits;

static void setup_ctx(void)
{
	ctx.skel = trigger_bench__open_and_load();
}

static void attach_bpf(struct bpf_program *prog)
{
	struct bpf_link *link;

	link = bpf_program__attach(prog);
}

static void usetup(bool use_retprobe, bool use_nop)
{
	ctx.skel = trigger_bench__open_and_load();

	link = bpf_program__attach_uprobe(ctx.skel->progs.bench_trigger_uprobe,
					  use_retprobe);
}
`;

test('kernel-bench build: trigger benches open the skeleton and load only the attached program', (t) => {
  const r = loadOnlyProgramUnderTest(TRIGGER_SHAPE);
  t.true(r.changed);
  t.false(r.text.includes('trigger_bench__open_and_load'));
  t.is(r.text.match(/trigger_bench__open\(\)/g)!.length, 2);
  t.regex(r.text, /struct bpf_link \*link;\n\n\tlab_load_only\(prog\);\n/);
  t.regex(r.text, /lab_load_only\(ctx\.skel->progs\.bench_trigger_uprobe\);\n\tlink = bpf_program__attach_uprobe/);
  t.regex(r.text, /bpf_program__set_autoload\(p, p == keep\)/);
  // 5.10: no uprobe benches
  const noUprobe = loadOnlyProgramUnderTest(TRIGGER_SHAPE.slice(0, TRIGGER_SHAPE.indexOf('static void usetup')));
  t.true(noUprobe.changed);
  t.false(noUprobe.text.includes('trigger_bench__open_and_load'));
  // a 6.10+ tree already loads per bench: untouched
  const newer = 'ctx.skel = trigger_bench__open();\nbpf_program__set_autoload(ctx.skel->progs.trigger_driver, true);\n';
  t.deepEqual(loadOnlyProgramUnderTest(newer), { text: newer, changed: false });
  // an old-style tree of an unexpected shape is an error, not a silently unpatched bench
  t.throws(() => loadOnlyProgramUnderTest('x = trigger_bench__open_and_load();'), { message: /unexpected shape/ });
});

test('catalog: every Debian kernel line pins its own version\'s source package for the bench', (t) => {
  for (const k of loadCatalog().kernels) {
    if (k.kind !== 'debian') continue;
    t.truthy(k.source, k.line);
    t.is(k.source!.name, `linux-source-${k.line}`);
    t.is(k.source!.version, k.packages[0].version, `${k.line}: source and kernel versions agree`);
    t.is(k.source!.tarball, `usr/src/linux-source-${k.line}.tar.xz`);
  }
});

const row = (scenario: string, variant: string, metric: string, params: string, median: number, cv = 0.02): SummaryRow => ({
  kernel: '6.1', kernel_release: '6.1.0-56-cloud-amd64', accel: 'tcg', scenario, variant, params, metric, unit: '', n: 5, median, mean: median,
  better: 'higher', stddev: median * cv, cv, p50: median, p95: median, p99: median, p999: median, ci95_low: median, ci95_high: median, noisy: false,
  reference: '', reference_source: '', ratio_to_reference: '', status: 'ok', note: '',
});

test('fidelity: rows pair bench and lab by declared params; verdicts within ±10%, differs, not measured', (t) => {
  const rbParams = 'recordSize=8;batch=500;producers=1;wakeup=every;placement=parallel;api=reserve;consumer=libbpf;hook=fentry';
  const summary = [
    row('kernel-bench', 'rb-libbpf:parallel', 'events_per_s', 'bench=rb-libbpf', 4.33e6),
    row('ringbuf-throughput', 'ringbuf', 'events_per_s', rbParams, 0.67e6),
    row('ringbuf-throughput', 'ringbuf', 'events_per_s', rbParams.replace('consumer=libbpf', 'consumer=custom'), 9e6),
    row('kernel-bench', 'trig-kprobe', 'calls_per_s', 'bench=trig-kprobe', 1.2e6),
    row('kprobe-overhead', 'kprobe', 'syscalls_per_s', 'producers=1', 1.25e6),
    row('kprobe-overhead', 'kprobe', 'syscalls_per_s', 'producers=2', 9e6),
    row('kernel-bench', 'trig-fentry', 'calls_per_s', 'bench=trig-fentry', 1.9e6, 0.3),
    row('kprobe-overhead', 'fentry', 'syscalls_per_s', 'producers=1', 1.0e6),
    row('kernel-bench', 'trig-tp', 'calls_per_s', 'bench=trig-tp', 0.99e6),
    row('kernel-bench', 'rb-custom:parallel', 'events_per_s', 'bench=rb-custom', 30e6),
    row('kernel-bench', 'pb-custom:b2b', 'events_per_s', 'bench=pb-custom', 0.3e6),
    { ...row('kernel-bench', 'trig-kprobe-batched', 'calls_per_s', 'bench=trig-kprobe', 20e6), kernel: '7.3' },
    { ...row('kprobe-overhead', 'kprobe', 'syscalls_per_s', 'producers=1', 1.1e6), kernel: '7.3' },
    { ...row('tracepoint-overhead', 'tracepoint', 'syscalls_per_s', 'producers=1', 0.3e6), kernel: '7.3' },
    { ...row('kernel-bench', '', '', 'bench=trig-tp', NaN), kernel: '7.3', n: 0, status: 'skipped', note: 'needs bpf_testmod.ko' },
  ];
  const rows = fidelityRows(summary, fidelityMatches, kernelBench.references);
  const by = (label: string) => rows.find((r) => r.label === label)!;
  t.is(by('rb-libbpf, parallel').ratio!.toFixed(3), (0.67 / 4.33).toFixed(3));
  t.regex(by('rb-libbpf, parallel').verdict, /^differs: lab harness slower/);
  t.is(by('rb-libbpf, parallel').published!.value, 12.054e6);
  t.is(by('trig-kprobe').verdict, 'within ±10%');
  t.is(by('trig-kprobe').lab!.params, 'producers=1');
  t.regex(by('trig-fentry').verdict, /^differs: samples too noisy.*bench cv 30%/);
  t.is(by('trig-tp').verdict, 'not measured in this run (lab row)');
  t.is(by('trig-tp').published!.value, 6.69e6);
  t.falsy(rows.find((r) => r.label === 'rb-custom, b2b'), 'rows measured by neither side are left out');
  t.regex(by('rb-custom, parallel').verdict, /^differs: bench's rb-custom consumer over-counts in parallel mode/);
  t.regex(by('pb-custom, b2b').verdict, /^no lab counterpart: the lab's perf buffer consumer is libbpf's/);
  // 6.10+: bench's kprobe trigger is another method: shown, not compared, no published value beside it
  const batched = rows.find((r) => r.kernel === '7.3' && r.label === 'trig-kprobe')!;
  t.is(batched.bench!.variant, 'trig-kprobe-batched');
  t.is(batched.ratio, undefined);
  t.is(batched.published, undefined);
  t.regex(batched.verdict, /^not comparable: since 6\.10 bench drives the hook from an in-kernel loop/);
  t.is(rows.find((r) => r.kernel === '7.3' && r.label === 'trig-tp')!.verdict, 'kernel bench skipped: needs bpf_testmod.ko');
  t.deepEqual(fidelityRows(summary.filter((r) => r.scenario !== 'kernel-bench'), fidelityMatches, kernelBench.references), []);
});

test('fidelity: a caveat that holds from a kernel version on applies to that kernel only (trig-base counting since 6.10)', (t) => {
  const on = (kernel: string, release: string, bench: number, lab: number) => [
    { ...row('kernel-bench', 'trig-base', 'calls_per_s', 'bench=trig-base', bench), kernel, kernel_release: release },
    { ...row('kprobe-overhead', 'baseline', 'syscalls_per_s', 'producers=1', lab), kernel, kernel_release: release },
  ];
  const rows = fidelityRows([...on('6.1', '6.1.0-56-cloud-amd64', 2.0e6, 2.5e6), ...on('7.3', '7.3.4+deb13-cloud-amd64', 2.0e6, 2.5e6)], fidelityMatches, kernelBench.references);
  const of = (k: string) => rows.find((r) => r.kernel === k && r.label === 'trig-base')!.verdict;
  t.regex(of('6.1'), /^differs: lab harness faster/);
  t.regex(of('7.3'), /^differs: bench's trig-syscall-count counts each call in a per-thread slot/);
});

test('kernel-bench run: a trigger bench that lost the consumer-pinning race runs again; other failures do not', async (t) => {
  const samples: Sample[] = [];
  const logs: string[] = [];
  const calls: string[][] = [];
  let failures = 2;
  const ctx = {
    quick: true, release: '6.1.0-56-cloud-amd64', tool: () => '/cache/bench', progress: () => {}, log: (m: string) => logs.push(m),
    sample: (s: Sample) => samples.push(s),
    exec: async (argv: string[]) => {
      calls.push(argv);
      return failures-- > 0 ? { code: 1, stdout: '', stderr: 'setting affinity to CPU #0 failed: 9\n' } : { code: 0, stdout: TRIG_OUTPUT, stderr: '' };
    },
  } as unknown as ScenarioContext;
  await kernelBench.run(ctx, { bench: 'trig-tp' });
  t.is(calls.length, 3);
  t.deepEqual(calls[0], ['/cache/bench', '-w1', '-d2', '--prod-affinity', '0', '--cons-affinity', '1', 'trig-tp']);
  t.is(samples.length, 3);
  t.is(logs.filter((l) => /start-up race/.test(l)).length, 2);
  failures = 1;
  const broken = { ...ctx, exec: async () => ({ code: 1, stdout: '', stderr: 'failed to load the program under test\n' }) } as ScenarioContext;
  await t.throwsAsync(kernelBench.run(broken, { bench: 'trig-tp' }), { message: /exited 1: failed to load the program under test/ });
});

test('fidelity with --rounds: per-round ratios tell a steady harness difference from run-to-run variance', (t) => {
  const sample = (scenario: string, variant: string, metric: string, params: string, value: number, round: number, repetition: number): ResultRow => ({
    run_id: 'r', kernel: '6.1', kernel_release: 'x', accel: 'tcg', vcpus: 2, scenario, variant, params, repetition, metric, unit: 'calls/s', value, round,
  });
  const rounds = (labOverBench: number[]) => labOverBench.flatMap((f, round) => [0, 1, 2].flatMap((i) => [
    sample('kernel-bench', 'trig-kprobe', 'calls_per_s', 'bench=trig-kprobe', 1e6 + i, round, i),
    sample('kprobe-overhead', 'kprobe', 'syscalls_per_s', 'producers=1', f * (1e6 + i), round, i),
  ]));
  const rowFor = (samples: ResultRow[]) => {
    const summary = summarizeRows(samples, [], scenarioById);
    return fidelityRows(summary, fidelityMatches, kernelBench.references, samples).find((r) => r.label === 'trig-kprobe')!;
  };
  const steady = rowFor(rounds([1.3, 1.25, 1.35]));
  t.deepEqual(steady.roundRatios!.map((x) => x.toFixed(2)), ['1.30', '1.25', '1.35']);
  t.regex(steady.verdict, /^differs in every round \(×1\.25–×1\.35 over 3 rounds\): lab harness faster than the kernel bench throughout this boot$/);
  const swinging = rowFor(rounds([1.3, 0.8, 1.25]));
  t.regex(swinging.verdict, /^varies between rounds \(×0\.80–×1\.30 over 3 rounds, pooled ×1\.25\): run-to-run variance/);
  t.is(rowFor(rounds([1.02, 0.97])).verdict, 'within ±10% (rounds ×0.97–×1.02)');
  t.is(rowFor(rounds([1.15, 0.92, 1.0])).verdict, 'within ±10% (rounds ×0.92–×1.15)', 'the pooled medians agree; the spread is shown');
  t.regex(rowFor(rounds([1.3, 0.8, 1.0])).verdict, /^varies between rounds \(×0\.80–×1\.30 over 3 rounds, pooled ×1\.00\)/, 'a pool that hides a wide spread is not agreement');
  // one round: no per-round column, the single-run verdicts apply
  t.is(rowFor(rounds([1.3])).roundRatios, undefined);
});

test('kernel bench build: -O2 user space like the published runs, in the 6.1 shape; 6.3+ trees are left to RELEASE=1', (t) => {
  const v61 = "CFLAGS += -g -O0 -rdynamic -Wall -Werror $(GENFLAGS)\\\n\t\t    EXTRA_CFLAGS='-g -O0'\t\\\n\t$(Q)$(CLANG) $3 -O2 -target bpf\n\t\t    EXTRA_CFLAGS='-g -O0' ARCH=\n";
  const r = optimizeLikeRelease(v61);
  t.true(r.changed);
  t.false(r.text.includes('-O0'));
  t.is(r.text.split('-O2').length - 1, 4, 'CFLAGS, both libbpf builds, and the BPF line that already had -O2');
  const v73 = "OPT_FLAGS\t?= $(if $(RELEASE),-O2,-O0)\nCOMMON_CFLAGS = -g $(OPT_FLAGS) -rdynamic\n";
  t.deepEqual(optimizeLikeRelease(v73), { text: v73, changed: false });
});
