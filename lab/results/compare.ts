import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromCsv } from './csv.js';
import { summarize, welchSignificant } from './stats.js';
import { readManifest, runLab, type RunResult } from '../run.js';
import { UsageError } from '../errors.js';
import type { Params } from '../agent/protocol.js';

/** Metrics where a larger value is better; everything else (ns, latency, drops) is better smaller. */
const HIGHER_IS_BETTER = (metric: string) => /per_s$|pps$/.test(metric) && !/drop|lost|miss/.test(metric);
/** Rates, times and latencies are compared; run totals (records_*, counts) are not. */
const COMPARABLE = /per_s$|pps$|^ns_per_|_ns$|_pct$/;

export interface Comparison {
  rows: { kernel: string; scenario: string; variant: string; params: string; metric: string; a: number; b: number; ratio: number; significant: boolean; regression: boolean }[];
  regressions: number;
  text: string;
}

async function samples(runDir: string): Promise<Map<string, number[]>> {
  let text: string;
  try { text = await readFile(join(runDir, 'results.csv'), 'utf8'); } catch { throw new UsageError(`${runDir} has no results.csv`); }
  const m = new Map<string, number[]>();
  for (const r of fromCsv(text)) {
    if (!COMPARABLE.test(r.metric ?? '')) continue;
    const k = [r.kernel, r.scenario, r.variant, r.params, r.metric].join('\t');
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(Number(r.value));
  }
  return m;
}

/** Compare run B against run A: mean ratio per metric, Welch's t-test, regression = significant and worse by > threshold %. */
export async function compareRuns(a: string, b: string, thresholdPct: number): Promise<Comparison> {
  const [sa, sb] = await Promise.all([samples(a), samples(b)]);
  const rows: Comparison['rows'] = [];
  for (const [k, va] of sa) {
    const vb = sb.get(k);
    if (!vb) continue;
    const [kernel, scenario, variant, params, metric] = k.split('\t');
    const ma = summarize(va).mean;
    const mb = summarize(vb).mean;
    const ratio = ma === 0 ? NaN : mb / ma;
    const significant = welchSignificant(va, vb);
    const worse = HIGHER_IS_BETTER(metric) ? ratio < 1 - thresholdPct / 100 : ratio > 1 + thresholdPct / 100;
    rows.push({ kernel, scenario, variant, params, metric, a: ma, b: mb, ratio, significant, regression: significant && worse });
  }
  if (rows.length === 0) throw new UsageError(`${a} and ${b} have no (kernel, scenario, variant, params, metric) in common`);
  const regressions = rows.filter((r) => r.regression).length;
  const text = [
    `comparing ${b} against ${a} (threshold ${thresholdPct}%, Welch t-test at 95%)`,
    ...rows.map((r) => `${r.regression ? 'REGRESSION ' : r.significant ? 'changed    ' : 'same       '} ${r.kernel} ${r.scenario} ${r.variant} ${r.metric} [${r.params}]: ${r.a.toPrecision(5)} → ${r.b.toPrecision(5)} (×${r.ratio.toFixed(3)})`),
    `${regressions} regression(s) in ${rows.length} comparable metric(s)`,
  ].join('\n') + '\n';
  return { rows, regressions, text };
}

/** Same pins (the catalog is checked against the manifest), same parameters, new run, then a comparison. */
export async function reproduceRun(runDir: string, out: string, accel: 'auto' | 'kvm' | 'tcg', argv: string[]): Promise<RunResult & { comparison?: Comparison }> {
  const m = await readManifest(runDir);
  const { loadCatalog } = await import('../kernels/catalog.js');
  const catalog = loadCatalog();
  for (const k of m.kernels) {
    const now = catalog.kernels.find((c) => c.line === k.line);
    const same = now && now.packages.map((p) => p.sha256).join() === k.packages.map((p) => p.sha256).join();
    if (!same) throw new UsageError(`kernel ${k.line} in ${runDir} was pinned to ${k.packages.map((p) => `${p.name} ${p.version}`).join(', ')}, which the catalog no longer pins`);
  }
  const paramsOverride: Record<string, Params[]> = {};
  for (const s of m.scenarios) paramsOverride[s.id] = s.params as Params[];
  const r = await runLab({
    kernel: m.options.kernels.join(','), scenario: m.options.scenarios.join(','), quick: m.options.quick, out, accel,
    cpus: m.options.cpus, memoryMb: m.options.memoryMb, verbose: false, argv, paramsOverride,
  });
  const comparison = await compareRuns(runDir, r.runDir, 5).catch(() => undefined);
  if (comparison) process.stderr.write(comparison.text);
  return { ...r, comparison };
}
