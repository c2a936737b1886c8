import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join, relative, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import { cachePath, repoRoot } from '../host/paths.js';
import { sha256, sha256File } from '../host/hash.js';
import { run } from '../host/spawn.js';
import { LabError, UsageError } from '../errors.js';
import { exists } from './packages.js';
import { LAB_CONFIG_NEEDS, parseKernelConfig } from './kconfig.js';
import { finishArtifacts, type KernelArtifacts } from './kernel.js';
import type { KernelEntry } from './catalog.js';

/** The lab's config fragment, merged onto `make tinyconfig`. */
export const FRAGMENT = join(repoRoot, 'kernels', 'config', 'lab.config');
const BASE_CONFIG = 'tinyconfig';

export type BuildSource =
  | { kind: 'tarball'; path: string; sha256: string }
  /** a source tree: keyed by the relative path, size and mtime of every file (hashing 80k files' bytes is slow) */
  | { kind: 'tree'; path: string; sha256: string };

export interface BuildMeta {
  key: string; release: string; source: BuildSource; fragmentSha256: string; base: string; compiler: string;
  jobs: number; buildSeconds: number; loadAvgAtStart: number; steps: number; bzImageBytes: number; finishedAt: string;
  /** options of the fragment the kernel's Kconfig did not take (absent in this version, or unmet dependencies) */
  notApplied: string[];
  modules: boolean;
}

export const builtDir = (key: string) => cachePath('kernels', 'built', key);

export async function buildSourceOf(path: string): Promise<BuildSource> {
  const abs = resolve(path);
  let st;
  try { st = await stat(abs); } catch { throw new UsageError(`kernel source '${path}' does not exist; give a linux-*.tar.xz tarball or a kernel source tree`); }
  if (st.isFile()) {
    if (!/\.tar(\.(xz|gz|bz2|zst))?$/.test(abs)) throw new UsageError(`kernel source '${path}' is not a tarball (.tar, .tar.xz, .tar.gz, .tar.bz2, .tar.zst) or a directory`);
    return { kind: 'tarball', path: abs, sha256: await sha256File(abs) };
  }
  if (!(await exists(join(abs, 'Makefile'))) || !(await exists(join(abs, 'scripts', 'kconfig', 'merge_config.sh')))) {
    throw new UsageError(`'${path}' is not a kernel source tree (no Makefile and scripts/kconfig/merge_config.sh)`);
  }
  const entries: string[] = [];
  const walk = async (dir: string) => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.name === '.git') continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) { const s = await stat(p); entries.push(`${relative(abs, p)}\0${s.size}\0${s.mtimeMs}`); }
    }
  };
  await walk(abs);
  return { kind: 'tree', path: abs, sha256: sha256(entries.sort().join('\n')) };
}

export async function compilerVersion(): Promise<string> {
  const r = await run(process.env.CC ?? 'gcc', ['--version']).catch(() => undefined);
  if (!r || r.code !== 0) throw new LabError('building a kernel needs gcc (apt-get install build-essential flex bison bc libelf-dev libssl-dev dwarves)');
  return r.stdout.split('\n')[0].trim();
}

export function buildKey(sourceSha256: string, fragmentSha256: string, compiler: string): string {
  return sha256(JSON.stringify({ source: sourceSha256, fragment: fragmentSha256, cc: compiler, base: BASE_CONFIG })).slice(0, 16);
}

const BUILD_TOOLS = ['make', 'flex', 'bison', 'bc', 'pahole', 'tar', 'xz'];

async function missingTools(): Promise<string[]> {
  const { which } = await import('../host/spawn.js');
  const out: string[] = [];
  for (const t of BUILD_TOOLS) if (!(await which(t))) out.push(t);
  return out;
}

export interface BuildOptions { jobs?: number; onStep?: (msg: string) => void }

/**
 * Build a kernel from a tarball or tree with the lab's fragment, into cache/kernels/built/KEY (bzImage, vmlinux,
 * config, build.log, meta.json). KEY = (source sha256, fragment sha256, compiler version): a second build of the
 * same inputs returns at once; an interrupted one resumes where make left off (the object tree is kept).
 */
