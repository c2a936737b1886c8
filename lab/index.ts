/**
 * bpf-lab as a library: run the lab, read run directories back, compare two runs, plan shards and merge them.
 *
 * @example
 * ```ts
 * import { runLab, loadRun, compareRuns } from 'bpf-lab';
 * const { runDir } = await runLab({ kernel: '6.1', scenario: 'tracepoint-overhead', quick: true,
 *   onEvent: (e) => { if (e.type === 'scenario-run-end') console.log(e.scenario, e.params, e.status); } });
 * const run = await loadRun(runDir);
 * console.log(run.summary.filter((r) => r.metric === 'ns_per_call'));
 * ```
 *
 * @packageDocumentation
 */
import { runLab as runLabWith, type RunResult } from './run.js';
import { loadCatalog } from './kernels/catalog.js';
import type { ParamFilter } from './param-filter.js';
import { progressDisplay } from './ui.js';
import type { LabEvent, LabEventListener } from './events.js';

/** What to run; every field has the command line's default. */
export interface LabOptions {
  /** kernel line(s), comma-separated, or `all` (default: the catalog's default line) */
  kernel?: string;
  /** scenario id(s), comma-separated; or give `suite` (default: the default suite) */
  scenario?: string;
  suite?: string;
  /** short durations and the quick parameter matrix (default: true when neither scenario nor suite is given) */
  quick?: boolean;
  /** parent of the run directory (default: `results`) */
  out?: string;
  accel?: 'auto' | 'kvm' | 'tcg';
  cpus?: number;
  memoryMb?: number;
  /** a subset of the scenarios' parameter matrices, as `--param key=v1,v2` */
  params?: ParamFilter;
  /** progress details on stderr (driver logs; also `log` events to onEvent) */
  verbose?: boolean;
  /** the progress display on stderr, as on the command line (default: true) */
  progress?: boolean;
  /** every event of the run, in order (see {@link LabEvent}); the run's manifest timings are computed from the same events */
  onEvent?: LabEventListener;
}

/** The `npm run lab --` arguments equivalent to these options (the manifest records them as the command). */
export function labArgv(o: LabOptions): string[] {
  return [
    ...(o.kernel ? ['--kernel', o.kernel] : []), ...(o.scenario ? ['--scenario', o.scenario] : []), ...(o.suite ? ['--suite', o.suite] : []),
    ...(o.quick === undefined ? [] : [o.quick ? '--quick' : '--full']), ...(o.out ? ['--out', o.out] : []),
    ...(o.accel ? ['--accel', o.accel] : []), ...(o.cpus ? ['--cpus', String(o.cpus)] : []), ...(o.memoryMb ? ['--memory', `${o.memoryMb}M`] : []),
    ...Object.entries(o.params ?? {}).flatMap(([k, v]) => ['--param', `${k}=${v.join(',')}`]),
  ];
}

/**
 * Boot the kernels, run the scenarios, write the run directory (results.csv, summary.csv, report.md/html,
 * manifest.json). Resolves with exitStatus 0 (done, skipped scenarios included) or 1 (a run failed); bad options
 * reject with a UsageError.
 */
export async function runLab(o: LabOptions = {}): Promise<RunResult> {
  const { DEFAULT_SUITE } = await import('../scenarios/index.js');
  const noSelection = !o.scenario && !o.suite;
  return runLabWith({
    kernel: o.kernel ?? loadCatalog().default, scenario: o.scenario, suite: o.suite ?? (o.scenario ? undefined : DEFAULT_SUITE),
    quick: o.quick ?? noSelection, out: o.out ?? 'results', accel: o.accel ?? 'auto', cpus: o.cpus ?? 2, memoryMb: o.memoryMb ?? 2048,
    verbose: o.verbose ?? false, params: o.params ?? {}, argv: labArgv(o),
    listeners: [
      ...(o.progress ?? true ? [progressDisplay({ verbose: o.verbose ?? false })] : []),
      ...(o.onEvent ? [o.verbose ? o.onEvent : (e: LabEvent) => { if (e.type !== 'log') o.onEvent!(e); }] : []),
    ],
  });
}

export type { RunResult } from './run.js';
export { phaseTimings, phaseKey, type LabEvent, type LabEventBody, type LabEventType, type LabEventListener, type PhaseName, type RunStatus } from './events.js';
export type { InterruptSignal } from './vm/children.js';
export { compareRuns, type Comparison, type ComparisonRow, type Verdict } from './results/compare.js';
export { loadRun, type LoadedRun } from './results/load-run.js';
export { mergeRuns, MergeRefused, type MergeOptions, type MergeResult } from './results/merge.js';
export { planShards, type Plan, type PlanOptions, type Shard } from './scale/plan.js';
export type { ResultRow, SummaryRow, RunOutcome } from './results/csv.js';
export type { Manifest, PackagePin } from './results/manifest.js';
export type { ParamFilter } from './param-filter.js';
export type { Better } from '../scenarios/define.js';
export type { AccelVerdict } from './vm/accel.js';
export type { Accel } from './vm/qemu.js';
export type { Toolchain } from './host/build.js';
export { LabError, UsageError } from './errors.js';
