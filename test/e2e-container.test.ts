/**
 * The containerized lab end to end: a base image made without a registry (debootstrap + import), the lab image
 * built through Docker's API, a quick ringbuf run inside it with Docker (as root and as an ordinary user in the
 * docker group) and as an ordinary user with rootless Podman, the guest's boundaries inside the container, Ctrl-C. Needs root, dockerd on the default socket
 * and podman + uidmap installed (.ci/run sets that up).
 */
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { readCsv, repo, isRoot, type CliResult } from './helpers.js';
import { cacheRoot } from '../lab/host/paths.js';
import { defaultRootfsTar } from '../lab/container/base.js';

const PODMAN_USER = 'bpflab-podman';
const SCENARIO = ['--kernel', '6.1', '--scenario', 'ringbuf-throughput', '--quick'];

interface As { cwd: string; user?: string; home?: string; env?: Record<string, string> }

/** Run a script of the checkout (default the lab CLI), as `as.user` when given, with extra environment. */
function node(args: string[], as: As, opts: { onStderr?: (s: string, interrupt: () => void) => void } = {}): Promise<CliResult> {
  const envArgs = Object.entries(as.env ?? {}).map(([k, v]) => `${k}=${v}`);
  const argv = as.user
    ? ['runuser', '-u', as.user, '--', 'env', `HOME=${as.home}`, `PATH=${process.env.PATH}`, ...envArgs, process.execPath, ...args]
    : ['env', ...envArgs, process.execPath, ...args];
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: as.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => { stderr += d; opts.onStderr?.(stderr, () => process.kill(-child.pid!, 'SIGINT')); });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr, lastLine: stdout.trim().split('\n').pop() ?? '' }));
  });
}

const labContainers = async (docker: Docker) => (await docker.listContainers({ all: true })).filter((c) => c.Labels?.['bpf-lab']);

function checkRun(t: import('ava').ExecutionContext, r: CliResult, outDir: string, owner: number): void {
  t.is(r.code, 0, r.stderr);
  const dir = r.lastLine;
  t.true(dir.startsWith(`${outDir}/`), `run dir ${dir} is under the host's ${outDir}`);
  for (const f of ['results.csv', 'summary.csv', 'report.md', 'manifest.json']) {
    t.true(existsSync(join(dir, f)), f);
    t.is(statSync(join(dir, f)).uid, owner, `${f} is owned by uid ${owner}`);
  }
  t.is(statSync(dir).uid, owner);
  const events = readCsv(join(dir, 'results.csv')).filter((x) => x.variant === 'ringbuf' && x.metric === 'events_per_s').map((x) => Number(x.value));
  t.true(events.length >= 2, 'ringbuf events_per_s samples');
  // a single interval can be empty when the loaded host starves the guest; the run as a whole must move events
  const median = [...events].sort((a, b) => a - b)[Math.floor(events.length / 2)];
  t.true(median > 0, `events/s: ${events.join(' ')}`);
}

const docker = new Docker();
let baseTag = '';
let imageTag = '';
const outRoot = mkdtempSync(join(tmpdir(), 'bpf-lab-container-'));
chmodSync(outRoot, 0o755);
const rootEnv = (): Record<string, string> => ({ LAB_CONTAINER_BASE: baseTag });

test.before('a registry-free base: debootstrap (once, kept in the cache) + docker import', async (t) => {
  if (!isRoot) throw new Error('e2e-container needs root (it starts nothing itself: dockerd must be running, podman installed)');
  await docker.ping().catch((e) => { throw new Error(`dockerd is not reachable on /var/run/docker.sock (${e.message}); .ci/run starts it`); });
  const r = await node(['dist/lab/container/make-base.js'], { cwd: repo });
  if (r.code !== 0) throw new Error(`make-base: ${r.stderr}`);
  baseTag = r.lastLine;
  t.log(`base ${baseTag}`);
});

test.after.always(() => rmSync(outRoot, { recursive: true, force: true }));

