import { mkdir, mkdtemp, readFile, writeFile, rm, rename } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { repoRoot, cachePath } from '../host/paths.js';
import { sha256 } from '../host/hash.js';
import { run, runChecked, captureBytes } from '../host/spawn.js';
import { exists } from '../kernels/packages.js';
import { builtinModules, listModuleFiles, moduleClosure, parseDepends } from './modules.js';

/** Modules the guest needs to boot: the PCI transport, the agent's serial port and the host-root share. */
export const BOOT_MODULES = ['virtio_pci', 'virtio_console', 'virtiofs'];
/** Modules scenarios may load on demand (the agent insmods them with their dependencies). */
export const EXTRA_MODULES = ['veth', 'sch_ingress', 'cls_bpf', 'act_bpf', 'pktgen', 'virtio_net'];

/** The guest init's source: compiled static on the host for each initramfs (no shell, no busybox in the guest's boot). */
const INIT_SOURCE = join(repoRoot, 'images', 'init.c');

async function readModule(path: string): Promise<Buffer> {
  if (path.endsWith('.ko')) return readFile(path);
  const tool = path.endsWith('.xz') ? 'xz' : path.endsWith('.zst') ? 'zstd' : 'gzip';
  return captureBytes(tool, ['-dc', path]);
}

export interface InitramfsResult { path: string; key: string; bootModules: string[]; extraModules: string[] }

/** Build (or reuse) the initramfs for one kernel: the init, boot modules in load order, extra modules. */
export async function ensureInitramfs(kernelKey: string, modulesDir: string | undefined): Promise<InitramfsResult> {
  const initSource = await readFile(INIT_SOURCE);
  // the compiler is not in the key: any build of the same source behaves the same, and asking cc its version would
  // cost every boot a process
  const key = sha256(initSource, kernelKey, BOOT_MODULES.join(','), EXTRA_MODULES.join(',')).slice(0, 16);
  const out = cachePath('initramfs', `${key}.cpio.gz`);
  const meta = cachePath('initramfs', `${key}.json`);
  if (await exists(out) && await exists(meta)) return { path: out, key, ...JSON.parse(await readFile(meta, 'utf8')) };

  // a kernel without modules (everything built in, e.g. one `kernels build` made) gets an initramfs without any
  const files = modulesDir ? await listModuleFiles(modulesDir) : new Map<string, string>();
  const builtin = modulesDir ? await builtinModules(modulesDir) : new Set([...BOOT_MODULES, ...EXTRA_MODULES]);
  const bytes = new Map<string, Buffer>();
  const deps = new Map<string, { depends: string[] }>();
  const collect = async (name: string) => {
    if (deps.has(name) || !files.has(name)) return;
    const b = await readModule(files.get(name)!);
    bytes.set(name, b);
    deps.set(name, { depends: parseDepends(b) });
    for (const d of deps.get(name)!.depends) await collect(d);
  };
  for (const m of [...BOOT_MODULES, ...EXTRA_MODULES]) await collect(m);
  const bootOrder = moduleClosure(BOOT_MODULES, deps, builtin);
  const extra = EXTRA_MODULES.filter((m) => files.has(m) || builtin.has(m));
  const extraOrder = moduleClosure(extra, deps, builtin).filter((m) => !bootOrder.includes(m));

  const staging = await mkdtemp(join(tmpdir(), 'bpf-lab-initramfs-'));
  try {
    for (const d of ['dev', 'proc', 'sys', 'newroot', 'modules/extra']) await mkdir(join(staging, d), { recursive: true });
    await runChecked('cc', ['-static', '-Os', '-s', '-Wall', '-o', join(staging, 'init'), INIT_SOURCE]);
    for (const m of bootOrder) await writeFile(join(staging, 'modules', `${m}.ko`), bytes.get(m)!);
    await writeFile(join(staging, 'modules', 'boot.order'), bootOrder.map((m) => `${m}.ko`).join('\n') + '\n');
    for (const m of extraOrder) await writeFile(join(staging, 'modules', 'extra', `${m}.ko`), bytes.get(m)!);
    // per extra module, the ordered list of files to insmod (dependencies first)
    const plan = Object.fromEntries(extra.map((m) => [m, moduleClosure([m], deps, builtin).filter((x) => !bootOrder.includes(x))]));
    await writeFile(join(staging, 'modules', 'extra', 'plan.json'), JSON.stringify(plan));
    await mkdir(cachePath('initramfs'), { recursive: true });
    const tmpOut = `${out}.tmp-${process.pid}`;
    await packCpio(staging, tmpOut);
    await rename(tmpOut, out);
    const info = { bootModules: bootOrder, extraModules: extraOrder };
    await writeFile(meta, JSON.stringify(info));
    return { path: out, key, ...info };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function packCpio(dir: string, outFile: string): Promise<void> {
  const list = (await run('find', ['.', '-mindepth', '1'], { cwd: dir })).stdout;
  await new Promise<void>((resolve, reject) => {
    const cpio = spawn('cpio', ['-o', '-H', 'newc', '-R', '0:0', '--quiet'], { cwd: dir, stdio: ['pipe', 'pipe', 'inherit'] });
    const gzip = spawn('gzip', ['-1', '-n'], { stdio: ['pipe', 'pipe', 'inherit'] });
    cpio.stdout.pipe(gzip.stdin);
    gzip.stdout.pipe(createWriteStream(outFile)).on('finish', resolve).on('error', reject);
    cpio.on('error', reject);
    gzip.on('error', reject);
    cpio.on('close', (c) => c !== 0 && reject(new Error(`cpio exited ${c}`)));
    cpio.stdin.end(list);
  });
}
