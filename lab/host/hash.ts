import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export function sha256(...parts: (string | Buffer)[]): string {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/**
 * sha256File for large files read at every run (the BTF source of the build key: a 50-60 MB vmlinux): the digest is
 * remembered next to the file's identity (device, inode, size, mtime) in `memoFile`, and recomputed when any changes.
 */
export async function sha256FileMemo(path: string, memoFile: string): Promise<string> {
  const { stat, readFile, writeFile, mkdir, rename } = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  const s = await stat(path);
  const id = `${path}|${s.dev}|${s.ino}|${s.size}|${s.mtimeMs}`;
  let memo: Record<string, string> = {};
  try { memo = JSON.parse(await readFile(memoFile, 'utf8')); } catch { /* first time */ }
  if (memo[id]) return memo[id];
  const digest = await sha256File(path);
  memo[id] = digest;
  await mkdir(dirname(memoFile), { recursive: true });
  const tmp = `${memoFile}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(memo));
  await rename(tmp, memoFile);
  return digest;
}
