/*
 * The package imported by its name, as a user of the library would (package.json `exports` self-reference), typed
 * from the emitted .d.ts; loadRun and compareRuns on the committed example run (a real run).
 */
import test from 'ava';
import { join } from 'node:path';
import { runLab, compareRuns, loadRun, planShards, mergeRuns, MergeRefused, UsageError, labArgv, type LoadedRun, type SummaryRow } from 'bpf-lab';
import { repo } from '../helpers.js';

const example = join(repo, 'results/examples/phase1-6.1-tcg');

test('bpf-lab resolves to the built entry point and exports the library functions', (t) => {
  for (const f of [runLab, compareRuns, loadRun, planShards, mergeRuns, labArgv]) t.is(typeof f, 'function');
  t.true(new MergeRefused(['x differs']) instanceof UsageError);
});

test('loadRun reads a run directory into typed rows and its manifest', async (t) => {
  const run: LoadedRun = await loadRun(example);
  t.is(run.manifest.options.kernels[0], '6.1');
  t.true(run.rows.length > 100);
  t.true(run.rows.every((r) => typeof r.value === 'number' && Number.isFinite(r.value) && typeof r.repetition === 'number'));
  const measured: SummaryRow[] = run.summary.filter((r) => r.n > 0);
  t.true(measured.length > 10);
  t.true(measured.every((r) => Number.isFinite(r.mean) && ['higher', 'lower', 'none', ''].includes(r.better)));
  // every sample belongs to a summary row
  const keys = new Set(run.summary.map((r) => [r.kernel, r.scenario, r.variant, r.params, r.metric].join('|')));
  t.true(run.rows.every((r) => keys.has([r.kernel, r.scenario, r.variant, r.params, r.metric].join('|'))));
});

test('loadRun of a directory that is not a run is a usage error naming it', async (t) => {
  const e = await t.throwsAsync(loadRun(join(repo, 'lab')));
  t.true(e instanceof UsageError);
  t.regex(e!.message, /lab is not a run directory/);
});

test('compareRuns of a run against itself: no regression', async (t) => {
  const c = await compareRuns(example, example, 5);
  t.is(c.regressions, 0);
  t.true(c.rows.length > 0);
});

test('labArgv: the options as the command line records them', (t) => {
  t.deepEqual(labArgv({ kernel: '6.1', scenario: 'xdp', quick: false, memoryMb: 1536, params: { mode: ['drv', 'skb'] } }),
    ['--kernel', '6.1', '--scenario', 'xdp', '--full', '--memory', '1536M', '--param', 'mode=drv,skb']);
});
