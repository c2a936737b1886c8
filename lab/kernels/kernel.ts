import { join } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import lockfile from 'proper-lockfile';
import { loadCatalog, type KernelEntry } from './catalog.js';
import { ensurePackages, exists } from './packages.js';
import { extractVmlinux } from './kernel-image.js';
import { extractIkconfig, parseKernelConfig } from './kconfig.js';
import { sha256, sha256FileMemo } from '../host/hash.js';
import { cachePath } from '../host/paths.js';
import { builtKernel } from './build.js';
import { tarballKernel } from './kernel-org.js';
import { pathKernel } from './local.js';
import { ociKernel } from './oci.js';

export interface KernelArtifacts {
  entry: KernelEntry;
  /** content key of what was booted (package pins, build key, image digest) */
  key: string;
  vmlinuz: string;
  /** uncompressed ELF (PVH boot, BTF); undefined when the image could not be unpacked */
  vmlinux?: string;
  /** the kernel's .config; undefined when neither a file nor the image's IKCONFIG had one */
  config?: string;
  /** lib/modules/RELEASE of this kernel; undefined when it comes without modules (everything built in) */
  modulesDir?: string;
  pvh: boolean;
  imageSha256: string;
  /** where it came from, for the manifest and `kernels` */
  source: string;
}

export const kernelKey = (entry: KernelEntry) => sha256(entry.packages.map((p) => p.sha256).join(',')).slice(0, 16);

export async function ensureKernel(entry: KernelEntry, onStep?: (msg: string) => void): Promise<KernelArtifacts> {
  switch (entry.kind) {
    case 'debian': return debianKernel(entry, onStep);
    case 'tarball': return tarballKernel(entry, onStep);
    case 'built': return builtKernel(entry);
    case 'oci': return ociKernel(entry, onStep);
    case 'path': return pathKernel(entry, onStep);
  }
}

async function debianKernel(entry: Extract<KernelEntry, { kind: 'debian' }>, onStep?: (msg: string) => void): Promise<KernelArtifacts> {
  const catalog = loadCatalog();
  const root = await ensurePackages(`linux-${entry.line}`, entry.packages, catalog.suites, onStep);
  return finishArtifacts({
    entry, key: kernelKey(entry), dir: join(root, '..'), vmlinuz: join(root, entry.vmlinuz), config: join(root, entry.config),
    modulesDir: join(root, entry.modules), source: `Debian package ${entry.packages.map((p) => `${p.name} ${p.version}`).join(' + ')}`,
  }, onStep);
}

/**
 * Common tail for every kind of kernel: unpack vmlinux from the bzImage once (cached in `dir`), take the config
 * from a file or else from the image itself (CONFIG_IKCONFIG), and hash the image for the manifest.
 */
export async function finishArtifacts(a: { entry: KernelEntry; key: string; dir: string; vmlinuz: string; vmlinux?: string; config?: string; modulesDir?: string; source: string },
  onStep?: (msg: string) => void): Promise<KernelArtifacts> {
  let vmlinux = a.vmlinux;
  const vmlinuxPath = join(a.dir, 'vmlinux');
  if (!vmlinux && await exists(vmlinuxPath)) vmlinux = vmlinuxPath;
  if (!vmlinux) {
    const release = await lockfile.lock(a.dir, { retries: { retries: 300, minTimeout: 200, maxTimeout: 1000 } });
    try {
      if (!(await exists(vmlinuxPath))) {
        onStep?.('unpacking vmlinux from the bzImage');
        await extractVmlinux(a.vmlinuz, vmlinuxPath);
      }
      vmlinux = vmlinuxPath;
    } catch (e) {
      onStep?.(`could not unpack vmlinux (${(e as Error).message}); booting the bzImage`);
    } finally {
      await release();
    }
  }
  let config = a.config && (await exists(a.config)) ? a.config : undefined;
  if (!config && vmlinux) {
    const fromImage = join(a.dir, 'config');
    if (!(await exists(fromImage))) {
      const text = extractIkconfig(await readFile(vmlinux));
      if (text) await writeFile(fromImage, text);
    }
    if (await exists(fromImage)) config = fromImage;
  }
  const pvh = config ? parseKernelConfig(await readFile(config, 'utf8')).get('CONFIG_PVH') === 'y' : false;
  const modulesDir = a.modulesDir && (await exists(a.modulesDir)) ? a.modulesDir : undefined;
  return { entry: a.entry, key: a.key, vmlinuz: a.vmlinuz, vmlinux, config, modulesDir, pvh, imageSha256: await sha256FileMemo(a.vmlinuz, cachePath('kernel-image-digests.json')), source: a.source };
}

export async function kernelConfig(k: KernelArtifacts): Promise<Map<string, string> | undefined> {
  return k.config ? parseKernelConfig(await readFile(k.config, 'utf8')) : undefined;
}
