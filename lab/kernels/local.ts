import { readFile, stat, mkdir, rm, rename, readdir } from 'node:fs/promises';
import { join, dirname, basename, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import { cachePath } from '../host/paths.js';
import { sha256 } from "../host/hash.js";
import { run } from '../host/spawn.js';
import { LabError, UsageError } from '../errors.js';
import { exists } from './packages.js';
import { parseKernelConfig } from './kconfig.js';
import { finishArtifacts, type KernelArtifacts } from './kernel.js';
import type { KernelEntry } from './catalog.js';

type PathEntry = Extract<KernelEntry, { kind: 'path' }>;

/** The version string an x86 bzImage carries in its setup header ("6.12.0 (user@host) #1 SMP ..."). */
export function bzImageVersion(image: Buffer): string | undefined {
  if (image.length < 0x210 || image.readUInt32LE(0x202) !== 0x53726448) return undefined;
  const off = image.readUInt16LE(0x20e) + 0x200;
  if (off >= image.length) return undefined;
  const end = image.indexOf(0, off);
  return image.subarray(off, end < 0 ? off + 256 : end).toString().split(' ')[0] || undefined;
}

interface Located { image: string; tree?: string; config?: string; vmlinux?: string; modulesDir?: string }

/**
 * PATH is a kernel image (bzImage / vmlinuz) or a built tree (arch/x86/boot/bzImage, .config, vmlinux).
 * An image inside a tree, or a Debian-style /boot/vmlinuz-R with config-R beside it, finds its config too.
 */
async function locate(path: string): Promise<Located> {
  const abs = resolve(path);
  const st = await stat(abs);
  if (st.isDirectory()) {
    const image = join(abs, 'arch', 'x86', 'boot', 'bzImage');
    if (!(await exists(image))) throw new UsageError(`${path} is a directory but not a built kernel tree (no arch/x86/boot/bzImage; run make there first, or give the image's path)`);
    return { image, tree: abs, config: join(abs, '.config'), vmlinux: join(abs, 'vmlinux') };
  }
  if (abs.endsWith('/arch/x86/boot/bzImage')) {
    const tree = resolve(abs, '../../../..');
    if (await exists(join(tree, '.config'))) return { image: abs, tree, config: join(tree, '.config'), vmlinux: join(tree, 'vmlinux') };
  }
  // Debian-style /boot/vmlinuz-R: config-R beside it, modules in ../lib/modules/R or ../usr/lib/modules/R
  const m = /^vmlinuz-(.+)$/.exec(basename(abs));
  if (m) {
    const config = join(dirname(abs), `config-${m[1]}`);
    let modulesDir: string | undefined;
    for (const base of ['lib/modules', 'usr/lib/modules']) {
      const d = join(dirname(abs), '..', base, m[1]);
      if (await exists(join(d, 'kernel'))) { modulesDir = d; break; }
    }
    return { image: abs, config: (await exists(config)) ? config : undefined, modulesDir };
  }
  return { image: abs };
}

/**
 * A kernel the user built: hashed (the manifest records the image sha256), its vmlinux and config found or unpacked
 * into cache/kernels/path/HASH, and — for a tree whose config has modules — `make modules_install` into that cache dir.
 */
export async function pathKernel(entry: PathEntry, onStep?: (msg: string) => void): Promise<KernelArtifacts> {
  const loc = await locate(entry.path);
  const image = await readFile(loc.image);
  if (image.readUInt32LE(0x202) !== 0x53726448) throw new UsageError(`${loc.image} is not an x86 bzImage/vmlinuz (no setup header); give arch/x86/boot/bzImage or /boot/vmlinuz-*`);
  const imageSha = sha256(image);
  const configText = loc.config && (await exists(loc.config)) ? await readFile(loc.config) : undefined;
  const key = sha256(imageSha, configText ?? '').slice(0, 16);
  const dir = cachePath('kernels', 'path', key);
  await mkdir(dir, { recursive: true });
  let modulesDir = loc.modulesDir;
  const config = configText ? parseKernelConfig(configText.toString()) : undefined;
  if (loc.tree && config?.get('CONFIG_MODULES') === 'y' && await hasBuiltModules(loc.tree)) {
    modulesDir = await installModules(loc.tree, dir, onStep);
  }
  const vmlinux = loc.vmlinux && (await exists(loc.vmlinux)) && (await stat(loc.vmlinux)).mtimeMs >= (await stat(loc.image)).mtimeMs - 600000 ? loc.vmlinux : undefined;
  const version = bzImageVersion(image);
  const art = await finishArtifacts({
    entry: { ...entry, release: version ?? entry.release }, key: `path-${key}`, dir, vmlinuz: loc.image, vmlinux, config: loc.config, modulesDir,
    source: `local ${loc.tree ? `tree ${loc.tree}` : `image ${loc.image}`} (sha256 ${imageSha.slice(0, 16)}…)`,
  }, onStep);
  entry.release = version ?? entry.release;
  return art;
}

async function hasBuiltModules(tree: string): Promise<boolean> {
  try { return (await readFile(join(tree, 'modules.order'), 'utf8')).trim().length > 0; } catch { return false; }
}

/** modules_install into the cache, once per (image, config); returns lib/modules/RELEASE. */
async function installModules(tree: string, dir: string, onStep?: (msg: string) => void): Promise<string> {
  const root = join(dir, 'modroot');
  const release = await lockfile.lock(dir, { retries: { retries: 300, minTimeout: 200, maxTimeout: 1000 } });
  try {
    if (!(await exists(root))) {
      onStep?.(`make modules_install from ${tree} into the cache`);
      const tmp = `${root}.tmp-${process.pid}`;
      await rm(tmp, { recursive: true, force: true });
      const r = await run('make', ['-s', '-C', tree, `INSTALL_MOD_PATH=${tmp}`, 'INSTALL_MOD_STRIP=1', 'DEPMOD=/bin/true', 'modules_install']);
      if (r.code !== 0) throw new LabError(`make modules_install in ${tree} failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-1)[0]}`);
      await rename(tmp, root);
    }
  } finally {
    await release();
  }
  const versions = await readdir(join(root, 'lib', 'modules'));
  if (versions.length !== 1) throw new LabError(`modules_install from ${tree} produced ${versions.length} module trees in ${root}`);
  return join(root, 'lib', 'modules', versions[0]);
}

