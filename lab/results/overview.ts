import type { ResultRow, RunOutcome, SummaryRow } from './csv.js';
import { welch } from './stats.js';
import { BETTER_MARK, type Better, type ScenarioDefinition } from '../../scenarios/define.js';

/** What the summary and the charts need from a scenario definition. */
export type ScenarioInfo = Pick<ScenarioDefinition, 'id' | 'title' | 'metrics' | 'references'> & { baseline?: string };

export const fmt = (v: number | '' | undefined): string => {
  if (v === '' || v === undefined || !Number.isFinite(v)) return '';
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(3)} M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)} k`;
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
};

const esc = (s: string) => s.replace(/\|/g, '\\|');
export function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

const measured = (r: SummaryRow) => r.n > 0 && r.metric !== '' && Number.isFinite(r.mean);

/**
 * A scenario's headline metric: the first metric of its declared metric table with a direction (higher or lower is
 * better) that this run measured. The metric table's order is the scenario author's order of importance.
 */
export function headlineMetric(s: ScenarioInfo, summary: SummaryRow[]): string | undefined {
  const rows = summary.filter((r) => r.scenario === s.id && measured(r));
  return Object.entries(s.metrics).find(([m, spec]) => spec.better !== 'none' && rows.some((r) => r.metric === m))?.[0];
}

/** Kernel lines in run order (the order given on the command line), limited to those with rows. */
export function kernelOrder(kernels: string[], summary: SummaryRow[]): string[] {
  const seen = new Set(summary.map((r) => r.kernel));
  return [...kernels.filter((k) => seen.has(k)), ...[...seen].filter((k) => !kernels.includes(k))];
}

export interface KernelChange { from: string; to: string; pct: number; p: number; verdict: 'better' | 'worse' | 'changed' }

/**
 * The change of one (scenario, variant, params, metric) from the previous kernel to this one, when Welch's test on
 * the samples says it is significant at 95%; the metric's declared direction says whether it got better or worse.
 */
export function kernelChange(samples: ResultRow[], prev: SummaryRow, cur: SummaryRow, better: Better | ''): KernelChange | undefined {
  const of = (r: SummaryRow) => samples.filter((x) => x.kernel === r.kernel && x.scenario === r.scenario && x.variant === r.variant &&
    x.params === r.params && x.metric === r.metric).map((x) => x.value);
  const { p } = welch(of(prev), of(cur));
  if (!(p < 0.05) || prev.mean === 0) return undefined;
  const pct = (cur.mean - prev.mean) / Math.abs(prev.mean);
  const verdict = better === 'higher' ? (pct > 0 ? 'better' : 'worse') : better === 'lower' ? (pct < 0 ? 'better' : 'worse') : 'changed';
  return { from: prev.kernel, to: cur.kernel, pct, p, verdict };
}

const changeMark = (c: KernelChange) => `**${c.pct > 0 ? '▲' : '▼'} ${c.pct > 0 ? '+' : ''}${(c.pct * 100).toFixed(1)}% ${c.verdict}**`;

/** The parameters that take more than one value among these rows (the rest is common to all and said once). */
export function varyingParams(rows: SummaryRow[]): string[] {
  const values = new Map<string, Set<string>>();
  for (const r of rows) for (const kv of r.params.split(';').filter(Boolean)) {
    const i = kv.indexOf('=');
    const k = kv.slice(0, i);
    if (!values.has(k)) values.set(k, new Set());
    values.get(k)!.add(kv.slice(i + 1));
  }
  return [...values].filter(([, v]) => v.size > 1).map(([k]) => k);
}

export const shortParams = (params: string, keep: string[]): string =>
  params.split(';').filter((kv) => keep.includes(kv.slice(0, kv.indexOf('=')))).join(' ');

export interface OverviewInput {
  kernels: string[];
  summary: SummaryRow[];
  samples: ResultRow[];
  outcomes: RunOutcome[];
  scenarios: ScenarioInfo[];
  /** scenario id → chart files (relative to the run dir) with their titles, linked under the scenario's summary */
  charts?: Map<string, { file: string; title: string }[]>;
  /** the chart of significant changes between adjacent kernels, right under their summary line */
  changeChart?: { file: string; title: string };
  /** charts shown before the scenarios' own (the fidelity chart) */
  leadingCharts?: { file: string; title: string }[];
}

/**
 * The summary a person reads first. One table: per scenario its headline metric at the first setting measured, one row
 * per variant, the mean per kernel with the in-run ratio to the scenario's baseline variant and the significant change
 * from the previous kernel; a notes column says how noisy the scenario's rows are. Then what was skipped or failed and
 * why, then the charts.
 */
export function renderOverview(o: OverviewInput): string[] {
  const kernels = kernelOrder(o.kernels, o.summary);
  const out: string[] = ['## Summary', ''];
  out.push(...kernelChangeLines(kernels, o, o.changeChart));
  out.push(`Per scenario its headline metric (the first with a direction in its metric table) at its first setting, mean per kernel` +
    ` (${kernels.join(', ')}); ×b = ratio to the baseline variant of the same run` +
    (kernels.length > 1 ? '; **▲/▼** = significant change from the kernel to the left (Welch, p < 0.05), better/worse by the declared direction' : '') +
    '. Full tables below.', '');
  const body: string[][] = [];
  const skipped: string[] = [];
  for (const s of o.scenarios) {
    const rows = o.summary.filter((r) => r.scenario === s.id);
    const notOk = o.outcomes.filter((x) => x.scenario === s.id && x.status !== 'ok');
    if (!rows.length && !notOk.length) continue;
    const dir = rows.filter((r) => measured(r) && r.better !== 'none');
    const notes = [
      dir.length ? `${dir.filter((r) => r.noisy).length}/${dir.length} rows noisy (cv > 5%)` : '',
      notOk.length ? `${notOk.length} skipped/failed` : '',
    ].filter(Boolean).join('; ');
    const metric = headlineMetric(s, o.summary);
    if (!metric) {
      body.push([s.id, '', '(nothing measured)', ...kernels.map(() => '—'), notes]);
    } else {
      const spec = s.metrics[metric];
      const mrows = rows.filter((r) => r.metric === metric && measured(r));
      const setting = mrows[0].params;
      const at = mrows.filter((r) => r.params === setting);
      const variants = [...new Set(at.map((r) => r.variant))];
      const others = new Set(mrows.map((r) => r.params)).size - 1;
      const base = s.baseline && variants.includes(s.baseline) ? s.baseline : undefined;
      variants.forEach((v, vi) => body.push([
        vi === 0 ? s.id : '',
        vi === 0 ? `${metric}${BETTER_MARK[spec.better]} (${spec.unit}) at ${setting.replace(/;/g, ' ') || '(no parameters)'}${others > 0 ? ` (+${others} more)` : ''}` : '',
        v + (v === base ? ' (baseline)' : ''),
        ...kernels.map((k, i) => {
          const r = at.find((x) => x.variant === v && x.kernel === k);
          if (!r) return '—';
          const b = base && v !== base ? at.find((x) => x.variant === base && x.kernel === k) : undefined;
          const prev = i > 0 ? at.find((x) => x.variant === v && x.kernel === kernels[i - 1]) : undefined;
          const change = prev ? kernelChange(o.samples, prev, r, spec.better) : undefined;
          return [fmt(r.mean) + (r.noisy ? ' (noisy)' : ''), b && b.mean ? `×b ${(r.mean / b.mean).toFixed(3)}` : '', change ? changeMark(change) : '']
            .filter(Boolean).join(', ');
        }),
        vi === 0 ? notes : '',
      ]));
    }
    const reasons = new Map<string, number>();
    for (const x of notOk) {
      const key = `${s.id}: ${x.status} on ${x.kernel}${x.variant ? ` (variant ${x.variant})` : ''}: ${x.note}`;
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    }
    skipped.push(...[...reasons].map(([k, n]) => `- ${k}${n > 1 ? ` (${n} runs)` : ''}`));
  }
  out.push(table(['scenario', 'headline metric', 'variant', ...kernels.map((k) => `kernel ${k}`), 'notes'], body), '');
  if (skipped.length) out.push('Skipped or failed:', '', ...skipped, '');
  const charts = [...(o.leadingCharts ?? []), ...o.scenarios.flatMap((s) => o.charts?.get(s.id) ?? [])];
  if (charts.length) out.push('### Charts', '', ...charts.flatMap((c) => [`![${c.title}](${c.file})`, '']));
  return out;
}

/**
 * What changed from one kernel to the next, over every row with a direction measured on both: how many rows got
 * significantly better or worse, and the largest changes each way.
 */
export interface KernelStep { from: string; to: string; compared: number; changes: { c: KernelChange; r: SummaryRow }[] }

/** Per pair of adjacent kernels: how many rows with a direction both measured, and the significant changes. */
export function kernelSteps(kernels: string[], o: Pick<OverviewInput, 'summary' | 'samples'>): KernelStep[] {
  const rows = o.summary.filter((r) => measured(r) && (r.better === 'higher' || r.better === 'lower'));
  const out: KernelStep[] = [];
  for (let i = 1; i < kernels.length; i++) {
    const changes: KernelStep['changes'] = [];
    let compared = 0;
    for (const r of rows.filter((x) => x.kernel === kernels[i])) {
      const prev = rows.find((x) => x.kernel === kernels[i - 1] && x.scenario === r.scenario && x.variant === r.variant && x.params === r.params && x.metric === r.metric);
      if (!prev) continue;
      compared++;
      const c = kernelChange(o.samples, prev, r, r.better);
      if (c) changes.push({ c, r });
    }
    if (compared) out.push({ from: kernels[i - 1], to: kernels[i], compared, changes });
  }
  return out;
}

export function kernelChangeLines(kernels: string[], o: Pick<OverviewInput, 'summary' | 'samples'>, chart?: { file: string; title: string }): string[] {
  const out: string[] = [];
  const rows = o.summary.filter((r) => measured(r) && (r.better === 'higher' || r.better === 'lower'));
  for (const { from, to, compared, changes } of kernelSteps(kernels, o)) {
    const of = (v: string) => changes.filter((x) => x.c.verdict === v).sort((a, b) => Math.abs(b.c.pct) - Math.abs(a.c.pct));
    const top = (xs: typeof changes) => xs.slice(0, 3).map(({ c, r }) => `${r.scenario} ${r.variant} ${r.metric} ${c.pct > 0 ? '+' : ''}${(c.pct * 100).toFixed(0)}%`).join(', ');
    const better = of('better');
    const worse = of('worse');
    out.push(`**${from} → ${to}:** of ${compared} rows measured on both, ${worse.length} significantly worse` +
      (worse.length ? ` (largest: ${top(worse)})` : '') + `, ${better.length} significantly better` + (better.length ? ` (largest: ${top(better)})` : '') +
      '.' + (rows.some((r) => r.accel === 'tcg') ? ' Under TCG a kernel change also changes what the emulator runs: confirm on KVM before calling it a regression.' : ''), '');
  }
  if (chart) out.push(`![${chart.title}](${chart.file})`, '');
  return out;
}

/**
 * With several kernels: one table per scenario, rows = variant / params / metric (metrics with a direction),
 * columns = kernels, each cell the mean with the significant change from the previous kernel marked.
 */
export function crossKernelTable(scenario: string, o: Pick<OverviewInput, 'kernels' | 'summary' | 'samples'>): string[] {
  const kernels = kernelOrder(o.kernels, o.summary);
  if (kernels.length < 2) return [];
  const rows = o.summary.filter((r) => r.scenario === scenario && measured(r) && r.better !== 'none' && r.better !== '');
  const keys = [...new Map(rows.map((r) => [`${r.variant}\u0000${r.params}\u0000${r.metric}`, r])).values()];
  if (!keys.length) return [];
  const vary = varyingParams(rows);
  const body = keys.map((k) => [k.variant, shortParams(k.params, vary), k.metric + BETTER_MARK[k.better as Better], ...kernels.map((kernel, i) => {
    const r = rows.find((x) => x.kernel === kernel && x.variant === k.variant && x.params === k.params && x.metric === k.metric);
    if (!r) return '—';
    const prev = i > 0 ? rows.find((x) => x.kernel === kernels[i - 1] && x.variant === k.variant && x.params === k.params && x.metric === k.metric) : undefined;
    const c = prev ? kernelChange(o.samples, prev, r, r.better) : undefined;
    return fmt(r.mean) + (c ? ` ${changeMark(c)}` : '');
  }), k.unit]);
  return ['### Across kernels', '', 'Mean per kernel; **▲/▼** a significant change from the kernel to its left (Welch, p < 0.05), better or worse by the metric\'s direction.' +
    (vary.length ? '' : ` Parameters: \`${keys[0].params}\`.`), '',
    table(['variant', vary.length ? vary.join(' ') : 'params', 'metric', ...kernels.map((k) => `kernel ${k}`), 'unit'], body), ''];
}
