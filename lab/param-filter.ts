/*
 * `--param key=value[,value...]` (repeatable): run a subset of the selected scenarios' parameter matrices.
 *
 * The given values replace that axis of each selected scenario that has the key (in the quick or the full matrix,
 * whichever the run uses); the other axes stay as they are. A key no selected scenario has is a usage error naming
 * the keys they do have. Values are checked against the axis's declared values by type: an axis of numbers takes any
 * number (integers only when every declared value is an integer), so `--param recordSize=256` works; an axis with
 * strings takes its declared strings (and numbers when it also declares numbers, e.g. rate=10000|max).
 */
import type { Params } from './agent/protocol.js';
import { UsageError } from './errors.js';

/** key → raw values, in the order given (a repeated key adds values) */
export type ParamFilter = Record<string, string[]>;

/** Parse the raw `--param` strings (syntax only; values are checked against scenarios by resolveParamValues). */
export function parseParamFlags(flags: string[]): ParamFilter {
  const out: ParamFilter = {};
  for (const f of flags) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(f.trim());
    if (!m) throw new UsageError(`--param '${f}' is not key=value[,value...] (e.g. --param producers=1,2)`);
    const values = m[2].split(',').map((v) => v.trim());
    if (values.some((v) => v === '')) throw new UsageError(`--param '${f}' has an empty value`);
    out[m[1]] = [...new Set([...(out[m[1]] ?? []), ...values])];
  }
  return out;
}

type Axis = (string | number)[];

/** The typed values of `raw` for an axis declared as `declared`, or a usage error naming the valid ones. */
export function resolveParamValues(scenario: string, key: string, declared: Axis, raw: string[]): (string | number)[] {
  const numeric = declared.filter((v): v is number => typeof v === 'number');
  const strings = declared.filter((v): v is string => typeof v === 'string');
  const integers = numeric.length > 0 && numeric.every(Number.isInteger);
  const valid = [numeric.length ? (integers ? 'any integer' : 'any number') : '', ...strings].filter(Boolean).join(', ');
  return raw.map((r) => {
    if (strings.includes(r)) return r;
    const n = Number(r);
    if (numeric.length && r.trim() !== '' && Number.isFinite(n) && (!integers || Number.isInteger(n))) return n;
    throw new UsageError(`--param ${key}=${r}: not a valid value of '${key}' in ${scenario}; valid: ${valid} (declared: ${declared.join(', ')})`);
  });
}

/** The axes of a matrix that a filter replaces, checked; throws if a filter key belongs to no selected scenario. */
export function checkFilterKeys(filter: ParamFilter, scenarios: { id: string; params: Record<string, Axis> }[]): void {
  for (const key of Object.keys(filter)) {
    if (!scenarios.some((s) => key in s.params)) {
      const keys = [...new Set(scenarios.flatMap((s) => Object.keys(s.params)))].sort();
      throw new UsageError(`--param ${key}: no selected scenario (${scenarios.map((s) => s.id).join(', ')}) has a parameter '${key}'; valid keys: ${keys.join(', ')}`);
    }
  }
}

/** Replace the filtered axes of a scenario's matrix (before expansion). */
export function filterMatrix(scenario: { id: string; params: Record<string, Axis> }, matrix: Record<string, Axis>, filter: ParamFilter): Record<string, Axis> {
  const out = { ...matrix };
  for (const [key, raw] of Object.entries(filter)) {
    if (key in scenario.params) out[key] = resolveParamValues(scenario.id, key, scenario.params[key], raw);
  }
  return out;
}

/**
 * Keep the recorded combinations (reproduce: a manifest's exact list) that match the filter. Values are typed
 * against the scenario's declared axis; a filter that leaves nothing of a scenario having the key is a usage error
 * naming the recorded values.
 */
export function filterCombinations(scenario: { id: string; params: Record<string, Axis> }, combos: Params[], filter: ParamFilter): Params[] {
  let out = combos;
  for (const [key, raw] of Object.entries(filter)) {
    if (!(key in scenario.params)) continue;
    const want = resolveParamValues(scenario.id, key, scenario.params[key], raw).map(String);
    const kept = out.filter((p) => want.includes(String(p[key])));
    if (!kept.length) {
      const recorded = [...new Set(combos.map((p) => String(p[key])))].join(', ');
      throw new UsageError(`--param ${key}=${raw.join(',')}: the run recorded ${scenario.id} with ${key} = ${recorded} only`);
    }
    out = kept;
  }
  return out;
}
