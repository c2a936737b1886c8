import { mkdir, writeFile, readFile } from 'node:fs/promises';
import { join, resolve, basename } from 'node:path';
import { cpus as hostCpus, userInfo } from 'node:os';
import { loadCatalog, resolveKernels, type KernelEntry } from './kernels/catalog.js';
import { ensurePrerequisites } from './host/prereqs.js';
import { prepareHost, planGuest, bootGuest, shutdownGuest, type GuestPlan } from './vm/session.js';
import { onInterrupt, SIGNAL_EXIT, type InterruptSignal } from './vm/children.js';
import { qemuVersion } from './vm/qemu-version.js';
import { gitCommit } from './host/git.js';
import type { AccelVerdict } from './vm/accel.js';
import { type Vm, GuestError } from './vm/vm.js';
import { kernelCommandLine } from './vm/qemu.js';
import { repoRoot } from './host/paths.js';
import { LabError, UsageError, errorMessage } from './errors.js';
import { Ui } from './ui.js';
import { formatParams, summarizeRows, toCsv, RESULT_COLUMNS, SUMMARY_COLUMNS, type ResultRow, type RunOutcome } from './results/csv.js';
import { writeReport } from './results/write-report.js';
import type { Manifest } from './results/manifest.js';
import { scenarios as allScenarios, suites, scenarioById } from '../scenarios/index.js';
import { runsOf, matrixAxes, unmetRequirement, type ScenarioDefinition } from '../scenarios/define.js';
import type { Params } from './agent/protocol.js';
import { checkFilterKeys, filterMatrix, type ParamFilter } from './param-filter.js';
import type { HostSetup } from './vm/session.js';
import { scheduleWork } from './schedule.js';
import { fidelityMatches } from '../scenarios/kernel-bench.js';

export interface RunOptions {
  kernel: string; scenario?: string; suite?: string; quick: boolean; out: string; accel: 'auto' | 'kvm' | 'tcg';
  cpus: number; memoryMb: number; verbose: boolean; argv: string[];
  /** `--param` axes that replace the matrix's (see param-filter.ts); recorded in the manifest */
  params?: ParamFilter;
  /** exact parameter combinations per scenario (reproduce); default: the scenario's matrix, filtered by `params` */
  paramsOverride?: Record<string, Params[]>;
  /** passes over each boot's work (default 1): a fidelity row then has one lab/bench ratio per round */
  rounds?: number;
  /** called once the kernels are fetched and bpf/ is built, before any boot (reproduce reports what differs) */
  onHostReady?: (host: HostSetup) => void | Promise<void>;
}

