/** Summary statistics over the per-interval samples of one (scenario, variant, params, metric). */
export interface Summary {
  n: number; mean: number; stddev: number; median: number; cv: number;
  p50: number; p95: number; p99: number; p999: number; ci95Low: number; ci95High: number;
}

/** ln Γ(x) for x > 0 (Lanczos approximation, g = 7, 9 terms; relative error below 1e-13 in this use). */
function lnGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz), valid for x < (a+1)/(a+b+2). */
function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 300; m++) {
    for (const num of [(m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)), -((a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1))]) {
      d = 1 + num * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + num / c;
      if (Math.abs(c) < tiny) c = tiny;
      h *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(x, a, b)) / a : 1 - (front * betaFraction(1 - x, b, a)) / b;
}

/** Two-sided p-value of Student's t with `df` (not necessarily integer) degrees of freedom: P(|T| ≥ |t|). */
export function tTwoSidedP(t: number, df: number): number {
  if (!(df > 0) || Number.isNaN(t)) return NaN;
  if (!Number.isFinite(t)) return 0;
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** The t value with two-sided tail probability `alpha` (e.g. 0.05 → the 97.5% quantile), by bisection on the CDF. */
export function tCritical(df: number, alpha = 0.05): number {
  if (!(df > 0)) return NaN;
  let lo = 0;
  let hi = 1;
  while (tTwoSidedP(hi, df) > alpha) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (tTwoSidedP(mid, df) > alpha) lo = mid; else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Two-sided 95% critical value of Student's t. */
export const tCritical95 = (df: number): number => tCritical(df, 0.05);

/** Percentile with linear interpolation between closest ranks (q in 0..1) over sorted values. */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Mean, sample standard deviation (n − 1), percentiles and the 95% confidence interval of the mean
 * (mean ± t(0.975, n − 1) · s / √n). With one sample the spread is unknown: stddev, cv and the interval are NaN,
 * not 0. cv is s / |mean|; with a zero mean and a non-zero spread it is Infinity.
 */
export function summarize(values: number[]): Summary {
  const n = values.length;
  const sorted = [...values].sort((a, b) => a - b);
  const mean = n ? values.reduce((a, b) => a + b, 0) / n : NaN;
  const stddev = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : NaN;
  const half = n > 1 ? (tCritical95(n - 1) * stddev) / Math.sqrt(n) : NaN;
  return {
    n, mean, stddev,
    median: percentile(sorted, 0.5),
    cv: n > 1 ? (mean !== 0 ? stddev / Math.abs(mean) : stddev === 0 ? 0 : Infinity) : NaN,
    p50: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), p99: percentile(sorted, 0.99), p999: percentile(sorted, 0.999),
    ci95Low: mean - half, ci95High: mean + half,
  };
}

/** A measurement is flagged noisy when its coefficient of variation exceeds this. */
export const NOISY_CV = 0.05;

/** Noisy: at least two samples and a coefficient of variation above NOISY_CV (an infinite cv is noisy). */
export const isNoisy = (s: Pick<Summary, 'n' | 'cv'>): boolean => s.n > 1 && s.cv > NOISY_CV;

export interface WelchResult { t: number; df: number; p: number }

/**
 * Welch's unequal-variances t-test on two samples (Welch–Satterthwaite degrees of freedom, exact t p-value).
 * Needs two samples on each side (p = NaN otherwise). When both sides have no spread at all the test is degenerate:
 * p = 0 if the means differ (every sample of one side differs from every sample of the other), 1 if they are equal.
 */
export function welch(a: number[], b: number[]): WelchResult {
  const sa = summarize(a);
  const sb = summarize(b);
  if (sa.n < 2 || sb.n < 2) return { t: NaN, df: NaN, p: NaN };
  const va = sa.stddev ** 2 / sa.n;
  const vb = sb.stddev ** 2 / sb.n;
  if (va + vb === 0) return { t: sa.mean === sb.mean ? 0 : Infinity, df: sa.n + sb.n - 2, p: sa.mean === sb.mean ? 1 : 0 };
  const t = (sb.mean - sa.mean) / Math.sqrt(va + vb);
  const df = (va + vb) ** 2 / (va ** 2 / (sa.n - 1) + vb ** 2 / (sb.n - 1));
  return { t, df, p: tTwoSidedP(t, df) };
}

/** Is the difference of means significant at 95% (Welch)? */
export function welchSignificant(a: number[], b: number[]): boolean {
  return welch(a, b).p < 0.05;
}
