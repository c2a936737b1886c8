/*
 * `plan --shards N`: split a run into shards that separate machines (a CI matrix) run independently; `merge` then
 * puts their run directories back together.
 *
 * Every kernel line gets N shards. The work of a kernel is its scenarios' runs (parameter combinations), each
 * weighted by the scenario's estimateS plus a boot per command. A scenario heavier than a shard's share is cut into
 * slices along its longest parameter axis (`--param axis=v1,v2`); slices and whole scenarios are then dealt to the
 * lightest shard, heaviest first. Each shard is one or more exact `npm run lab -- ...` commands: whole scenarios
 * share one command, each slice is its own (a `--param` applies to every selected scenario that has the key).
 */
import { resolveKernels, loadCatalog } from '../kernels/catalog.js';
import { resolveScenarios } from '../run.js';
import { matrixAxes, runsOf, type ScenarioDefinition } from '../../scenarios/define.js';
import { filterMatrix, checkFilterKeys, type ParamFilter } from '../param-filter.js';
import { UsageError } from '../errors.js';
import type { Params } from '../agent/protocol.js';

export interface PlanOptions {
  kernel: string; scenario?: string; suite?: string; quick: boolean; shards: number; params: ParamFilter;
  /** passed on to every command when given */
  out?: string; accel?: 'auto' | 'kvm' | 'tcg'; cpus?: number; memory?: string;
}

/** One CI job: a kernel line and the commands that run its slice of the work, one after the other. */
export interface Shard {
  /** stable, file-name safe: `<kernel>-<n>` (n from 1) */
  id: string;
  kernel: string;
  /** estimated guest seconds (scenario estimates plus a boot per command) */
  estimateS: number;
  /** how many (scenario, parameter combination) runs */
  runs: number;
  scenarios: string[];
  /** argument vectors after `npm run lab --` */
  argv: string[][];
  /** the same as shell commands */
  commands: string[];
  /** the commands joined with ` && ` (one CI step) */
  command: string;
}

export interface Plan {
  kernels: string[]; scenarios: string[]; quick: boolean; shardsPerKernel: number; estimateS: number;
  shards: Shard[];
}

/** Guest-side cost of one command besides its runs: a boot (TCG, loaded machine; KVM is faster). Only for balancing. */
export const BOOT_COST_S = 30;

interface Piece { scenario: ScenarioDefinition; slice?: { key: string; values: (string | number)[] }; runs: Params[]; estimateS: number }

const cost = (s: ScenarioDefinition, runs: Params[], quick: boolean) => runs.reduce((t, p) => t + s.estimateS(p, quick), 0);

/** Cut a scenario into at most `k` slices along its longest axis, balanced by estimate; a single run cannot be cut. */
export function sliceScenario(s: ScenarioDefinition, axes: Record<string, (string | number)[]>, quick: boolean, k: number): Piece[] {
  const whole: Piece = { scenario: s, runs: runsOf(s, axes), estimateS: 0 };
  whole.estimateS = cost(s, whole.runs, quick);
  const [key, values] = Object.entries(axes).reduce<[string, (string | number)[]]>((best, e) => (e[1].length > best[1].length ? e : best), ['', []]);
  if (k < 2 || values.length < 2) return [whole];
  const byValue = values.map((v) => {
    const runs = runsOf(s, { ...axes, [key]: [v] });
    return { v, runs, est: cost(s, runs, quick) };
  }).filter((x) => x.runs.length > 0).sort((a, b) => b.est - a.est);
  const bins: { values: (string | number)[]; runs: Params[]; est: number }[] = Array.from({ length: Math.min(k, byValue.length) }, () => ({ values: [], runs: [], est: 0 }));
  for (const x of byValue) {
    const b = bins.reduce((l, c) => (c.est < l.est ? c : l));
    b.values.push(x.v);
    b.runs.push(...x.runs);
    b.est += x.est;
  }
  // keep the declared value order inside a slice
  return bins.filter((b) => b.values.length).map((b) => ({
    scenario: s, slice: { key, values: values.filter((v) => b.values.includes(v)) }, runs: b.runs, estimateS: b.est,
  }));
}