/** The parameter combinations each scenario runs. */
export function resolveMatrices(scenarios: ScenarioDefinition[], o: Pick<RunOptions, 'quick' | 'params' | 'paramsOverride'>): Record<string, Params[]> {
  const filter = o.params ?? {};
  if (!o.paramsOverride) checkFilterKeys(filter, scenarios);
  return Object.fromEntries(scenarios.map((s) => {
    if (o.paramsOverride?.[s.id]) return [s.id, o.paramsOverride[s.id]];
    const axes = filterMatrix(s, matrixAxes(s, o.quick), filter);
    const runs = runsOf(s, axes);
    if (runs.length === 0) {
      const why = s.excluded?.(Object.fromEntries(Object.entries(axes).map(([k, v]) => [k, v[0]])));
      throw new UsageError(`${s.id}: no run left with those --param values${why ? ` (${why})` : ''}`);
    }
    return [s.id, runs];
  }));
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
  const matrices = resolveMatrices(scenarios, o);
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
    options: {
      kernels: kernels.map((k) => k.line), scenarios: scenarios.map((s) => s.id), quick: o.quick, cpus: o.cpus, memoryMb: o.memoryMb, accel: o.accel,
      params: o.params ?? {}, rounds: o.rounds ?? 1,
    },
    git: await gitCommit(repoRoot),
    host: { cpuModel: hostCpus()[0]?.model ?? 'unknown', qemu: await qemuVersion(), virtiofsd: '', node: process.version, user: userInfo().username },
    accel: { accel: 'tcg', reason: 'not decided yet', cached: false },
    vm: { cpus: o.cpus, memoryMb: o.memoryMb, kernelCmdline: kernelCommandLine({}) },
    toolchain: { clang: '', bpftool: '', libbpf: '', cc: '' },
    build: { key: '', btfFrom: '', objects: {} },
    kernels: kernels.map((k) => ({ line: k.line, release: k.release, packages: k.packages, image: '' })),
    scenarios: scenarios.map((s) => ({ id: s.id, params: matrices[s.id] })),
    timings: { phases: ui.phases },
    warnings,
  };

  const writeOutputs = async () => {
    manifest.finishedAt = new Date().toISOString();
    delete ui.phases.total; // keep it the last key
    ui.phases.total = Date.now() - t0;
    const summary = summarizeRows(rows, outcomes, scenarioById);
    await writeFile(join(runDir, 'results.csv'), toCsv(rows, RESULT_COLUMNS, 'exact'));
    await writeFile(join(runDir, 'summary.csv'), toCsv(summary, SUMMARY_COLUMNS));
    await writeReport(runDir, { manifest, samples: rows, summary, outcomes, scenarios });
    await writeFile(join(runDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  };

  let failed = false;
  // Ctrl-C / SIGTERM: stop the VMs (their pending requests fail at once), let the loop finish, write what exists
  let interrupted: InterruptSignal | undefined;
  const stopWatching = onInterrupt((sig) => {
    interrupted = sig;
    ui.info(`interrupted (${sig}): stopping the VM and writing the results measured so far`);
  });
  try {
    const scenarioNeeds = scenarios.flatMap((s) => (s.requires.config ?? []).map((opt) => ({ options: [opt], neededBy: s.id })));
    const host = await prepareHost(kernels, ui, [...new Set(scenarios.flatMap((s) => s.hostTools ?? []))], scenarioNeeds);
    for (const mk of manifest.kernels) {
      const art = host.kernels.get(mk.line)!;
      Object.assign(mk, { release: art.entry.release, source: art.source, imageSha256: art.imageSha256 });
    }
    for (const [line, kb] of host.kernelBench) {
      (manifest.kernelBench ??= {})[line] = { source: kb.source, key: kb.key, bench: kb.bench, patched: kb.patched, buildLog: kb.log };
    }
    manifest.host.virtiofsd = `virtiofsd ${host.virtiofsd.version} (Debian, --readonly --sandbox=none)`;
    manifest.toolchain = host.build.toolchain;
    manifest.build = { key: host.build.key, btfFrom: host.btfFrom, objects: host.build.objects };
    await o.onHostReady?.(host);
    let verdict: AccelVerdict | undefined;

    for (const k of kernels) {
      if (interrupted) break;
      const mk = manifest.kernels.find((x) => x.line === k.line)!;
      const consoleName = kernels.length > 1 ? `console-${k.line}.log` : 'console.log';
      let plan: GuestPlan;
      try {
        plan = await planGuest(host, k, {
          accel: o.accel, cpus: o.cpus, memoryMb: o.memoryMb,
          hubNics: Math.max(0, ...scenarios.map((s) => s.vm?.hubNics ?? 0)),
          consolePath: join(runDir, consoleName),
        }, ui, manifest.host.qemu, verdict);
        mk.image = plan.imageKind;
        mk.initramfs = basename(plan.initramfs.path);
        if (!verdict) {
          verdict = plan.accel;
          manifest.accel = plan.tcg ? { ...verdict, reason: `${verdict.reason}; ${plan.tcg.reason}` } : verdict;
          if (verdict.accel === 'tcg') warnings.push('TCG: absolute numbers are not comparable to bare metal; compare ratios within the run.');
          if (plan.tcg?.mode === 'single') warnings.push(`${plan.tcg.reason} (docs/tcg-text-patching.md): the vCPUs took turns on one host thread`);
        }
      } catch (e) {
        failed = true;
        warnings.push(`${k.line}: ${errorMessage(e)}`);
        for (const s of scenarios) outcomes.push({ kernel: k.line, scenario: s.id, params: '', status: 'failed', note: `boot failed: ${errorMessage(e)}`, wallMs: 0 });
        continue;
      }
      // one boot serves every scenario; after a crash or a hung request (the VM is stopped) the next scenario
      // gets a fresh boot, and the warnings say so
      let vm: Vm | undefined;
      let lastScenario = '';
      try {
        // --rounds N: the whole schedule N times in this boot, so each round pairs a bench run with its lab runs again
        const rounds = o.rounds ?? 1;
        const work = Array.from({ length: rounds }, (_, round) => scheduleWork(scenarios, matrices, fidelityMatches).map((w) => ({ ...w, round }))).flat();
        for (const [i, { scenario: s, runs, round }] of work.entries()) {
          if (interrupted) break;
          if (vm && !vm.alive) {
            warnings.push(`${k.line}: the VM ${vm.crashLine ? `crashed (${vm.crashLine})` : 'was stopped'} during ${lastScenario} (console in ${consoleName}); ${s.id} and later scenarios ran in a fresh boot`);
            await shutdownGuest(vm, k, ui);
            vm = undefined;
          }
          if (!vm) {
            try {
              vm = await bootGuest(plan, k, ui);
            } catch (e) {
              failed = true;
              warnings.push(`${k.line}: ${errorMessage(e)}`);
              ui.info(`${k.line}: boot failed: ${errorMessage(e)}`);
              for (const r of new Set(work.slice(i).map((w) => w.scenario))) outcomes.push({ kernel: k.line, scenario: r.id, params: '', status: 'failed', note: `boot failed: ${errorMessage(e)}`, wallMs: 0 });
              break;
            }
            if (!mk.unameR) {
              mk.unameR = vm.hello.release;
              mk.bootMs = vm.bootMs;
              mk.guestUptimeAtHelloS = vm.hello.uptimeS;
              mk.features = vm.hello.features;
              if (vm.hello.featureError) warnings.push(`${k.line}: ${vm.hello.featureError}`);
            }
          }
          lastScenario = s.id;
          const gap = host.configMissing.get(k.line)?.filter((m) => m.neededBy.includes(s.id)).map((m) => m.option);
          const ok = await runScenario(vm, s, runs, k, manifest, o, ui, rows, outcomes, round, host.tools.get(k.line), gap?.length ? `kernel config lacks ${gap.join(', ')}` : undefined);
          if (!ok) failed = true;
          await writeOutputs(); // partial results survive a later crash
        }
      } finally {
        if (vm && !vm.alive && !interrupted) warnings.push(`${k.line}: the VM ${vm.crashLine ? `crashed (${vm.crashLine})` : 'was stopped'} during ${lastScenario} (console in ${consoleName})`);
        if (vm) await shutdownGuest(vm, k, ui, vm.alive ? warnings : undefined);
      }
    }
  } catch (e) {
    stopWatching();
    failed = true;
    warnings.push(errorMessage(e));
    manifest.exitStatus = interrupted ? SIGNAL_EXIT[interrupted] : 1;
    await writeOutputs();
    throw Object.assign(e as Error, { runDir });
  }
  stopWatching();
  manifest.exitStatus = interrupted ? SIGNAL_EXIT[interrupted] : failed ? 1 : 0;
  if (interrupted) warnings.push(`interrupted by ${interrupted}: the run stopped early; everything measured until then is kept (exit status ${manifest.exitStatus})`);
  await writeOutputs();
  return { runDir, exitStatus: manifest.exitStatus, manifest };
}

async function runScenario(vm: Vm, s: ScenarioDefinition, matrix: Params[], k: KernelEntry, m: Manifest, o: RunOptions, ui: Ui, rows: ResultRow[], outcomes: RunOutcome[], round: number, tools?: Record<string, string>, configGap?: string): Promise<boolean> {
  const t0 = Date.now();
  const unmet = configGap ?? unmetRequirement(s.requires, vm.hello.release, vm.hello.features);
  if (unmet) {
    ui.info(`${k.line}: ${s.id} skipped: ${unmet}`);
    outcomes.push({ kernel: k.line, scenario: s.id, params: '', status: 'skipped', note: unmet, wallMs: 0 });
    return true;
  }
  ui.info(`${k.line}: ${s.id}: ${matrix.length} run(s)${(o.rounds ?? 1) > 1 ? ` (round ${round + 1} of ${o.rounds})` : ''}`);
  ui.startRuns(matrix.length, s.id);
  let allOk = true;
  for (const [i, p] of matrix.entries()) {
    const params = formatParams(p);
    const started = Date.now();
    let n = 0;
    const variantSkips: RunOutcome[] = [];
    const where = `${k.line} ${s.id} [${params}]`;
    try {
      if (!vm.alive) throw vm.deathError('before this run');
      await vm.request({ op: 'run', scenario: s.id, params: p, quick: o.quick, tools }, {
        onSample: (x) => {
          n++;
          rows.push({
            run_id: m.runId, kernel: k.line, kernel_release: vm.hello.release, accel: m.accel.accel, vcpus: vm.hello.vcpus,
            scenario: s.id, variant: x.variant, params: x.labels ? `${params};${formatParams(x.labels)}` : params,
            repetition: x.repetition, metric: x.metric, unit: x.unit, value: x.value, round,
          });
        },
        onLog: (msg) => ui.detail(`  [${s.id}] ${msg}`),
        onWarning: (msg) => {
          m.warnings.push(`${where}: ${msg}`);
          ui.info(`warning: ${where}: ${msg}`);
        },
        onSkipped: (variant, reason) => {
          variantSkips.push({ kernel: k.line, scenario: s.id, params, variant, status: 'skipped', note: reason, wallMs: 0 });
          ui.info(`${where}: variant ${variant} skipped: ${reason}`);
        },
      }, (s.estimateS(p, o.quick) * 4 + 60) * 1000 * (m.accel.accel === 'tcg' ? 2 : 1));
      outcomes.push({ kernel: k.line, scenario: s.id, params, status: 'ok', note: `${n} samples`, wallMs: Date.now() - started });
      ui.runDone(i + 1, `${params}: ${n} samples${variantSkips.length ? `, ${variantSkips.length} variant(s) skipped` : ''}`);
    } catch (e) {
      const skipped = e instanceof GuestError && e.skipped;
      if (!skipped) allOk = false;
      const note = skipped ? errorMessage(e) : `${errorMessage(e)}${n ? ` (${n} samples taken before the failure are kept, marked failed)` : ''}`;
      outcomes.push({ kernel: k.line, scenario: s.id, params, status: skipped ? 'skipped' : 'failed', note, wallMs: Date.now() - started });
      ui.runDone(i + 1, `${params}: ${skipped ? 'skipped' : 'FAILED'}: ${errorMessage(e)}`);
    }
    outcomes.push(...variantSkips);
    if (!vm.alive) break;
  }
  ui.endRuns();
  const phase = `scenario_${k.line}_${s.id}`;
  ui.phases[phase] = (ui.phases[phase] ?? 0) + Date.now() - t0; // a scenario's runs may be split around the bench's
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
