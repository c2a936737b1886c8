import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cachePath } from '../host/paths.js';
import { sha256, sha256File } from '../host/hash.js';
import { Features } from '../agent/protocol.js';

/**
 * The guest's BPF feature probe answer depends only on the kernel and the probe binary: it is kept per
 * (kernel package key, sha256 of bin/probe) and handed to later boots, whose agent then says hello without probing.
 */
export async function featureCacheKey(kernelKey: string, buildDir: string): Promise<string> {
  return sha256(kernelKey, await sha256File(join(buildDir, 'bin', 'probe'))).slice(0, 24);
}

export async function readCachedFeatures(key: string): Promise<Features | undefined> {
  try {
    const parsed = Features.safeParse(JSON.parse(await readFile(cachePath('features', `${key}.json`), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export async function writeCachedFeatures(key: string, f: Features): Promise<void> {
  await mkdir(cachePath('features'), { recursive: true });
  const file = cachePath('features', `${key}.json`);
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(f));
  await rename(tmp, file);
}
