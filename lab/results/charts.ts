import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { SummaryRow } from './csv.js';
import type { FidelityRow } from './fidelity.js';
import { BETTER_MARK } from '../../scenarios/define.js';
import { headlineMetric, kernelOrder, shortParams, varyingParams, type KernelStep, type ScenarioInfo } from './overview.js';

/** One chart: where it goes in the run dir, what it shows, and its vega-lite spec (data inline). */
export interface ChartSpec { id: string; scenario?: string; title: string; file: string; spec: TopLevelSpec }

const LATENCY_PERCENTILE = /^latency_p(\d+)_(\w+)$/;
const measured = (r: SummaryRow) => r.n > 0 && r.metric !== '' && Number.isFinite(r.mean) && r.status === 'ok';
const slug = (s: string) => s.replace(/[^a-zA-Z0-9_-]+/g, '-');

/**
 * The charts of a scenario, declared here rather than one per table row, so a big run stays readable:
 * its headline metric; the first directional metric the baseline variant measures, when that is another metric
 * (overhead against the baseline); and the latency percentiles together when it reports `latency_pNN_*` metrics.
 */
export function scenarioCharts(s: ScenarioInfo, summary: SummaryRow[], kernels: string[]): ChartSpec[] {
  const rows = summary.filter((r) => r.scenario === s.id && measured(r));
  const ks = kernelOrder(kernels, rows);
  const out: ChartSpec[] = [];
  const headline = headlineMetric(s, summary);
  const percentiles = Object.keys(s.metrics).filter((m) => LATENCY_PERCENTILE.test(m) && rows.some((r) => r.metric === m));
  const metrics = new Set<string>();
  if (headline && !percentiles.includes(headline)) metrics.add(headline);
  if (s.baseline) {
    const m = Object.entries(s.metrics).find(([m, spec]) => spec.better !== 'none' && rows.some((r) => r.variant === s.baseline && r.metric === m))?.[0];
    if (m) metrics.add(m);
  }
  for (const m of metrics) out.push(barChart(s, m, rows.filter((r) => r.metric === m), ks));
  if (percentiles.length) out.push(percentileChart(s, percentiles, rows.filter((r) => percentiles.includes(r.metric)), ks));
  return out;
}

/** Mean with its 95% confidence interval per variant × setting, one bar per kernel in each group; the baseline is grey. */
function barChart(s: ScenarioInfo, metric: string, rows: SummaryRow[], kernels: string[]): ChartSpec {
  const spec = s.metrics[metric];
  const vary = varyingParams(rows);
  const values = rows.map((r) => ({
    group: [r.variant, shortParams(r.params, vary)].filter(Boolean).join('  '), kernel: r.kernel, mean: r.mean,
    lo: Number.isFinite(r.ci95_low) ? r.ci95_low : r.mean, hi: Number.isFinite(r.ci95_high) ? r.ci95_high : r.mean,
    role: r.variant === s.baseline ? 'baseline' : 'measured', n: r.n,
  }));
  const title = `${s.id}: ${metric}${BETTER_MARK[spec.better]} (${spec.unit}), mean and 95% CI`;
  // a rate or a time is not negative: when every mean is ≥ 0 the axis starts at 0 and a wide CI is clipped there
  const nonNegative = values.every((v) => v.mean >= 0);
  const x = { field: 'mean', type: 'quantitative', title: `${metric} (${spec.unit})`, ...(nonNegative ? { scale: { domainMin: 0 } } : {}) } as const;
  const hasBaseline = values.some((v) => v.role === 'baseline');
  const y = { field: 'group', type: 'nominal', title: null, sort: null, axis: { labelLimit: 420 } } as const;
  return {
    id: `${s.id}.${metric}`, scenario: s.id, title, file: `charts/${slug(s.id)}.${slug(metric)}.svg`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, width: 520, height: { step: 14 * Math.max(1, kernels.length) },
      data: { values },
      encoding: { y, yOffset: { field: 'kernel', type: 'nominal', sort: kernels } },
      layer: [
        {
          mark: { type: 'bar', tooltip: true },
          encoding: {
            x, color: { field: 'kernel', type: 'nominal', sort: kernels, title: 'kernel' },
            ...(hasBaseline ? { opacity: { field: 'role', type: 'ordinal', scale: { domain: ['measured', 'baseline'], range: [1, 0.35] }, title: 'variant' } } : {}),
          },
        },
        { mark: { type: 'rule', color: 'black', clip: true }, encoding: { x: { field: 'lo', type: 'quantitative' }, x2: { field: 'hi' } } },
      ],
    } as TopLevelSpec,
  };
}

