import { parseParams, type ResultRow, type SummaryRow } from './csv.js';
import { summarize } from './stats.js';
import type { Reference } from '../../scenarios/define.js';
import type { FidelityMatch } from '../../scenarios/kernel-bench.js';
import { versionAtLeast } from '../kernels/catalog.js';

/** How far the lab's harness may sit from the kernel's bench on the same VM and still count as agreeing. */
export const FIDELITY_TOLERANCE = 0.1;

/** One row of the fidelity table: the lab's harness | the kernel's bench (same VM, same run) | published. */
export interface FidelityRow {
  kernel: string;
  label: string;
  lab?: { scenario: string; variant: string; params: string; median: number; n: number; cv: number };
  bench?: { variant: string; median: number; n: number; cv: number };
  published?: { value: number; source: string };
  /** lab median / bench median */
  ratio?: number;
  /** with `--rounds N` (N ≥ 2): lab median / bench median within each round, in round order */
  roundRatios?: number[];
  verdict: string;
}

function findRow(summary: SummaryRow[], kernel: string, scenario: string, variant: string, metric: string, params: Record<string, unknown> = {}): SummaryRow | undefined {
  return summary.find((r) => r.kernel === kernel && r.scenario === scenario && r.variant === variant && r.metric === metric && r.n > 0 &&
    Object.entries(params).every(([k, v]) => parseParams(r.params)[k] === String(v)));
}

const pct = (x: number) => `${(x * 100).toFixed(0)}%`;

const span = (xs: number[]) => `×${Math.min(...xs).toFixed(2)}–×${Math.max(...xs).toFixed(2)} over ${xs.length} rounds`;

function verdict(m: FidelityMatch, lab: FidelityRow['lab'], bench: FidelityRow['bench'], ratio: number | undefined, otherMethod: boolean, benchSkipped?: string, rounds: number[] = []): string {
  if (m.lab.length === 0) return `no lab counterpart${m.caveat ? `: ${m.caveat}` : ''}`;
  if (otherMethod) return `not comparable: ${m.otherMethod!.why}`;
  if (!lab) return 'not measured in this run (lab row)';
  if (!bench) return benchSkipped ? `kernel bench skipped: ${benchSkipped}` : 'not measured in this run (kernel bench row)';
  if (ratio === undefined || !Number.isFinite(ratio)) return 'differs: no finite ratio';
  // pooled agreement counts only when no round strays beyond twice the tolerance (else the pool hides the spread)
  const roundsAgree = rounds.every((x) => Math.abs(x - 1) <= 2 * FIDELITY_TOLERANCE);
  if (Math.abs(ratio - 1) <= FIDELITY_TOLERANCE && roundsAgree) {
    const notes = [rounds.length >= 2 ? `rounds ×${Math.min(...rounds).toFixed(2)}–×${Math.max(...rounds).toFixed(2)}` : '', m.caveat ? `note: ${m.caveat}` : ''].filter(Boolean);
    return `within ±${pct(FIDELITY_TOLERANCE)}${notes.length ? ` (${notes.join('; ')})` : ''}`;
  }
  if (m.caveat) return `differs: ${m.caveat}`;
  // rounds tell a steady harness difference from run-to-run variance better than one run's cv can
  if (rounds.length >= 2) {
    const side = (x: number) => (x > 1 + FIDELITY_TOLERANCE ? 1 : x < 1 - FIDELITY_TOLERANCE ? -1 : 0);
    const sides = new Set(rounds.map(side));
    if (sides.size === 1 && !sides.has(0)) {
      // rounds share one boot: a difference every round has is steady in this boot (a harness difference, or state of
      // the boot both sides do not share: a second run tells which)
      return `differs in every round (${span(rounds)}): lab harness ${ratio < 1 ? 'slower' : 'faster'} than the kernel bench throughout this boot`;
    }
    return `varies between rounds (${span(rounds)}, pooled ×${ratio.toFixed(2)}): run-to-run variance, not a steady harness difference`;
  }
  const noisy = [lab.cv > FIDELITY_TOLERANCE ? `lab cv ${pct(lab.cv)}` : '', bench.cv > FIDELITY_TOLERANCE ? `bench cv ${pct(bench.cv)}` : ''].filter(Boolean);
  if (noisy.length) return `differs: samples too noisy to tell (${noisy.join(', ')})`;
  return `differs: lab harness ${ratio < 1 ? 'slower' : 'faster'} than the kernel bench on the same VM (×${ratio.toFixed(2)}); a harness difference`;
}