export async function buildFromSource(src: BuildSource, opts: BuildOptions = {}): Promise<BuildMeta> {
  const say = opts.onStep ?? (() => {});
  const fragment = await readFile(FRAGMENT);
  const compiler = await compilerVersion();
  const key = buildKey(src.sha256, sha256(fragment), compiler);
  const out = builtDir(key);
  if (await exists(join(out, 'meta.json'))) return JSON.parse(await readFile(join(out, 'meta.json'), 'utf8')) as BuildMeta;
  const missing = await missingTools();
  if (missing.length) throw new LabError(`building a kernel needs ${missing.join(', ')} (Debian: apt-get install build-essential flex bison bc libelf-dev libssl-dev dwarves)`);

  const work = cachePath('kernels', 'build', key);
  await mkdir(work, { recursive: true });
  const release = await lockfile.lock(work, { retries: { retries: 7200, minTimeout: 1000, maxTimeout: 2000 }, stale: 60000 });
  try {
    if (await exists(join(out, 'meta.json'))) return JSON.parse(await readFile(join(out, 'meta.json'), 'utf8')) as BuildMeta;
    const tree = src.kind === 'tree' ? src.path : await extractTarball(src, say);
    const obj = join(work, 'obj');
    await mkdir(obj, { recursive: true });
    const logPath = join(work, 'build.log');
    const log = createWriteStream(logPath, { flags: 'a' });
    const t0 = Date.now();
    const load0 = loadavg()[0];
    const jobs = opts.jobs ?? cpus().length;
    try {
      say(`configuring: make ${BASE_CONFIG} + ${relative(repoRoot, FRAGMENT)} (merge_config.sh) + olddefconfig; log: ${logPath}`);
      await make(tree, obj, [BASE_CONFIG], log);
      await step(log, join(tree, 'scripts', 'kconfig', 'merge_config.sh'), ['-m', '-O', obj, join(obj, '.config'), FRAGMENT], tree);
      await make(tree, obj, ['olddefconfig'], log);
      const config = parseKernelConfig(await readFile(join(obj, '.config'), 'utf8'));
      const wanted = parseKernelConfig(fragment.toString());
      const notApplied = [...wanted].filter(([k, v]) => config.get(k) !== v).map(([k, v]) => `${k}=${v}`);
      const fatal = LAB_CONFIG_NEEDS.filter((o) => config.get(`CONFIG_${o}`) !== 'y');
      if (fatal.length) throw new LabError(`this kernel's Kconfig did not take options the lab needs: ${fatal.map((o) => `CONFIG_${o}`).join(', ')} (see ${logPath})`);
      if (notApplied.length) say(`the kernel's Kconfig did not take ${notApplied.length} fragment option(s) (absent in this version or unmet dependencies): ${notApplied.join(', ')}`);
      const modules = config.get('CONFIG_MODULES') === 'y';
      say(`compiling with ${jobs} jobs (nice 10), load average ${load0.toFixed(1)}${modules ? '; modules too' : '; everything built in'}`);
      const steps = await make(tree, obj, [`-j${jobs}`, 'bzImage', ...(modules ? ['modules'] : [])], log, (n, last) => {
        say(`  ${formatDuration(Date.now() - t0)}: ${n} build steps${last ? ` (${last})` : ''}`);
      });
      const kernelRelease = (await run('make', ['-s', '-C', tree, `O=${obj}`, 'kernelrelease'])).stdout.trim();
      const tmpOut = `${out}.tmp-${process.pid}`;
      await rm(tmpOut, { recursive: true, force: true });
      await mkdir(tmpOut, { recursive: true });
      await linkOrCopy(join(obj, 'arch', 'x86', 'boot', 'bzImage'), join(tmpOut, 'bzImage'));
      await linkOrCopy(join(obj, 'vmlinux'), join(tmpOut, 'vmlinux'));
      await copyFile(join(obj, '.config'), join(tmpOut, 'config'));
      if (modules) {
        say('installing modules (modules_install) into the cache');
        await make(tree, obj, [`INSTALL_MOD_PATH=${join(tmpOut, 'modroot')}`, 'INSTALL_MOD_STRIP=1', 'modules_install'], log);
      }
      const meta: BuildMeta = {
        key, release: kernelRelease, source: src, fragmentSha256: sha256(fragment), base: BASE_CONFIG, compiler, jobs,
        buildSeconds: Math.round((Date.now() - t0) / 1000), loadAvgAtStart: Number(load0.toFixed(2)), steps,
        bzImageBytes: (await stat(join(tmpOut, 'bzImage'))).size, finishedAt: new Date().toISOString(), notApplied, modules,
      };
      await writeFile(join(tmpOut, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
      await copyFile(logPath, join(tmpOut, 'build.log'));
      await rm(out, { recursive: true, force: true });
      await rename(tmpOut, out);
      return meta;
    } finally {
      log.end();
    }
  } finally {
    await release();
  }
}

/** Artifacts of a finished build, for booting. */
export async function builtKernel(entry: Extract<KernelEntry, { kind: 'built' }>): Promise<KernelArtifacts> {
  const dir = builtDir(entry.key);
  if (!(await exists(join(dir, 'meta.json')))) throw new LabError(`built kernel '${entry.line}' (${dir}) is gone from the cache; build it again with npm run lab -- kernels build SOURCE --name ${entry.line}`);
  const meta = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as BuildMeta;
  return finishArtifacts({
    entry, key: `built-${entry.key}`, dir, vmlinuz: join(dir, 'bzImage'), vmlinux: join(dir, 'vmlinux'), config: join(dir, 'config'),
    modulesDir: meta.modules ? join(dir, 'modroot', 'lib', 'modules', meta.release) : undefined,
    source: `local build of ${meta.source.path} (${meta.source.kind} sha256 ${meta.source.sha256.slice(0, 16)}…, ${meta.compiler})`,
  });
}

/** Tarballs unpack once per sha256 into cache/kernels/src/SHA (renamed into place when complete). */
async function extractTarball(src: Extract<BuildSource, { kind: 'tarball' }>, say: (m: string) => void): Promise<string> {
  const dir = cachePath('kernels', 'src', src.sha256.slice(0, 16));
  if (await exists(dir)) return dir;
  const tmp = `${dir}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  say(`unpacking ${src.path}`);
  const r = await run('tar', ['-xf', src.path, '-C', tmp, '--strip-components=1']);
  if (r.code !== 0) throw new LabError(`cannot unpack ${src.path}: ${r.stderr.trim().split('\n').slice(-1)[0]}`);
  if (!(await exists(join(tmp, 'scripts', 'kconfig', 'merge_config.sh')))) throw new LabError(`${src.path} does not hold a kernel source tree (no scripts/kconfig/merge_config.sh at its top level)`);
  await rename(tmp, dir);
  return dir;
}

/** Run make in the source tree with the object directory O=obj under nice; output to the log; progress by steps. */
function make(tree: string, obj: string, args: string[], log: NodeJS.WritableStream, onProgress?: (steps: number, last?: string) => void): Promise<number> {
  return step(log, 'nice', ['-n', '10', 'make', '-C', tree, `O=${obj}`, ...args], tree, onProgress);
}

function step(log: NodeJS.WritableStream, cmd: string, args: string[], cwd: string, onProgress?: (steps: number, last?: string) => void): Promise<number> {
  log.write(`\n$ ${cmd} ${args.join(' ')}\n`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let steps = 0;
    let last: string | undefined;
    let tail: string[] = [];
    let partial = '';
    const timer = onProgress && setInterval(() => onProgress(steps, last), 30000);
    const onData = (d: Buffer) => {
      log.write(d);
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        const m = /^\s+(CC|AS|LD|AR|BTF|GEN|HOSTCC|OBJCOPY)\s+(\S+)/.exec(l);
        if (m) { steps++; last = `${m[1]} ${m[2]}`; }
        if (/error|Error/.test(l)) tail = [...tail, l.trim()].slice(-3);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e) => { if (timer) clearInterval(timer); reject(new LabError(`${cmd} could not start: ${e.message}`)); });
    child.on('close', (code) => {
      if (timer) clearInterval(timer);
      if (code === 0) resolvePromise(steps);
      else reject(new LabError(`kernel build step '${args.filter((a) => !a.startsWith('O=') && !a.startsWith('-') && !a.startsWith('/')).slice(-2).join(' ')}' failed (exit ${code}): ${tail.join(' | ') || 'see the log'}`));
    });
  });
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  try { await link(from, to); } catch { await copyFile(from, to); }
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
