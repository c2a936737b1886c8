/*
 * `compare A B`: is run B worse than run A?
 *
 * Rows pair on (kernel, scenario, variant, params, metric). When the two runs booted different kernels, rows pair
 * without the kernel (A on 6.1 against B on 6.12) and each row names both kernels; see pairKernels().
 *
 * Direction comes from the scenario's metric table (summary.csv's `better` column, written from it; the current
 * definitions for runs older than that column). Metrics declared 'none' (run totals) are not compared.
 *
 * Change is relative to the magnitude of A's mean: change = (mean_B − mean_A) / |mean_A|, so −10 → −50 is −400%
 * (lower by four times |A|), never a "×5" ratio, and its sign says which way the value moved. When mean_A is 0 the
 * change is 0 if mean_B is 0 too, otherwise ±Infinity: any move away from zero is beyond every threshold
 * (0 → 5000 drops/s on a lower-is-better metric is a regression, not NaN).
 *
 * Significance: Welch's t-test on the raw per-interval samples (results.csv), two-sided, p < 0.05. Welch rather than
 * Mann–Whitney: runs have 4–5 samples per row, where an exact Mann–Whitney test cannot reach p < 0.05 unless the two
 * samples do not overlap at all (n = 3 + 3 never can); each sample is itself a mean over an interval. A side with
 * fewer than two samples is not tested. Metrics declared exact (the verifier's instruction and state counts: the same
 * program on the same kernel always gives the same number, usually one sample per run) skip the test: any change is
 * real, so the threshold alone decides.
 *
 * A regression is a row that is worse in the declared direction, significant, and changed by more than the
 * threshold. The exit status is 1 when there is at least one.
 */
import { loadRun } from './load-run.js';
import { summarize, welch } from './stats.js';
import type { Manifest } from './manifest.js';
import { UsageError } from '../errors.js';
import { BETTER_MARK, type Better } from '../../scenarios/define.js';

export interface Sample { kernel: string; scenario: string; variant: string; params: string; metric: string; value: number }

/** What compare reads from a run directory. */
export interface RunData {
  dir: string;
  manifest: Manifest;
  samples: Sample[];
  /** `scenario\tmetric` → declared direction, from summary.csv */
  better: Map<string, Better>;
  /** `kernel\tscenario\tvariant\tparams\tmetric` → status when it is not ok (failed/skipped) */
  status: Map<string, string>;
}

export type Verdict = 'regression' | 'improvement' | 'same' | 'not significant' | 'within threshold' | 'untested';

export interface ComparisonRow {
  scenario: string; variant: string; params: string; metric: string; better: 'higher' | 'lower';
  kernelA: string; kernelB: string; nA: number; nB: number; a: number; b: number;
  /** (b − a) / |a|; ±Infinity when a = 0 and b ≠ 0 */
  change: number;
  /** Welch two-sided p-value; NaN when a side has fewer than 2 samples, or for an exact metric */
  p: number;
  /** an exact metric (verifier counts): any change is real, so only the threshold decides */
  exact?: boolean;
  verdict: Verdict;
}

export interface Comparison {
  a: string; b: string; thresholdPct: number;
  /** one line per setup difference between the two manifests (accel, vCPUs, memory, toolchain, QEMU, ...) */
  setupDifferences: string[];
  /** how kernels were paired: [kernel in A, kernel in B] */
  kernelPairs: [string, string][];
  rows: ComparisonRow[];
  /** rows present on one side only, or not comparable (failed, direction unknown or changed) */
  notCompared: string[];
  regressions: number;
  text: string;
}

const key = (...parts: string[]) => parts.join('\t');

/** Relative change against |a| with the zero rule documented above. */
export function relativeChange(a: number, b: number): number {
  if (a === 0) return b === 0 ? 0 : b > a ? Infinity : -Infinity;
  return (b - a) / Math.abs(a);
}

/** Is b worse than a for a metric whose better direction is `better`? */
export const isWorse = (better: 'higher' | 'lower', a: number, b: number): boolean => (better === 'higher' ? b < a : b > a);

export function verdictOf(better: 'higher' | 'lower', a: number[], b: number[], thresholdPct: number, exact = false): Pick<ComparisonRow, 'a' | 'b' | 'change' | 'p' | 'verdict'> {
  const ma = summarize(a).mean;
  const mb = summarize(b).mean;
  const change = relativeChange(ma, mb);
  if (exact) {
    const verdict: Verdict = change === 0 ? 'same' : Math.abs(change) * 100 <= thresholdPct ? 'within threshold' : isWorse(better, ma, mb) ? 'regression' : 'improvement';
    return { a: ma, b: mb, change, p: NaN, verdict };
  }
  const { p } = welch(a, b);
  let verdict: Verdict;
  if (Number.isNaN(p)) verdict = 'untested';
  else if (change === 0) verdict = 'same';
  else if (!(p < 0.05)) verdict = 'not significant';
  else if (Math.abs(change) * 100 <= thresholdPct) verdict = 'within threshold';
  else verdict = isWorse(better, ma, mb) ? 'regression' : 'improvement';
  return { a: ma, b: mb, change, p, verdict };
}

