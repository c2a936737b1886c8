/** Summary statistics over the per-interval samples of one (scenario, variant, params, metric). */
export interface Summary {
  n: number; mean: number; stddev: number; median: number; cv: number;
  p50: number; p95: number; p99: number; p999: number; ci95Low: number; ci95High: number;
}

/** Two-sided 95% Student-t critical values by degrees of freedom (1..30); beyond that the normal 1.96. */
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131,
  2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

export function tCritical95(df: number): number {
  if (df < 1) return NaN;
  return df <= 30 ? T95[df - 1] : 1.96;
}

/** Percentile with linear interpolation between closest ranks (q in 0..1) over sorted values. */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function summarize(values: number[]): Summary {
  const n = values.length;
  const sorted = [...values].sort((a, b) => a - b);
  const mean = n ? values.reduce((a, b) => a + b, 0) / n : NaN;
  const stddev = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  const half = n > 1 ? (tCritical95(n - 1) * stddev) / Math.sqrt(n) : 0;
  return {
    n, mean, stddev,
    median: percentile(sorted, 0.5),
    cv: mean !== 0 ? stddev / Math.abs(mean) : 0,
    p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), p99: percentile(sorted, 0.99), p999: percentile(sorted, 0.999),
    ci95Low: mean - half, ci95High: mean + half,
  };
}

/** A measurement is flagged noisy when its coefficient of variation exceeds this. */
export const NOISY_CV = 0.05;

/** Welch's t-test: is the difference of means significant at 95%? (used by `compare`) */
export function welchSignificant(a: number[], b: number[]): boolean {
  const sa = summarize(a);
  const sb = summarize(b);
  if (sa.n < 2 || sb.n < 2) return false;
  const va = sa.stddev ** 2 / sa.n;
  const vb = sb.stddev ** 2 / sb.n;
  if (va + vb === 0) return sa.mean !== sb.mean;
  const t = Math.abs(sa.mean - sb.mean) / Math.sqrt(va + vb);
  const df = (va + vb) ** 2 / ((va ** 2) / (sa.n - 1) + (vb ** 2) / (sb.n - 1));
  return t > tCritical95(Math.max(1, Math.floor(df)));
}
