import { readdir, readFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { repoRoot, cachePath } from './paths.js';
import { sha256, sha256File, sha256FileMemo } from './hash.js';
import { run, runChecked } from './spawn.js';
import { exists } from '../kernels/packages.js';
import { LabError } from '../errors.js';

export interface Toolchain { clang: string; bpftool: string; libbpf: string; cc: string }
export interface BuildResult { dir: string; key: string; objects: Record<string, string>; toolchain: Toolchain }

export async function toolchainVersions(): Promise<Toolchain> {
  const first = async (cmd: string, args: string[]) => {
    const r = await run(cmd, args).catch(() => ({ code: 1, stdout: '', stderr: '' }));
    return (r.stdout || r.stderr).split('\n')[0].trim() || 'unknown';
  };
  // in parallel: each is a process start, slow on a busy host
  const [libbpf, clang, bpftool, cc] = await Promise.all([
    run('dpkg-query', ['-W', '-f=${Version}', 'libbpf-dev']).catch(() => ({ stdout: '' })),
    first('clang', ['--version']),
    first('bpftool', ['version']),
    first('cc', ['--version']),
  ]);
  return { clang, bpftool, libbpf: libbpf.stdout.trim() || (await first('pkg-config', ['--modversion', 'libbpf'])), cc };
}

async function sourceFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
    const p = join(rel, e.name);
    if (e.isDirectory()) out.push(...(await sourceFiles(dir, p)));
    else if (/\.(c|h)$|^Makefile$/.test(e.name)) out.push(p);
  }
  return out.sort();
}

/**
 * Compile bpf/ (BPF objects, skeletons, native drivers) into cache/build/<hash>/. The hash covers every source
 * file, the toolchain versions and the BTF that vmlinux.h comes from, so an unchanged tree is reused instantly.
 */
export async function ensureBuild(btfSource: string, onStep?: (msg: string) => void): Promise<BuildResult> {
  const bpfDir = join(repoRoot, 'bpf');
  const files = await sourceFiles(bpfDir);
  const toolchain = await toolchainVersions();
  const parts = [JSON.stringify(toolchain), await sha256FileMemo(btfSource, cachePath('build', 'btf-digests.json'))];
  for (const f of files) parts.push(f, await readFile(join(bpfDir, f), 'utf8'));
  const key = sha256(...parts).slice(0, 16);
  const dir = cachePath('build', key);
  const ready = join(dir, 'READY');
  if (!(await exists(ready))) {
    await mkdir(dir, { recursive: true });
    const release = await lockfile.lock(dir, { retries: { retries: 600, minTimeout: 200, maxTimeout: 1000 }, stale: 300000 });
    try {
      if (!(await exists(ready))) {
        onStep?.(`compiling ${files.filter((f) => f.endsWith('.bpf.c')).length} BPF programs and the native drivers`);
        const tmp = join(dir, `tmp-${process.pid}`);
        await rm(tmp, { recursive: true, force: true });
        await mkdir(tmp, { recursive: true });
        const btf = await run('bpftool', ['btf', 'dump', 'file', btfSource, 'format', 'c']);
        if (btf.code !== 0) throw new LabError(`bpftool could not dump BTF from ${btfSource}: ${btf.stderr.trim()}`);
        await writeFile(join(tmp, 'vmlinux.h'), btf.stdout);
        const make = await run('make', ['-s', '-C', bpfDir, `OUT=${tmp}`, `-j${Math.max(2, (await import('node:os')).cpus().length)}`]);
        if (make.code !== 0) throw new LabError(`building bpf/ failed:\n${(make.stderr || make.stdout).trim().split('\n').slice(-15).join('\n')}`);
        for (const e of await readdir(tmp)) await rename(join(tmp, e), join(dir, e));
        await rm(tmp, { recursive: true, force: true });
        await writeFile(ready, new Date().toISOString());
      }
    } finally {
      await release();
    }
  }
  const objects: Record<string, string> = {};
  for (const e of (await readdir(dir)).filter((f) => f.endsWith('.bpf.o')).sort()) objects[e] = await sha256File(join(dir, e));
  return { dir, key, objects, toolchain };
}

