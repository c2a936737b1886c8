import test from 'ava';
import { Writable } from 'node:stream';
import { LabEvents, phaseTimings, type LabEvent, type LabEventBody } from '../../lab/events.js';
import { PlainRenderer, progressDisplay, jsonLines } from '../../lab/ui.js';

/** Events as a run emits them, with the times given (ms since the run started). */
const at = (list: [number, LabEventBody][]): LabEvent[] => list.map(([t, b]) => ({ ...b, t } as LabEvent));

const RUN = at([
  [0, { type: 'step', message: 'host prerequisites checked' }],
  [5, { type: 'start', runId: 'r1', runDir: '/tmp/r1', kernels: ['6.1'], scenarios: ['a', 'b'], quick: true, plannedRuns: 3 }],
  [5, { type: 'phase-start', phase: 'fetch', label: 'fetching pinned kernels (6.1) and virtiofsd' }],
  [6, { type: 'step', kernel: '6.1', message: 'cached' }],
  [105, { type: 'phase-end', phase: 'fetch', ms: 100, ok: true }],
  [105, { type: 'phase-start', phase: 'build', label: 'building BPF objects and native drivers' }],
  [305, { type: 'phase-end', phase: 'build', ms: 200, ok: true }],
  [305, { type: 'phase-start', phase: 'initramfs', kernel: '6.1', label: '6.1: initramfs' }],
  [315, { type: 'phase-end', phase: 'initramfs', kernel: '6.1', ms: 10, ok: true }],
  [315, { type: 'phase-start', phase: 'accel', label: 'choosing the accelerator (--accel auto)' }],
  [320, { type: 'phase-end', phase: 'accel', ms: 5, ok: true }],
  [320, { type: 'accel', accel: 'tcg', reason: '/dev/kvm is absent', cached: true }],
  [320, { type: 'warning', message: 'TCG: absolute numbers are not comparable to bare metal; compare ratios within the run.' }],
  [320, { type: 'phase-start', phase: 'boot', kernel: '6.1', label: '6.1: booting 6.1.0-1 (tcg, 2 vCPUs)' }],
  [2320, { type: 'phase-end', phase: 'boot', kernel: '6.1', ms: 2000, ok: true }],
  [2320, { type: 'hello', kernel: '6.1', release: '6.1.0-1-amd64', bootMs: 1987, vcpus: 2, featuresCached: false }],
  [2320, { type: 'scenario-start', kernel: '6.1', scenario: 'a', runs: 2, round: 1, rounds: 1 }],
  [2320, { type: 'scenario-run-start', kernel: '6.1', scenario: 'a', params: 'size=64', index: 1, runs: 2 }],
  [2400, { type: 'log', kernel: '6.1', scenario: 'a', message: 'attached' }],
  [2450, { type: 'scenario-progress', kernel: '6.1', scenario: 'a', params: 'size=64', label: 'rb-libbpf', done: 1, total: 4 }],
  [2500, { type: 'variant-skipped', kernel: '6.1', scenario: 'a', params: 'size=64', variant: 'fentry', reason: 'no BTF for the target' }],
  [3320, { type: 'scenario-run-end', kernel: '6.1', scenario: 'a', params: 'size=64', index: 1, runs: 2, status: 'ok', samples: 12, ms: 1000, note: '12 samples' }],
  [3320, { type: 'scenario-run-start', kernel: '6.1', scenario: 'a', params: 'size=1024', index: 2, runs: 2 }],
  [3820, { type: 'scenario-run-end', kernel: '6.1', scenario: 'a', params: 'size=1024', index: 2, runs: 2, status: 'failed', samples: 0, ms: 500, note: 'driver exited 1' }],
  [3820, { type: 'scenario-end', kernel: '6.1', scenario: 'a', ms: 1500, ok: false }],
  [3820, { type: 'phase-start', phase: 'outputs', label: 'writing outputs' }],
  [3850, { type: 'phase-end', phase: 'outputs', ms: 30, ok: true }],
  [3850, { type: 'scenario-not-run', kernel: '6.1', scenario: 'b', status: 'skipped', reason: 'needs kernel 6.6', runs: 1 }],
  [3850, { type: 'phase-start', phase: 'shutdown', kernel: '6.1', label: '6.1: powering off' }],
  [4050, { type: 'phase-end', phase: 'shutdown', kernel: '6.1', ms: 200, ok: true }],
  [4050, { type: 'phase-start', phase: 'outputs', label: 'writing outputs' }],
]);

test('timings: each ended phase by key (per kernel where it has one), scenarios by kernel and id, total = the last event\'s time', (t) => {
  const timings = phaseTimings(RUN);
  t.deepEqual(timings, {
    fetch: 100, build: 200, 'initramfs_6.1': 10, accel: 5, 'boot_6.1': 2000, 'scenario_6.1_a': 1500, outputs: 30, 'shutdown_6.1': 200, total: 4050,
  });
  t.is(Object.keys(timings).at(-1), 'total', 'total is the last key (the report\'s Timings table ends with it)');
});

test('timings: a phase repeated (a second boot after a crash) and a scenario split around the bench\'s runs are summed', (t) => {
  const twice = at([
    [10, { type: 'phase-end', phase: 'boot', kernel: '6.1', ms: 10, ok: true }],
    [20, { type: 'scenario-end', kernel: '6.1', scenario: 'a', ms: 7, ok: true }],
    [30, { type: 'phase-end', phase: 'boot', kernel: '6.1', ms: 8, ok: false, error: 'no agent hello' }],
    [40, { type: 'phase-end', phase: 'boot', kernel: '6.12', ms: 9, ok: true }],
    [50, { type: 'scenario-end', kernel: '6.1', scenario: 'a', ms: 3, ok: true }],
  ]);
  t.deepEqual(phaseTimings(twice), { 'boot_6.1': 18, 'scenario_6.1_a': 10, 'boot_6.12': 9, total: 50 });
  t.deepEqual(phaseTimings([]), { total: 0 });
});

