import test from 'ava';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { lab, readCsv, repo } from './helpers.js';
import { phaseTimings, type LabEvent } from '../lab/events.js';

// The event stream of a real quick run (two one-run scenarios on 6.1, the shared cache): --json on stdout, in order,
// every phase closed, every sample accounted for, and the manifest's timings exactly those the events add up to.
test('--json: the run\'s events in order, ending with the run directory; the manifest\'s timings are the events\'', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'bpf-lab-events-'));
  const scenarios = ['tracepoint-overhead', 'kprobe-overhead'];
  const r = await lab(['--kernel', '6.1', '--scenario', scenarios.join(','), '--quick', '--param', 'producers=1', '--json', '--out', out], { cwd: repo });
  t.is(r.code, 0, r.stderr);

  // stdout: JSON lines, then the run directory (the CLI contract: the last line)
  const lines = r.stdout.trim().split('\n');
  const runDir = lines.at(-1)!;
  t.true(runDir.startsWith(out), runDir);
  const events = lines.slice(0, -1).map((l) => JSON.parse(l) as LabEvent);
  const types = events.map((e) => e.type);
  const end = events.at(-1)!;
  t.like(end, { type: 'end', runDir, exitStatus: 0 });
  t.false(types.includes('log'), 'driver logs only with --verbose');

  // time only moves forward; each phase that starts ends (ok), its ms = end.t − start.t
  t.true(events.every((e, i) => i === 0 || e.t >= events[i - 1].t), 'non-decreasing t');
  const open = new Map<string, LabEvent & { type: 'phase-start' }>();
  for (const e of events) {
    if (e.type === 'phase-start') open.set(`${e.phase}/${e.kernel}`, e);
    if (e.type === 'phase-end') {
      const s = open.get(`${e.phase}/${e.kernel}`);
      t.truthy(s, `${e.phase} ended without starting`);
      t.true(e.ok, `${e.phase}: ${e.error}`);
      t.is(e.ms, e.t - s!.t, e.phase);
      open.delete(`${e.phase}/${e.kernel}`);
    }
  }
  t.deepEqual([...open.keys()], [], 'every phase ended');

  // the order of a run: start, fetch, build, initramfs, accelerator, boot, hello, the scenarios, shutdown, outputs, end
  const first = (pred: (e: LabEvent) => boolean) => events.findIndex(pred);
  const phase = (p: string) => first((e) => e.type === 'phase-start' && e.phase === p);
  const order = [
    first((e) => e.type === 'start'), phase('fetch'), phase('build'), phase('initramfs'), phase('accel'), phase('boot'), first((e) => e.type === 'hello'),
    ...scenarios.flatMap((s) => [first((e) => e.type === 'scenario-start' && e.scenario === s), first((e) => e.type === 'scenario-end' && e.scenario === s)]),
    phase('shutdown'), events.length - 1,
  ];
  t.true(order.every((i) => i >= 0), `missing: ${order} in ${types.join(' ')}`);
  t.deepEqual(order, [...order].sort((a, b) => a - b), types.join(' '));
  t.is(types.filter((x) => x === 'start').length, 1);
  t.deepEqual(types.slice(-3), ['phase-start', 'phase-end', 'end'], 'writing the outputs is the last phase');
  const hello = events.find((e) => e.type === 'hello')!;
  t.like(hello, { kernel: '6.1' });
  if (hello.type === 'hello') t.true(hello.bootMs > 0);

  // each scenario: start, its run (start + end, ok, samples), end; the samples are the rows of results.csv
  const rows = readCsv(join(runDir, 'results.csv'));
  for (const s of scenarios) {
    const mine = events.filter((e) => 'scenario' in e && e.scenario === s).map((e) => e.type);
    t.deepEqual(mine, ['scenario-start', 'scenario-run-start', 'scenario-run-end', 'scenario-end'], s);
    const done = events.find((e) => e.type === 'scenario-run-end' && e.scenario === s);
    if (done?.type !== 'scenario-run-end') return t.fail(s);
    t.like(done, { kernel: '6.1', params: 'producers=1', index: 1, runs: 1, status: 'ok' });
    t.true(done.samples > 0 && done.ms > 0, JSON.stringify(done));
    t.is(rows.filter((x) => x.scenario === s).length, done.samples, `${s}: every sample streamed is a row`);
  }
  const start = events.find((e) => e.type === 'start');
  t.like(start, { kernels: ['6.1'], scenarios, quick: true, plannedRuns: 2 });

  // manifest: timings = the events up to the last write's start; warnings = the warning events
  const m = JSON.parse(readFileSync(join(runDir, 'manifest.json'), 'utf8'));
  const lastWrite = events.map((e) => e.type === 'phase-start' && e.phase === 'outputs').lastIndexOf(true);
  const timings = phaseTimings(events.slice(0, lastWrite + 1));
  t.deepEqual(m.timings.phases, timings);
  for (const k of ['fetch', 'build', 'initramfs_6.1', 'accel']) t.true(timings[k] >= 0, k); // cached: may take under 1 ms
  for (const k of ['boot_6.1', 'shutdown_6.1', ...scenarios.map((s) => `scenario_6.1_${s}`)]) t.true(timings[k] > 0, k);
  t.true(timings.total <= end.t && timings.total > timings['boot_6.1']);
  t.deepEqual(m.warnings, events.flatMap((e) => (e.type === 'warning' ? [e.message] : [])));
  const report = readFileSync(join(runDir, 'report.md'), 'utf8');
  t.regex(report, new RegExp(`\\| boot_6\\.1 \\| ${timings['boot_6.1']} \\|`), 'the report\'s Timings table has the same numbers');

  // stderr: the plain lines (no terminal here), not JSON
  t.regex(r.stderr, /^bpf-lab: 6\.1: agent ready in [\d.]+ s/m);
  t.regex(r.stderr, /^ {2}producers=1: \d+ samples$/m);
  t.regex(r.stderr, /^bpf-lab: done after .*: 2 run\(s\) ok, 0 skipped, 0 failed; exit status 0$/m);
  t.notRegex(r.stderr, /^\{/m);
});
