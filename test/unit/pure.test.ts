import test from 'ava';
import { resolveKernels, loadCatalog, versionAtLeast } from '../../lab/kernels/catalog.js';
import { UsageError } from '../../lab/errors.js';
import { parseCommand, parseMemory } from '../../lab/args.js';
import { moduleClosure, parseDepends, moduleNameFromPath } from '../../lab/vm/modules.js';
import { formatParams, parseParams, matchReference, summarizeRows, toCsv, fromCsv, RESULT_COLUMNS, type ResultRow } from '../../lab/results/csv.js';
import { parseAptSources, pickMirrors, sourcesList } from '../../lab/kernels/apt.js';
import { qemuArgs, kernelCommandLine } from '../../lab/vm/qemu.js';
import { virtiofsdArgs } from '../../lab/vm/virtiofsd.js';
import { elfExpectedSize, bzImagePayload } from '../../lab/kernels/kernel-image.js';
import { expandMatrix, matrixFor, unmetRequirement } from '../../scenarios/define.js';
import { scenarios, suites } from '../../scenarios/index.js';

const defaults = { kernel: '6.1', suite: 'phase1' };

test('catalog: every line is pinned by name, version, size and sha256; the default exists', (t) => {
  const c = loadCatalog();
  t.deepEqual(c.kernels.map((k) => k.line), ['5.10', '5.15', '6.1', '6.6', '6.12', '7.3']);
  t.deepEqual(c.kernels.filter((k) => k.kind === 'tarball').map((k) => k.line), ['5.15', '6.6']);
  t.truthy(c.kernels.find((k) => k.line === c.default));
  t.is(c.kernels.find((k) => k.line === '7.3')!.packages.length, 3);
});

test('catalog: kernel specs resolve; unknown lines name the valid ones', (t) => {
  t.deepEqual(resolveKernels('6.1,6.12').map((k) => k.line), ['6.1', '6.12']);
  t.is(resolveKernels('all').length, 4);
  const e = t.throws(() => resolveKernels('6.7'), { instanceOf: UsageError });
  t.regex(e!.message, /unknown kernel '6\.7'.*5\.10, 5\.15, 6\.1, 6\.6, 6\.12, 7\.3, all.*path to a bzImage.*oci:/);
  t.like(resolveKernels('6.6')[0], { kind: 'tarball', line: '6.6' });
  t.like(resolveKernels('oci:ghcr.io/cilium/ci-kernels@sha256:' + 'a'.repeat(64))[0], { kind: 'oci', ref: { registry: 'ghcr.io', repository: 'cilium/ci-kernels', digest: 'sha256:' + 'a'.repeat(64) } });
  t.throws(() => resolveKernels('oci:ghcr.io/cilium/ci-kernels:6.6'), { instanceOf: UsageError, message: /by digest; tags move/ });
  t.like(resolveKernels('package.json')[0], { kind: 'path' });
  t.throws(() => resolveKernels('./no/such/bzImage'), { instanceOf: UsageError, message: /no such file/ });
  t.true(versionAtLeast('6.1.0-56-cloud-amd64', '5.8'));
  t.false(versionAtLeast('5.10.0-32-cloud-amd64', '5.18'));
});

test('args: defaults, quick smoke run, flags and errors', (t) => {
  const none = parseCommand([], defaults);
  t.like(none, { cmd: 'run', kernel: '6.1', suite: 'phase1', quick: true, accel: 'auto', cpus: 2, memoryMb: 2048 });
  t.like(parseCommand(['--kernel', '6.12', '--scenario', 'ringbuf-throughput'], defaults), { cmd: 'run', quick: false, scenario: 'ringbuf-throughput', suite: undefined });
  t.like(parseCommand(['--memory', '3G', '--cpus', '1', '--accel', 'tcg'], defaults), { memoryMb: 3072, cpus: 1, accel: 'tcg' });
  t.like(parseCommand(['exec', '--kernel', '5.10', '--', 'uname', '-r'], defaults), { cmd: 'exec', kernel: '5.10', argv: ['uname', '-r'] });
  t.throws(() => parseCommand(['--bogus'], defaults), { instanceOf: UsageError, message: /--bogus.*valid flags/ });
  t.throws(() => parseCommand(['--accel', 'hvf'], defaults), { instanceOf: UsageError, message: /auto, kvm or tcg/ });
  t.throws(() => parseCommand(['frobnicate'], defaults), { instanceOf: UsageError, message: /commands: run/ });
  t.throws(() => parseMemory('lots'), { instanceOf: UsageError });
  t.is(parseMemory('1536M'), 1536);
});

