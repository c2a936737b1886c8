import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { z } from 'zod';
import { cachePath } from '../host/paths.js';
import { sha256 } from '../host/hash.js';
import { run } from '../host/spawn.js';
import { LabError } from '../errors.js';
import { exists } from './packages.js';
import { downloadVerified, httpGet, FetchFailure } from './download.js';
import { finishArtifacts, type KernelArtifacts } from './kernel.js';
import type { KernelEntry, OciRef } from './catalog.js';

/**
 * Kernels as OCI images (the cilium/ci-kernels layout: FROM scratch, /boot/vmlinuz, modules optionally under
 * /usr/lib/modules or /lib/modules), pulled through the OCI distribution API by digest — never by tag — with
 * every blob's sha256 checked against the digest that names it. No Docker involved.
 * Registries on localhost/127.0.0.1 are spoken to over plain HTTP (as Docker does); all others over HTTPS.
 */
const MANIFEST_TYPES = [
  'application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.list.v2+json',
];

const Descriptor = z.object({ mediaType: z.string().optional(), digest: z.string().regex(/^sha256:[0-9a-f]{64}$/), size: z.number().optional(), platform: z.object({ os: z.string(), architecture: z.string() }).partial().optional() });
const Manifest = z.object({ layers: z.array(Descriptor).min(1) });
const Index = z.object({ manifests: z.array(Descriptor).min(1) });

export function registryBase(registry: string): string {
  const host = registry.replace(/:\d+$/, '');
  return `${['localhost', '127.0.0.1', '[::1]'].includes(host) ? 'http' : 'https'}://${registry}`;
}

/** A client for one repository: anonymous, or a bearer token obtained from the registry's challenge (ghcr, Docker Hub). */
export class OciClient {
  private token?: string;
  constructor(readonly ref: OciRef) {}

  private get base() { return `${registryBase(this.ref.registry)}/v2/${this.ref.repository}`; }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...extra, ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}) };
  }

  /** GET with the token flow: a 401 with `WWW-Authenticate: Bearer realm=…,service=…,scope=…` → token → retry once. */
  async get(url: string, accept?: string): Promise<Response> {
    let res = await httpGet(url, this.headers(accept ? { Accept: accept } : {}));
    if (res.status === 401 && !this.token) {
      await this.authenticate(res.headers.get('www-authenticate') ?? '');
      res = await httpGet(url, this.headers(accept ? { Accept: accept } : {}));
    }
    return res;
  }

  private async authenticate(challenge: string): Promise<void> {
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!/^Bearer\s/i.test(challenge) || !params.realm) throw new LabError(`registry ${this.ref.registry} wants authentication the lab does not speak (${challenge || 'no challenge'})`);
    const q = new URLSearchParams();
    if (params.service) q.set('service', params.service);
    q.set('scope', params.scope ?? `repository:${this.ref.repository}:pull`);
    const res = await httpGet(`${params.realm}?${q}`);
    if (!res.ok) throw new LabError(`registry token endpoint ${params.realm} answered HTTP ${res.status}`);
    const body = await res.json() as { token?: string; access_token?: string };
    this.token = body.token ?? body.access_token;
    if (!this.token) throw new LabError(`registry token endpoint ${params.realm} returned no token`);
  }

  /** The manifest bytes for a digest, verified; an index is resolved to its linux/amd64 manifest. */
  async manifest(digest: string): Promise<z.infer<typeof Manifest>> {
    const res = await this.get(`${this.base}/manifests/${digest}`, MANIFEST_TYPES.join(', '));
    if (!res.ok) throw new FetchFailure(`${this.base}/manifests/${digest}`, `HTTP ${res.status}`, res.status);
    const bytes = Buffer.from(await res.arrayBuffer());
    const got = `sha256:${sha256(bytes)}`;
    if (got !== digest) throw new LabError(`OCI manifest digest mismatch for ${this.ref.registry}/${this.ref.repository}: asked for ${digest}, got ${got}; refusing it`);
    const json = JSON.parse(bytes.toString());
    const index = Index.safeParse(json);
    if (index.success && !json.layers) {
      const m = index.data.manifests.find((d) => d.platform?.os === 'linux' && d.platform?.architecture === 'amd64') ?? (index.data.manifests.length === 1 ? index.data.manifests[0] : undefined);
      if (!m) throw new LabError(`OCI index ${digest} has no linux/amd64 image`);
      return this.manifest(m.digest);
    }
    const manifest = Manifest.safeParse(json);
    if (!manifest.success) throw new LabError(`OCI manifest ${digest} is not an image manifest (${manifest.error.issues[0]?.message})`);
    return manifest.data;
  }

  /** A blob into dest, kept only if its sha256 matches its digest. */
  async blob(digest: string, dest: string): Promise<void> {
    const url = `${this.base}/blobs/${digest}`;
    // a first request settles authentication; the verified download follows (redirects to blob storage included)
    if (!this.token) { const probe = await this.get(url); await probe.body?.cancel(); }
    await downloadVerified({ url, dest, sha256: digest.slice('sha256:'.length), headers: this.headers() });
  }
}

