import MarkdownIt from 'markdown-it';
import type { SummaryRow, RunOutcome } from './csv.js';
import type { Manifest } from './manifest.js';
import type { ScenarioDefinition } from '../../scenarios/define.js';
import { crossRatios } from './ratios.js';
import { crossRatioDefs } from '../../scenarios/index.js';
import { fidelityRows, FIDELITY_TOLERANCE } from './fidelity.js';
import kernelBench, { fidelityMatches } from '../../scenarios/kernel-bench.js';

const fmt = (v: number | '' | undefined): string => {
  if (v === '' || v === undefined || !Number.isFinite(v)) return '';
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(3)} M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)} k`;
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
};

const esc = (s: string) => s.replace(/\|/g, '\\|');

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`)].join('\n');
}

export function renderMarkdown(m: Manifest, summary: SummaryRow[], outcomes: RunOutcome[], scenarios: ScenarioDefinition[]): string {
  const out: string[] = [];
  out.push(`# bpf-lab run ${m.runId}`, '');
  out.push(`Command: \`${m.command}\``, '');
  out.push(...fidelitySection(summary, m.accel.accel));
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
  out.push(table(['', ''], envRows), '');
  out.push(table(['kernel line', 'uname -r', 'packages (sha256)', 'boot → agent ready'], m.kernels.map((k) => [
    k.line, k.unameR ?? '(did not boot)', k.packages.map((p) => `${p.name} ${p.version} (${p.sha256.slice(0, 12)}…)`).join('<br>'),
    k.bootMs !== undefined ? `${(k.bootMs / 1000).toFixed(2)} s` : '',
  ])), '');
  if (m.accel.accel === 'tcg') {
    out.push('> **Warning: TCG (software emulation).** Absolute numbers are not comparable to bare metal or to the published ' +
      'numbers below: every instruction is emulated. Compare ratios measured in the same run (overhead against the baseline, ' +
      'ring buffer vs perf buffer, one variant against another), not absolute rates.', '');
  }
  for (const s of scenarios) {
    const rows = summary.filter((r) => r.scenario === s.id);
    const sOutcomes = outcomes.filter((o) => o.scenario === s.id);
    if (!rows.length && !sOutcomes.length) continue;
    out.push(`## ${s.id}: ${s.title}`, '', s.description, '');
    const measured = rows.filter((r) => r.status === 'ok' && r.n > 0 && r.metric);
    if (measured.length) {
      out.push(table(['kernel', 'variant', 'params', 'metric', 'mean ± stddev', 'median', 'p95', 'n', 'cv', 'unit'], measured.map((r) => [
        r.kernel, r.variant, r.params, r.metric, `${fmt(r.mean)} ± ${fmt(r.stddev)}`, fmt(r.median), fmt(r.p95), String(r.n),
        `${(r.cv * 100).toFixed(1)}%${r.noisy ? ' (noisy)' : ''}`, r.unit,
      ])), '');
    }
    const bad = sOutcomes.filter((o) => o.status !== 'ok');
    if (bad.length) {
      out.push(table(['kernel', 'params', 'status', 'reason'], bad.map((o) => [o.kernel, o.params, o.status, o.note])), '');
    }
    const withRef = measured.filter((r) => r.reference !== '');
    if (withRef.length) {
      out.push('### Published vs measured', '');
      out.push(table(['kernel', 'variant', 'params', 'metric', 'published', 'measured', 'ratio', 'source'], withRef.map((r) => [
        r.kernel, r.variant, r.params, r.metric, fmt(r.reference as number), fmt(r.mean), (r.ratio_to_reference as number).toFixed(3), r.reference_source,
      ])), '');
    }
  }
  const ratios = crossRatios(crossRatioDefs, summary, (id) => scenarios.find((s) => s.id === id)?.references ?? []);
  if (ratios.length) {
    out.push('## Ratios at equal settings', '', 'Measured in the same run, so comparable with the published ratio even under TCG.', '');
    out.push(table(['comparison', 'kernel', 'setting', 'measured', 'published'], ratios.map((r) => [
      r.title, r.kernel, r.setting, `${r.ratio.toFixed(3)} (${fmt(r.numerator)} / ${fmt(r.denominator)})`, r.published !== undefined ? r.published.toFixed(3) : '',
    ])), '');
  }
  if (m.warnings.length) out.push('## Warnings', '', ...m.warnings.map((w) => `- ${w}`), '');
  out.push('## Timings', '', table(['phase', 'ms'], Object.entries(m.timings.phases).map(([k, v]) => [k, String(v)])), '');
  out.push(`Reproduce: \`npm run lab -- reproduce ${m.runDirName}\``, '');
  return out.join('\n');
}

/** The first section: the lab's harness against the kernel's own bench in the same VM, and the published number. */
function fidelitySection(summary: SummaryRow[], accel: string): string[] {
  const rows = fidelityRows(summary, fidelityMatches, kernelBench.references);
  if (!rows.length) return [];
  const med = (x?: { median: number; n: number }) => (x ? `${fmt(x.median)} (n=${x.n})` : '—');
  return [
    '## Fidelity: lab harness vs the kernel\'s bench', '',
    'Each row: the lab scenario\'s median and the kernel selftests `bench` median for the same mechanism, measured in the same VM ' +
    `in this run; lab / bench within ±${Math.round(FIDELITY_TOLERANCE * 100)}% counts as agreeing. Published numbers are the bench's ` +
    `own published runs (bare metal)${accel === 'tcg' ? '; under TCG only the lab / bench column is comparable, not the absolute values' : ''}.`, '',
    table(['kernel', 'row', 'lab harness', 'kernel bench (same VM, same run)', 'published', 'lab / bench', 'verdict'], rows.map((r) => [
      r.kernel, r.label + (r.lab ? ` — ${r.lab.scenario} ${r.lab.variant}` : ''), med(r.lab), med(r.bench),
      r.published ? fmt(r.published.value) : '', r.ratio !== undefined ? r.ratio.toFixed(2) : '', r.verdict,
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
