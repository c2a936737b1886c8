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
import { LabEvents, phaseTimings, type LabEventListener } from './events.js';
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
  /** called once the kernels are fetched and bpf/ is built, before any boot (reproduce reports what differs: say
   * emits a step event, so the line shows above a progress bar and in --json) */
  onHostReady?: (host: HostSetup, say: (line: string) => void) => void | Promise<void>;
  /** consumers of the run's event stream (progress display, --json), called in order for every event */
  listeners?: LabEventListener[];
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
  const catalog = loadCatalog();
  const kernels = resolveKernels(o.kernel, catalog);
  const scenarios = resolveScenarios(o);
  const matrices = resolveMatrices(scenarios, o);
  const warnings: string[] = [];
  const ev = new LabEvents([(e) => { if (e.type === 'warning') warnings.push(e.message); }, ...(o.listeners ?? [])]);

  await ensurePrerequisites((m) => ev.step(m));

  const runId = runIdNow(kernels);
  const runDir = resolve(o.out, runId);
  await mkdir(runDir, { recursive: true });

  const rows: ResultRow[] = [];
  const outcomes: RunOutcome[] = [];
  const manifest: Manifest = {
    runId, runDirName: runDir, command: `npm run lab -- ${o.argv.join(' ')}`.trim(), argv: o.argv, startedAt: new Date().toISOString(),
    options: {
      kernels: kernels.map((k) => k.line), scenarios: scenarios.map((s) => s.id), quick: o.quick, cpus: o.cpus, memoryMb: o.memoryMb, accel: o.accel,
      params: o.params ?? {}, rounds: o.rounds ?? 1,
    },
    git: await gitCommit(repoRoot),
    host: { cpuModel: hostCpus()[0]?.model ?? 'unknown', qemu: await qemuVersion(), virtiofsd: '', node: process.version, user: userInfo().username },
    accel: { accel: 'tcg', reason: 'not decided yet', cached: false },
    vm: { cpus: o.cpus, memoryMb: o.memoryMb, kernelCmdline: '' },
    toolchain: { clang: '', bpftool: '', libbpf: '', cc: '' },
    build: { key: '', btfFrom: '', objects: {} },
    kernels: kernels.map((k) => ({ line: k.line, release: k.release, packages: k.packages, image: '' })),
    scenarios: scenarios.map((s) => ({ id: s.id, params: matrices[s.id] })),
    timings: { phases: {} },
    warnings,
  };

  // after every scenario (partial results survive a later crash) and at the end; the timings written are those of
  // the events so far, `total` being the time this write started
  const writeOutputs = () => ev.phase('outputs', undefined, `writing results.csv, summary.csv, report and manifest.json to ${runDir}`, async () => {
    manifest.finishedAt = new Date().toISOString();
    manifest.timings.phases = phaseTimings(ev.events);
    const summary = summarizeRows(rows, outcomes, scenarioById);
    await writeFile(join(runDir, 'results.csv'), toCsv(rows, RESULT_COLUMNS, 'exact'));
    await writeFile(join(runDir, 'summary.csv'), toCsv(summary, SUMMARY_COLUMNS));
    await writeReport(runDir, { manifest, samples: rows, summary, outcomes, scenarios });
    await writeFile(join(runDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  });

  let failed = false;
  // Ctrl-C / SIGTERM: stop the VMs (their pending requests fail at once), let the loop finish, write what exists
  let interrupted: InterruptSignal | undefined;
  const stopWatching = onInterrupt((sig) => {
    interrupted = sig;
    ev.emit({ type: 'interrupted', signal: sig });
  });
  // from here on every way out ends with the `end` event (a progress bar stops on it)
  ev.emit({
    type: 'start', runId, runDir, kernels: kernels.map((k) => k.line), scenarios: scenarios.map((s) => s.id), quick: o.quick,
    plannedRuns: kernels.length * (o.rounds ?? 1) * scenarios.reduce((n, s) => n + matrices[s.id].length, 0),
  });
  try {
    const scenarioNeeds = scenarios.flatMap((s) => (s.requires.config ?? []).map((opt) => ({ options: [opt], neededBy: s.id })));
    const host = await prepareHost(kernels, ev, [...new Set(scenarios.flatMap((s) => s.hostTools ?? []))], scenarioNeeds);
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
    await o.onHostReady?.(host, (m) => ev.step(m));
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
        }, ev, manifest.host.qemu, verdict);
        mk.image = plan.imageKind;
        mk.initramfs = basename(plan.initramfs.path);
        if (!verdict) {
          verdict = plan.accel;
          manifest.accel = plan.tcg ? { ...verdict, reason: `${verdict.reason}; ${plan.tcg.reason}` } : verdict;
          manifest.vm.kernelCmdline = kernelCommandLine(verdict.accel);
          if (verdict.accel === 'tcg') ev.warn('TCG: absolute numbers are not comparable to bare metal; compare ratios within the run.');
          if (plan.tcg?.mode === 'single') ev.warn(`${plan.tcg.reason} (docs/tcg-text-patching.md): the vCPUs took turns on one host thread`);
        }
      } catch (e) {
        failed = true;
        ev.warn(`${k.line}: ${errorMessage(e)}`);
        for (const s of scenarios) notRun(ev, outcomes, k.line, s.id, 'failed', `boot failed: ${errorMessage(e)}`, matrices[s.id].length);
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
            ev.warn(`${k.line}: the VM ${vm.crashLine ? `crashed (${vm.crashLine})` : 'was stopped'} during ${lastScenario} (console in ${consoleName}); ${s.id} and later scenarios ran in a fresh boot`);
            await shutdownGuest(vm, k, ev);
            vm = undefined;
          }
          if (!vm) {
            try {
              vm = await bootGuest(plan, k, ev);
            } catch (e) {
              failed = true;
              ev.warn(`${k.line}: boot failed: ${errorMessage(e)}`);
              const left = work.slice(i);
              for (const r of new Set(left.map((w) => w.scenario))) {
                notRun(ev, outcomes, k.line, r.id, 'failed', `boot failed: ${errorMessage(e)}`, left.filter((w) => w.scenario === r).reduce((n, w) => n + w.runs.length, 0));
              }
              break;
            }
            if (!mk.unameR) {
              mk.unameR = vm.hello.release;
              mk.bootMs = vm.bootMs;
              mk.guestUptimeAtHelloS = vm.hello.uptimeS;
              mk.clocksource = vm.hello.clocksource;
              mk.features = vm.hello.features;
              if (vm.hello.featureError) ev.warn(`${k.line}: ${vm.hello.featureError}`);
            } else if (vm.hello.clocksource !== mk.clocksource) {
              ev.warn(`${k.line}: this boot's clocksource is ${vm.hello.clocksource ?? 'unknown'}, the first boot's was ${mk.clocksource ?? 'unknown'}: clock reads cost differently from one boot to the next`);
            }
          }
          lastScenario = s.id;
          const gap = host.configMissing.get(k.line)?.filter((m) => m.neededBy.includes(s.id)).map((m) => m.option);
          const ok = await runScenario(vm, s, runs, k, manifest, o, ev, rows, outcomes, round, host.tools.get(k.line), gap?.length ? `kernel config lacks ${gap.join(', ')}` : undefined);
          if (!ok) failed = true;
          await writeOutputs(); // partial results survive a later crash
        }
      } finally {
        if (vm && !vm.alive && !interrupted) ev.warn(`${k.line}: the VM ${vm.crashLine ? `crashed (${vm.crashLine})` : 'was stopped'} during ${lastScenario} (console in ${consoleName})`);
        if (vm) await shutdownGuest(vm, k, ev, vm.alive);
      }
    }
  } catch (e) {
    stopWatching();
    // not a warning event: the caller reports the error itself (the CLI's one error line); the manifest keeps it
    warnings.push(errorMessage(e));
    manifest.exitStatus = interrupted ? SIGNAL_EXIT[interrupted] : 1;
    try {
      await writeOutputs();
    } finally {
      ev.emit({ type: 'end', runDir, exitStatus: manifest.exitStatus, ms: ev.now(), error: errorMessage(e) });
    }
    throw Object.assign(e as Error, { runDir });
  }
  stopWatching();
  manifest.exitStatus = interrupted ? SIGNAL_EXIT[interrupted] : failed ? 1 : 0;
  if (interrupted) ev.warn(`interrupted by ${interrupted}: the run stopped early; everything measured until then is kept (exit status ${manifest.exitStatus})`);
  try {
    await writeOutputs();
  } catch (e) {
    ev.emit({ type: 'end', runDir, exitStatus: 1, ms: ev.now(), error: errorMessage(e) });
    throw Object.assign(e as Error, { runDir });
  }
  ev.emit({ type: 'end', runDir, exitStatus: manifest.exitStatus, ms: ev.now() });
  return { runDir, exitStatus: manifest.exitStatus, manifest };
}

