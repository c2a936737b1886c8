/*
 * .github/workflows/lab-matrix.yml: valid against the GitHub workflow JSON schema (SchemaStore's, shipped inside
 * @action-validator/core, so it works offline), and wired to what `plan` really prints.
 */
import test from 'ava';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { validateWorkflow } from '@action-validator/core';
import { parse } from 'yaml';
import { repo } from '../helpers.js';
import { planShards } from '../../lab/scale/plan.js';

const path = join(repo, '.github/workflows/lab-matrix.yml');
const text = readFileSync(path, 'utf8');
type Step = { run?: string; uses?: string; with?: Record<string, unknown>; env?: Record<string, string>; id?: string };
type Job = { needs?: string | string[]; outputs?: Record<string, string>; strategy?: { matrix?: { include?: string } }; steps: Step[]; container?: unknown };
const wf = parse(text) as { jobs: Record<string, Job> };

test('the workflow passes the GitHub workflow schema', (t) => {
  t.deepEqual(validateWorkflow(text).errors, []);
});

test('the schema check catches a broken workflow (a job without runs-on)', (t) => {
  const broken = text.replace(/^ {4}runs-on: ubuntu-latest\n/m, '');
  t.not(broken, text);
  t.true(validateWorkflow(broken).errors.length > 0);
});

test('plan → shard matrix → merge: outputs, matrix keys and artifact paths line up with what plan prints', (t) => {
  const { plan, shard, merge } = wf.jobs;
  const planStep = plan.steps.find((s) => s.id === 'plan')!;
  t.regex(planStep.run!, /npm run --silent lab -- plan .*--shards "\$SHARDS".* --out results\/shards/);
  t.is(plan.outputs?.plan, '${{ steps.plan.outputs.plan }}');
  t.regex(planStep.run!, /echo "plan=\$plan" >> "\$GITHUB_OUTPUT"/);
  t.deepEqual(shard.needs, 'plan');
  t.is(shard.strategy?.matrix?.include, '${{ fromJSON(needs.plan.outputs.plan).shards }}');

  // every matrix.<key> the workflow reads is a field of every planned shard
  const planned = planShards({ kernel: 'all', suite: 'phase1', quick: false, shards: 2, params: {}, out: 'results/shards' });
  t.true(planned.shards.length >= 2);
  const used = [...new Set([...text.matchAll(/matrix\.([a-zA-Z]+)/g)].map((m) => m[1]))];
  t.deepEqual(used.sort(), ['command', 'id']);
  for (const s of planned.shards) {
    for (const k of used) t.truthy((s as unknown as Record<string, unknown>)[k], `shard ${s.id} has no ${k}`);
    t.true(s.commands.every((c) => c.includes('--out results/shards')));
  }
  // plan's JSON is one line, as $GITHUB_OUTPUT's name=value needs
  t.false(JSON.stringify(planned).includes('\n'));

  const upload = shard.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))!;
  t.is(upload.with?.path, 'results/shards/');
  t.is(upload.with?.name, 'run-${{ matrix.id }}');
  const download = merge.steps.find((s) => s.uses?.startsWith('actions/download-artifact'))!;
  t.is(download.with?.pattern, 'run-*');
  t.true(merge.steps.some((s) => /lab -- merge shards\/\*\/ --out merged/.test(s.run ?? '')));
  t.deepEqual(merge.needs, ['plan', 'shard']);
});

test('the shard job installs the host packages the way .ci/run does', (t) => {
  const ciRun = readFileSync(join(repo, '.ci/run'), 'utf8');
  t.regex(ciRun, /^\.ci\/install-host-packages$/m);
  t.true((statSync(join(repo, '.ci/install-host-packages')).mode & 0o111) !== 0);
  t.true(wf.jobs.shard.steps.some((s) => s.run === '.ci/install-host-packages'));
});
