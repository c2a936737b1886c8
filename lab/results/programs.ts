import type { SummaryRow } from './csv.js';

/** The prefix of the variants that carry one loaded program's metrics (bpf/drivers/core/proginfo.c). */
export const PROGRAM_VARIANT = 'prog:';

export interface ProgramRow {
  kernel: string; scenario: string; program: string;
  /** the runs (params) with these numbers: one row stands for every run where the program verified the same */
  params: string[];
  verifiedInsns?: number; verifierStates?: number; xlatedBytes?: number; jitedBytes?: number; memlockBytes?: number;
  /** median over those runs (a time, so it varies) */
  verifyUs?: number;
  /** BPF run-time stats (on during the warm-ups only): medians over those runs where it ran of the runs counted and of ns per run */
  runCnt?: number; nsPerRun?: number;
}

const median = (v: number[]) => { const s = [...v].sort((a, b) => a - b); return s.length ? (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2 : undefined; };

/**
 * One row per (kernel, scenario, program, verifier and image numbers). Runs whose program verified identically are
 * merged; a program whose constants change what the verifier sees (e.g. a record size in .rodata) gets a row per shape.
 */
export function programRows(summary: SummaryRow[]): ProgramRow[] {
  const byRun = new Map<string, { kernel: string; scenario: string; program: string; params: string; m: Record<string, number> }>();
  for (const r of summary) {
    if (!r.variant.startsWith(PROGRAM_VARIANT) || r.status !== 'ok' || !(r.n > 0)) continue;
    const k = [r.kernel, r.scenario, r.variant, r.params].join('\u0000');
    if (!byRun.has(k)) byRun.set(k, { kernel: r.kernel, scenario: r.scenario, program: r.variant.slice(PROGRAM_VARIANT.length), params: r.params, m: {} });
    byRun.get(k)!.m[r.metric] = r.median;
  }
  const rows = new Map<string, ProgramRow & { times: number[]; runs: number[]; perRun: number[] }>();
  for (const run of byRun.values()) {
    const { m } = run;
    const k = [run.kernel, run.scenario, run.program, m.verified_insns, m.verifier_states, m.xlated_bytes, m.jited_bytes, m.memlock_bytes].join('\u0000');
    if (!rows.has(k)) {
      rows.set(k, {
        kernel: run.kernel, scenario: run.scenario, program: run.program, params: [], times: [], runs: [], perRun: [],
        verifiedInsns: m.verified_insns, verifierStates: m.verifier_states, xlatedBytes: m.xlated_bytes, jitedBytes: m.jited_bytes,
        memlockBytes: m.memlock_bytes,
      });
    }
    const row = rows.get(k)!;
    row.params.push(run.params);
    if (m.verify_us !== undefined) row.times.push(m.verify_us);
    if (m.run_cnt !== undefined) row.runs.push(m.run_cnt);
    if (m.ns_per_run !== undefined) row.perRun.push(m.ns_per_run);
  }
  // a program that ran in some runs only (an XDP sink on the TX variants): run_cnt over the runs where it ran, as ns/run
  const ranCount = (runs: number[]) => { const ran = runs.filter((v) => v > 0); return ran.length ? median(ran) : runs.length ? 0 : undefined; };
  return [...rows.values()].map(({ times, runs, perRun, ...r }) => ({ ...r, verifyUs: median(times), runCnt: ranCount(runs), nsPerRun: median(perRun) }));
}