test('LabEvents.phase: start and end around the work, ms = the end\'s t − the start\'s, a throw ends it not ok and rethrows', async (t) => {
  const seen: LabEvent[] = [];
  const ev = new LabEvents([(e) => seen.push(e)]);
  t.is(await ev.phase('build', undefined, 'building', async () => { await new Promise((r) => setTimeout(r, 20)); return 7; }), 7);
  await t.throwsAsync(ev.phase('boot', '6.1', '6.1: booting', async () => { throw new Error('no agent hello within 300 s'); }), { message: /no agent hello/ });
  t.deepEqual(seen.map((e) => e.type), ['phase-start', 'phase-end', 'phase-start', 'phase-end']);
  t.deepEqual(seen, ev.events, 'the listener sees exactly the kept events, in order');
  const [s, e, s2, e2] = seen;
  if (e.type !== 'phase-end' || e2.type !== 'phase-end') return t.fail();
  t.is(e.ms, e.t - s.t);
  t.true(e.ms >= 15, `${e.ms} ms for a 20 ms phase`);
  t.deepEqual([e.ok, e2.ok, e2.kernel, e2.error], [true, false, '6.1', 'no agent hello within 300 s']);
  t.is(e2.ms, e2.t - s2.t);
  t.deepEqual(phaseTimings(ev.events), { build: e.ms, 'boot_6.1': e2.ms, total: e2.t });
});

test('plain renderer: the lines a non-terminal user (and the e2e tests) read', (t) => {
  const r = new PlainRenderer(false);
  const lines = RUN.map((e) => r.line(e)).filter((l) => l !== undefined);
  t.deepEqual(lines, [
    'bpf-lab:   host prerequisites checked',
    'bpf-lab: run r1: kernels 6.1; scenarios a, b (quick)',
    'bpf-lab: fetching pinned kernels (6.1) and virtiofsd…',
    'bpf-lab:   6.1: cached',
    'bpf-lab: building BPF objects and native drivers…',
    'bpf-lab: 6.1: initramfs…',
    'bpf-lab: choosing the accelerator (--accel auto)…',
    'bpf-lab: accelerator: tcg (/dev/kvm is absent, remembered)',
    'bpf-lab: warning: TCG: absolute numbers are not comparable to bare metal; compare ratios within the run.',
    'bpf-lab: 6.1: booting 6.1.0-1 (tcg, 2 vCPUs)…',
    'bpf-lab: 6.1: agent ready in 1.99 s (uname -r 6.1.0-1-amd64)',
    'bpf-lab: 6.1: a: 2 run(s)',
    'bpf-lab: 6.1 a [size=64]: variant fentry skipped: no BTF for the target',
    '  size=64: 12 samples, 1 variant(s) skipped',
    '  size=1024: FAILED: driver exited 1',
    'bpf-lab: 6.1: b skipped: needs kernel 6.6',
  ]);
  t.is(r.line({ type: 'interrupted', signal: 'SIGINT', t: 4100 }), 'bpf-lab: interrupted (SIGINT): stopping the VM and writing the results measured so far');
  t.is(r.line({ type: 'end', runDir: '/tmp/r1', exitStatus: 1, ms: 4100, t: 4100 }), 'bpf-lab: done after 4.10 s: 1 run(s) ok, 1 skipped, 1 failed; exit status 1');
});

test('plain renderer, verbose: driver logs, the quiet phases and each phase\'s time too', (t) => {
  const r = new PlainRenderer(true);
  const lines = RUN.map((e) => r.line(e)).filter((l) => l !== undefined);
  t.true(lines.includes('bpf-lab:   [a] attached'));
  t.true(lines.includes('bpf-lab:   [a] rb-libbpf (1/4)'));
  t.true(lines.includes('bpf-lab: 6.1: powering off…'));
  t.true(lines.includes('bpf-lab: 6.1: booting 6.1.0-1 (tcg, 2 vCPUs): done in 2.00 s'));
  t.is(new PlainRenderer(true).line({ type: 'phase-end', phase: 'boot', kernel: '6.1', ms: 12000, ok: false, error: 'x', t: 1 }), 'bpf-lab: boot: failed in 12 s');
});

function sink(): { stream: Writable & NodeJS.WriteStream; text: () => string } {
  let text = '';
  const stream = new Writable({ write(chunk, _enc, done) { text += chunk; done(); } }) as Writable & NodeJS.WriteStream;
  return { stream, text: () => text };
}

test('progress display off a terminal: the plain lines, one per line; --json: every event a JSON line, logs only when verbose', (t) => {
  const err = sink();
  const display = progressDisplay({ verbose: false, stream: err.stream, tty: false });
  const out = sink();
  const json = jsonLines({ verbose: false, stream: out.stream });
  for (const e of RUN) { display(e); json(e); }
  const r = new PlainRenderer(false);
  t.is(err.text(), RUN.map((e) => r.line(e)).filter((l) => l !== undefined).map((l) => `${l}\n`).join(''));
  const parsed = out.text().trim().split('\n').map((l) => JSON.parse(l) as LabEvent);
  t.deepEqual(parsed, RUN.filter((e) => e.type !== 'log'));
  const verbose = sink();
  const all = jsonLines({ verbose: true, stream: verbose.stream });
  for (const e of RUN) all(e);
  t.is(verbose.text().trim().split('\n').length, RUN.length);
});
