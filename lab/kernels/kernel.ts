import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import lockfile from 'proper-lockfile';
import { loadCatalog, type KernelEntry } from './catalog.js';
import { ensurePackages, exists } from './packages.js';
import { extractVmlinux } from './kernel-image.js';
import { sha256 } from '../host/hash.js';

export interface KernelArtifacts {
  entry: KernelEntry;
  /** content key of the pinned package set */
  key: string;
  root: string;
  vmlinuz: string;
  /** uncompressed ELF (PVH boot, BTF); undefined when the image could not be unpacked */
  vmlinux?: string;
  config: string;
  modulesDir: string;
  pvh: boolean;
}

export const kernelKey = (entry: KernelEntry) => sha256(entry.packages.map((p) => p.sha256).join(',')).slice(0, 16);

export async function ensureKernel(entry: KernelEntry, onStep?: (msg: string) => void): Promise<KernelArtifacts> {
  const catalog = loadCatalog();
  const root = await ensurePackages(`linux-${entry.line}`, entry.packages, catalog.suites, onStep);
  const vmlinuz = join(root, entry.vmlinuz);
  const config = join(root, entry.config);
  const pvh = /^CONFIG_PVH=y$/m.test(await readFile(config, 'utf8'));
  const vmlinuxPath = join(root, '..', 'vmlinux');
  let vmlinux: string | undefined;
  if (await exists(vmlinuxPath)) vmlinux = vmlinuxPath;
  else {
    const release = await lockfile.lock(join(root, '..'), { retries: { retries: 300, minTimeout: 200, maxTimeout: 1000 } });
    try {
      if (!(await exists(vmlinuxPath))) {
        onStep?.('unpacking vmlinux from the bzImage');
        await extractVmlinux(vmlinuz, vmlinuxPath);
      }
      vmlinux = vmlinuxPath;
    } catch (e) {
      onStep?.(`could not unpack vmlinux (${(e as Error).message}); booting the bzImage`);
    } finally {
      await release();
    }
  }
  return { entry, key: kernelKey(entry), root, vmlinuz, vmlinux, config, modulesDir: join(root, entry.modules), pvh };
}

export async function kernelConfig(k: KernelArtifacts): Promise<Map<string, string>> {
  const m = new Map<string, string>();
  for (const line of (await readFile(k.config, 'utf8')).split('\n')) {
    const x = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (x) m.set(x[1], x[2]);
  }
  return m;
}
