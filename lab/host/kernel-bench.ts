import { mkdir, readFile, rename, rm, writeFile, open } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { basename, join } from 'node:path';
import { cpus } from 'node:os';
import lockfile from 'proper-lockfile';
import { cachePath } from './paths.js';
import { sha256, sha256File } from './hash.js';
import { runChecked } from './spawn.js';
import { toolchainVersions, type Toolchain } from './build.js';
import { ensurePackages, exists } from '../kernels/packages.js';
import { loadCatalog, type KernelEntry } from '../kernels/catalog.js';
import { LabError } from '../errors.js';

/**
 * The kernel's own selftests `bench` (tools/testing/selftests/bpf), built on the host as the invoking user from the
 * Debian source package of the guest kernel's own version (catalog `source`), with vmlinux.h from that kernel's BTF.
 * The selftests Makefile builds libbpf and bpftool from the same tree and only the BPF objects bench links in.
 * Cached under cache/kernel-bench/<line>-<key>/ (key: source sha256, this recipe, toolchain, BTF), which the guest
 * sees at the same path through the read-only host-root share.
 */
export interface KernelBench { bench: string; dir: string; key: string; log: string; source: string; patched: string[]; buildMs?: number }

/** Parts of the source tree the selftests Makefile needs for `bench` (the rest of the kernel tree is never unpacked). */
const TREE_PARTS = ['tools/*', 'scripts/*', 'include/uapi/*', 'Makefile', 'kernel/bpf/disasm.*'];

/**
 * Before 6.10, bench_trigger.c loads the whole skeleton, including a sleepable fentry and an fmod_ret program that
 * Debian kernels reject (no error-injection list for getpgid), so every trig-* bench fails to load. This build-time
 * change opens the skeleton without loading it and loads only the program the bench attaches (all others get
 * autoload off). Trees that already do so (6.10+: `trigger_bench__open()` + set_autoload) are left unchanged.
 */