/** Latency percentiles (p50 … p99.9) per setting and kernel, log scale: the tail at a glance. */
function percentileChart(s: ScenarioInfo, metrics: string[], rows: SummaryRow[], kernels: string[]): ChartSpec {
  const vary = varyingParams(rows);
  const pct = (m: string) => { const d = LATENCY_PERCENTILE.exec(m)![1]; return `p${d.length > 2 ? `${d.slice(0, 2)}.${d.slice(2)}` : d}`; };
  const values = rows.filter((r) => r.mean > 0).map((r) => ({
    percentile: pct(r.metric), series: `${r.kernel}  ${[r.variant, shortParams(r.params, vary)].filter(Boolean).join(' ')}`, kernel: r.kernel, mean: r.mean,
  }));
  const unit = s.metrics[metrics[0]].unit;
  const title = `${s.id}: latency percentiles (${unit}, lower is better), mean over intervals`;
  return {
    id: `${s.id}.latency-percentiles`, scenario: s.id, title, file: `charts/${slug(s.id)}.latency-percentiles.svg`,
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, width: 420, height: 260, data: { values },
      mark: { type: 'line', point: true, tooltip: true },
      encoding: {
        x: { field: 'percentile', type: 'ordinal', sort: metrics.map(pct), title: 'percentile', axis: { labelAngle: 0 } },
        y: { field: 'mean', type: 'quantitative', scale: { type: 'log' }, title: unit },
        color: { field: 'series', type: 'nominal', title: 'kernel, variant, setting', legend: { labelLimit: 360 } },
        strokeDash: { field: 'kernel', type: 'nominal', sort: kernels },
      },
    } as TopLevelSpec,
  };
}

/** The fidelity table as a chart: lab harness vs the kernel's bench (same VM) vs published, log scale. */
export function fidelityChart(rows: FidelityRow[]): ChartSpec | undefined {
  const values = rows.flatMap((r) => [
    r.lab && { row: `${r.kernel}  ${r.label}`, source: 'lab harness', value: r.lab.median },
    r.bench && { row: `${r.kernel}  ${r.label}`, source: 'kernel bench', value: r.bench.median },
    r.published && { row: `${r.kernel}  ${r.label}`, source: 'published (bare metal)', value: r.published.value },
  ]).filter((v): v is { row: string; source: string; value: number } => !!v && v.value > 0);
  if (!values.length) return undefined;
  const sources = ['lab harness', 'kernel bench', 'published (bare metal)'];
  const title = 'Fidelity: lab harness vs kernel bench (same VM) vs published (bare metal), median, log scale';
  return {
    id: 'fidelity', title, file: 'charts/fidelity.svg',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, width: 520, height: { step: 22 }, data: { values },
      // points, not bars: a bar on a log scale has no zero to start from
      mark: { type: 'point', filled: true, size: 70, tooltip: true },
      encoding: {
        y: { field: 'row', type: 'nominal', title: null, sort: null, axis: { labelLimit: 420 } },
        x: { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: 'median (the row\'s unit)' },
        color: { field: 'source', type: 'nominal', sort: sources, title: null },
        shape: { field: 'source', type: 'nominal', sort: sources, title: null },
      },
    } as TopLevelSpec,
  };
}

/** Render a vega-lite spec to SVG text in Node, with vega's SVG string renderer (no canvas, no browser); compiler warnings stay out of the lab's output. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec, { logger: vega.logger(vega.Error) }).spec), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * What changed between adjacent kernels, on the first screen: the significant changes (Welch p < 0.05) of every
 * row with a direction, the largest first, as % change of the mean, coloured better/worse by the declared direction.
 * A symmetric-log axis keeps +900% and −20% readable side by side.
 */
export function kernelChangeChart(steps: KernelStep[], limit = 20): ChartSpec | undefined {
  // rows of one scenario/variant/metric at several settings are told apart by the parameters that differ among them
  const settingsOf = (st: KernelStep, r: SummaryRow) => st.changes.filter((x) => x.r.scenario === r.scenario && x.r.variant === r.variant && x.r.metric === r.metric).map((x) => x.r);
  const values = steps.flatMap((st) => st.changes.map(({ c, r }) => {
    const setting = shortParams(r.params, varyingParams(settingsOf(st, r)));
    return { row: `${st.from}→${st.to}  ${r.scenario} ${r.variant} ${r.metric}${setting ? `  ${setting}` : ''}`, pct: c.pct * 100, verdict: c.verdict };
  })).sort((a, b) => Math.abs(b.pct) - Math.abs(a.pct)).slice(0, limit);
  if (!values.length) return undefined;
  const total = steps.reduce((n, s) => n + s.changes.length, 0);
  const title = `Significant changes between kernels (Welch p < 0.05): ${values.length === total ? 'all' : `largest ${values.length} of`} ${total}, % change of the mean`;
  return {
    id: 'kernel-changes', title, file: 'charts/kernel-changes.svg',
    spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, width: 420, height: { step: 16 }, data: { values },
      mark: { type: 'bar', tooltip: true },
      encoding: {
        y: { field: 'row', type: 'nominal', title: null, sort: null, axis: { labelLimit: 520 } },
        x: { field: 'pct', type: 'quantitative', stack: null, scale: { type: 'symlog', constant: 10 }, title: '% change from the kernel to the left' },
        color: { field: 'verdict', type: 'nominal', scale: { domain: ['better', 'worse', 'changed'], range: ['#2e7d32', '#c62828', '#757575'] }, title: null },
      },
    } as TopLevelSpec,
  };
}