/** A scenario that does not start on this kernel: its outcome row and its event. */
function notRun(ev: LabEvents, outcomes: RunOutcome[], kernel: string, scenario: string, status: 'skipped' | 'failed', reason: string, runs: number): void {
  outcomes.push({ kernel, scenario, params: '', status, note: reason, wallMs: 0 });
  ev.emit({ type: 'scenario-not-run', kernel, scenario, status, reason, runs });
}

async function runScenario(vm: Vm, s: ScenarioDefinition, matrix: Params[], k: KernelEntry, m: Manifest, o: RunOptions, ev: LabEvents, rows: ResultRow[], outcomes: RunOutcome[], round: number, tools?: Record<string, string>, configGap?: string): Promise<boolean> {
  const unmet = configGap ?? unmetRequirement(s.requires, vm.hello.release, vm.hello.features);
  if (unmet) {
    notRun(ev, outcomes, k.line, s.id, 'skipped', unmet, matrix.length);
    return true;
  }
  const start = ev.emit({ type: 'scenario-start', kernel: k.line, scenario: s.id, runs: matrix.length, round: round + 1, rounds: o.rounds ?? 1 });
  const base = { kernel: k.line, scenario: s.id };
  let allOk = true;
  for (const [i, p] of matrix.entries()) {
    const params = formatParams(p);
    const run = { ...base, params, index: i + 1, runs: matrix.length };
    const started = ev.emit({ type: 'scenario-run-start', ...run });
    let n = 0;
    const variantSkips: RunOutcome[] = [];
    const where = `${k.line} ${s.id} [${params}]`;
    let outcome: RunOutcome;
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
        onLog: (message) => ev.emit({ type: 'log', ...base, message }),
        onProgress: (label, done, total) => ev.emit({ type: 'scenario-progress', ...base, params, label, done, total }),
        onWarning: (msg) => ev.warn(`${where}: ${msg}`),
        onSkipped: (variant, reason) => {
          variantSkips.push({ kernel: k.line, scenario: s.id, params, variant, status: 'skipped', note: reason, wallMs: 0 });
          ev.emit({ type: 'variant-skipped', ...base, params, variant, reason });
        },
      }, (s.estimateS(p, o.quick) * 4 + 60) * 1000 * (m.accel.accel === 'tcg' ? 2 : 1));
      outcome = { kernel: k.line, scenario: s.id, params, status: 'ok', note: `${n} samples`, wallMs: ev.now() - started.t };
    } catch (e) {
      const skipped = e instanceof GuestError && e.skipped;
      if (!skipped) allOk = false;
      const note = skipped ? errorMessage(e) : `${errorMessage(e)}${n ? ` (${n} samples taken before the failure are kept, marked failed)` : ''}`;
      outcome = { kernel: k.line, scenario: s.id, params, status: skipped ? 'skipped' : 'failed', note, wallMs: ev.now() - started.t };
    }
    outcomes.push(outcome, ...variantSkips);
    ev.emit({ type: 'scenario-run-end', ...run, status: outcome.status, samples: n, ms: outcome.wallMs, note: outcome.note }, started.t + outcome.wallMs);
    if (!vm.alive) break;
  }
  const t = ev.now();
  ev.emit({ type: 'scenario-end', ...base, ms: t - start.t, ok: allOk }, t);
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