test('modules: dependencies come before dependents; built-ins are left out; unknown modules fail', (t) => {
  const index = new Map([
    ['virtio_pci', { depends: ['virtio_ring', 'virtio'] }],
    ['virtio', { depends: ['virtio_ring'] }],
    ['virtio_ring', { depends: [] }],
    ['virtiofs', { depends: ['fuse', 'virtio'] }],
  ]);
  const order = moduleClosure(['virtiofs', 'virtio_pci'], index, new Set(['fuse']));
  t.deepEqual(order, ['virtio_ring', 'virtio', 'virtiofs', 'virtio_pci']);
  t.throws(() => moduleClosure(['nope'], index, new Set()), { message: /nope/ });
  t.deepEqual(parseDepends(Buffer.from('x\0license=GPL\0depends=fuse,virtio-ring\0name=virtiofs\0')), ['fuse', 'virtio_ring']);
  t.deepEqual(parseDepends(Buffer.from('\0depends=\0')), []);
  t.is(moduleNameFromPath('/k/drivers/net/virtio-net.ko.xz'), 'virtio_net');
});

test('results: params round-trip, references match on params, CSV round-trip, skipped rows kept', (t) => {
  const p = { recordSize: 8, batch: 500 };
  t.is(formatParams(p), 'recordSize=8;batch=500');
  t.deepEqual(parseParams('recordSize=8;batch=500'), { recordSize: '8', batch: '500' });
  const refs = [{ metric: 'events_per_s', variant: 'ringbuf', params: { batch: 500 }, value: 10, unit: 'events/s', source: 's', setup: 'x' }];
  t.truthy(matchReference(refs, 'ringbuf', 'events_per_s', 'recordSize=8;batch=500'));
  t.falsy(matchReference(refs, 'ringbuf', 'events_per_s', 'recordSize=8;batch=1'));
  const row: ResultRow = { run_id: 'r', kernel: '6.1', kernel_release: 'x', accel: 'tcg', vcpus: 2, scenario: 'a', variant: 'ringbuf', params: 'recordSize=8;batch=500', repetition: 0, metric: 'events_per_s', unit: 'events/s', value: 5 };
  const rows = [row, { ...row, repetition: 1, value: 7 }];
  const csv = toCsv(rows, RESULT_COLUMNS);
  t.is(fromCsv(csv)[1].value, '7');
  // samples survive results.csv exactly (a re-rendered report equals the run's); summary columns are rounded
  const fine = [{ ...row, value: 10000.123456789012 }, { ...row, repetition: 1, value: 1 / 3 }];
  t.deepEqual(fromCsv(toCsv(fine, RESULT_COLUMNS, 'exact')).map((r) => Number(r.value)), fine.map((r) => r.value));
  t.is(fromCsv(toCsv(fine, RESULT_COLUMNS))[1].value, '0.33333333');
  const summary = summarizeRows(rows, [
    { kernel: '6.1', scenario: 'a', params: 'recordSize=8;batch=500', status: 'ok', note: '', wallMs: 1 },
    { kernel: '5.10', scenario: 'a', params: '', status: 'skipped', note: 'needs kernel 5.8+', wallMs: 0 },
  ], () => ({ references: refs, metrics: { events_per_s: { unit: 'events/s', better: 'higher' } } }));
  t.is(summary[0].mean, 6);
  t.is(summary[0].ratio_to_reference, 0.6);
  t.is(summary[0].better, 'higher');
  t.like(summary[1], { kernel: '5.10', status: 'skipped', note: 'needs kernel 5.8+' });
  // a reference whose method differs is listed without a ratio
  const apart = summarizeRows(rows, [], () => ({ references: [{ ...refs[0], notComparable: 'bare metal vs TCG' }], metrics: {} }));
  t.like(apart[0], { reference: 10, ratio_to_reference: '' });
});

test('apt: mirrors come from the system sources in both formats', (t) => {
  const deb822 = 'Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\nTypes: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n';
  t.deepEqual(pickMirrors(parseAptSources(deb822)), { archive: 'http://mirror.example/debian', security: 'http://mirror.example/debian-security' });
  const oneLine = 'deb [arch=amd64] http://m.example/debian bookworm main\ndeb http://m.example/debian-security bookworm-security main\n';
  t.deepEqual(pickMirrors(parseAptSources(oneLine)), { archive: 'http://m.example/debian', security: 'http://m.example/debian-security' });
  t.is(sourcesList({ archive: 'A', security: 'S' }, ['trixie', 'bookworm-security']), 'deb A trixie main\ndeb S bookworm-security main\n');
});