/**
 * Which kernel of A pairs with which kernel of B: the kernels both runs booted pair with themselves; when they have
 * none in common and each run booted one kernel, those two pair (the cross-kernel comparison). Anything else is a
 * usage error naming both sets.
 */
export function pairKernels(ka: string[], kb: string[]): [string, string][] {
  const common = ka.filter((k) => kb.includes(k));
  if (common.length) return common.map((k) => [k, k]);
  if (ka.length === 1 && kb.length === 1) return [[ka[0], kb[0]]];
  throw new UsageError(`the runs share no kernel (A: ${ka.join(', ')}; B: ${kb.join(', ')}); compare runs on the same kernels, or one kernel each`);
}

/** One line per setup difference that can explain a change on its own. */
export function setupDifferences(a: Manifest, b: Manifest): string[] {
  const out: string[] = [];
  const diff = (what: string, x: unknown, y: unknown) => {
    const sx = x === undefined || x === '' ? '(not recorded)' : String(x);
    const sy = y === undefined || y === '' ? '(not recorded)' : String(y);
    if (sx !== sy) out.push(`${what}: A ${sx}, B ${sy}`);
  };
  diff('accelerator', a.accel?.accel, b.accel?.accel);
  diff('vCPUs', a.vm?.cpus, b.vm?.cpus);
  diff('memory MiB', a.vm?.memoryMb, b.vm?.memoryMb);
  diff('quick mode (shorter samples)', a.options?.quick, b.options?.quick);
  diff('QEMU', a.host?.qemu, b.host?.qemu);
  diff('host CPU', a.host?.cpuModel, b.host?.cpuModel);
  for (const t of ['clang', 'libbpf', 'bpftool', 'cc'] as const) diff(t, a.toolchain?.[t], b.toolchain?.[t]);
  diff('git commit', a.git, b.git);
  const releases = (m: Manifest) => (m.kernels ?? []).map((k) => `${k.line}=${k.unameR ?? k.release}`).join(' ');
  diff('kernels', releases(a), releases(b));
  const oa = a.build?.objects ?? {};
  const ob = b.build?.objects ?? {};
  const changed = [...new Set([...Object.keys(oa), ...Object.keys(ob)])].filter((o) => oa[o] !== ob[o]).sort();
  if (changed.length) out.push(`BPF objects differ: ${changed.join(', ')}`);
  return out;
}

export function compareData(A: RunData, B: RunData, thresholdPct: number, currentBetter: (scenario: string, metric: string) => Better | undefined,
  isExact: (scenario: string, metric: string) => boolean = () => false): Comparison {
  const pairs = pairKernels(A.manifest.options.kernels, B.manifest.options.kernels);
  const group = (r: RunData) => {
    const m = new Map<string, number[]>();
    for (const s of r.samples) {
      const k = key(s.kernel, s.scenario, s.variant, s.params, s.metric);
      if (!m.has(k)) m.set(k, []);
      m.get(k)!.push(s.value);
    }
    return m;
  };
  const ga = group(A);
  const gb = group(B);
  const rows: ComparisonRow[] = [];
  const notCompared: string[] = [];
  const seenB = new Set<string>();
  for (const [ka, kb] of pairs) {
    for (const [k, va] of ga) {
      const [kernel, scenario, variant, params, metric] = k.split('\t');
      if (kernel !== ka) continue;
      const rest = key(scenario, variant, params, metric);
      const kB = key(kb, rest);
      const vb = gb.get(kB);
      const label = `${scenario} ${variant} ${metric} [${params}] ${ka === kb ? ka : `${ka} → ${kb}`}`;
      if (!vb) { notCompared.push(`${label}: only in A`); continue; }
      seenB.add(kB);
      const da = A.better.get(key(scenario, metric));
      const db = B.better.get(key(scenario, metric));
      if (da && db && da !== db) { notCompared.push(`${label}: direction declared ${da} in A, ${db} in B`); continue; }
      const better = db ?? da ?? currentBetter(scenario, metric);
      if (better === 'none') continue; // run totals: accounting, not performance
      if (!better) { notCompared.push(`${label}: no declared direction`); continue; }
      const bad = A.status.get(k) ?? B.status.get(kB);
      if (bad) { notCompared.push(`${label}: ${bad}`); continue; }
      const exact = isExact(scenario, metric);
      rows.push({ scenario, variant, params, metric, better, kernelA: ka, kernelB: kb, nA: va.length, nB: vb.length, ...verdictOf(better, va, vb, thresholdPct, exact), ...(exact ? { exact } : {}) });
    }
    for (const k of gb.keys()) {
      const [kernel, scenario, variant, params, metric] = k.split('\t');
      if (kernel === kb && !seenB.has(k)) notCompared.push(`${scenario} ${variant} ${metric} [${params}] ${ka === kb ? kb : `${ka} → ${kb}`}: only in B`);
    }
  }
  if (rows.length === 0) {
    throw new UsageError(`${A.dir} and ${B.dir} have no measured row with a direction in common (same scenario, variant, params and metric)`);
  }
  const comparison: Comparison = {
    a: A.dir, b: B.dir, thresholdPct, setupDifferences: setupDifferences(A.manifest, B.manifest), kernelPairs: pairs,
    rows, notCompared, regressions: rows.filter((r) => r.verdict === 'regression').length, text: '',
  };
  comparison.text = renderComparison(comparison, A.manifest, B.manifest);
  return comparison;
}

