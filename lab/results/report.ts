import MarkdownIt from 'markdown-it';
import { matchReference, type SummaryRow, type RunOutcome } from './csv.js';
import type { Manifest } from './manifest.js';
import { BETTER_MARK, type ScenarioDefinition } from '../../scenarios/define.js';
import { crossRatios } from './ratios.js';
import { crossRatioDefs } from '../../scenarios/index.js';
import { fidelityRows, FIDELITY_TOLERANCE, type FidelityRow } from './fidelity.js';
import kernelBench, { fidelityMatches } from '../../scenarios/kernel-bench.js';
import { PROGRAM_VARIANT, programRows } from './programs.js';
import { fmt } from './overview.js';


const fmtCv = (cv: number): string => (Number.isNaN(cv) ? '' : cv === Infinity ? '∞' : `${(cv * 100).toFixed(1)}%`);

const esc = (s: string) => s.replace(/\|/g, '\\|');

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

/**
 * Order: (1) the fidelity table — lab vs the kernel's own bench vs published — when the run has matched rows;
 * then `extra.afterFidelity` (the summary and charts); (2) ratios measured within this run; (3) warnings, failed and skipped rows; (4) environment; (5) one section per
 * scenario (without its per-program rows); (6) the programs each scenario loaded, per kernel; (7) timings.
 */
