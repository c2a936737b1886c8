import type { SummaryRow } from './csv.js';

/** One entry of github-action-benchmark's custom tools (`customBiggerIsBetter` / `customSmallerIsBetter`). */
export interface BenchmarkEntry { name: string; unit: string; value: number; range?: string; extra?: string }

/**
 * Summary rows as github-action-benchmark's custom JSON, split by the metric's declared direction: higher-is-better
 * metrics under `customBiggerIsBetter`, lower-is-better under `customSmallerIsBetter` (each array is what the action
 * reads from `output-file-path` with that `tool`). Metrics without a direction (run totals) and rows that are not a
 * complete measurement (skipped, failed, no finite mean) are left out. The value is the mean; the range is the half
 * width of its 95% confidence interval. The name holds kernel, scenario, variant, params and metric, so one series
 * on the dashboard is one row of summary.csv.
 */
export function benchmarkExport(summary: SummaryRow[]): { customBiggerIsBetter: BenchmarkEntry[]; customSmallerIsBetter: BenchmarkEntry[] } {
  const out = { customBiggerIsBetter: [] as BenchmarkEntry[], customSmallerIsBetter: [] as BenchmarkEntry[] };
  for (const r of summary) {
    if (r.status !== 'ok' || r.n < 1 || !Number.isFinite(r.mean) || (r.better !== 'higher' && r.better !== 'lower')) continue;
    const half = (r.ci95_high - r.ci95_low) / 2;
    const e: BenchmarkEntry = {
      name: [`kernel ${r.kernel}`, r.scenario, r.variant, r.params, r.metric].filter(Boolean).join(' / '),
      unit: r.unit, value: Number(r.mean.toPrecision(8)),
      ...(Number.isFinite(half) ? { range: `± ${Number(half.toPrecision(4))}` } : {}),
      extra: `n=${r.n} median=${Number(r.median.toPrecision(6))} cv=${Number.isFinite(r.cv) ? `${(r.cv * 100).toFixed(1)}%` : 'n/a'}` +
        `${r.noisy ? ' (noisy)' : ''}\naccel=${r.accel} uname=${r.kernel_release}`,
    };
    (r.better === 'higher' ? out.customBiggerIsBetter : out.customSmallerIsBetter).push(e);
  }
  return out;
}
