/**
 * The coverage list (scenarios/coverage.ts) against the scenario definitions' `covers`: README's table (which kernel
 * lines run which entry) and a run report's section (per entry and kernel: measured, skipped with the reason, or not
 * in this run). Both are derived; neither is written by hand.
 */
import { COVERAGE_ENTRIES, type Cover } from '../../scenarios/coverage.js';
import type { ScenarioDefinition } from '../../scenarios/define.js';
import { parseParams, type RunOutcome, type SummaryRow } from './csv.js';

const version = (v: string) => v.split('.').map(Number) as [number, number];
const atLeast = (line: string, min: string) => {
  const [a, b] = version(line);
  const [x, y] = version(min);
  return a > x || (a === x && b >= y);
};
const newest = (...vs: (string | undefined)[]) => vs.filter((v): v is string => !!v).sort((p, q) => (atLeast(p, q) ? -1 : 1))[0];

interface Claim { scenario: ScenarioDefinition; cover: Cover; since?: string }

function claims(defs: ScenarioDefinition[], entry: string): Claim[] {
  return defs.flatMap((s) => (s.covers ?? []).filter((c) => c.entry === entry).map((cover) => ({ scenario: s, cover, since: newest(s.requires.kernel, cover.since) })));
}

/** "scenario (variants) [key=a, b]": claims of one scenario and variant list merge their parameter values */
function claimLabels(cs: Claim[]): string {
  const groups = new Map<string, Map<string, Set<string>>>();
  for (const c of cs) {
    const head = `${c.scenario.id}${c.cover.variants ? ` (${c.cover.variants.join(', ')})` : ''}`;
    if (!groups.has(head)) groups.set(head, new Map());
    for (const [k, v] of Object.entries(c.cover.params ?? {})) groups.get(head)!.set(k, (groups.get(head)!.get(k) ?? new Set()).add(String(v)));
  }
  return [...groups].map(([head, ps]) => `${head}${ps.size ? ` [${[...ps].map(([k, vs]) => `${k}=${[...vs].join(', ')}`).join('; ')}]` : ''}`).join('; ');
}

/** README's table: one row per entry, the scenarios measuring it, and per kernel line ✓ or the version it needs. */
export function coverageTable(defs: ScenarioDefinition[], lines: string[]): string[] {
  const sorted = [...lines].sort((p, q) => (atLeast(p, q) ? 1 : -1));
  const rows = COVERAGE_ENTRIES.map((e) => {
    const cs = claims(defs, e.id);
    const cells = sorted.map((line) => {
      if (!cs.length) return '';
      if (cs.some((c) => !c.since || atLeast(line, c.since))) return '✓';
      return `needs ${cs.map((c) => c.since!).sort((p, q) => (atLeast(p, q) ? 1 : -1))[0]}`;
    });
    return [e.name, e.kind, cs.length ? claimLabels(cs) : '**not covered yet**', ...cells];
  });
  const header = ['entry', 'kind', 'measured by', ...sorted];
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

export type CoverageStatus = 'measured' | 'skipped' | 'failed' | 'not measured' | 'not in this run' | 'not covered';
export interface CoverageCell { status: CoverageStatus; note?: string }
export interface CoverageRow { entry: string; kind: string; cells: Record<string, CoverageCell> }

const rowMatches = (r: { scenario: string; variant: string; params: string }, c: Claim) => r.scenario === c.scenario.id &&
  (!c.cover.variants || c.cover.variants.includes(r.variant)) &&
  Object.entries(c.cover.params ?? {}).every(([k, v]) => parseParams(r.params)[k] === String(v));

/** Per entry and kernel of a run: measured (a row with samples), skipped/failed with the reason, or not in this run. */
export function coverageRows(defs: ScenarioDefinition[], runScenarios: string[], kernels: string[], summary: SummaryRow[], outcomes: RunOutcome[]): CoverageRow[] {
  return COVERAGE_ENTRIES.map((e) => {
    const cs = claims(defs, e.id);
    const cells: Record<string, CoverageCell> = {};
    for (const k of kernels) {
      if (!cs.length) { cells[k] = { status: 'not covered' }; continue; }
      const inRun = cs.filter((c) => runScenarios.includes(c.scenario.id));
      if (!inRun.length) { cells[k] = { status: 'not in this run', note: cs.map((c) => c.scenario.id).join(', ') }; continue; }
      const rows = summary.filter((r) => r.kernel === k && inRun.some((c) => rowMatches(r, c)));
      // name a row that measures the mechanism (a metric with a direction), not a program's verifier row or a setup row
      const ok = rows.filter((r) => r.n > 0 && r.status === 'ok');
      const baselines = new Set(inRun.map((c) => `${c.scenario.id}\t${c.scenario.baseline ?? ''}`));
      const measured = ok.find((r) => (r.better === 'higher' || r.better === 'lower') && !/^(prog|object):/.test(r.variant) &&
        !baselines.has(`${r.scenario}\t${r.variant}`)) ?? ok[0];
      if (measured) { cells[k] = { status: 'measured', note: `${measured.scenario} ${measured.variant}` }; continue; }
      const failedRow = rows.find((r) => r.status === 'failed');
      if (failedRow) { cells[k] = { status: 'failed', note: failedRow.note }; continue; }
      // a variant skip, or the whole scenario skipped (no variant on the outcome)
      const skip = rows.find((r) => r.status === 'skipped') ??
        outcomes.find((o) => o.kernel === k && o.status === 'skipped' && inRun.some((c) => c.scenario.id === o.scenario && (o.variant === undefined || !c.cover.variants || c.cover.variants.includes(o.variant))));
      if (skip) { cells[k] = { status: 'skipped', note: skip.note }; continue; }
      cells[k] = { status: 'not measured', note: 'no row for it in this run (filtered by --param?)' };
    }
    return { entry: e.name, kind: e.kind, cells };
  });
}

/** The report's coverage section, for runs that select several covering scenarios (a suite). */
export function coverageSection(defs: ScenarioDefinition[], runScenarios: string[], kernels: string[], summary: SummaryRow[], outcomes: RunOutcome[]): string[] {
  const covering = defs.filter((s) => runScenarios.includes(s.id) && s.covers?.length);
  if (covering.length < 3) return [];
  const rows = coverageRows(defs, runScenarios, kernels, summary, outcomes);
  const cell = (c: CoverageCell) => (c.status === 'measured' ? `✓ ${c.note}` : c.note ? `${c.status}: ${c.note}` : c.status);
  return [
    '## Coverage', '',
    'Each program type, mechanism and map type the lab sets out to measure, per kernel: measured in this run (by which ' +
    'scenario and variant), skipped or failed with the reason, or not part of this run (`--suite all` selects every scenario).', '',
    `| entry | kind | ${kernels.join(' | ')} |`, `| --- | --- | ${kernels.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.entry} | ${r.kind} | ${kernels.map((k) => cell(r.cells[k]).replaceAll('|', '\\|')).join(' | ')} |`), '',
  ];
}
