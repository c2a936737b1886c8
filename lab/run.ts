import { mkdir, writeFile, readFile } from 'node:fs/promises';
import { join, resolve, basename } from 'node:path';
import { cpus as hostCpus, userInfo } from 'node:os';
import { loadCatalog, resolveKernels, type KernelEntry } from './catalog.js';
import { ensurePrerequisites } from './prereqs.js';
import { ensureKernel, type KernelArtifacts } from './kernel.js';
import { ensureVirtiofsd } from './virtiofsd.js';
import { ensureBuild } from './build.js';
import { ensureInitramfs } from './initramfs.js';
import { chooseAccel } from './accel.js';
import { Vm, GuestError } from './vm.js';
import { kernelCommandLine } from './qemu.js';
import { run } from './exec.js';
import { repoRoot } from './paths.js';
import { LabError, UsageError, errorMessage } from './errors.js';
import { Ui } from './ui.js';
import { formatParams, summarizeRows, toCsv, RESULT_COLUMNS, SUMMARY_COLUMNS, type ResultRow, type RunOutcome } from './results.js';
import { renderMarkdown, renderHtml } from './report.js';
import type { Manifest } from './manifest.js';
import { scenarios as allScenarios, suites, scenarioById } from '../scenarios/index.js';
import { matrixFor, unmetRequirement, type ScenarioDefinition } from '../scenarios/define.js';
import type { Params } from './agent/protocol.js';

export interface RunOptions {
  kernel: string; scenario?: string; suite?: string; quick: boolean; out: string; accel: 'auto' | 'kvm' | 'tcg';
  cpus: number; memoryMb: number; verbose: boolean; argv: string[];
  /** exact parameter combinations per scenario (reproduce); default: the scenario's matrix */
  paramsOverride?: Record<string, Params[]>;
}

export interface RunResult { runDir: string; exitStatus: number; manifest: Manifest }

export function resolveScenarios(o: { scenario?: string; suite?: string }): ScenarioDefinition[] {
  const ids = o.scenario ? o.scenario.split(',').map((s) => s.trim()).filter(Boolean) : suites[o.suite!];
  if (!ids) throw new UsageError(`unknown suite '${o.suite}'; valid suites: ${Object.keys(suites).join(', ')}`);
  return ids.map((id) => {
    const s = scenarioById(id);
    if (!s) throw new UsageError(`unknown scenario '${id}'; valid scenarios: ${allScenarios.map((x) => x.id).join(', ')}`);
    return s;
  });
}

async function firstLine(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args).catch(() => ({ stdout: '', stderr: '' }));
  return (r.stdout || r.stderr).split('\n')[0].trim() || 'unknown';
}

async function gitDescribe(): Promise<string> {
  const head = await run('git', ['-C', repoRoot, 'rev-parse', 'HEAD']).catch(() => ({ code: 1, stdout: '' }));
  if (head.code !== 0) return 'unknown (not a git checkout)';
  const dirty = await run('git', ['-C', repoRoot, 'status', '--porcelain', '--untracked-files=no']).catch(() => ({ stdout: '' }));
  return head.stdout.trim() + (dirty.stdout.trim() ? ' (with uncommitted changes)' : '');
}

function runIdNow(kernels: KernelEntry[]): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
  return `${stamp}-${kernels.map((k) => k.line).join('_')}-${Math.random().toString(36).slice(2, 6)}`;
}