/**
 * Pair every declared bench row with the lab's row for the same mechanism, per kernel that ran the kernel bench (none
 * when it did not run). Rows measured by neither side are left out. Published values are the bench rows' references.
 */
export function fidelityRows(summary: SummaryRow[], matches: FidelityMatch[], benchRefs: Reference[], samples: ResultRow[] = []): FidelityRow[] {
  const kernels = [...new Set(summary.filter((r) => r.scenario === 'kernel-bench').map((r) => r.kernel))];
  const out: FidelityRow[] = [];
  for (const kernel of kernels) {
    for (const m of matches) {
      const primary = findRow(summary, kernel, 'kernel-bench', m.bench.variant, m.bench.metric);
      const other = !primary && m.otherMethod ? findRow(summary, kernel, 'kernel-bench', m.otherMethod.variant, m.bench.metric) : undefined;
      const b = primary ?? other;
      const l = m.lab.map((c) => findRow(summary, kernel, c.scenario, c.variant, c.metric, c.params)).find(Boolean);
      const ref = benchRefs.find((r) => r.variant === m.bench.variant && r.metric === m.bench.metric);
      const lab = l && { scenario: l.scenario, variant: l.variant, params: l.params, median: l.median, n: l.n, cv: l.cv };
      const bench = b && { variant: b.variant, median: b.median, n: b.n, cv: b.cv };
      if (!lab && !bench) continue;
      const ratio = lab && bench && !other ? lab.median / bench.median : undefined;
      const roundRatios = ratio === undefined ? [] : perRoundRatios(samples, kernel, l!, b!);
      const benchName = m.bench.variant.split(':')[0];
      const skipped = bench ? undefined : summary.find((r) => r.kernel === kernel && r.scenario === 'kernel-bench' && r.status === 'skipped' &&
        parseParams(r.params).bench === benchName)?.note;
      out.push({
        kernel, label: m.label, lab, bench, ratio, published: other ? undefined : ref && { value: ref.value, source: ref.source },
        ...(roundRatios.length >= 2 ? { roundRatios } : {}),
        verdict: verdict(withKernelCaveat(m, (l ?? b)?.kernel_release), lab, bench, ratio, Boolean(other), skipped, roundRatios),
      });
    }
  }
  return out;
}

/** The match with its version-dependent caveat applied for this kernel release. */
function withKernelCaveat(m: FidelityMatch, release: string | undefined): FidelityMatch {
  if (m.caveat || !m.caveatSince || !release || !versionAtLeast(release, m.caveatSince.since)) return m;
  return { ...m, caveat: m.caveatSince.why };
}

/** Per round (`--rounds`), the lab row's median over the bench row's median; rounds missing either side are left out. */
function perRoundRatios(samples: ResultRow[], kernel: string, lab: SummaryRow, bench: SummaryRow): number[] {
  const of = (r: SummaryRow) => samples.filter((x) => x.kernel === kernel && x.scenario === r.scenario && x.variant === r.variant && x.metric === r.metric && x.params === r.params);
  const labS = of(lab);
  const benchS = of(bench);
  const rounds = [...new Set(labS.map((x) => x.round ?? 0))].sort((a, b) => a - b);
  const out: number[] = [];
  for (const round of rounds) {
    const l = labS.filter((x) => (x.round ?? 0) === round).map((x) => x.value);
    const b = benchS.filter((x) => (x.round ?? 0) === round).map((x) => x.value);
    if (l.length && b.length) out.push(summarize(l).median / summarize(b).median);
  }
  return out;
}
