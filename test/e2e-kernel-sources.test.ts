import test from 'ava';
import { createHash } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type IncomingMessage, type ServerResponse } from 'node:http';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, existsSync, rmSync, copyFileSync, readdirSync } from 'node:fs';
import { createServer as netServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fetchTarball, tarballCachePath } from '../lab/kernels/kernel-org.js';
import { ensurePackages } from '../lab/kernels/packages.js';
import { ensureKernel } from '../lab/kernels/kernel.js';
import { pullKernelImage, ociKernel } from '../lab/kernels/oci.js';
import { loadCatalog, type KernelEntry } from '../lab/kernels/catalog.js';
import { cachePath } from '../lab/host/paths.js';
import { LabError } from '../lab/errors.js';
import { pushImage } from './oci-push.js';
import { lab, repo } from './helpers.js';

/**
 * The kernel fetchers against real local stand-ins speaking the same protocols: a node HTTP server laid out like
 * kernel.org and like snapshot.debian.org, and Debian's docker-registry (the CNCF distribution registry) for OCI.
 * Everything a test puts into the user cache is removed afterwards; mismatches must leave nothing behind.
 */
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');
const work = mkdtempSync(join(tmpdir(), 'bpf-lab-kernel-sources-'));

type Route = (req: IncomingMessage, res: ServerResponse) => boolean;
async function serve(routes: Route[]): Promise<{ url: string; server: Server; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url!);
    if (!routes.some((r) => r(req, res))) { res.writeHead(404); res.end('not found'); }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, server, hits };
}
const bytesAt = (path: string, body: Buffer): Route => (req, res) => {
  if (req.url !== path) return false;
  res.writeHead(200, { 'Content-Length': body.length }); res.end(body); return true;
};

