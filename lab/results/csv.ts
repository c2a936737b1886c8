import Papa from 'papaparse';
import type { Params } from '../agent/protocol.js';
import { summarize, isNoisy, type Summary } from './stats.js';
import type { Better, MetricSpec, Reference } from '../../scenarios/define.js';

/** One tidy row of results.csv: one sample. */
export interface ResultRow {
  run_id: string; kernel: string; kernel_release: string; accel: string; vcpus: number;
  scenario: string; variant: string; params: string; repetition: number; metric: string; unit: string; value: number;
  /** which pass over the boot's work (`--rounds N`: 0..N-1); absent in runs made before rounds existed */
  round?: number;
}

/**
 * The outcome of one (kernel, scenario, params) run, or of one variant of it (`variant` set: a variant the driver
 * skipped while the others ran; the run's own outcome says how the rest went).
 */
export interface RunOutcome {
  kernel: string; scenario: string; params: string; variant?: string; status: 'ok' | 'skipped' | 'failed'; note: string; wallMs: number;
}

/** Does a row's params string belong to a run's params? Rows of labelled samples append `;label=value` to the run's. */
export const belongsToRun = (rowParams: string, runParams: string): boolean =>
  rowParams === runParams || rowParams.startsWith(`${runParams};`);

export interface SummaryRow {
  kernel: string; kernel_release: string; accel: string; scenario: string; variant: string; params: string; metric: string; unit: string;
  /** from the scenario's metric table; '' when the metric is not declared there */
  better: Better | '';
  n: number; median: number; mean: number; stddev: number; cv: number; p50: number; p95: number; p99: number; p999: number;
  ci95_low: number; ci95_high: number; noisy: boolean;
  reference: number | ''; reference_source: string; ratio_to_reference: number | '';
  status: string; note: string;
}

/** "k=v;k=v" in the scenario's key order: stable, readable and easy to split again. */
export function formatParams(p: Params): string {
  return Object.entries(p).map(([k, v]) => `${k}=${v}`).join(';');
}

export function parseParams(s: string): Record<string, string> {
  if (!s) return {};
  return Object.fromEntries(s.split(';').map((kv) => { const i = kv.indexOf('='); return [kv.slice(0, i), kv.slice(i + 1)]; }));
}

export function matchReference(refs: Reference[], variant: string, metric: string, params: string): Reference | undefined {
  const p = parseParams(params);
  return refs.find((r) => r.metric === metric && r.variant === variant &&
    Object.entries(r.params ?? {}).every(([k, v]) => p[k] === String(v)));
}

/** What the summary needs from a scenario's definition. */
export type ScenarioLookup = (scenario: string) => { references: Reference[]; metrics: Record<string, MetricSpec> } | undefined;

/** Group samples and compute the summary rows; skipped/failed runs get a row with their reason. */
export function summarizeRows(rows: ResultRow[], outcomes: RunOutcome[], lookup: ScenarioLookup): SummaryRow[] {
  const groups = new Map<string, ResultRow[]>();
  for (const r of rows) {
    const k = [r.kernel, r.scenario, r.variant, r.params, r.metric].join('\u0000');
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(r);
  }
  const out: SummaryRow[] = [];
  for (const g of groups.values()) {
    const f = g[0];
    const s: Summary = summarize(g.map((r) => r.value));
    const def = lookup(f.scenario);
    const ref = matchReference(def?.references ?? [], f.variant, f.metric, f.params);
    const outcome = outcomes.find((o) => o.variant === undefined && o.kernel === f.kernel && o.scenario === f.scenario && belongsToRun(f.params, o.params));
    out.push({
      kernel: f.kernel, kernel_release: f.kernel_release, accel: f.accel, scenario: f.scenario, variant: f.variant, params: f.params,
      metric: f.metric, unit: f.unit, better: def?.metrics[f.metric]?.better ?? '', n: s.n, median: s.median, mean: s.mean, stddev: s.stddev, cv: s.cv,
      p50: s.p50, p95: s.p95, p99: s.p99, p999: s.p999, ci95_low: s.ci95Low, ci95_high: s.ci95High, noisy: isNoisy(s),
      reference: ref ? ref.value : '', reference_source: ref ? ref.source : '', ratio_to_reference: ref && !ref.notComparable ? s.mean / ref.value : '',
      status: outcome?.status ?? 'ok', note: outcome?.note ?? '',
    });
  }
  for (const o of outcomes.filter((x) => x.status !== 'ok')) {
    // a failed run with samples already has its rows (marked failed); a skipped variant always gets its own row
    if (o.variant === undefined && out.some((r) => r.kernel === o.kernel && r.scenario === o.scenario && belongsToRun(r.params, o.params))) continue;
    // the same variant skipped again in a later round (--rounds) is one row
    if (o.variant !== undefined && out.some((r) => r.kernel === o.kernel && r.scenario === o.scenario && r.params === o.params && r.variant === o.variant && r.n === 0)) continue;
    out.push({
      kernel: o.kernel, kernel_release: '', accel: '', scenario: o.scenario, variant: o.variant ?? '', params: o.params, metric: '', unit: '', better: '',
      n: 0, median: NaN, mean: NaN, stddev: NaN, cv: NaN, p50: NaN, p95: NaN, p99: NaN, p999: NaN, ci95_low: NaN, ci95_high: NaN,
      noisy: false, reference: '', reference_source: '', ratio_to_reference: '', status: o.status, note: o.note,
    });
  }
  return out;
}

/**
 * Samples are written exactly (JS's shortest round-trip form), so a report re-rendered from results.csv is the report
 * the run wrote; derived columns (summary.csv) are rounded to 8 significant digits to stay readable.
 */
export type CsvPrecision = 'exact' | 'rounded';

const cell = (v: unknown, precision: CsvPrecision) =>
  typeof v === 'number' ? (Number.isFinite(v) ? (precision === 'exact' ? v : Number(v.toPrecision(8))) : '') : v;

export function toCsv<T extends object>(rows: T[], columns: (keyof T & string)[], precision: CsvPrecision = 'rounded'): string {
  return Papa.unparse({ fields: columns, data: rows.map((r) => columns.map((c) => cell(r[c], precision))) }, { newline: '\n' }) + '\n';
}

export function fromCsv(text: string): Record<string, string>[] {
  return Papa.parse<Record<string, string>>(text.trim(), { header: true, skipEmptyLines: true }).data;
}

export const RESULT_COLUMNS: (keyof ResultRow)[] = ['run_id', 'kernel', 'kernel_release', 'accel', 'vcpus', 'scenario', 'variant', 'params', 'repetition', 'metric', 'unit', 'value', 'round'];
export const SUMMARY_COLUMNS: (keyof SummaryRow)[] = ['kernel', 'kernel_release', 'accel', 'scenario', 'variant', 'params', 'metric', 'unit', 'better', 'n', 'median', 'mean', 'stddev', 'cv', 'p50', 'p95', 'p99', 'p999', 'ci95_low', 'ci95_high', 'noisy', 'reference', 'reference_source', 'ratio_to_reference', 'status', 'note'];