export async function runLab(o: RunOptions): Promise<RunResult> {
  const ui = new Ui(o.verbose);
  const catalog = loadCatalog();
  const kernels = resolveKernels(o.kernel, catalog);
  const scenarios = resolveScenarios(o);
  const t0 = Date.now();

  await ensurePrerequisites((m) => ui.info(m));

  const runId = runIdNow(kernels);
  const runDir = resolve(o.out, runId);
  await mkdir(runDir, { recursive: true });
  ui.info(`run ${runId}: kernels ${kernels.map((k) => k.line).join(', ')}; scenarios ${scenarios.map((s) => s.id).join(', ')}${o.quick ? ' (quick)' : ''}`);

  const rows: ResultRow[] = [];
  const outcomes: RunOutcome[] = [];
  const warnings: string[] = [];
  const manifest: Manifest = {
    runId, runDirName: runDir, command: `npm run lab -- ${o.argv.join(' ')}`.trim(), argv: o.argv, startedAt: new Date().toISOString(),
    options: { kernels: kernels.map((k) => k.line), scenarios: scenarios.map((s) => s.id), quick: o.quick, cpus: o.cpus, memoryMb: o.memoryMb, accel: o.accel },
    git: await gitDescribe(),
    host: { cpuModel: hostCpus()[0]?.model ?? 'unknown', qemu: await firstLine('qemu-system-x86_64', ['--version']), virtiofsd: '', node: process.version, user: userInfo().username },
    accel: { accel: 'tcg', reason: 'not decided yet', cached: false },
    vm: { cpus: o.cpus, memoryMb: o.memoryMb, kernelCmdline: kernelCommandLine({}) },
    toolchain: { clang: '', bpftool: '', libbpf: '', cc: '' },
    build: { key: '', btfFrom: '', objects: {} },
    kernels: kernels.map((k) => ({ line: k.line, release: k.release, packages: k.packages, image: '' })),
    scenarios: scenarios.map((s) => ({ id: s.id, params: o.paramsOverride?.[s.id] ?? matrixFor(s, o.quick) })),
    timings: { phases: ui.phases },
    warnings,
  };

  const writeOutputs = async () => {
    manifest.finishedAt = new Date().toISOString();
    ui.phases.total = Date.now() - t0;
    const refsFor = (id: string) => scenarioById(id)?.references ?? [];
    const summary = summarizeRows(rows, outcomes, refsFor);
    const md = renderMarkdown(manifest, summary, outcomes, scenarios);
    await writeFile(join(runDir, 'results.csv'), toCsv(rows, RESULT_COLUMNS));
    await writeFile(join(runDir, 'summary.csv'), toCsv(summary, SUMMARY_COLUMNS));
    await writeFile(join(runDir, 'report.md'), md);
    await writeFile(join(runDir, 'report.html'), renderHtml(md, `bpf-lab ${runId}`));
    await writeFile(join(runDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  };

  let failed = false;
  try {
    // fetch every kernel first (and the share daemon), so a bad pin fails before any VM time is spent
    const artifacts = new Map<string, KernelArtifacts>();
    const fsd = await ui.phase('fetch', `fetching pinned kernels (${kernels.map((k) => k.line).join(', ')}) and virtiofsd`, async () => {
      for (const k of kernels) artifacts.set(k.line, await ensureKernel(k, (m) => ui.info(`  ${k.line}: ${m}`)));
      return ensureVirtiofsd((m) => ui.info(`  virtiofsd: ${m}`));
    });
    manifest.host.virtiofsd = `virtiofsd ${fsd.version} (Debian, --readonly --sandbox=none)`;

    // vmlinux.h comes from the default kernel's BTF, so builds do not depend on which kernels a run boots
    const btfKernel = await ensureKernel(catalog.kernels.find((k) => k.line === catalog.default)!, (m) => ui.info(`  ${catalog.default}: ${m}`));
    const btfFrom = btfKernel.vmlinux ?? '/sys/kernel/btf/vmlinux';
    const build = await ui.phase('build', 'building BPF objects and native drivers', () => ensureBuild(btfFrom, (m) => ui.info(`  ${m}`)));
    manifest.toolchain = build.toolchain;
    manifest.build = { key: build.key, btfFrom: btfKernel.vmlinux ? `vmlinux of kernel ${catalog.default} (${btfKernel.entry.release})` : 'host /sys/kernel/btf/vmlinux', objects: build.objects };

    for (const k of kernels) {
      const art = artifacts.get(k.line)!;
      const mk = manifest.kernels.find((x) => x.line === k.line)!;
      const initrd = await ui.phase(`initramfs_${k.line}`, `${k.line}: initramfs`, () => ensureInitramfs(art.key, art.modulesDir));
      const image = art.vmlinux && art.pvh ? art.vmlinux : art.vmlinuz;
      mk.image = image === art.vmlinux ? 'vmlinux (uncompressed, PVH boot)' : 'bzImage';
      mk.initramfs = basename(initrd.path);
      if (manifest.accel.reason === 'not decided yet') {
        manifest.accel = await chooseAccel(o.accel, image, initrd.path, manifest.host.qemu);
        ui.info(`accelerator: ${manifest.accel.accel} (${manifest.accel.reason}${manifest.accel.cached ? ', remembered' : ''})`);
        if (manifest.accel.accel === 'tcg') warnings.push('TCG: absolute numbers are not comparable to bare metal; compare ratios within the run.');
      }
      let vm: Vm | undefined;
      try {
        vm = await ui.phase(`boot_${k.line}`, `${k.line}: booting ${k.release} (${manifest.accel.accel}, ${o.cpus} vCPUs)`, () => Vm.start({
          accel: manifest.accel.accel, cpus: o.cpus, memoryMb: o.memoryMb, kernelImage: image, initrd: initrd.path, virtiofsd: fsd,
          node: process.execPath, agentScript: join(repoRoot, 'dist', 'lab', 'agent', 'main.js'), cwd: repoRoot, buildDir: build.dir,
          consolePath: join(runDir, kernels.length > 1 ? `console-${k.line}.log` : 'console.log'),
          bootTimeoutMs: manifest.accel.accel === 'kvm' ? 60000 : 120000,
        }));
      } catch (e) {
        failed = true;
        warnings.push(`${k.line}: ${errorMessage(e)}`);
        ui.info(`${k.line}: boot failed: ${errorMessage(e)}`);
        for (const s of scenarios) outcomes.push({ kernel: k.line, scenario: s.id, params: '', status: 'failed', note: `boot failed: ${errorMessage(e)}`, wallMs: 0 });
        continue;
      }
      mk.unameR = vm.hello.release;
      mk.bootMs = vm.bootMs;
      mk.features = vm.hello.features;
      ui.phases[`boot_${k.line}`] = vm.bootMs;
      ui.info(`${k.line}: agent ready in ${(vm.bootMs / 1000).toFixed(2)} s (uname -r ${vm.hello.release})`);
      if (vm.hello.featureError) warnings.push(`${k.line}: ${vm.hello.featureError}`);
      try {
        for (const s of scenarios) {
          const ok = await runScenario(vm, s, k, manifest, o, ui, rows, outcomes);
          if (!ok) failed = true;
          await writeOutputs(); // partial results survive a later crash
          if (!vm.alive) break;
        }
      } finally {
        await vm.shutdown();
      }
    }
  } catch (e) {
    failed = true;
    warnings.push(errorMessage(e));
    manifest.exitStatus = 1;
    await writeOutputs();
    throw Object.assign(e as Error, { runDir });
  }
  manifest.exitStatus = failed ? 1 : 0;
  await writeOutputs();
  return { runDir, exitStatus: manifest.exitStatus, manifest };
}

async function runScenario(vm: Vm, s: ScenarioDefinition, k: KernelEntry, m: Manifest, o: RunOptions, ui: Ui, rows: ResultRow[], outcomes: RunOutcome[]): Promise<boolean> {
  const matrix = o.paramsOverride?.[s.id] ?? matrixFor(s, o.quick);
  const t0 = Date.now();
  const unmet = unmetRequirement(s.requires, vm.hello.release, vm.hello.features);
  if (unmet) {
    ui.info(`${k.line}: ${s.id} skipped: ${unmet}`);
    outcomes.push({ kernel: k.line, scenario: s.id, params: '', status: 'skipped', note: unmet, wallMs: 0 });
    return true;
  }
  ui.info(`${k.line}: ${s.id}: ${matrix.length} run(s)`);
  ui.startRuns(matrix.length, s.id);
  let allOk = true;
  for (const [i, p] of matrix.entries()) {
    const params = formatParams(p);
    const started = Date.now();
    let n = 0;
    try {
      if (!vm.alive) throw vm.deathError('before this run');
      await vm.request({ op: 'run', scenario: s.id, params: p, quick: o.quick }, {
        onSample: (x) => {
          n++;
          rows.push({
            run_id: m.runId, kernel: k.line, kernel_release: vm.hello.release, accel: m.accel.accel, vcpus: vm.hello.vcpus,
            scenario: s.id, variant: x.variant, params: x.labels ? `${params};${formatParams(x.labels)}` : params,
            repetition: x.repetition, metric: x.metric, unit: x.unit, value: x.value,
          });
        },
        onLog: (msg) => ui.detail(`  [${s.id}] ${msg}`),
      }, (s.estimateS(p, o.quick) * 4 + 60) * 1000 * (m.accel.accel === 'tcg' ? 2 : 1));
      outcomes.push({ kernel: k.line, scenario: s.id, params, status: 'ok', note: `${n} samples`, wallMs: Date.now() - started });
      ui.runDone(i + 1, `${params}: ${n} samples`);
    } catch (e) {
      const skipped = e instanceof GuestError && e.skipped;
      if (!skipped) allOk = false;
      outcomes.push({ kernel: k.line, scenario: s.id, params, status: skipped ? 'skipped' : 'failed', note: errorMessage(e), wallMs: Date.now() - started });
      ui.runDone(i + 1, `${params}: ${skipped ? 'skipped' : 'FAILED'}: ${errorMessage(e)}`);
      if (!vm.alive) break;
    }
  }
  ui.endRuns();
  ui.phases[`scenario_${k.line}_${s.id}`] = Date.now() - t0;
  return allOk;
}

export async function readManifest(runDir: string): Promise<Manifest> {
  try {
    return JSON.parse(await readFile(join(runDir, 'manifest.json'), 'utf8')) as Manifest;
  } catch (e) {
    throw new UsageError(`${runDir} is not a run directory (no readable manifest.json)`);
  }
}

export { LabError };