const shellWord = (w: string) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`);

export function planShards(o: PlanOptions): Plan {
  if (!Number.isInteger(o.shards) || o.shards < 1 || o.shards > 256) throw new UsageError(`--shards '${o.shards}' must be an integer 1..256`);
  const kernels = resolveKernels(o.kernel, loadCatalog());
  const scenarios = resolveScenarios(o);
  checkFilterKeys(o.params, scenarios);
  const axesOf = new Map(scenarios.map((s) => [s.id, filterMatrix(s, matrixAxes(s, o.quick), o.params)]));
  for (const s of scenarios) {
    if (runsOf(s, axesOf.get(s.id)!).length === 0) throw new UsageError(`${s.id}: no run left with those --param values`);
  }
  const total = scenarios.reduce((t, s) => t + cost(s, runsOf(s, axesOf.get(s.id)!), o.quick), 0);
  const share = total / o.shards;

  const pieces = scenarios.flatMap((s) => {
    const est = cost(s, runsOf(s, axesOf.get(s.id)!), o.quick);
    return sliceScenario(s, axesOf.get(s.id)!, o.quick, est > share ? Math.ceil(est / share) : 1);
  }).sort((a, b) => b.estimateS - a.estimateS);
  const bins: Piece[][] = Array.from({ length: o.shards }, () => []);
  const binCost = (b: Piece[]) => b.reduce((t, p) => t + p.estimateS, 0) + commandsOf(b).length * BOOT_COST_S;
  for (const p of pieces) {
    const b = bins.reduce((l, c) => (binCost([...c, p]) < binCost([...l, p]) ? c : l));
    b.push(p);
  }

  const common = (): string[] => [
    ...(o.quick ? ['--quick'] : ['--full']),
    ...(o.accel ? ['--accel', o.accel] : []), ...(o.cpus ? ['--cpus', String(o.cpus)] : []), ...(o.memory ? ['--memory', o.memory] : []),
    ...(o.out ? ['--out', o.out] : []),
  ];
  const shards: Shard[] = [];
  for (const k of kernels) {
    bins.filter((b) => b.length).forEach((b, i) => {
      const argv = commandsOf(b).map((c) => {
        const ids = c.map((p) => p.scenario.id);
        // the user's --param keys that these scenarios have (another key would be a usage error), then the slice's
        const filter: ParamFilter = Object.fromEntries(Object.entries(o.params).filter(([key]) => c.some((p) => key in p.scenario.params)));
        for (const p of c) if (p.slice) filter[p.slice.key] = p.slice.values.map(String);
        return ['--kernel', k.line, '--scenario', ids.join(','), ...Object.entries(filter).map(([key, v]) => ['--param', `${key}=${v.join(',')}`]).flat(), ...common()];
      });
      const commands = argv.map((a) => ['npm', 'run', 'lab', '--', ...a].map(shellWord).join(' '));
      shards.push({
        id: `${k.line}-${i + 1}`, kernel: k.line, estimateS: Math.round(binCost(b)), runs: b.reduce((t, p) => t + p.runs.length, 0),
        scenarios: [...new Set(b.map((p) => p.scenario.id))], argv, commands, command: commands.join(' && '),
      });
    });
  }
  return {
    kernels: kernels.map((k) => k.line), scenarios: scenarios.map((s) => s.id), quick: o.quick, shardsPerKernel: o.shards,
    estimateS: Math.round(shards.reduce((t, s) => t + s.estimateS, 0)), shards,
  };
}

/** Whole scenarios of a shard share one command; each slice gets its own. */
function commandsOf(pieces: Piece[]): Piece[][] {
  const whole = pieces.filter((p) => !p.slice);
  return [...(whole.length ? [whole] : []), ...pieces.filter((p) => p.slice).map((p) => [p])];
}
