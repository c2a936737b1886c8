import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A kernel module file and the module names it depends on (from its .modinfo "depends=" string). */
export interface ModuleInfo { name: string; path: string; depends: string[] }

export const normalizeModuleName = (n: string) => n.replace(/-/g, '_');

/** Module name from a path like .../virtio_pci.ko or .../virtio-pci.ko.xz */
export function moduleNameFromPath(p: string): string {
  return normalizeModuleName(p.split('/').pop()!.replace(/\.ko(\.(xz|zst|gz))?$/, ''));
}

/** Read "depends=" from uncompressed module bytes (.modinfo strings are NUL-separated). */
export function parseDepends(ko: Buffer): string[] {
  const i = ko.indexOf('\0depends=');
  if (i < 0) return [];
  const start = i + '\0depends='.length;
  const end = ko.indexOf(0, start);
  return ko.subarray(start, end).toString().split(',').filter(Boolean).map(normalizeModuleName);
}

/**
 * Order the wanted modules and everything they depend on so that every module comes after its dependencies.
 * Modules that are built in (absent from the index) are left out; an unknown wanted module is an error.
 */
export function moduleClosure(wanted: string[], index: Map<string, { depends: string[] }>, builtin: Set<string>): string[] {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, from?: string) => {
    const n = normalizeModuleName(name);
    if (state.get(n) === 'done') return;
    if (state.get(n) === 'visiting') throw new Error(`module dependency cycle at ${n}`);
    const mod = index.get(n);
    if (!mod) {
      if (builtin.has(n)) return;
      throw new Error(`kernel module ${n}${from ? ` (needed by ${from})` : ''} is neither a module nor built in`);
    }
    state.set(n, 'visiting');
    for (const d of mod.depends) visit(d, n);
    state.set(n, 'done');
    order.push(n);
  };
  for (const w of wanted) visit(w);
  return order;
}

export async function listModuleFiles(modulesDir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const walk = async (dir: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (/\.ko(\.(xz|zst|gz))?$/.test(e.name)) files.set(moduleNameFromPath(p), p);
    }
  };
  await walk(join(modulesDir, 'kernel'));
  return files;
}

export async function builtinModules(modulesDir: string): Promise<Set<string>> {
  try {
    const text = await readFile(join(modulesDir, 'modules.builtin'), 'utf8');
    return new Set(text.split('\n').filter(Boolean).map(moduleNameFromPath));
  } catch {
    return new Set();
  }
}