test('qemu and virtiofsd command lines: TCG/KVM, shared memory for vhost-user, read-only share, no host network', (t) => {
  const a = qemuArgs({ accel: 'tcg', cpus: 2, memoryMb: 2048, kernel: 'k', initrd: 'i', append: kernelCommandLine('tcg', { 'lab.x': '1' }), fsSocket: 'f', agentSocket: 'a' });
  t.true(a.includes('tcg,thread=multi'));
  t.true(a.includes('memory-backend-memfd,id=mem,size=2048M,share=on'));
  t.true(a.includes('virtserialport,chardev=agent,name=lab.agent'));
  t.false(a.some((x) => /-netdev|user,|tap/.test(x) && !x.startsWith('hubport')));
  t.true(a.includes('-nodefaults'), 'no default devices: without -nodefaults QEMU adds a user-mode NIC with host network');
  t.true(a[a.indexOf('-append') + 1].includes('lab.x=1'));
  t.true(qemuArgs({ accel: 'kvm', cpus: 1, memoryMb: 256, kernel: 'k', initrd: 'i', append: '' }).includes('kvm'));
  t.true(virtiofsdArgs('/s').includes('--readonly'));
});

test('kernel image: bzImage header and ELF size checks reject junk', (t) => {
  t.throws(() => bzImagePayload(Buffer.alloc(1024)), { message: /not a bzImage/ });
  t.throws(() => elfExpectedSize(Buffer.alloc(64)), { message: /not an ELF/ });
});

test('scenarios: matrices expand, quick mode is smaller, suites name known scenarios, requirements gate', (t) => {
  t.is(expandMatrix({ a: [1, 2], b: ['x', 'y', 'z'] }).length, 6);
  for (const s of scenarios) {
    t.true(matrixFor(s, true).length <= matrixFor(s, false).length, s.id);
    t.true(matrixFor(s, true).length >= 1, s.id);
    for (const r of s.references) t.truthy(s.metrics[r.metric], `${s.id} reference metric ${r.metric} is a declared metric`);
  }
  for (const ids of Object.values(suites)) for (const id of ids) t.truthy(scenarios.find((s) => s.id === id), id);
  t.regex(unmetRequirement({ kernel: '5.8' }, '5.4.0-1', null)!, /needs kernel 5\.8\+/);
  t.is(unmetRequirement({ maps: ['ringbuf'] }, '6.1.0', { maps: { ringbuf: true }, programs: {}, helpers: {}, btf: true }), undefined);
  t.regex(unmetRequirement({ maps: ['user_ringbuf'] }, '5.10.0', { maps: { user_ringbuf: false }, programs: {}, helpers: {}, btf: true })!, /user_ringbuf/);
});

test('cross-scenario ratios pair rows at equal settings and compute the published ratio', async (t) => {
  const { crossRatios } = await import('../../lab/results/ratios.js');
  const row = (scenario: string, variant: string, params: string, mean: number) => ({ kernel: '6.1', scenario, variant, params, metric: 'events_per_s', mean, status: 'ok' }) as never;
  const summary = [
    row('rb', 'ringbuf', 'size=8;wakeup=every;api=reserve', 100),
    row('rb', 'ringbuf', 'size=8;wakeup=every;api=output', 90),
    row('pb', 'perfbuf', 'size=8;wakeup=every', 25),
  ];
  const refs = (s: string) => s === 'rb'
    ? [{ metric: 'events_per_s', variant: 'ringbuf', params: { size: 8, wakeup: 'every', api: 'reserve' }, value: 12, unit: '', source: '', setup: '' }]
    : [{ metric: 'events_per_s', variant: 'perfbuf', params: { size: 8, wakeup: 'every' }, value: 1, unit: '', source: '', setup: '' }];
  const r = crossRatios([{ title: 'x', metric: 'events_per_s', numerator: { scenario: 'rb', variant: 'ringbuf', fixed: { api: 'reserve' } }, denominator: { scenario: 'pb', variant: 'perfbuf' }, on: ['size', 'wakeup'] }], summary, refs);
  t.is(r.length, 1);
  t.is(r[0].ratio, 4);
  t.is(r[0].published, 12);
});