type OciEntry = Extract<KernelEntry, { kind: 'oci' }>;

/** Pull (once per digest) and unpack the image's layers into cache/kernels/oci/DIGEST/root. */
export async function pullKernelImage(ref: OciRef, onStep?: (msg: string) => void): Promise<string> {
  const dir = cachePath('kernels', 'oci', ref.digest.slice('sha256:'.length, 'sha256:'.length + 16));
  const root = join(dir, 'root');
  if (await exists(join(dir, 'READY'))) return root;
  await mkdir(dir, { recursive: true });
  const release = await lockfile.lock(dir, { retries: { retries: 900, minTimeout: 200, maxTimeout: 1000 }, stale: 300000 });
  try {
    if (await exists(join(dir, 'READY'))) return root;
    const client = new OciClient(ref);
    onStep?.(`pulling ${ref.registry}/${ref.repository}@${ref.digest}`);
    let manifest;
    try {
      manifest = await client.manifest(ref.digest);
    } catch (e) {
      if (e instanceof FetchFailure) throw new LabError(`cannot reach OCI registry ${ref.registry} (tried ${e.url}: ${e.reason}); ways on: a reachable mirror of the image, kernels build SOURCE, or --kernel PATH/bzImage`);
      throw e;
    }
    const tmp = join(dir, `tmp-${process.pid}`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(join(tmp, 'root'), { recursive: true });
    for (const [i, layer] of manifest.layers.entries()) {
      onStep?.(`  layer ${i + 1}/${manifest.layers.length} ${layer.digest.slice(0, 19)}…${layer.size ? ` (${(layer.size / 1e6).toFixed(1)} MB)` : ''}`);
      const file = join(tmp, `layer-${i}`);
      await client.blob(layer.digest, file);
      const r = await run('tar', ['-xf', file, '-C', join(tmp, 'root'), '--no-same-owner', '--exclude=.wh.*']);
      if (r.code !== 0) throw new LabError(`cannot unpack layer ${layer.digest} of ${ref.digest}: ${r.stderr.trim().split('\n').slice(-1)[0]}`);
      await rm(file);
    }
    await rm(root, { recursive: true, force: true });
    await rename(join(tmp, 'root'), root);
    await rm(tmp, { recursive: true, force: true });
    await writeFile(join(dir, 'READY'), JSON.stringify({ ref, layers: manifest.layers, pulledAt: new Date().toISOString() }, null, 2));
    return root;
  } finally {
    await release();
  }
}

export async function ociKernel(entry: OciEntry, onStep?: (msg: string) => void): Promise<KernelArtifacts> {
  const root = await pullKernelImage(entry.ref, onStep);
  const vmlinuz = join(root, 'boot', 'vmlinuz');
  if (!(await exists(vmlinuz))) throw new LabError(`OCI image ${entry.ref.digest} has no /boot/vmlinuz (the cilium/ci-kernels layout)`);
  let modulesDir: string | undefined;
  for (const base of ['usr/lib/modules', 'lib/modules']) {
    const d = join(root, base);
    if (await exists(d)) { const v = await readdir(d); if (v.length === 1) { modulesDir = join(d, v[0]); break; } }
  }
  return finishArtifacts({
    entry, key: `oci-${entry.ref.digest.slice(7, 23)}`, dir: join(root, '..'), vmlinuz,
    config: join(root, 'boot', 'config'), modulesDir: modulesDir && (await exists(join(modulesDir, 'kernel'))) ? modulesDir : undefined,
    source: `OCI ${entry.ref.registry}/${entry.ref.repository}@${entry.ref.digest}`,
  }, onStep);
}
