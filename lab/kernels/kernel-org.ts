import { mkdir } from 'node:fs/promises';
import lockfile from 'proper-lockfile';
import { cachePath } from '../host/paths.js';
import { sha256File } from '../host/hash.js';
import { LabError } from '../errors.js';
import { exists } from './packages.js';
import { downloadVerified, FetchFailure } from './download.js';
import { buildFromSource, builtKernel } from './build.js';
import { loadCatalog, type KernelEntry } from './catalog.js';
import type { KernelArtifacts } from './kernel.js';

type TarballEntry = Extract<KernelEntry, { kind: 'tarball' }>;

/** kernel.org's release tarballs; LAB_KERNEL_ORG_MIRROR replaces the base (a mirror, or a local server). */
export const kernelOrgBase = () => (process.env.LAB_KERNEL_ORG_MIRROR ?? 'https://cdn.kernel.org/pub/linux/kernel').replace(/\/$/, '');

/** linux-6.6.119.tar.xz → BASE/v6.x/linux-6.6.119.tar.xz (kernel.org's layout) */
export function tarballUrl(name: string, base = kernelOrgBase()): string {
  const major = /^linux-(\d+)\./.exec(name)?.[1];
  if (!major) throw new Error(`not a kernel tarball name: ${name}`);
  return `${base}/v${major}.x/${name}`;
}

/** Where a pinned tarball lives in the cache; a file put there by hand is used (after its sha256 is checked). */
export const tarballCachePath = (t: { name: string }) => cachePath('kernels', 'tarballs', t.name);

/** The pinned tarball, verified: from the cache, else downloaded from kernel.org (or the mirror). */
export async function fetchTarball(entry: TarballEntry, onStep?: (msg: string) => void): Promise<string> {
  const t = entry.tarball;
  const dest = tarballCachePath(t);
  await mkdir(cachePath('kernels', 'tarballs'), { recursive: true });
  const release = await lockfile.lock(cachePath('kernels', 'tarballs'), { retries: { retries: 1800, minTimeout: 500, maxTimeout: 2000 }, lockfilePath: `${dest}.lock` });
  try {
    if (await exists(dest)) {
      const got = await sha256File(dest);
      if (got !== t.sha256) throw new LabError(`${dest} has sha256 ${got}, but ${entry.line} is pinned to ${t.name} sha256 ${t.sha256}; remove the file`);
      return dest;
    }
    const url = tarballUrl(t.name);
    onStep?.(`downloading ${url}`);
    try {
      await downloadVerified({ url, dest, sha256: t.sha256, onProgress: (b, total) => onStep?.(`  ${(b / 1e6).toFixed(0)}${total ? `/${(total / 1e6).toFixed(0)}` : ''} MB`) });
    } catch (e) {
      if (!(e instanceof FetchFailure)) throw e;
      throw new LabError(unreachableMessage(entry, e));
    }
    return dest;
  } finally {
    await release();
  }
}

/** One line: what was tried, and the ways on. */
function unreachableMessage(entry: TarballEntry, e: FetchFailure): string {
  const debianLines = loadCatalog().kernels.filter((k) => k.kind === 'debian').map((k) => k.line);
  const n = (line: string) => { const [a, b] = line.split('.').map(Number); return a * 1000 + b; };
  const nearest = [...debianLines].sort((a, b) => Math.abs(n(a) - n(entry.line)) - Math.abs(n(b) - n(entry.line))).slice(0, 2);
  return `kernel ${entry.line} is built from ${entry.tarball.name}, but fetching it failed (tried ${e.url}: ${e.reason}); ways on: ` +
    `get that tarball elsewhere (sha256 ${entry.tarball.sha256}) and run \`npm run lab -- kernels build PATH/${entry.tarball.name}\` (then --kernel ${entry.line} uses it), ` +
    `set LAB_KERNEL_ORG_MIRROR to a reachable mirror, boot your own image with --kernel PATH/bzImage, or use the nearest Debian-packaged lines: ${nearest.join(', ')}`;
}

/** A catalog line built from a kernel.org tarball: fetch, verify, build once (cached), boot. */
export async function tarballKernel(entry: TarballEntry, onStep?: (msg: string) => void): Promise<KernelArtifacts> {
  const path = await fetchTarball(entry, onStep);
  const meta = await buildFromSource({ kind: 'tarball', path, sha256: entry.tarball.sha256 }, { onStep });
  const art = await builtKernel({ kind: 'built', line: entry.line, release: meta.release, packages: [], key: meta.key });
  return { ...art, entry, source: `kernel.org ${entry.tarball.name} (sha256 ${entry.tarball.sha256.slice(0, 16)}…), built by the lab` };
}