async function freePort(): Promise<number> {
  const s = netServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function tarball(name: string, content: string): Buffer {
  const dir = join(work, `src-${name}`);
  mkdirSync(join(dir, 'linux', 'scripts', 'kconfig'), { recursive: true });
  writeFileSync(join(dir, 'linux', 'Makefile'), content);
  const out = join(work, `${name}.tar.xz`);
  spawnSync('tar', ['-C', dir, '-cJf', out, 'linux']);
  return readFileSync(out);
}

const tarballEntry = (version: string, sha: string): Extract<KernelEntry, { kind: 'tarball' }> =>
  ({ kind: 'tarball', line: '9.9', release: version, packages: [], tarball: { name: `linux-${version}.tar.xz`, sha256: sha, pinSource: 'test' } });

test.serial('kernel.org tarball: fetched from the mirror base, verified, cached; a sha256 mismatch is refused and leaves nothing', async (t) => {
  const good = tarball('good', 'VERSION = 9\n');
  const evil = tarball('evil', 'VERSION = 666\n');
  const srv = await serve([bytesAt('/v9.x/linux-9.9.1.tar.xz', good), bytesAt('/v9.x/linux-9.9.2.tar.xz', evil)]);
  process.env.LAB_KERNEL_ORG_MIRROR = srv.url;
  const ok = tarballEntry('9.9.1', sha256(good));
  const bad = tarballEntry('9.9.2', sha256(good)); // pinned to the good bytes; the server sends others
  try {
    const path = await fetchTarball(ok);
    t.is(sha256(readFileSync(path)), sha256(good));
    await fetchTarball(ok); // from the cache now
    t.is(srv.hits.filter((h) => h.endsWith('9.9.1.tar.xz')).length, 1);
    const e = await t.throwsAsync(fetchTarball(bad), { instanceOf: LabError });
    t.regex(e!.message, /sha256 mismatch .*linux-9\.9\.2\.tar\.xz.*refusing/);
    t.false(existsSync(tarballCachePath(bad.tarball)));
  } finally {
    srv.server.close();
    delete process.env.LAB_KERNEL_ORG_MIRROR;
    for (const v of ['9.9.1', '9.9.2']) rmSync(tarballCachePath({ name: `linux-${v}.tar.xz` }), { force: true });
  }
});

test.serial('kernel.org unreachable: `--kernel 6.6 --scenario xdp` fails in one line naming what was tried and the ways on', async (t) => {
  const port = await freePort(); // nothing listens there
  process.env.LAB_KERNEL_ORG_MIRROR = `http://127.0.0.1:${port}`;
  try {
    const r = await lab(['--kernel', '6.6', '--scenario', 'xdp', '--quick', '--out', join(work, 'results')]);
    t.is(r.code, 1);
    const err = r.stderr.trim().split('\n').filter((l) => l.includes('error'));
    t.is(err.length, 1);
    t.regex(err[0], new RegExp(`tried http://127\\.0\\.0\\.1:${port}/v6\\.x/linux-6\\.6\\.119\\.tar\\.xz`));
    t.regex(err[0], /kernels build .*linux-6\.6\.119\.tar\.xz/);
    t.regex(err[0], /--kernel PATH/);
    t.regex(err[0], /nearest Debian-packaged lines: 6\.1, 6\.12/);
  } finally {
    delete process.env.LAB_KERNEL_ORG_MIRROR;
  }
});

function buildDeb(name: string, version: string, payload: string): Buffer {
  const dir = join(work, `deb-${name}-${version}`);
  mkdirSync(join(dir, 'DEBIAN'), { recursive: true });
  mkdirSync(join(dir, 'usr', 'share', name), { recursive: true });
  writeFileSync(join(dir, 'DEBIAN', 'control'), `Package: ${name}\nVersion: ${version}\nArchitecture: all\nMaintainer: bpf-lab tests <tests@invalid>\nDescription: snapshot fetch test\n`);
  writeFileSync(join(dir, 'usr', 'share', name, 'payload'), payload);
  const out = `${dir}.deb`;
  const r = spawnSync('dpkg-deb', ['--root-owner-group', '--build', dir, out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return readFileSync(out);
}

/** /mr/binary/<pkg>/<ver>/binfiles?fileinfo=1 and /file/<sha1>, as snapshot.debian.org answers them. */
function snapshotRoutes(name: string, version: string, deb: Buffer): Route[] {
  const hash = sha1(deb);
  const binfiles = Buffer.from(JSON.stringify({
    _comment: 'foo', binary: name, binary_version: version,
    result: [{ hash, architecture: 'all' }],
    fileinfo: { [hash]: [{ archive_name: 'debian', first_seen: '20261101T000000Z', name: `${name}_${version}_all.deb`, path: `/pool/main/b/${name}`, size: deb.length }] },
  }));
  return [bytesAt(`/mr/binary/${name}/${encodeURIComponent(version)}/binfiles?fileinfo=1`, binfiles), bytesAt(`/file/${hash}`, deb)];
}

test.serial('snapshot.debian.org: a pin the archive no longer serves comes from the snapshot service, verified; a mismatch is refused', async (t) => {
  const name = 'bpf-lab-snapshot-test';
  const deb = buildDeb(name, '1.0-1', 'the pinned bytes\n');
  const other = buildDeb(name, '1.0-2', 'not what was pinned\n');
  const srv = await serve([...snapshotRoutes(name, '1.0-1', deb), ...snapshotRoutes(name, '1.0-2', other)]);
  process.env.LAB_SNAPSHOT_MIRROR = srv.url;
  const suites = loadCatalog().suites;
  const pin = { name, version: '1.0-1', suite: 'bookworm', size: deb.length, sha256: sha256(deb) };
  const wrong = { ...pin, version: '1.0-2' }; // the service sends 1.0-2's bytes; the pin holds 1.0-1's sha256
  const roots: string[] = [];
  try {
    const root = await ensurePackages('snapshot-test', [pin], suites);
    roots.push(join(root, '..'));
    t.is(readFileSync(join(root, 'usr', 'share', name, 'payload'), 'utf8'), 'the pinned bytes\n');
    t.true(srv.hits.some((h) => h.startsWith(`/mr/binary/${name}/1.0-1/binfiles`)));
    t.true(srv.hits.includes(`/file/${sha1(deb)}`));
    const e = await t.throwsAsync(ensurePackages('snapshot-test-bad', [wrong], suites), { instanceOf: LabError });
    t.regex(e!.message, /no longer serves bpf-lab-snapshot-test 1\.0-2.*did not provide it either: sha256 mismatch.*refusing/);
    t.false(e!.message.includes('\n'));
  } finally {
    srv.server.close();
    delete process.env.LAB_SNAPSHOT_MIRROR;
    for (const d of readdirSync(cachePath('pkgs')).filter((d) => d.startsWith('snapshot-test'))) rmSync(cachePath('pkgs', d), { recursive: true, force: true });
  }
});

/** Debian's docker-registry on a loopback port with its own config and storage. */
async function startRegistry(): Promise<{ addr: string; storage: string; proc: ChildProcess }> {
  const port = await freePort();
  const dir = join(work, 'registry');
  mkdirSync(join(dir, 'storage'), { recursive: true });
  writeFileSync(join(dir, 'config.yml'), `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'storage')}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const proc = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: 'ignore' });
  const addr = `127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    const ok = await fetch(`http://${addr}/v2/`).then((r) => r.ok, () => false);
    if (ok) return { addr, storage: join(dir, 'storage'), proc };
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill();
  throw new Error('docker-registry did not start');
}

/** A reproducible one-layer kernel image: boot/vmlinuz (+ boot/config), the cilium/ci-kernels layout. */
function kernelLayer(files: Record<string, string>): { tgz: Buffer; diffId: string } {
  const dir = join(work, `layer-${Object.keys(files).length}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(join(dir, 'boot'), { recursive: true });
  for (const [dest, src] of Object.entries(files)) copyFileSync(src, join(dir, dest));
  const tar = spawnSync('tar', ['-C', dir, '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-c', 'boot'], { maxBuffer: 1 << 30 }).stdout;
  return { tgz: gzipSync(tar), diffId: `sha256:${sha256(tar)}` };
}

function blobData(storage: string, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(storage, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

/** ghcr-style auth in front of the registry: 401 + Bearer challenge → /token → retry with the token. */
async function tokenProxy(registry: string): Promise<{ addr: string; server: Server; tokenRequests: string[] }> {
  const tokenRequests: string[] = [];
  let self = '';
  const server = createServer(async (req, res) => {
    if (req.url!.startsWith('/token')) {
      tokenRequests.push(req.url!);
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ token: 'lab-test-token' }));
      return;
    }
    if (req.headers.authorization !== 'Bearer lab-test-token') {
      res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://${self}/token",service="lab-test",scope="repository:bpf-lab/kernel:pull"` });
      res.end();
      return;
    }
    const up = await fetch(`http://${registry}${req.url}`, { headers: { Accept: req.headers.accept ?? '*/*' } });
    const body = Buffer.from(await up.arrayBuffer());
    res.writeHead(up.status, { 'Content-Type': up.headers.get('content-type') ?? 'application/octet-stream', 'Content-Length': body.length });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  self = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return { addr: self, server, tokenRequests };
}

test.serial('OCI: a kernel image pushed to a local docker-registry is pulled by digest (also through a token-auth front), verified per blob; tampered blobs are refused; it boots', async (t) => {
  const reg = await startRegistry();
  const proxy = await tokenProxy(reg.addr);
  const pulled: string[] = [];
  try {
    // a real kernel for the image: Debian's 6.12 cloud kernel has virtio and virtiofs built in, so it boots without modules
    const k612 = await ensureKernel(loadCatalog().kernels.find((k) => k.line === '6.12')!);
    const layer = kernelLayer({ 'boot/vmlinuz': k612.vmlinuz, 'boot/config': k612.config! });
    const img = await pushImage(`http://${reg.addr}`, 'bpf-lab/kernel', 'v6.12', layer.tgz, layer.diffId);

    const ref = { registry: reg.addr, repository: 'bpf-lab/kernel', digest: img.digest };
    const art = await ociKernel({ kind: 'oci', line: 'oci-test', release: '', packages: [], ref });
    pulled.push(img.digest);
    t.is(art.imageSha256, k612.imageSha256);
    t.truthy(art.config);
    t.regex(art.source, /^OCI 127\.0\.0\.1:\d+\/bpf-lab\/kernel@sha256:/);

    // through a registry that wants a bearer token (the ghcr/Docker Hub flow)
    rmSync(join(cachePath('kernels', 'oci', img.digest.slice(7, 23))), { recursive: true, force: true });
    const root = await pullKernelImage({ ...ref, registry: proxy.addr });
    t.true(existsSync(join(root, 'boot', 'vmlinuz')));
    t.is(proxy.tokenRequests.length, 1);
    t.regex(proxy.tokenRequests[0], /service=lab-test&scope=repository%3Abpf-lab%2Fkernel%3Apull/);

    // a layer whose bytes no longer match its digest (storage tampered behind the registry's back)
    const small = kernelLayer({ 'boot/vmlinuz': join(repo, 'package.json') });
    const img2 = await pushImage(`http://${reg.addr}`, 'bpf-lab/kernel', 'tampered', small.tgz, small.diffId);
    const data = readFileSync(blobData(reg.storage, img2.layerDigest));
    data[data.length - 9] ^= 0xff;
    writeFileSync(blobData(reg.storage, img2.layerDigest), data);
    const e = await t.throwsAsync(pullKernelImage({ ...ref, digest: img2.digest }), { instanceOf: LabError });
    t.regex(e!.message, new RegExp(`sha256 mismatch for http://${reg.addr}/v2/bpf-lab/kernel/blobs/${img2.layerDigest}.*refusing`));
    t.false(existsSync(join(cachePath('kernels', 'oci', img2.digest.slice(7, 23)), 'READY')));
    pulled.push(img2.digest);

    // a manifest whose bytes do not hash to the digest asked for
    const m = readFileSync(blobData(reg.storage, img.digest));
    writeFileSync(blobData(reg.storage, img.digest), Buffer.concat([m.subarray(0, m.length - 1), Buffer.from(' }')]));
    rmSync(join(cachePath('kernels', 'oci', img.digest.slice(7, 23))), { recursive: true, force: true });
    const e2 = await t.throwsAsync(pullKernelImage(ref), { instanceOf: LabError });
    t.regex(e2!.message, /manifest digest mismatch.*refusing/);
    writeFileSync(blobData(reg.storage, img.digest), m);

    // and the image boots: the lab's own CLI, pulling by digest
    const r = await lab(['exec', '--kernel', `oci:${reg.addr}/bpf-lab/kernel@${img.digest}`, '--', 'uname', '-r']);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout.trim(), loadCatalog().kernels.find((k) => k.line === '6.12')!.release);
  } finally {
    reg.proc.kill();
    proxy.server.close();
    for (const d of pulled) rmSync(cachePath('kernels', 'oci', d.slice(7, 23)), { recursive: true, force: true });
  }
});

test.after.always(() => rmSync(work, { recursive: true, force: true }));
