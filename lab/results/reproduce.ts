/*
 * `reproduce RUN_DIR`: the same run again — same kernels (pins checked against the catalog), the accelerator the
 * run actually used, its vCPUs and memory, quick or full durations, and the exact parameter combinations it ran
 * (narrowed with --param) — then a comparison of the new run against the old one.
 *
 * Before booting it says, one line each, what differs from the recorded run: git commit, toolchain, QEMU, host
 * CPU, and every BPF object whose sha256 changed (known once bpf/ is built, before any VM starts).
 */
import { readManifest, runLab, type RunResult } from '../run.js';
import type { LabEventListener } from '../events.js';
import { gitCommit } from '../host/git.js';
import { repoRoot } from '../host/paths.js';
import { loadCatalog } from '../kernels/catalog.js';
import { toolchainVersions } from '../host/build.js';
import { run } from '../host/spawn.js';
import { cpus as hostCpus } from 'node:os';
import { UsageError, errorMessage } from '../errors.js';
import { compareRuns, type Comparison } from './compare.js';
import { filterCombinations, type ParamFilter } from '../param-filter.js';
import { scenarioById } from '../../scenarios/index.js';
import type { Manifest } from './manifest.js';
import type { Params } from '../agent/protocol.js';

export interface ReproduceOptions {
  runDir: string; out: string; threshold: number; params: ParamFilter; verbose: boolean; argv: string[];
  /** overrides the recorded accelerator (reported as a difference) */
  accel?: 'auto' | 'kvm' | 'tcg';
  /** where the "differs" lines go (stderr) */
  say?: (line: string) => void;
  /** consumers of the new run's event stream */
  listeners?: LabEventListener[];
}

export interface ReproduceResult extends RunResult {
  differences: string[];
  comparison?: Comparison;
  /** why the comparison could not be made, when it could not */
  compareError?: string;
  /** 0 reproduced, 1 the run failed, the comparison failed, or a significant regression beyond the threshold */
  exitStatus: number;
}

/** Pins: every kernel line of the run must still be pinned to the same packages by the catalog. */
export function checkPins(m: Manifest, catalog = loadCatalog()): void {
  for (const k of m.kernels) {
    const now = catalog.kernels.find((c) => c.line === k.line);
    if (!now) throw new UsageError(`kernel line ${k.line} of the run is not in the catalog any more; valid lines: ${catalog.kernels.map((c) => c.line).join(', ')}`);
    const same = now.packages.map((p) => p.sha256).join() === k.packages.map((p) => p.sha256).join();
    if (!same) throw new UsageError(`kernel ${k.line} was pinned to ${k.packages.map((p) => `${p.name} ${p.version}`).join(', ')}; the catalog now pins ${now.packages.map((p) => `${p.name} ${p.version}`).join(', ')}`);
  }
}

/** The exact combinations to run per scenario: the recorded ones, narrowed by --param. */
export function recordedMatrices(m: Manifest, filter: ParamFilter): Record<string, Params[]> {
  const out: Record<string, Params[]> = {};
  const defs = m.scenarios.map((s) => {
    const def = scenarioById(s.id);
    if (!def) throw new UsageError(`scenario ${s.id} of the run no longer exists in this checkout`);
    return def;
  });
  for (const key of Object.keys(filter)) {
    if (!defs.some((d) => key in d.params)) {
      throw new UsageError(`--param ${key}: no scenario of the run (${defs.map((d) => d.id).join(', ')}) has a parameter '${key}'; valid keys: ${[...new Set(defs.flatMap((d) => Object.keys(d.params)))].sort().join(', ')}`);
    }
  }
  for (const [i, s] of m.scenarios.entries()) out[s.id] = filterCombinations(defs[i], s.params as Params[], filter);
  return out;
}

/** What differs between the recorded environment and this one, one line each (before the new run). */
export function environmentDifferences(m: Manifest, now: { git: string; toolchain: Record<string, string>; qemu: string; cpuModel: string; accel?: string }): string[] {
  const out: string[] = [];
  const d = (what: string, then: unknown, current: unknown) => {
    if (String(then ?? '') !== String(current ?? '')) out.push(`${what}: run ${String(then ?? '(not recorded)')}, now ${String(current ?? '(not recorded)')}`);
  };
  d('git commit', m.git, now.git);
  for (const t of Object.keys({ ...m.toolchain, ...now.toolchain }).sort()) d(t, (m.toolchain as unknown as Record<string, string>)[t], now.toolchain[t]);
  d('QEMU', m.host.qemu, now.qemu);
  d('host CPU', m.host.cpuModel, now.cpuModel);
  if (now.accel) out.push(`accelerator: run ${m.accel.accel}, now --accel ${now.accel} (given on the command line)`);
  return out;
}

/** BPF objects whose sha256 differs from the run's (or that exist on one side only), one line each. */
export function objectDifferences(recorded: Record<string, string>, now: Record<string, string>): string[] {
  const names = [...new Set([...Object.keys(recorded), ...Object.keys(now)])].sort();
  return names.filter((n) => recorded[n] !== now[n]).map((n) =>
    !recorded[n] ? `BPF object ${n}: new (not in the run)` : !now[n] ? `BPF object ${n}: in the run, not built now`
      : `BPF object ${n}: sha256 ${recorded[n].slice(0, 12)}… in the run, ${now[n].slice(0, 12)}… now`);
}

export async function reproduceRun(o: ReproduceOptions): Promise<ReproduceResult> {
  const say = o.say ?? ((l: string) => process.stderr.write(`bpf-lab: ${l}\n`));
  const m = await readManifest(o.runDir);
  checkPins(m);
  const paramsOverride = recordedMatrices(m, o.params);
  const qemu = await run('qemu-system-x86_64', ['--version']).then((r) => r.stdout.split('\n')[0].trim()).catch(() => 'unknown');
  const differences = environmentDifferences(m, {
    git: await gitCommit(repoRoot), toolchain: { ...(await toolchainVersions()) }, qemu, cpuModel: hostCpus()[0]?.model ?? 'unknown', accel: o.accel,
  });
  for (const l of differences) say(`differs: ${l}`);
  const accel = o.accel ?? (m.accel.accel === 'kvm' || m.accel.accel === 'tcg' ? m.accel.accel : 'auto');
  const r = await runLab({
    kernel: m.options.kernels.join(','), scenario: m.options.scenarios.join(','), quick: m.options.quick, out: o.out, accel,
    cpus: m.vm.cpus, memoryMb: m.vm.memoryMb, rounds: m.options.rounds ?? 1, verbose: o.verbose, argv: o.argv, params: o.params, paramsOverride, listeners: o.listeners,
    onHostReady: (host, sayInRun) => {
      const objs = objectDifferences(m.build.objects, host.build.objects);
      for (const l of objs) sayInRun(`differs: ${l}`);
      if (!objs.length) sayInRun(`BPF objects: all ${Object.keys(host.build.objects).length} identical to the run's (sha256)`);
      differences.push(...objs);
    },
  });
  let comparison: Comparison | undefined;
  let compareError: string | undefined;
  try {
    comparison = await compareRuns(o.runDir, r.runDir, o.threshold);
  } catch (e) {
    compareError = errorMessage(e);
    say(`compare ${o.runDir} ${r.runDir} failed: ${compareError}`);
  }
  const exitStatus = r.exitStatus !== 0 || compareError || (comparison && comparison.regressions > 0) ? 1 : 0;
  return { ...r, differences, comparison, compareError, exitStatus };
}