export function renderMarkdown(m: Manifest, summary: SummaryRow[], outcomes: RunOutcome[], scenarios: ScenarioDefinition[],
  /** afterFidelity: the summary and charts (write-report.ts); perScenario: Markdown at the top of each scenario's section */
  extra: { afterFidelity?: string[]; perScenario?: (scenario: string) => string[]; fidelity?: FidelityRow[] } = {}): string {
  const out: string[] = [];
  out.push(`# bpf-lab run ${m.runId}`, '');
  out.push(`Command: \`${m.command}\``, '');
  if (m.accel.accel === 'tcg') {
    out.push('> **TCG (software emulation).** Every guest instruction is emulated, so absolute numbers here are not comparable ' +
      'with bare-metal or published numbers. Ratios measured within one run share the same emulation, but emulation does not ' +
      'slow every code path by the same factor, so they can still differ from ratios measured on hardware.', '');
  }
  out.push(...fidelitySection(extra.fidelity ?? fidelityRows(summary, fidelityMatches, kernelBench.references), m.accel.accel));
  out.push(...(extra.afterFidelity ?? []));

  const ratios = crossRatios(crossRatioDefs, summary, (id) => scenarios.find((s) => s.id === id)?.references ?? []);
  if (ratios.length) {
    out.push('## Ratios measured in this run', '', 'Both sides of each ratio ran in the same VM, one after the other, at equal settings. ' +
      'The published column is the same ratio from the published numbers (other hardware, bare metal); it is context, not a target.', '');
    out.push(table(['comparison', 'kernel', 'setting', 'measured', 'published'], ratios.map((r) => [
      r.title, r.kernel, r.setting, `${r.ratio.toFixed(3)} (${fmt(r.numerator)} / ${fmt(r.denominator)})`, r.published !== undefined ? r.published.toFixed(3) : '',
    ])), '');
  }

  const notOk = outcomes.filter((o) => o.status !== 'ok');
  if (m.warnings.length || notOk.length) {
    out.push('## Warnings', '');
    out.push(...m.warnings.map((w) => `- ${w}`));
    for (const o of notOk) {
      out.push(`- ${o.status}: ${o.kernel} ${o.scenario}${o.params ? ` [${o.params}]` : ''}${o.variant ? ` variant ${o.variant}` : ''}: ${o.note}`);
    }
    out.push('');
  }

  out.push('## Environment', '');
  const envRows: string[][] = [
    ['accelerator', `${m.accel.accel} (${m.accel.reason})`],
    ['vCPUs / memory', `${m.vm.cpus} / ${m.vm.memoryMb} MiB`],
    ['host CPU', m.host.cpuModel],
    ['QEMU', m.host.qemu],
    ['virtiofsd', m.host.virtiofsd],
    ['clang', m.toolchain.clang],
    ['libbpf', m.toolchain.libbpf],
    ['bpftool', m.toolchain.bpftool],
    ['node', m.host.node],
    ['git commit', m.git],
  ];
  const filter = Object.entries(m.options.params ?? {});
  if (filter.length) envRows.push(['--param', filter.map(([k, v]) => `${k}=${v.join(',')}`).join(' ')]);
  out.push(table(['', ''], envRows), '');
  out.push(table(['kernel line', 'uname -r', 'packages (sha256)', 'boot → agent ready', 'clocksource'], m.kernels.map((k) => [
    k.line, k.unameR ?? '(did not boot)', k.packages.map((p) => `${p.name} ${p.version} (${p.sha256.slice(0, 12)}…)`).join('<br>'),
    k.bootMs !== undefined ? `${(k.bootMs / 1000).toFixed(2)} s` : '', k.clocksource ?? '',
  ])), '');
  if (m.accel.accel === 'tcg' && m.kernels.some((k) => k.clocksource && !k.clocksource.startsWith('tsc'))) {
    out.push('The guest clocksource is not the TSC (under TCG the kernel finds the vCPUs\' TSCs unsynchronized): every clock read ' +
      '(clock_gettime, bpf_ktime_get_ns, arming a timer) is an emulated device access, so mechanisms that read the clock per ' +
      'event cost relatively more here than on hardware.', '');
  }
  out.push('Metrics marked ↑ are better higher, ↓ better lower (declared in each scenario\'s metric table); unmarked ones are run totals. ' +
    'A `failed` status marks samples taken before the run failed: kept, not to be trusted as a full measurement.', '');

  for (const s of scenarios) {
    const rows = summary.filter((r) => r.scenario === s.id);
    const sOutcomes = outcomes.filter((o) => o.scenario === s.id);
    if (!rows.length && !sOutcomes.length) continue;
    out.push(`## ${s.id}: ${s.title}`, '', s.description, '');
    out.push(...(extra.perScenario?.(s.id) ?? []));
    const measured = rows.filter((r) => r.n > 0 && r.metric && !r.variant.startsWith(PROGRAM_VARIANT));
    const anyNotOk = measured.some((r) => r.status !== 'ok');
    if (measured.length) {
      const head = ['kernel', 'variant', 'params', 'metric', 'mean ± stddev', 'median', 'p95', 'n', 'cv', 'unit', ...(anyNotOk ? ['status'] : [])];
      out.push(table(head, measured.map((r) => [
        r.kernel, r.variant, r.params, r.metric + (r.better ? BETTER_MARK[r.better] : ''), r.n > 1 ? `${fmt(r.mean)} ± ${fmt(r.stddev)}` : fmt(r.mean),
        fmt(r.median), fmt(r.p95), String(r.n), fmtCv(r.cv) + (r.noisy ? ' (noisy)' : ''), r.unit, ...(anyNotOk ? [r.status] : []),
      ])), '');
    }
    const bad = sOutcomes.filter((o) => o.status !== 'ok');
    if (bad.length) {
      out.push(table(['kernel', 'params', 'variant', 'status', 'reason'], bad.map((o) => [o.kernel, o.params, o.variant ?? '(all)', o.status, o.note])), '');
    }
    const withRef = measured.filter((r) => r.reference !== '' && r.status === 'ok');
    if (withRef.length) {
      out.push('### Published vs measured', '');
      const ratioOrWhy = (r: SummaryRow) => {
        const why = matchReference(s.references, r.variant, r.metric, r.params)?.notComparable;
        return why ? `not comparable: ${why}` : (r.ratio_to_reference as number).toFixed(3);
      };
      out.push(table(['kernel', 'variant', 'params', 'metric', 'published', 'measured', 'ratio', 'source'], withRef.map((r) => [
        r.kernel, r.variant, r.params, r.metric, fmt(r.reference as number), fmt(r.mean), ratioOrWhy(r), r.reference_source,
      ])), '');
    }
  }
  out.push(...programSection(summary));
  out.push('## Timings', '', table(['phase', 'ms'], Object.entries(m.timings.phases).map(([k, v]) => [k, String(v)])), '');
  out.push(`Reproduce: \`npm run lab -- reproduce ${m.runDirName}\``, '');
  return out.join('\n');
}

