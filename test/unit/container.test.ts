import test from 'ava';
import { mkdtempSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommand, wantsContainer } from '../../lab/args.js';
import { containerPlan, bindSpec } from '../../lab/container/plan.js';
import { contextFiles, imageTag, extraCaCerts } from '../../lab/container/context.js';
import { engineEndpoint, unreachableMessage } from '../../lab/container/engine.js';
import { UsageError } from '../../lab/errors.js';
import { passwdWithUser } from '../../lab/container/passwd.js';

const defaults = { kernel: '6.1', suite: 'phase1' };
const plan = (argv: string[], cwd = '/home/u/lab') => containerPlan(parseCommand(argv, defaults), argv, cwd);

test('--container: accepted by the parser, only before --', (t) => {
  t.true(wantsContainer(['--container', '--kernel', '6.1']));
  t.false(wantsContainer(['exec', '--', 'echo', '--container']));
  t.is(parseCommand(['--container', '--quick'], defaults).cmd, 'run');
});

test('container plan: a run gets --out as an absolute host path bound at the same path', (t) => {
  const p = plan(['--container', '--kernel', '6.1', '--scenario', 'ringbuf-throughput', '--quick']);
  t.deepEqual(p.argv, ['--kernel', '6.1', '--scenario', 'ringbuf-throughput', '--quick', '--out', '/home/u/lab/results']);
  t.deepEqual(p.binds.map(bindSpec), ['/home/u/lab/results:/home/u/lab/results']);
  t.is(plan(['--container', '--out', '../r']).outDir, '/home/u/r');
});

test('container plan: exec keeps the guest command intact; reproduce and compare bind their run dirs read-only', (t) => {
  const e = plan(['exec', '--container', '--kernel', '6.1', '--', 'sh', '-c', 'echo --container']);
  t.deepEqual(e.argv, ['exec', '--kernel', '6.1', '--', 'sh', '-c', 'echo --container']);
  t.deepEqual(e.binds, []);
  const r = plan(['reproduce', 'results/x', '--container']);
  t.deepEqual(r.argv, ['reproduce', '/home/u/lab/results/x', '--out', '/home/u/lab/results']);
  t.deepEqual(r.binds.map(bindSpec), ['/home/u/lab/results/x:/home/u/lab/results/x:ro', '/home/u/lab/results:/home/u/lab/results']);
  const c = plan(['compare', 'a', 'a', '--container']);
  t.deepEqual(c.binds.map(bindSpec), ['/home/u/lab/a:/home/u/lab/a:ro']);
});

test('container plan: an output directory over a path of the image is refused', (t) => {
  const e = t.throws(() => plan(['--container', '--out', '/opt/bpf-lab/results']), { instanceOf: UsageError });
  t.regex(e!.message, /path of the lab image/);
  t.throws(() => plan(['--container', '--out', '/']), { instanceOf: UsageError });
  t.throws(() => plan(['--container', '--out', '/tmp']), { instanceOf: UsageError });
  t.is(plan(['--container', '--out', '/tmp/lab-results']).outDir, '/tmp/lab-results');
});

test('image tag: changes with a source file, its executable bit, a build arg or an extra CA; stable otherwise', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'ctx-'));
  mkdirSync(join(root, 'lab'));
  writeFileSync(join(root, 'package.json'), '{}');
  writeFileSync(join(root, 'lab', 'a.ts'), 'x');
  const files = contextFiles(root);
  t.deepEqual(files, ['lab/a.ts', 'package.json']);
  const tag = imageTag(root, files, [], {});
  t.regex(tag, /^bpf-lab:[0-9a-f]{16}$/);
  t.is(imageTag(root, files, [], {}), tag);
  t.not(imageTag(root, files, [], { BASE: 'b' }), tag);
  t.not(imageTag(root, files, [{ name: '.ca/extra.crt', data: Buffer.from('pem') }], {}), tag);
  chmodSync(join(root, 'lab', 'a.ts'), 0o755);
  const execTag = imageTag(root, files, [], {});
  t.not(execTag, tag);
  writeFileSync(join(root, 'lab', 'a.ts'), 'y');
  t.not(imageTag(root, files, [], {}), execTag);
});

test('engine: the endpoint and the unreachable message name DOCKER_HOST, the socket and both ways on', (t) => {
  t.is(engineEndpoint({ DOCKER_HOST: 'unix:///run/user/1/podman/podman.sock' }), 'DOCKER_HOST=unix:///run/user/1/podman/podman.sock');
  t.regex(engineEndpoint({}), /unix:\/\/\/var\/run\/docker\.sock \(DOCKER_HOST is not set\)/);
  const m = unreachableMessage(engineEndpoint({}), 'no such socket');
  t.false(m.includes('\n'));
  t.regex(m, /dockerd/);
  t.regex(m, /podman system service/);
  t.deepEqual(extraCaCerts({}), []);
});

test('passwd: an unknown uid gets one line (home /tmp); a known uid or a taken name is handled', (t) => {
  const base = 'root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n';
  t.is(passwdWithUser(base, 1001, 1001, 'alice'), `${base}alice:x:1001:1001:bpf-lab user:/tmp:/bin/sh\n`);
  t.is(passwdWithUser(base, 65534, 65534, 'x'), undefined);
  t.regex(passwdWithUser(base, 1002, 1002, 'root')!, /\nlab1002:x:1002:1002:/);
});
