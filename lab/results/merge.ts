/*
 * `merge RUN_DIR...`: several run directories (the shards of a plan, run on separate machines) into one run
 * directory, as if one run had measured everything.
 *
 * results.csv is the sources' samples, each row keeping its source's run_id (the manifest lists the sources); the
 * summary is recomputed from those samples and the report re-rendered. The manifest is the union of kernels,
 * scenarios and parameter combinations, with `merged.sources` naming every source run.
 *
 * Runs are merged only when their numbers are comparable: same kernel pins per line, accelerator, vCPUs, memory,
 * quick mode, lab commit and BPF object hashes, and no (kernel, scenario, params) measured twice. Each difference
 * is one line; `--allow-mixed` merges anyway and lists them in the report's warnings. Differences that do not
 * change what was measured (QEMU, host CPU model, toolchain versions) are warnings only.
 */
import { copyFile, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadRun, type LoadedRun } from './load-run.js';
import { summarizeRows, toCsv, RESULT_COLUMNS, SUMMARY_COLUMNS, formatParams, type ResultRow, type RunOutcome, type SummaryRow } from './csv.js';
import { writeReport } from './write-report.js';
import type { Manifest } from './manifest.js';
import { scenarios as allScenarios, scenarioById } from '../../scenarios/index.js';
import { UsageError } from '../errors.js';
import type { ScenarioDefinition } from '../../scenarios/define.js';

export interface MergeOptions {
  /** the parent directory of the merged run directory (default results/) */
  out?: string;
  /** merge runs that are not comparable; the differences become warnings */
  allowMixed?: boolean;
  /** the command line after `npm run lab --`, recorded in the manifest */
  argv?: string[];
}

export interface MergeResult {
  runDir: string;
  manifest: Manifest;
  summary: SummaryRow[];
  /** what makes the sources not comparable (empty unless allowMixed) */
  differences: string[];
}

/** Refused merge: the message lists every difference, one per line. */
export class MergeRefused extends UsageError {
  constructor(readonly differences: string[]) {
    super(`not merged: the runs are not comparable (${differences.length} difference(s); --allow-mixed merges them anyway):\n${differences.map((d) => `  ${d}`).join('\n')}`);
  }
}

/** One line per attribute whose value is not the same in every run, naming each run's value. */
function differing(runs: LoadedRun[], what: string, valueOf: (r: LoadedRun) => unknown): string[] {
  const values = runs.map((r) => String(valueOf(r) ?? '(not recorded)'));
  if (new Set(values).size <= 1) return [];
  return [`${what} differs: ${runs.map((r, i) => `${r.manifest.runId}=${values[i]}`).join(', ')}`];
}

/** What makes these runs not comparable, one line each. */
export function incomparabilities(runs: LoadedRun[]): string[] {
  const out: string[] = [];
  out.push(...differing(runs, 'accelerator', (r) => r.manifest.accel?.accel));
  out.push(...differing(runs, 'vCPUs', (r) => r.manifest.vm?.cpus));
  out.push(...differing(runs, 'memory (MiB)', (r) => r.manifest.vm?.memoryMb));
  out.push(...differing(runs, 'quick mode', (r) => r.manifest.options.quick));
  out.push(...differing(runs, 'lab git commit', (r) => r.manifest.git));
  for (const line of unique(runs.flatMap((r) => r.manifest.kernels.map((k) => k.line)))) {
    const having = runs.filter((r) => r.manifest.kernels.some((k) => k.line === line));
    out.push(...differing(having, `kernel ${line} pins`, (r) => r.manifest.kernels.find((k) => k.line === line)!.packages.map((p) => `${p.name} ${p.version} ${p.sha256.slice(0, 12)}`).join(' + ')));
  }
  for (const obj of unique(runs.flatMap((r) => Object.keys(r.manifest.build?.objects ?? {}))).sort()) {
    const having = runs.filter((r) => r.manifest.build.objects[obj] !== undefined);
    out.push(...differing(having, `BPF object ${obj} sha256`, (r) => r.manifest.build.objects[obj].slice(0, 12)));
  }
  // the same run measured by two sources would pool samples of two runs into one row
  const owner = new Map<string, string>();
  const twice = new Map<string, Set<string>>();
  for (const r of runs) {
    for (const s of r.manifest.scenarios) {
      for (const p of s.params) {
        const k = `${s.id} [${formatParams(p as Record<string, string | number>)}]`;
        for (const line of r.manifest.options.kernels) {
          const kk = `kernel ${line} ${k}`;
          const first = owner.get(kk);
          if (first === undefined) owner.set(kk, r.manifest.runId);
          else if (first !== r.manifest.runId) twice.set(kk, new Set([...(twice.get(kk) ?? [first]), r.manifest.runId]));
        }
      }
    }
  }
  for (const [k, ids] of twice) out.push(`${k} measured by more than one run: ${[...ids].join(', ')}`);
  return out;
}

/** Differences that do not change what was measured but belong in the report. */
export function environmentWarnings(runs: LoadedRun[]): string[] {
  return [
    ...differing(runs, 'QEMU', (r) => r.manifest.host?.qemu),
    ...differing(runs, 'host CPU', (r) => r.manifest.host?.cpuModel),
    ...(['clang', 'libbpf', 'bpftool', 'cc'] as const).flatMap((t) => differing(runs, t, (r) => r.manifest.toolchain?.[t])),
  ];
}

const unique = <T>(xs: T[]): T[] => [...new Set(xs)];

function mergedRunId(kernels: string[]): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
  return `${stamp}-${kernels.join('_')}-merged-${Math.random().toString(36).slice(2, 6)}`;
}