const num = (v: number) => (Math.abs(v) >= 1e6 ? `${(v / 1e6).toPrecision(4)} M` : Math.abs(v) >= 1e4 ? `${(v / 1e3).toPrecision(4)} k` : v.toPrecision(4));
export const fmtChange = (c: number) => (c === Infinity ? '+∞% (from 0)' : c === -Infinity ? '−∞% (from 0)' : `${c >= 0 ? '+' : '−'}${Math.abs(c * 100).toFixed(1)}%`);
const fmtP = (p: number) => (Number.isNaN(p) ? 'n<2' : p < 0.001 ? 'p<0.001' : `p=${p.toFixed(3)}`);

function renderComparison(c: Comparison, ma: Manifest, mb: Manifest): string {
  const out: string[] = [];
  const who = (m: Manifest) => `${m.options.kernels.join(',')}, ${m.accel?.accel ?? '?'}, ${m.vm?.cpus ?? '?'} vCPUs, ${m.vm?.memoryMb ?? '?'} MiB${m.exitStatus ? `, run FAILED (exit ${m.exitStatus})` : ''}`;
  out.push(`compare B against A: regression = worse in the declared direction, Welch p < 0.05 and beyond ${c.thresholdPct}%`);
  out.push(`  A ${c.a} (${who(ma)})`, `  B ${c.b} (${who(mb)})`);
  if (c.setupDifferences.length) {
    out.push(`setup differs (${c.setupDifferences.length}); changes below may come from these, not from the code:`);
    for (const d of c.setupDifferences) out.push(`  ! ${d}`);
  }
  const cross = c.kernelPairs.filter(([x, y]) => x !== y);
  if (cross.length) out.push(`kernels differ: rows pair ${cross.map(([x, y]) => `A ${x} with B ${y}`).join('; ')}`);
  const order: Verdict[] = ['regression', 'improvement', 'within threshold', 'not significant', 'same', 'untested'];
  const rows = [...c.rows].sort((x, y) => order.indexOf(x.verdict) - order.indexOf(y.verdict));
  for (const r of rows) {
    const k = r.kernelA === r.kernelB ? r.kernelA : `${r.kernelA} → ${r.kernelB}`;
    out.push(`${r.verdict.toUpperCase().padEnd(16)} ${k} ${r.scenario} ${r.variant} ${r.metric}${BETTER_MARK[r.better]} [${r.params}]: ` +
      `${num(r.a)} → ${num(r.b)} (${fmtChange(r.change)}, ${r.exact ? 'exact' : fmtP(r.p)}, n ${r.nA}/${r.nB})`);
  }
  if (c.notCompared.length) {
    out.push(`not compared (${c.notCompared.length}):`);
    for (const n of c.notCompared.slice(0, 20)) out.push(`  - ${n}`);
    if (c.notCompared.length > 20) out.push(`  … and ${c.notCompared.length - 20} more (--json lists all)`);
  }
  const count = (v: Verdict) => c.rows.filter((r) => r.verdict === v).length;
  out.push(`${c.regressions} regression(s), ${count('improvement')} improvement(s) in ${c.rows.length} compared row(s)`);
  return out.join('\n') + '\n';
}

/** Read what compare needs from a run directory (loadRun's usage errors for a missing manifest or results.csv). */
export async function readRun(dir: string): Promise<RunData> {
  const run = await loadRun(dir);
  const samples: Sample[] = run.rows.map((r) => ({ kernel: r.kernel, scenario: r.scenario, variant: r.variant, params: r.params, metric: r.metric, value: r.value }))
    .filter((x) => Number.isFinite(x.value));
  const better = new Map<string, Better>();
  const status = new Map<string, string>();
  for (const r of run.summary) {
    if (r.better) better.set(key(r.scenario, r.metric), r.better);
    if (r.metric && r.status && r.status !== 'ok') status.set(key(r.kernel, r.scenario, r.variant, r.params, r.metric), `${r.status} in ${dir}`);
  }
  return { dir, manifest: run.manifest, samples, better, status };
}

/** Compare run B against run A (see the top of this file for the rules). */
export async function compareRuns(a: string, b: string, thresholdPct: number): Promise<Comparison> {
  const [A, B] = await Promise.all([readRun(a), readRun(b)]);
  const { scenarioById } = await import('../../scenarios/index.js');
  return compareData(A, B, thresholdPct, (s, m) => scenarioById(s)?.metrics[m]?.better, (s, m) => scenarioById(s)?.metrics[m]?.exact === true);
}
