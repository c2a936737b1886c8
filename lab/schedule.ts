import type { Params } from './agent/protocol.js';
import type { ScenarioDefinition } from '../scenarios/define.js';
import type { FidelityMatch } from '../scenarios/kernel-bench.js';

/** One step of a boot's work: a scenario and the parameter combinations to run now. */
export interface WorkItem { scenario: ScenarioDefinition; runs: Params[] }

const covers = (run: Params, wanted: Params) => Object.entries(wanted).every(([k, v]) => String(run[k]) === String(v));

/**
 * The order of a boot's runs. By default scenario after scenario. When the kernel's bench runs beside lab
 * scenarios it measures, each bench run is followed at once by the lab runs it is matched with, so both sides of a
 * fidelity row see the same host conditions (on a shared or loaded host the load drifts over minutes).
 */
export function scheduleWork(scenarios: ScenarioDefinition[], matrices: Record<string, Params[]>, matches: FidelityMatch[], benchId = 'kernel-bench'): WorkItem[] {
  const bench = scenarios.find((s) => s.id === benchId);
  if (!bench || scenarios.length === 1) return scenarios.map((s) => ({ scenario: s, runs: matrices[s.id] }));
  const benchRuns = matrices[bench.id];
  // each lab run goes right after the last bench run it is matched with (the trigger scenarios measure several
  // bench rows in one run: baseline, kprobe and fentry come out of one kprobe-overhead run)
  const slot = new Map<ScenarioDefinition, Map<number, Params[]>>();
  const rest: WorkItem[] = [];
  for (const s of scenarios) {
    if (s === bench) continue;
    for (const p of matrices[s.id]) {
      let last = -1;
      benchRuns.forEach((b, i) => {
        const mine = matches.filter((m) => m.bench.variant.split(':')[0] === b.bench);
        if (mine.some((m) => m.lab.some((l) => l.scenario === s.id && covers(p, l.params)))) last = i;
      });
      if (last < 0) { rest.push({ scenario: s, runs: [p] }); continue; }
      if (!slot.has(s)) slot.set(s, new Map());
      const at = slot.get(s)!;
      at.set(last, [...(at.get(last) ?? []), p]);
    }
  }
  const work: WorkItem[] = [];
  benchRuns.forEach((b, i) => {
    work.push({ scenario: bench, runs: [b] });
    for (const s of scenarios) {
      const runs = slot.get(s)?.get(i);
      if (runs) work.push({ scenario: s, runs });
    }
  });
  // unmatched runs keep their scenario's order, one work item per scenario
  for (const s of scenarios) {
    const runs = rest.filter((w) => w.scenario === s).flatMap((w) => w.runs);
    if (runs.length) work.push({ scenario: s, runs });
  }
  return work;
}
