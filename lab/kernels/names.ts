import { readFileSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import lockfile from 'proper-lockfile';
import { cachePath } from '../host/paths.js';

/** Kernels registered by `kernels build --name NAME`: name → build key (cache/kernels/built/KEY) and release. */
export interface BuiltName { key: string; release: string; source: string; registeredAt: string }

const namesFile = () => cachePath('kernels', 'names.json');

export function readBuiltNames(): Record<string, BuiltName> {
  try { return JSON.parse(readFileSync(namesFile(), 'utf8')) as Record<string, BuiltName>; } catch { return {}; }
}

export async function registerBuiltName(name: string, entry: Omit<BuiltName, 'registeredAt'>): Promise<void> {
  await mkdir(cachePath('kernels'), { recursive: true });
  const release = await lockfile.lock(cachePath('kernels'), { retries: { retries: 100, minTimeout: 100, maxTimeout: 1000 }, lockfilePath: `${namesFile()}.lock` });
  try {
    let names: Record<string, BuiltName> = {};
    try { names = JSON.parse(await readFile(namesFile(), 'utf8')); } catch { /* first name */ }
    names[name] = { ...entry, registeredAt: new Date().toISOString() };
    const tmp = `${namesFile()}.tmp-${process.pid}`;
    await writeFile(tmp, JSON.stringify(names, null, 2) + '\n');
    await rename(tmp, namesFile());
  } finally {
    await release();
  }
}
