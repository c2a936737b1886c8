/*
 * loadRun(dir): a run directory read back into typed rows — the samples of results.csv, the rows of summary.csv, the
 * outcomes that were not ok (rebuilt from summary.csv, which is where a run records them), and the manifest.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fromCsv, type ResultRow, type SummaryRow, type RunOutcome } from './csv.js';
import type { Manifest } from './manifest.js';
import type { Better } from '../../scenarios/define.js';
import { UsageError } from '../errors.js';

export interface LoadedRun {
  dir: string;
  manifest: Manifest;
  /** results.csv: one row per sample */
  rows: ResultRow[];
  /** summary.csv: one row per (kernel, scenario, variant, params, metric), plus one per skipped or failed run */
  summary: SummaryRow[];
  /** the runs and variants that were skipped or failed, with their reasons */
  outcomes: RunOutcome[];
}

async function readText(path: string): Promise<string | undefined> {
  try { return await readFile(path, 'utf8'); } catch { return undefined; }
}

const numOrNaN = (s: string | undefined) => (s === undefined || s === '' ? NaN : Number(s));
const numOrEmpty = (s: string | undefined): number | '' => (s === undefined || s === '' ? '' : Number(s));

/** Read a run directory written by the lab; a directory without manifest.json or results.csv is a usage error. */
export async function loadRun(dir: string): Promise<LoadedRun> {
  const manifestText = await readText(join(dir, 'manifest.json'));
  if (manifestText === undefined) throw new UsageError(`${dir} is not a run directory (no manifest.json)`);
  let manifest: Manifest;
  try { manifest = JSON.parse(manifestText) as Manifest; } catch { throw new UsageError(`${dir}/manifest.json is not valid JSON`); }
  if (!manifest.options?.kernels || !manifest.runId) throw new UsageError(`${dir}/manifest.json has no runId or options.kernels; is it a bpf-lab run?`);
  const results = await readText(join(dir, 'results.csv'));
  if (results === undefined) throw new UsageError(`${dir} has no results.csv`);
  const rows: ResultRow[] = fromCsv(results).map((r) => ({
    run_id: r.run_id, kernel: r.kernel, kernel_release: r.kernel_release, accel: r.accel, vcpus: Number(r.vcpus),
    scenario: r.scenario, variant: r.variant, params: r.params, repetition: Number(r.repetition), metric: r.metric, unit: r.unit, value: Number(r.value),
    ...(r.round ? { round: Number(r.round) } : r.round === '0' ? { round: 0 } : {}),
  }));
  const summary: SummaryRow[] = fromCsv((await readText(join(dir, 'summary.csv'))) ?? '').map((r) => ({
    kernel: r.kernel, kernel_release: r.kernel_release, accel: r.accel, scenario: r.scenario, variant: r.variant, params: r.params,
    metric: r.metric, unit: r.unit, better: (['higher', 'lower', 'none'].includes(r.better) ? r.better : '') as Better | '',
    n: Number(r.n), median: numOrNaN(r.median), mean: numOrNaN(r.mean), stddev: numOrNaN(r.stddev), cv: numOrNaN(r.cv),
    p50: numOrNaN(r.p50), p95: numOrNaN(r.p95), p99: numOrNaN(r.p99), p999: numOrNaN(r.p999),
    ci95_low: numOrNaN(r.ci95_low), ci95_high: numOrNaN(r.ci95_high), noisy: r.noisy === 'true',
    reference: numOrEmpty(r.reference), reference_source: r.reference_source ?? '', ratio_to_reference: numOrEmpty(r.ratio_to_reference),
    status: r.status ?? 'ok', note: r.note ?? '',
  }));
  return { dir, manifest, rows, summary, outcomes: outcomesOf(summary) };
}

/**
 * The not-ok outcomes a summary records: a row without samples is a skipped/failed run (or, with a variant, a
 * skipped variant); a row with samples and a failed status is a run that failed after measuring something.
 */
export function outcomesOf(summary: SummaryRow[]): RunOutcome[] {
  const seen = new Set<string>();
  const out: RunOutcome[] = [];
  for (const r of summary) {
    if (r.status === 'ok' || !r.status) continue;
    const variant = r.n === 0 && r.variant ? r.variant : undefined;
    const k = [r.kernel, r.scenario, r.params, variant ?? '', r.status, r.note].join('\u0000');
    if (seen.has(k)) continue;
    seen.add(k);
    out.push({ kernel: r.kernel, scenario: r.scenario, params: r.params, variant, status: r.status as RunOutcome['status'], note: r.note, wallMs: 0 });
  }
  return out;
}
