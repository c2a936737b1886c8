import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { planShards, sliceScenario } from '../../lab/scale/plan.js';
import { parseCommand } from '../../lab/args.js';
import { resolveMatrices, resolveScenarios } from '../../lab/run.js';
import { incomparabilities, environmentWarnings, MergeRefused, mergeManifests } from '../../lab/results/merge.js';
import { outcomesOf, type LoadedRun } from '../../lab/results/load-run.js';
import { summarizeRows, formatParams, type ResultRow, type RunOutcome } from '../../lab/results/csv.js';
import { scenarioById } from '../../scenarios/index.js';
import { matrixAxes } from '../../scenarios/define.js';
import { UsageError } from '../../lab/errors.js';
import { resolveKernels } from '../../lab/kernels/catalog.js';
import type { Manifest } from '../../lab/results/manifest.js';
import { repo } from '../helpers.js';

const defaults = { kernel: '6.1', suite: 'phase1' };

/** (kernel, scenario, params) of every run a set of command lines performs, as the CLI would resolve them. */
function runsOfCommands(argvs: string[][]): string[] {
  return argvs.flatMap((argv) => {
    const c = parseCommand(argv, defaults);
    if (c.cmd !== 'run') throw new Error(`not a run: ${argv.join(' ')}`);
    const m = resolveMatrices(resolveScenarios(c), c);
    return resolveKernels(c.kernel).map((k) => k.line).flatMap((k) => Object.entries(m).flatMap(([id, ps]) => ps.map((p) => `${k} ${id} ${formatParams(p)}`)));
  }).sort();
}

for (const [label, argv] of [
  ['phase1, all kernels, full', ['plan', '--kernel', 'all', '--suite', 'phase1']],
  ['phase1, quick', ['plan', '--kernel', '6.1,7.3', '--suite', 'phase1', '--quick']],
  ['net suite', ['plan', '--kernel', '6.12', '--suite', 'net']],
  ['with --param', ['plan', '--kernel', '6.1', '--scenario', 'ringbuf-throughput,map-operation-latency', '--param', 'producers=1', '--param', 'fill=100']],
] as const) {
  test(`plan (${label}): the shards' commands together run exactly the unsharded work, for 1..6 shards`, (t) => {
    const unsharded = parseCommand((argv as readonly string[]).slice(1) as string[], defaults);
    if (unsharded.cmd !== 'run') return t.fail();
    const expected = runsOfCommands([(argv as readonly string[]).slice(1) as string[]]);
    for (let n = 1; n <= 6; n++) {
      const c = parseCommand([...argv, '--shards', String(n)], defaults);
      if (c.cmd !== 'plan') return t.fail();
      const plan = planShards(c);
      t.deepEqual(runsOfCommands(plan.shards.flatMap((s) => s.argv)), expected, `${n} shards`);
      const kernels = plan.kernels.length;
      t.true(plan.shards.length <= n * kernels);
      for (const s of plan.shards) {
        t.is(s.runs, runsOfCommands(s.argv).length);
        t.is(s.command, s.commands.join(' && '));
        t.true(s.argv.every((a) => a.includes(unsharded.quick ? '--quick' : '--full')));
      }
    }
  });
}

test('plan: more shards spread the work (the heaviest shard gets lighter) and a heavy scenario is cut along an axis', (t) => {
  const heaviest = (n: number) => Math.max(...planShards({ kernel: '6.1', suite: 'phase1', quick: false, shards: n, params: {} }).shards.map((s) => s.estimateS));
  t.true(heaviest(4) < heaviest(1));
  const map = scenarioById('map-operation-latency')!;
  const slices = sliceScenario(map, matrixAxes(map, false), false, 2);
  t.is(slices.length, 2);
  t.deepEqual(slices.map((s) => s.slice?.key), ['keySize', 'keySize']);
  t.deepEqual(slices.map((s) => s.slice?.values), [[4], [64]]);
  const p = planShards({ kernel: '6.1', scenario: 'map-operation-latency', quick: false, shards: 2, params: {} });
  t.deepEqual(p.shards.map((s) => s.argv[0].join(' ')), [
    '--kernel 6.1 --scenario map-operation-latency --param keySize=4 --full',
    '--kernel 6.1 --scenario map-operation-latency --param keySize=64 --full',
  ]);
});

test('plan: bad usage is one line naming what is valid', (t) => {
  t.throws(() => parseCommand(['plan', '--kernel', '6.1'], defaults), { instanceOf: UsageError, message: /--shards N/ });
  t.throws(() => parseCommand(['plan', '--shards', '0'], defaults), { instanceOf: UsageError, message: /1\.\.256/ });
  t.throws(() => parseCommand(['--shards', '2'], defaults), { instanceOf: UsageError, message: /plan only/ });
  t.throws(() => parseCommand(['merge'], defaults), { instanceOf: UsageError, message: /merge RUN_DIR/ });
  t.throws(() => parseCommand(['merge', 'a', '--quick'], defaults), { instanceOf: UsageError, message: /manifests/ });
  t.throws(() => planShards({ kernel: '9.9', suite: 'phase1', quick: true, shards: 2, params: {} }), { instanceOf: UsageError, message: /valid kernel lines/ });
  t.throws(() => planShards({ kernel: '6.1', scenario: 'xdp', quick: true, shards: 2, params: { nope: ['1'] } }), { instanceOf: UsageError, message: /valid keys/ });
});

