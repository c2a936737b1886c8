import test from 'ava';
import { summarize, percentile, tCritical95, tTwoSidedP, welch, welchSignificant, isNoisy, incompleteBeta } from '../../lab/results/stats.js';

const near = (actual: number, expected: number, tol: number) => Math.abs(actual - expected) <= tol;

test('t critical values match a printed t table (two-sided 95%), including between table rows and past df 30', (t) => {
  // any t table: df 1 12.706, 2 4.303, 7 2.365, 10 2.228, 30 2.042, 40 2.021, 60 2.000, 120 1.980, ∞ 1.960
  const table: [number, number][] = [[1, 12.706], [2, 4.303], [7, 2.365], [10, 2.228], [30, 2.042], [40, 2.021], [60, 2.0], [120, 1.98], [1e7, 1.96]];
  for (const [df, v] of table) t.true(near(tCritical95(df), v, 0.0006), `df ${df}: ${tCritical95(df)} vs ${v}`);
  // df 31 is 2.0395 (scipy stats.t.ppf(0.975, 31)), not the normal 1.96 a 30-row table falls back to
  t.true(near(tCritical95(31), 2.039513, 1e-5));
  t.true(near(tTwoSidedP(2.228138852, 10), 0.05, 1e-8));
  t.true(near(incompleteBeta(0.5, 2, 2), 0.5, 1e-14));
  t.true(near(incompleteBeta(0.3, 2, 3), 0.3483, 1e-12)); // I_x(2,3) = P(Binomial(4, x) ≥ 2) = 6x²(1−x)² + 4x³(1−x) + x⁴ = 0.3483 at x = 0.3
  t.true(Number.isNaN(tCritical95(0)));
});

test('summary: mean, sample stddev, percentiles and the t-based 95% CI of a known example', (t) => {
  const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
  t.is(s.n, 8);
  t.is(s.mean, 5);
  t.true(near(s.stddev, 2.138090, 1e-6)); // n − 1
  t.is(s.median, 4.5);
  // 5 ± t(0.975, 7) · 2.13809 / √8 = [3.212512, 6.787488] (scipy 1.17: stats.t.ppf(0.975, 7) = 2.3646242515928)
  t.true(near(s.ci95Low, 3.212512, 1e-6), String(s.ci95Low));
  t.true(near(s.ci95High, 6.787488, 1e-6), String(s.ci95High));
  t.true(near(s.cv, 2.138090 / 5, 1e-6));
  t.true(isNoisy(s));
  t.true(s.p50 <= s.p95 && s.p95 <= s.p99 && s.p99 <= s.p999);
  t.is(percentile([1, 2, 3, 4], 1), 4);
  t.is(percentile([1, 2, 3, 4], 0.5), 2.5);
  t.false(isNoisy(summarize([100, 101, 99, 100])), 'cv 0.8% is not noisy');
  t.true(isNoisy(summarize([100, 111, 89, 100])), 'cv 8.9% is noisy');
});

test('summary: one sample has no spread estimate, zeros are exact, negative means use |mean| for cv', (t) => {
  const one = summarize([42]);
  t.like(one, { n: 1, mean: 42, median: 42, p99: 42 });
  t.true(Number.isNaN(one.stddev) && Number.isNaN(one.ci95Low) && Number.isNaN(one.ci95High) && Number.isNaN(one.cv));
  t.false(isNoisy(one));
  const zeros = summarize([0, 0, 0]);
  t.like(zeros, { mean: 0, stddev: 0, cv: 0, ci95Low: 0, ci95High: 0 });
  t.false(isNoisy(zeros));
  const neg = summarize([-10, -12, -8]);
  t.is(neg.mean, -10);
  t.true(near(neg.cv, 0.2, 1e-12), 'cv of a negative mean is positive');
  t.true(neg.ci95Low < -10 && neg.ci95High > -10);
  const aroundZero = summarize([-1, 1]);
  t.is(aroundZero.cv, Infinity);
  t.true(isNoisy(aroundZero));
  t.true(Number.isNaN(summarize([]).mean));
});

test('Welch t-test matches the textbook example (t −2.46, df 24.99, p 0.021)', (t) => {
  // Welch's t-test, example data sets A1/A2 (Wikipedia "Welch's t-test"; scipy.stats.ttest_ind(equal_var=False) agrees)
  const a1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4];
  const a2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4];
  const r = welch(a2, a1); // t is (mean of the second − mean of the first) / se
  t.true(near(r.t, -2.455356, 1e-5), String(r.t));
  t.true(near(r.df, 24.988529, 1e-5), String(r.df));
  t.true(near(r.p, 0.021378, 1e-5), String(r.p));
  // small n: 4 vs 4 all-zero vs spread (scipy: p 0.0011722)
  t.true(near(welch([0, 0, 0, 0], [5000, 4000, 6000, 5000]).p, 0.0011722, 1e-6));
  t.true(welchSignificant([10, 10.1, 9.9, 10], [20, 20.1, 19.9, 20]));
  t.false(welchSignificant([10, 11, 9, 10], [10.2, 9.1, 10.9, 10]));
  t.true(Number.isNaN(welch([1], [1, 2]).p), 'one sample: no test');
  t.is(welch([3, 3], [3, 3]).p, 1);
  t.is(welch([3, 3], [4, 4]).p, 0);
});
