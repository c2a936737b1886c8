import { join } from 'node:path';
import { z } from 'zod';
import { LabError } from '../errors.js';
import { downloadVerified, httpGet, FetchFailure } from './download.js';
import type { PinnedPackage } from './catalog.js';

/**
 * snapshot.debian.org keeps every package version the archive ever served. Its machine-readable API:
 *   GET /mr/binary/<package>/<version>/binfiles?fileinfo=1
 *     → { result: [{ hash, architecture }], fileinfo: { <hash>: [{ name, archive_name, path, size, first_seen }] } }
 *   GET /file/<hash>   → the file's bytes (hash is the file's SHA-1)
 * The lab asks for exactly the pinned package and version, and keeps the file only if its sha256 is the pin.
 * LAB_SNAPSHOT_MIRROR replaces https://snapshot.debian.org (a mirror, or a local server laid out the same way).
 */
export const snapshotBase = () => (process.env.LAB_SNAPSHOT_MIRROR ?? 'https://snapshot.debian.org').replace(/\/$/, '');

const Binfiles = z.object({
  result: z.array(z.object({ hash: z.string().regex(/^[0-9a-f]{40}$/), architecture: z.string() })),
  fileinfo: z.record(z.array(z.object({ name: z.string(), size: z.number().optional() }))).optional(),
});

export async function fetchFromSnapshot(p: PinnedPackage, destDir: string, arch = 'amd64'): Promise<string> {
  const base = snapshotBase();
  const api = `${base}/mr/binary/${encodeURIComponent(p.name)}/${encodeURIComponent(p.version)}/binfiles?fileinfo=1`;
  const res = await httpGet(api);
  if (res.status === 404) throw new LabError(`snapshot.debian.org has no ${p.name} ${p.version} (${api})`);
  if (!res.ok) throw new FetchFailure(api, `HTTP ${res.status}`, res.status);
  const parsed = Binfiles.safeParse(await res.json().catch(() => undefined));
  if (!parsed.success) throw new LabError(`unexpected answer from ${api}: ${parsed.error.issues[0]?.message}`);
  const candidates = parsed.data.result.filter((r) => r.architecture === arch || r.architecture === 'all');
  if (candidates.length === 0) throw new LabError(`snapshot.debian.org lists ${p.name} ${p.version} but not for ${arch}`);
  // several files can carry one package+version (rebuilds); the pinned sha256 decides which one is ours
  let lastError: unknown;
  for (const c of candidates) {
    const name = parsed.data.fileinfo?.[c.hash]?.[0]?.name ?? `${p.name}_${p.version.replace(/^\d+:/, '')}_${c.architecture}.deb`;
    const dest = join(destDir, name);
    try {
      await downloadVerified({ url: `${base}/file/${c.hash}`, dest, sha256: p.sha256 });
      return dest;
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}
