import { copyFile, link, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadCatalog } from './catalog.js';
import { buildFromSource, buildSourceOf, builtDir, formatDuration, type BuildMeta } from './build.js';
import { tarballCachePath } from './kernel-org.js';
import { registerBuiltName } from './names.js';
import { exists } from './packages.js';
import { UsageError } from '../errors.js';

export interface BuildCommandResult { name: string; meta: BuildMeta; dir: string; bootWith: string }

/**
 * `kernels build SOURCE [--name NAME]`: build with the lab's fragment and register NAME for --kernel.
 * A tarball whose sha256 is a catalog pin is also filed where that line looks for it, so --kernel LINE boots it.
 */
export async function kernelsBuild(c: { source: string; name?: string; jobs?: number }, say: (m: string) => void): Promise<BuildCommandResult> {
  const catalog = loadCatalog();
  const clash = c.name && catalog.kernels.find((k) => k.line === c.name);
  say(`hashing ${c.source}`);
  const src = await buildSourceOf(c.source);
  const pinned = src.kind === 'tarball' ? catalog.kernels.find((k) => k.kind === 'tarball' && k.tarball.sha256 === src.sha256) : undefined;
  if (clash && clash !== pinned) throw new UsageError(`--name ${c.name} is a catalog kernel line; pick another name (e.g. ${c.name}-lab)`);
  if (pinned?.kind === 'tarball') {
    const dest = tarballCachePath(pinned.tarball);
    if (!(await exists(dest))) {
      await mkdir(dirname(dest), { recursive: true });
      await link(src.path, dest).catch(() => copyFile(src.path, dest));
      say(`${src.path} is the pinned tarball of kernel line ${pinned.line}: filed in the cache, so --kernel ${pinned.line} uses it`);
    }
  }
  const t0 = Date.now();
  const meta = await buildFromSource(src, { jobs: c.jobs, onStep: say });
  const name = c.name ?? pinned?.line ?? meta.release;
  if (name !== pinned?.line) {
    if (catalog.kernels.some((k) => k.line === name)) throw new UsageError(`the built kernel's release ${name} clashes with a catalog line; give --name`);
    await registerBuiltName(name, { key: meta.key, release: meta.release, source: src.path });
  }
  const fresh = Date.now() - t0 > 5000;
  say(`${fresh ? 'built' : 'already built (cache)'}: ${meta.release}, bzImage ${(meta.bzImageBytes / 1e6).toFixed(1)} MB, build took ${formatDuration(meta.buildSeconds * 1000)} with ${meta.jobs} jobs (load average at start ${meta.loadAvgAtStart}); log ${join(builtDir(meta.key), 'build.log')}`);
  return { name, meta, dir: builtDir(meta.key), bootWith: `npm run lab -- --kernel ${name} ...` };
}
