/*
 * plan → shards run as separate processes → merge, on real runs (6.1, quick, tracepoint-overhead and
 * map-operation-latency), against one unsharded run of the same work; and a merge refused for mixing quick and full
 * durations (a full run of one tracepoint-overhead combination), then forced with --allow-mixed.
 */
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lab, readCsv, unprivilegedCheckout } from './helpers.js';
import type { Plan } from '../lab/scale/plan.js';
import type { Manifest } from '../lab/results/manifest.js';

const as = unprivilegedCheckout('bpf-lab-plan-merge');
const out = join(as.cwd, 'results');
const WORK = ['--kernel', '6.1', '--scenario', 'tracepoint-overhead,map-operation-latency', '--quick'];

const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
/** The measured (kernel, scenario, variant, params, metric) rows of a run's summary, sorted, each with a value. */
function measuredRows(dir: string): string[] {
  return readCsv(join(dir, 'summary.csv')).filter((r) => Number(r.n) > 0).map((r) => [r.kernel, r.scenario, r.variant, r.params, r.metric].join(' | ')).sort();
}
function rowsWithoutValue(dir: string): string[] {
  return readCsv(join(dir, 'summary.csv')).filter((r) => Number(r.n) > 0 && !Number.isFinite(Number(r.mean))).map((r) => `${r.scenario} ${r.variant} ${r.metric} [${r.params}]`);
}

let merged = '';
let shardDirs: string[] = [];

test.serial('plan two shards, run them as separate processes, merge them into one run directory', async (t) => {
  const p = await lab(['plan', ...WORK, '--shards', '2', '--out', out], as);
  t.is(p.code, 0, p.stderr);
  const plan = JSON.parse(p.stdout) as Plan;
  t.is(plan.shards.length, 2);
  t.deepEqual(plan.shards.flatMap((s) => s.scenarios).sort(), ['map-operation-latency', 'tracepoint-overhead']);
  for (const s of plan.shards) {
    t.is(s.argv.length, 1);
    t.is(s.command, `npm run lab -- ${s.argv[0].join(' ')}`);
  }

  // both shards at once, as two machines would (each its own process, VM and run directory)
  const runs = await Promise.all(plan.shards.map((s) => lab(s.argv[0], as)));
  for (const r of runs) t.is(r.code, 0, r.stderr);
  shardDirs = runs.map((r) => r.lastLine);

  const m = await lab(['merge', ...shardDirs, '--out', out], as);
  t.is(m.code, 0, m.stderr);
  merged = m.lastLine;
  const mm = manifestOf(merged);
  t.deepEqual(mm.merged?.sources.map((s) => s.runId).sort(), shardDirs.map((d) => manifestOf(d).runId).sort());
  t.deepEqual(mm.options.scenarios, ['tracepoint-overhead', 'map-operation-latency']);
  t.deepEqual(mm.options.kernels, ['6.1']);
  // results.csv keeps each sample's source run id
  t.deepEqual([...new Set(readCsv(join(merged, 'results.csv')).map((r) => r.run_id))].sort(), mm.merged!.sources.map((s) => s.runId).sort());
  const md = readFileSync(join(merged, 'report.md'), 'utf8');
  t.regex(md, /## tracepoint-overhead:/);
  t.regex(md, /## map-operation-latency:/);
  t.regex(readFileSync(join(merged, 'report.html'), 'utf8'), /<h2>map-operation-latency:/);
  t.deepEqual(rowsWithoutValue(merged), []);
});

test.serial('the merged tables cover the same rows as one unsharded run of the same work', async (t) => {
  if (!merged) return t.fail('the sharded run did not complete');
  const one = await lab([...WORK, '--out', out], as);
  t.is(one.code, 0, one.stderr);
  const expected = measuredRows(one.lastLine);
  t.true(expected.length > 20, `only ${expected.length} measured rows`);
  t.deepEqual(measuredRows(merged), expected);
  t.deepEqual(rowsWithoutValue(one.lastLine), []);
});

test.serial('runs measured with different durations (quick vs full) are refused, one line per difference; --allow-mixed merges them with a warning', async (t) => {
  if (shardDirs.length !== 2) return t.fail('the sharded run did not complete');
  const full = await lab(['--kernel', '6.1', '--scenario', 'tracepoint-overhead', '--full', '--param', 'producers=1', '--out', out], as);
  t.is(full.code, 0, full.stderr);
  const quickMap = shardDirs.find((d) => manifestOf(d).options.scenarios.includes('map-operation-latency'))!;

  const refused = await lab(['merge', quickMap, full.lastLine, '--out', out], as);
  t.is(refused.code, 2);
  t.regex(refused.stderr, /not comparable/);
  t.regex(refused.stderr, /^ {2}quick mode differs: .*=true, .*=false$/m);
  t.is(refused.stdout, '');

  // the quick tracepoint shard and the full run measured the same (kernel, scenario, params): both reasons listed
  const quickTp = shardDirs.find((d) => d !== quickMap)!;
  const twice = await lab(['merge', quickTp, full.lastLine, '--out', out], as);
  t.is(twice.code, 2);
  t.regex(twice.stderr, /quick mode differs/);
  t.regex(twice.stderr, /kernel 6\.1 tracepoint-overhead \[producers=1\] measured by more than one run/);

  const forced = await lab(['merge', quickMap, full.lastLine, '--out', out, '--allow-mixed'], as);
  t.is(forced.code, 0, forced.stderr);
  t.regex(readFileSync(join(forced.lastLine, 'report.md'), 'utf8'), /merged anyway \(--allow-mixed\): quick mode differs/);
});
