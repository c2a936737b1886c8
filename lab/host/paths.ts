import { homedir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';

/** Repository root, found from this file's location in either lab/ or dist/lab/. */
export const repoRoot = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the bpf-lab repository root');
    dir = up;
  }
  return dir;
})();

/** User cache: LAB_CACHE, else $XDG_CACHE_HOME/bpf-lab, else ~/.cache/bpf-lab. */
export function cacheRoot(): string {
  if (process.env.LAB_CACHE) return process.env.LAB_CACHE;
  const xdg = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(xdg, 'bpf-lab');
}

export const cachePath = (...parts: string[]) => join(cacheRoot(), ...parts);
