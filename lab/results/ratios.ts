import { parseParams, type SummaryRow } from './csv.js';
import type { Reference } from '../../scenarios/define.js';

/**
 * A ratio between two scenarios' rows at equal settings (e.g. ring buffer vs perf buffer events/s). Under TCG such
 * in-run ratios are what can be compared with the same ratio computed from published numbers.
 */
export interface CrossRatio {
  title: string;
  metric: string;
  numerator: { scenario: string; variant: string; fixed?: Record<string, string | number> };
  denominator: { scenario: string; variant: string; fixed?: Record<string, string | number> };
  /** parameters that must be equal on both sides */
  on: string[];
}

export interface CrossRatioRow { title: string; kernel: string; setting: string; numerator: number; denominator: number; ratio: number; published?: number }

const matches = (params: Record<string, string>, fixed: Record<string, string | number> = {}) =>
  Object.entries(fixed).every(([k, v]) => params[k] === String(v));

const settingOf = (params: Record<string, string | number | boolean>, on: string[]) => on.map((k) => `${k}=${params[k]}`).join(';');

export function crossRatios(defs: CrossRatio[], summary: SummaryRow[], refsFor: (scenario: string) => Reference[]): CrossRatioRow[] {
  const out: CrossRatioRow[] = [];
  for (const d of defs) {
    const side = (s: CrossRatio['numerator']) => summary.filter((r) => r.status === 'ok' && r.scenario === s.scenario && r.variant === s.variant && r.metric === d.metric && matches(parseParams(r.params), s.fixed));
    const dens = side(d.denominator);
    for (const n of side(d.numerator)) {
      const setting = settingOf(parseParams(n.params), d.on);
      const den = dens.find((x) => x.kernel === n.kernel && settingOf(parseParams(x.params), d.on) === setting);
      if (!den || !den.mean) continue;
      const refSide = (s: CrossRatio['numerator']) => refsFor(s.scenario).find((r) => r.metric === d.metric && r.variant === s.variant && r.params &&
        matches(Object.fromEntries(Object.entries(r.params).map(([k, v]) => [k, String(v)])), s.fixed) && settingOf(r.params, d.on) === setting);
      const rn = refSide(d.numerator);
      const rd = refSide(d.denominator);
      out.push({ title: d.title, kernel: n.kernel, setting, numerator: n.mean, denominator: den.mean, ratio: n.mean / den.mean, published: rn && rd ? rn.value / rd.value : undefined });
    }
  }
  return out;
}