export function loadOnlyProgramUnderTest(src: string): { text: string; changed: boolean } {
  if (!src.includes('trigger_bench__open_and_load()')) return { text: src, changed: false };
  const helper = [
    '',
    '/* bpf-lab: load only the program under test (others may be rejected by the running kernel) */',
    'static void lab_load_only(struct bpf_program *keep)',
    '{',
    '\tstruct bpf_program *p;',
    '',
    '\tbpf_object__for_each_program(p, ctx.skel->obj)',
    '\t\tbpf_program__set_autoload(p, p == keep);',
    '\tif (trigger_bench__load(ctx.skel)) {',
    '\t\tfprintf(stderr, "failed to load the program under test\\n");',
    '\t\texit(1);',
    '\t}',
    '}',
    '',
  ].join('\n');
  const anchor = /static struct counter base_hits;\n/;
  const attach = /(static void attach_bpf\(struct bpf_program \*prog\)\n\{\n\tstruct bpf_link \*link;\n)/;
  const uprobe = /(\n\tlink = bpf_program__attach_uprobe\(ctx\.skel->progs\.bench_trigger_uprobe,)/;
  // 5.10 has no uprobe benches; where they exist, their setup loads the uprobe program the same way
  const needed: [string, RegExp][] = [['base_hits', anchor], ['attach_bpf', attach], ...(src.includes('bpf_program__attach_uprobe') ? [['attach_uprobe', uprobe] as [string, RegExp]] : [])];
  for (const [what, re] of needed) {
    if (!re.test(src)) throw new LabError(`bench_trigger.c has an unexpected shape (no ${what}); the lab's load-only-under-test change needs updating for this kernel version`);
  }
  const text = src
    .replace(anchor, (m) => m + helper)
    .replaceAll('trigger_bench__open_and_load()', 'trigger_bench__open()')
    .replace(attach, '$1\n\tlab_load_only(prog);\n')
    .replace(uprobe, '\n\tlab_load_only(ctx.skel->progs.bench_trigger_uprobe);$1');
  return { text, changed: true };
}

/**
 * The selftests build user space at -O0 since 6.1 (6.1 writes -O0 into CFLAGS and libbpf's EXTRA_CFLAGS; 6.3+ take
 * -O2 only with RELEASE=1), while 5.10's tree, the published runs and the lab's own drivers use -O2. An -O0 consumer
 * loop is measurably slower under TCG, so the referee is built at -O2: RELEASE=1 where the tree knows it, and the
 * hard-coded -O0 of older trees rewritten.
 */
export function optimizeLikeRelease(makefile: string): { text: string; changed: boolean } {
  const text = makefile.replace(/^(CFLAGS \+= -g )-O0\b/m, '$1-O2').replace(/EXTRA_CFLAGS='-g -O0'/g, "EXTRA_CFLAGS='-g -O2'");
  return { text, changed: text !== makefile };
}

/**
 * 7.x's selftests make the test helpers bench links depend on libarena's skeletons, which need clang 18+ (arena address
 * spaces); bench itself does not use them, so they are emptied out (older trees have no such variables).
 */
const MAKE_ARGS = (out: string, btf: string, jobs: number) => [
  `-j${jobs}`, `OUTPUT=${out}`, `VMLINUX_BTF=${btf}`, 'RELEASE=1', 'LIBARENA_SKEL=', 'LIBARENA_ASAN_SKEL=', join(out, 'bench'),
];

/** Everything that decides the build's output besides the inputs hashed separately. */
const RECIPE = JSON.stringify({ v: 1, parts: TREE_PARTS, make: MAKE_ARGS('OUT', 'BTF', 0), patch: loadOnlyProgramUnderTest.toString(), optimize: optimizeLikeRelease.toString() });

export const kernelBenchRecipeHash = () => sha256(RECIPE).slice(0, 16);

export async function ensureKernelBench(entry: KernelEntry, btfSource: string, onStep?: (msg: string) => void): Promise<KernelBench> {
  const source = entry.kind === 'debian' ? entry.source : undefined;
  if (!source) throw new LabError(`kernel ${entry.line} has no pinned Debian source package in kernels/catalog.json; the kernel-bench scenario needs one`);
  const toolchain: Toolchain = await toolchainVersions();
  const key = sha256(source.sha256, kernelBenchRecipeHash(), JSON.stringify(toolchain), await sha256File(btfSource)).slice(0, 16);
  const dir = cachePath('kernel-bench', `${entry.line}-${key}`);
  const result: KernelBench = {
    bench: join(dir, 'out', 'bench'), dir, key, log: join(dir, 'build.log'), source: `${source.name} ${source.version}`, patched: [],
  };
  const ready = join(dir, 'READY');
  if (await exists(ready)) return { ...result, ...JSON.parse(await readFile(ready, 'utf8')) };
  await mkdir(dir, { recursive: true });
  const release = await lockfile.lock(dir, { retries: { retries: 1200, minTimeout: 200, maxTimeout: 1000 }, stale: 600000 });
  try {
    if (await exists(ready)) return { ...result, ...JSON.parse(await readFile(ready, 'utf8')) };
    const { tarball, ...pin } = source;
    const root = await ensurePackages(source.name, [pin], loadCatalog().suites, onStep);
    const t0 = Date.now();
    const tmp = join(dir, `tmp-${process.pid}`);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(join(tmp, 'src'), { recursive: true });
    const top = basename(tarball).replace(/\.tar\.xz$/, '');
    onStep?.(`building the kernel's selftests bench from ${source.name} ${source.version} (log: ${result.log})`);
    await runChecked('tar', ['-xJf', join(root, tarball), '-C', join(tmp, 'src'), '--strip-components=1', '--wildcards', ...TREE_PARTS.map((p) => `${top}/${p}`)]);
    const trigger = join(tmp, 'src', 'tools/testing/selftests/bpf/benchs/bench_trigger.c');
    const patched = loadOnlyProgramUnderTest(await readFile(trigger, 'utf8'));
    if (patched.changed) {
      await writeFile(trigger, patched.text);
      result.patched.push('benchs/bench_trigger.c: load only the program under test');
    }
    const makefile = join(tmp, 'src', 'tools/testing/selftests/bpf/Makefile');
    const optimized = optimizeLikeRelease(await readFile(makefile, 'utf8'));
    if (optimized.changed) {
      await writeFile(makefile, optimized.text);
      result.patched.push('Makefile: user space (bench and its libbpf) at -O2 instead of the tree\'s -O0');
    }
    const out = join(tmp, 'out');
    await mkdir(out);
    const code = await runToLog('nice', ['-n', '10', 'make', '-C', join(tmp, 'src', 'tools/testing/selftests/bpf'), ...MAKE_ARGS(out, btfSource, Math.max(2, cpus().length))], result.log);
    if (code !== 0) {
      const lines = (await readFile(result.log, 'utf8')).split('\n');
      // a compiler error first; else make's own last complaint (not the "Error N" lines of the parent makes)
      const first = (lines.find((l) => /\berror:|#error/.test(l)) ?? lines.filter((l) => /\*\*\* (?!\[)/.test(l) && !/Waiting for unfinished|Deleting file/.test(l)).pop())
        ?.replace(/^.*?\/tools\/testing\/selftests\/bpf\//, '').trim();
      const hint = lines.some((l) => /bpf_addr_space_cast|unknown (argument|target)|-mcpu=v4/.test(l)) ? ` (this tree needs a newer clang than ${toolchain.clang})`
        : lines.some((l) => /rst2man not found/.test(l)) ? ' (this tree builds bpftool\'s man pages: install python3-docutils for rst2man)' : '';
      throw new LabError(`building the kernel bench from ${source.name} ${source.version} failed (make exited ${code})${hint}: ${first ?? 'see the log'}; full log: ${result.log}`);
    }
    await rm(join(dir, 'out'), { recursive: true, force: true });
    await rename(out, join(dir, 'out'));
    await rm(tmp, { recursive: true, force: true });
    result.buildMs = Date.now() - t0;
    await writeFile(ready, JSON.stringify({ source: result.source, patched: result.patched, buildMs: result.buildMs, toolchain, builtAt: new Date().toISOString() }, null, 2));
    onStep?.(`built ${result.bench} in ${(result.buildMs / 1000).toFixed(1)} s`);
    return result;
  } catch (e) {
    // a failed build keeps its log (beside tmp-*), not the unpacked tree
    await rm(join(dir, `tmp-${process.pid}`), { recursive: true, force: true });
    throw e;
  } finally {
    await release();
  }
}

/** Run a command with stdout and stderr appended to a log file; resolves to the exit status. */
async function runToLog(cmd: string, args: string[], logPath: string): Promise<number> {
  const log = await open(logPath, 'w');
  try {
    await log.write(`$ ${cmd} ${args.join(' ')}\n`);
    return await new Promise<number>((resolve, reject) => {
      const child = spawn(cmd, args, { stdio: ['ignore', log.fd, log.fd] });
      child.on('error', reject);
      child.on('close', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
    });
  } finally {
    await log.close();
  }
}