// merge: the comparability rules on manifests (the example is a real run; each variant changes one recorded field)
const example = JSON.parse(readFileSync(join(repo, 'results/examples/phase1-6.1-tcg/manifest.json'), 'utf8')) as Manifest;
function run(id: string, change: (m: Manifest) => void = () => {}, scenarios?: Manifest['scenarios']): LoadedRun {
  const m = structuredClone(example);
  m.runId = id;
  if (scenarios) { m.scenarios = scenarios; m.options.scenarios = scenarios.map((s) => s.id); }
  change(m);
  return { dir: `/runs/${id}`, manifest: m, rows: [], summary: [], outcomes: [] };
}
const tp = (producers: number) => [{ id: 'tracepoint-overhead', params: [{ producers }] }];

test('merge: runs measuring different parts with the same setup are comparable', (t) => {
  t.deepEqual(incomparabilities([run('a', undefined, tp(1)), run('b', undefined, tp(2))]), []);
});

test('merge: every setup difference is one line naming each run\'s value', (t) => {
  const b = run('b', (m) => {
    m.accel.accel = 'kvm'; m.vm.cpus = 4; m.vm.memoryMb = 4096; m.options.quick = !m.options.quick; m.git = 'f00';
    m.kernels[0].packages[0].sha256 = '0'.repeat(64);
    const obj = Object.keys(m.build.objects)[0];
    m.build.objects[obj] = '1'.repeat(64);
  }, tp(2));
  const d = incomparabilities([run('a', undefined, tp(1)), b]);
  const obj = Object.keys(example.build.objects)[0];
  t.deepEqual(d.map((l) => l.split(' differs')[0]), ['accelerator', 'vCPUs', 'memory (MiB)', 'quick mode', 'lab git commit', 'kernel 6.1 pins', `BPF object ${obj} sha256`]);
  t.is(d[0], `accelerator differs: a=${example.accel.accel}, b=kvm`);
  t.true(new MergeRefused(d).message.split('\n').length === d.length + 1);
});

test('merge: the same (kernel, scenario, params) in two runs is refused; QEMU or CPU model differences are warnings only', (t) => {
  t.deepEqual(incomparabilities([run('a', undefined, tp(1)), run('b', undefined, [{ id: 'tracepoint-overhead', params: [{ producers: 1 }, { producers: 2 }] }])]),
    ['kernel 6.1 tracepoint-overhead [producers=1] measured by more than one run: a, b']);
  const b = run('b', (m) => { m.host.qemu = 'QEMU 10.0'; m.host.cpuModel = 'other'; }, tp(2));
  t.deepEqual(incomparabilities([run('a', undefined, tp(1)), b]), []);
  t.deepEqual(environmentWarnings([run('a', undefined, tp(1)), b]).map((l) => l.split(' differs')[0]), ['QEMU', 'host CPU']);
});

test('merge: the manifest is the union of the runs, each source listed', (t) => {
  const a = run('a', (m) => { m.warnings = ['w']; }, tp(1));
  const b = run('b', (m) => { m.exitStatus = 1; }, [...tp(2), { id: 'map-operation-latency', params: [{ keySize: 4, valueSize: 8, fill: 100 }] }]);
  const m = mergeManifests([a, b], 'merged', '/out/merged', ['merge', 'a', 'b'], ['x']);
  t.deepEqual(m.options.scenarios, ['tracepoint-overhead', 'map-operation-latency']);
  t.deepEqual(m.scenarios[0], { id: 'tracepoint-overhead', params: [{ producers: 1 }, { producers: 2 }] });
  t.deepEqual(m.merged?.sources.map((s) => s.runId), ['a', 'b']);
  t.is(m.exitStatus, 1);
  t.is(m.command, 'npm run lab -- merge a b');
  t.deepEqual(m.options.params, {});
});

test('outcomesOf: skipped and failed runs and variants survive a summary round trip', (t) => {
  const row = (variant: string, params: string, value: number): ResultRow => ({ run_id: 'r', kernel: '6.1', kernel_release: 'x', accel: 'tcg', vcpus: 2, scenario: 'tracepoint-overhead', variant, params, repetition: 0, metric: 'ns_per_call', unit: 'ns', value });
  const rows = [row('baseline', 'producers=1', 10), row('baseline', 'producers=2', 11)];
  const outcomes: RunOutcome[] = [
    { kernel: '6.1', scenario: 'tracepoint-overhead', params: 'producers=1', status: 'ok', note: '', wallMs: 1 },
    { kernel: '6.1', scenario: 'tracepoint-overhead', params: 'producers=1', variant: 'raw_tracepoint', status: 'skipped', note: 'no raw tp', wallMs: 0 },
    { kernel: '6.1', scenario: 'tracepoint-overhead', params: 'producers=2', status: 'failed', note: 'crashed', wallMs: 1 },
    { kernel: '6.1', scenario: 'kprobe-overhead', params: '', status: 'skipped', note: 'needs 9.9', wallMs: 0 },
  ];
  const summary = summarizeRows(rows, outcomes, scenarioById);
  const again = summarizeRows(rows, outcomesOf(summary), scenarioById);
  const brief = (s: typeof summary) => s.map((r) => `${r.scenario} ${r.variant} ${r.params} ${r.status} ${r.note}`);
  t.deepEqual(brief(again), brief(summary));
});
