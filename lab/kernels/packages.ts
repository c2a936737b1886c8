import { mkdir, readdir, rename, rm, stat, writeFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { downloadPinned, PinsGone } from './apt.js';
import { fetchFromSnapshot, snapshotBase } from './snapshot.js';
import { errorMessage } from '../errors.js';
import { sha256, sha256File } from '../host/hash.js';
import { runChecked } from '../host/spawn.js';
import { cachePath } from '../host/paths.js';
import { LabError } from '../errors.js';
import type { PinnedPackage } from './catalog.js';

/**
 * A set of pinned Debian packages, downloaded, verified and extracted into one content-addressed directory
 * (cache/pkgs/<name>-<hash of the pins>/root). Concurrent runs serialise on a lock; extraction happens in a
 * temporary directory that is renamed into place, so a crash never leaves a half-extracted root marked ready.
 */
export async function ensurePackages(name: string, pkgs: PinnedPackage[], suites: string[], onStep?: (msg: string) => void): Promise<string> {
  const key = sha256(pkgs.map((p) => `${p.name}=${p.version}:${p.sha256}`).join('\n')).slice(0, 16);
  const dir = cachePath('pkgs', `${name}-${key}`);
  const root = join(dir, 'root');
  const ready = join(dir, 'READY');
  if (await exists(ready)) return root;
  await mkdir(dir, { recursive: true });
  const release = await lockfile.lock(dir, { retries: { retries: 900, minTimeout: 200, maxTimeout: 1000 }, stale: 300000 });
  try {
    if (await exists(ready)) return root;
    const tmp = join(dir, `tmp-${process.pid}`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(join(tmp, 'debs'), { recursive: true });
    const mb = (pkgs.reduce((a, p) => a + p.size, 0) / 1e6).toFixed(1);
    onStep?.(`downloading ${pkgs.length} package(s), ${mb} MB: ${pkgs.map((p) => `${p.name} ${p.version}`).join(', ')}`);
    await downloadPinnedOrSnapshot(pkgs, join(tmp, 'debs'), suites, onStep);
    const files = await readdir(join(tmp, 'debs'));
    for (const p of pkgs) {
      const file = files.find((f) => f.startsWith(`${p.name}_`) && f.endsWith('.deb'));
      if (!file) throw new LabError(`apt-get download produced no .deb for ${p.name} ${p.version}`);
      const path = join(tmp, 'debs', file);
      const [size, digest] = [(await stat(path)).size, await sha256File(path)];
      if (digest !== p.sha256 || size !== p.size) {
        throw new LabError(`checksum mismatch for ${p.name} ${p.version}: got sha256 ${digest} (${size} B), pinned ${p.sha256} (${p.size} B)`);
      }
    }
    onStep?.('verified sha256; extracting');
    await mkdir(join(tmp, 'root'));
    for (const f of await readdir(join(tmp, 'debs'))) await runChecked('dpkg-deb', ['-x', join(tmp, 'debs', f), join(tmp, 'root')]);
    await rm(root, { recursive: true, force: true });
    await rename(join(tmp, 'root'), root);
    await rm(tmp, { recursive: true, force: true });
    await writeFile(ready, JSON.stringify({ packages: pkgs, extracted: new Date().toISOString() }, null, 2));
    return root;
  } finally {
    await release();
  }
}

export async function packagesCached(name: string, pkgs: PinnedPackage[]): Promise<boolean> {
  const key = sha256(pkgs.map((p) => `${p.name}=${p.version}:${p.sha256}`).join('\n')).slice(0, 16);
  return exists(cachePath('pkgs', `${name}-${key}`, 'READY'));
}

export async function exists(p: string): Promise<boolean> {
  try { await access(p); return true; } catch { return false; }
}

/** apt first (fast, the mirror); pins the archive dropped come from snapshot.debian.org, verified the same way. */
async function downloadPinnedOrSnapshot(pkgs: PinnedPackage[], dir: string, suites: string[], onStep?: (msg: string) => void): Promise<void> {
  try {
    await downloadPinned(pkgs, dir, suites);
  } catch (e) {
    if (!(e instanceof PinsGone)) throw e;
    const rest = pkgs.filter((p) => !e.gone.includes(p));
    if (rest.length) await downloadPinned(rest, dir, suites);
    for (const p of e.gone) {
      onStep?.(`${p.name} ${p.version} is gone from the archive; fetching exactly that version from ${snapshotBase()}`);
      try {
        await fetchFromSnapshot(p, dir);
      } catch (err) {
        throw new LabError(`${e.message}, and ${snapshotBase()} did not provide it either: ${errorMessage(err)}; update the pin (npm run lab -- kernels lists the sources)`);
      }
    }
  }
}