/** Verifier and image numbers of every program a run loaded: the rows that compare across machines and accelerators. */
function programSection(summary: SummaryRow[]): string[] {
  const rows = programRows(summary);
  if (!rows.length) return [];
  const n = (v?: number) => (v === undefined ? '' : String(v));
  const runs = (p: string[]) => (p.length === 1 ? p[0] : `${p[0]} (+${p.length - 1} runs)`);
  return [
    '## BPF programs', '',
    'Per program loaded: instructions the verifier processed and its total states (verifier statistics log), translated and ' +
    'JIT image sizes (BPF_OBJ_GET_INFO_BY_FD) and the memory charged for it (memlock, from its fdinfo). These do not depend on ' +
    'the accelerator; verification time (µs, median over the runs) does. run_cnt and ns/run come from BPF run-time stats, ' +
    'which are on only in the first half of each phase\'s warm-up (the measured intervals ran with stats off): the runs ' +
    'counted then and the program\'s own time per run (medians over the runs; a time, so TCG inflates it). Each BPF ' +
    'object\'s load time is in its scenario\'s table (variant object:<name>, load_ms).', '',
    table(['kernel', 'scenario', 'program', 'runs', 'verified insns', 'states', 'xlated B', 'JIT B', 'memlock B', 'verify µs', 'run_cnt', 'ns/run'], rows.map((r) => [
      r.kernel, r.scenario, r.program, runs(r.params), n(r.verifiedInsns), n(r.verifierStates), n(r.xlatedBytes), n(r.jitedBytes),
      n(r.memlockBytes), r.verifyUs === undefined ? '' : fmt(r.verifyUs), n(r.runCnt), r.nsPerRun === undefined ? '' : fmt(r.nsPerRun),
    ])), '',
  ];
}

/** The first section: the lab's harness against the kernel's own bench in the same VM, and the published number. */
function fidelitySection(rows: FidelityRow[], accel: string): string[] {
  if (!rows.length) return [];
  const withRounds = rows.some((r) => r.roundRatios);
  const med = (x?: { median: number; n: number }) => (x ? `${fmt(x.median)} (n=${x.n})` : '—');
  return [
    '## Fidelity: lab harness vs the kernel\'s bench', '',
    'Each row: the lab scenario\'s median and the kernel selftests `bench` median for the same mechanism, measured in the same VM ' +
    'in this run, each bench run followed at once by the lab runs it is matched with (so both sides see the same host load); ' +
    `lab / bench within ±${Math.round(FIDELITY_TOLERANCE * 100)}% counts as agreeing. Published numbers are the bench's ` +
    `own published runs (bare metal)${accel === 'tcg' ? '; under TCG only the lab / bench column is comparable, not the absolute values' : ''}.`, '',
    ...(withRounds ? ['With several rounds (`--rounds`), the medians pool every round; "per round" is lab / bench within each round, ' +
      'which tells a steady harness difference (every round on the same side) from run-to-run variance.', ''] : []),
    table(['kernel', 'row', 'lab harness', 'kernel bench (same VM, same run)', 'published', 'lab / bench', ...(withRounds ? ['per round'] : []), 'verdict'], rows.map((r) => [
      r.kernel, r.label + (r.lab ? ` — ${r.lab.scenario} ${r.lab.variant}` : ''), med(r.lab), med(r.bench),
      r.published ? fmt(r.published.value) : '', r.ratio !== undefined ? r.ratio.toFixed(2) : '',
      ...(withRounds ? [r.roundRatios?.map((x) => x.toFixed(2)).join(' ') ?? ''] : []), r.verdict,
    ])), '',
    ...[...new Set(rows.flatMap((r) => (r.published ? [r.published.source] : [])))].map((src) => `- Published: ${src}`), '',
  ];
}

export function renderHtml(markdown: string, title: string): string {
  const body = new MarkdownIt({ html: true }).render(markdown);
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title><style>
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em}table{border-collapse:collapse;font-size:90%}
td,th{border:1px solid #ccc;padding:2px 6px}blockquote{background:#fff4e0;border-left:4px solid #f0a000;margin:1em 0;padding:.5em 1em}
</style></head><body>${body}</body></html>\n`;
}