test.serial('no engine: one line naming DOCKER_HOST and both ways on, exit 1', async (t) => {
  const r = await node(['dist/lab/cli.js', '--container', ...SCENARIO], { cwd: repo, env: { DOCKER_HOST: 'unix:///nonexistent/docker.sock' } });
  t.is(r.code, 1);
  const lines = r.stderr.trim().split('\n');
  t.is(lines.length, 1, r.stderr);
  t.regex(lines[0], /no container engine answers at DOCKER_HOST=unix:\/\/\/nonexistent\/docker\.sock: no such socket; start one: dockerd .*`podman system service/);
});

test.serial('Docker as root: the image is built, the quick ringbuf run lands on the host, the container is gone', async (t) => {
  const out = join(outRoot, 'docker');
  const r = await node(['dist/lab/cli.js', '--container', ...SCENARIO, '--out', out], { cwd: repo, env: rootEnv() });
  const img = /container image (bpf-lab:[0-9a-f]{16}) \(([^)]*)\)/.exec(r.stderr);
  t.truthy(img, r.stderr);
  imageTag = img![1];
  t.log(`${imageTag}: ${img![2]}`);
  checkRun(t, r, out, 0);
  t.regex(r.stderr, /agent ready/, 'the lab output streamed through');
  t.deepEqual(await labContainers(docker), []);
  const info = await docker.getImage(imageTag).inspect();
  t.log(`image size ${(info.Size / 1e9).toFixed(2)} GB`);
});

test.serial('Docker: inside the container the guest still has no network device and a read-only root', async (t) => {
  const r = await node(['dist/lab/cli.js', 'exec', '--container', '--kernel', '6.1', '--',
    'sh', '-c', 'ip -o link | cut -d: -f2; echo x > /opt/bpf-lab/guest-write || echo write-refused'], { cwd: repo, env: rootEnv() });
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => l.trim());
  t.deepEqual(lines.filter((l) => l !== 'write-refused'), ['lo'], r.stdout);
  t.true(lines.includes('write-refused'), r.stdout);
  t.regex(r.stdout + r.stderr, /Read-only file system/);
});

test.serial('Docker: Ctrl-C stops the run and removes the container', async (t) => {
  let sent = false;
  const r = await node(['dist/lab/cli.js', '--container', ...SCENARIO, '--out', join(outRoot, 'interrupted')], { cwd: repo, env: rootEnv() }, {
    onStderr: (s, interrupt) => { if (!sent && /booting/.test(s)) { sent = true; interrupt(); } },
  });
  t.true(sent, r.stderr);
  t.is(r.code, 130, r.stderr);
  t.deepEqual(await labContainers(docker), []);
});

test.serial('Docker as an ordinary user (docker group): the lab runs as that uid, the results are its own', async (t) => {
  const u = podmanUser();
  spawnSync('usermod', ['-aG', 'docker', PODMAN_USER]);
  const cwd = userCheckout(u.home);
  const r = await node(['dist/lab/cli.js', '--container', ...SCENARIO], { cwd, user: PODMAN_USER, home: u.home, env: rootEnv() });
  t.regex(r.stderr, new RegExp(`container image ${imageTag} \\(cached\\) on Docker`), r.stderr);
  checkRun(t, r, join(cwd, 'results'), u.uid);
  t.deepEqual(await labContainers(docker), []);
});

/** The user's own copy of the checkout, like a user's clone. */
function userCheckout(home: string): string {
  const cwd = join(home, 'bpf-lab');
  rmSync(cwd, { recursive: true, force: true });
  mkdirSync(cwd);
  for (const e of ['package.json', 'package-lock.json', 'tsconfig.json', 'kernels', 'bpf', 'images', 'dist', 'node_modules', 'lab', 'scenarios']) {
    cpSync(join(repo, e), join(cwd, e), { recursive: true });
  }
  spawnSync('chown', ['-R', `${PODMAN_USER}:${PODMAN_USER}`, cwd]);
  return cwd;
}

/** An ordinary user with subuid/subgid ranges, overlay storage and its own Podman API socket. */
function podmanUser(): { home: string; uid: number; socket: string; startService: () => () => void } {
  if (spawnSync('id', ['-u', PODMAN_USER]).status !== 0) {
    const r = spawnSync('useradd', ['--create-home', '--shell', '/bin/sh', PODMAN_USER], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`useradd: ${r.stderr}`);
  }
  const uid = Number(spawnSync('id', ['-u', PODMAN_USER], { encoding: 'utf8' }).stdout.trim());
  const home = `/home/${PODMAN_USER}`;
  for (const f of ['/etc/subuid', '/etc/subgid']) {
    const has = spawnSync('grep', ['-q', `^${PODMAN_USER}:`, f]).status === 0;
    if (!has) spawnSync('usermod', [f.endsWith('uid') ? '--add-subuids' : '--add-subgids', '300000-365535', PODMAN_USER]);
  }
  const runtime = `/run/user/${uid}`;
  mkdirSync(join(runtime, 'podman'), { recursive: true });
  mkdirSync(join(home, '.config', 'containers'), { recursive: true });
  writeFileSync(join(home, '.config', 'containers', 'storage.conf'), '[storage]\ndriver = "overlay"\n');
  spawnSync('chown', ['-R', `${PODMAN_USER}:${PODMAN_USER}`, runtime, join(home, '.config')]);
  chmodSync(runtime, 0o700);
  const socket = join(runtime, 'podman', 'podman.sock');
  const startService = () => {
    const child = spawn('runuser', ['-u', PODMAN_USER, '--', 'env', `HOME=${home}`, `XDG_RUNTIME_DIR=${runtime}`,
      'podman', 'system', 'service', '--time=0', `unix://${socket}`], { cwd: home, detached: true, stdio: 'ignore' });
    return () => { try { process.kill(-child.pid!, 'SIGTERM'); } catch { /* gone */ } };
  };
  return { home, uid, socket, startService };
}

test.serial('rootless Podman as an ordinary user: the same run, results owned by that user', async (t) => {
  t.truthy(imageTag, 'the Docker test built the image');
  const u = podmanUser();
  const stop = u.startService();
  try {
    const podman = new Docker({ socketPath: u.socket });
    for (let i = 0; i < 100 && !(await podman.ping().then(() => true, () => false)); i++) await new Promise((r) => setTimeout(r, 200));
    const cwd = userCheckout(u.home);
    const tar = join(u.home, 'rootfs.tar');
    copyFileSync(defaultRootfsTar(cacheRoot()), tar);
    spawnSync('chown', [`${PODMAN_USER}:${PODMAN_USER}`, tar]);
    const as: As = { cwd, user: PODMAN_USER, home: u.home, env: { DOCKER_HOST: `unix://${u.socket}` } };
    const base = await node(['dist/lab/container/make-base.js', tar], as);
    t.is(base.code, 0, base.stderr);
    t.is(base.lastLine, baseTag, 'the same root tar gives the same base tag');
    t.regex(base.stderr, /into Podman [\d.]+ \(rootless\)/);
    // The image: Podman's compat build works (measured; slow here under a loaded machine), so to keep this file's
    // time down the image Docker built is saved and loaded into the user's Podman. LAB_TEST_PODMAN_BUILD=1 builds.
    if (!process.env.LAB_TEST_PODMAN_BUILD) {
      const t0 = Date.now();
      await podman.loadImage(await docker.getImage(imageTag).get());
      t.log(`loaded ${imageTag} into rootless Podman in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    }
    const out = join(cwd, 'results');
    const r = await node(['dist/lab/cli.js', '--container', ...SCENARIO], { ...as, env: { ...as.env, LAB_CONTAINER_BASE: baseTag } });
    t.regex(r.stderr, new RegExp(`container image ${imageTag} \\((cached|built in \\d+ s)\\) on Podman [\\d.]+, rootless`), r.stderr);
    checkRun(t, r, out, u.uid);
    t.deepEqual(await labContainers(podman), []);
    t.deepEqual(readdirSync(out).length, 1);
  } finally {
    stop();
  }
});