/** The merged manifest: the first run's environment, the union of what the runs measured, every source listed. */
export function mergeManifests(runs: LoadedRun[], runId: string, runDir: string, argv: string[], warnings: string[]): Manifest {
  const [first] = runs;
  const ms = runs.map((r) => r.manifest);
  const order = (id: string) => { const i = allScenarios.findIndex((s) => s.id === id); return i < 0 ? Infinity : i; };
  const kernelLines = unique(ms.flatMap((m) => m.options.kernels));
  const scenarioIds = unique(ms.flatMap((m) => m.scenarios.map((s) => s.id))).sort((a, b) => order(a) - order(b));
  const kernels: Manifest['kernels'] = kernelLines.map((line) => {
    const all = ms.map((m) => m.kernels.find((k) => k.line === line)).filter((k): k is Manifest['kernels'][number] => !!k);
    return { ...all[0], ...(all.find((k) => k.unameR) ?? {}) };
  });
  const phases: Record<string, number> = {};
  ms.forEach((m, i) => { for (const [k, v] of Object.entries(m.timings?.phases ?? {})) phases[`run${i + 1}.${k}`] = v; });
  return {
    ...first.manifest,
    runId, runDirName: runDir, command: `npm run lab -- ${argv.join(' ')}`.trim(), argv,
    startedAt: ms.map((m) => m.startedAt).sort()[0], finishedAt: ms.map((m) => m.finishedAt ?? m.startedAt).sort().at(-1),
    options: { ...first.manifest.options, kernels: kernelLines, scenarios: scenarioIds, params: {} },
    build: { ...first.manifest.build, objects: Object.assign({}, ...ms.map((m) => m.build?.objects ?? {})) },
    kernelBench: ms.some((m) => m.kernelBench) ? Object.assign({}, ...ms.map((m) => m.kernelBench ?? {})) : undefined,
    kernels,
    scenarios: scenarioIds.map((id) => {
      const combos = ms.flatMap((m) => m.scenarios.find((s) => s.id === id)?.params ?? []);
      const seen = new Set<string>();
      return { id, params: combos.filter((p) => { const k = JSON.stringify(p); return !seen.has(k) && !!seen.add(k); }) };
    }),
    timings: { phases },
    warnings,
    exitStatus: ms.every((m) => (m.exitStatus ?? 0) === 0) ? 0 : 1,
    merged: { sources: runs.map((r) => ({ runId: r.manifest.runId, dir: resolve(r.dir), command: r.manifest.command, exitStatus: r.manifest.exitStatus, kernels: r.manifest.options.kernels, scenarios: r.manifest.options.scenarios })) },
  };
}

export async function mergeRuns(dirs: string[], o: MergeOptions = {}): Promise<MergeResult> {
  if (dirs.length < 1) throw new UsageError('merge needs at least one run directory');
  const runs = await Promise.all(dirs.map((d) => loadRun(d)));
  const ids = runs.map((r) => r.manifest.runId);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) throw new UsageError(`run ${dup} is given twice`);
  const differences = incomparabilities(runs);
  if (differences.length && !o.allowMixed) throw new MergeRefused(differences);

  const warnings = unique([
    ...differences.map((d) => `merged anyway (--allow-mixed): ${d}`),
    ...environmentWarnings(runs).map((d) => `merged runs: ${d}`),
    ...runs.flatMap((r) => r.manifest.warnings ?? []),
  ]);
  const kernelOrder = unique(runs.flatMap((r) => r.manifest.options.kernels));
  const order = (id: string) => { const i = allScenarios.findIndex((s) => s.id === id); return i < 0 ? Infinity : i; };
  const rank = (x: { kernel: string; scenario: string }) => kernelOrder.indexOf(x.kernel) * 1000 + order(x.scenario);
  // stable sort: the rows of one (kernel, scenario) keep their source order, as one run would have written them
  const rows: ResultRow[] = runs.flatMap((r) => r.rows).map((r, i) => ({ r, i })).sort((a, b) => rank(a.r) - rank(b.r) || a.i - b.i).map((x) => x.r);
  const outcomes: RunOutcome[] = runs.flatMap((r) => r.outcomes);
  const summary = summarizeRows(rows, outcomes, scenarioById);
  // a failed run's outcome matched its rows by params; keep the order stable for the report
  summary.sort((a, b) => rank(a) - rank(b));

  const runId = mergedRunId(kernelOrder);
  const runDir = resolve(o.out ?? 'results', runId);
  await mkdir(runDir, { recursive: true });
  const manifest = mergeManifests(runs, runId, runDir, o.argv ?? ['merge', ...dirs], warnings);
  const defs = manifest.options.scenarios.map((id) => scenarioById(id)).filter((s): s is ScenarioDefinition => !!s);
  await writeFile(join(runDir, 'results.csv'), toCsv(rows, RESULT_COLUMNS, 'exact'));
  await writeFile(join(runDir, 'summary.csv'), toCsv(summary, SUMMARY_COLUMNS));
  // the same report a single run writes (summary, charts, fidelity with its rounds, benchmark.json)
  await writeReport(runDir, { manifest, samples: rows, summary, outcomes, scenarios: defs });
  await writeFile(join(runDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  // the sources' console logs, named by source run
  for (const r of runs) {
    for (const f of (await readdir(r.dir)).filter((f) => /^console.*\.log$/.test(f))) {
      await copyFile(join(r.dir, f), join(runDir, f.replace(/\.log$/, `-${r.manifest.runId}.log`)));
    }
  }
  return { runDir, manifest, summary, differences };
}

