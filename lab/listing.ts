import { loadCatalog } from './kernels/catalog.js';
import { packagesCached } from './kernels/packages.js';
import { scenarios } from '../scenarios/index.js';
import { runsOf, BETTER_MARK } from '../scenarios/define.js';

export async function listKernels(json: boolean): Promise<string> {
  const c = loadCatalog();
  const rows = await Promise.all(c.kernels.map(async (k) => ({
    line: k.line, release: k.release, default: k.line === c.default,
    packages: k.packages.map((p) => ({ name: p.name, version: p.version, suite: p.suite, size: p.size, sha256: p.sha256 })),
    cached: await packagesCached(`linux-${k.line}`, k.packages),
  })));
  if (json) return JSON.stringify(rows, null, 2) + '\n';
  const lines = ['line   cached  release                          package (version, suite) sha256'];
  for (const r of rows) {
    r.packages.forEach((p, i) => {
      const head = i === 0 ? `${(r.line + (r.default ? '*' : '')).padEnd(6)} ${(r.cached ? 'yes' : 'no').padEnd(7)} ${r.release.padEnd(32)} ` : ' '.repeat(48);
      lines.push(`${head}${p.name} (${p.version}, ${p.suite}) ${p.sha256}`);
    });
  }
  lines.push('* default kernel line');
  return lines.join('\n') + '\n';
}

export function listScenarios(json: boolean): string {
  const rows = scenarios.map((s) => ({
    id: s.id, title: s.title, requires: s.requires, params: s.params, runs: runsOf(s, s.params).length, metrics: s.metrics,
  }));
  if (json) return JSON.stringify(rows, null, 2) + '\n';
  const out: string[] = [];
  for (const r of rows) {
    const req = [r.requires.kernel && `kernel ${r.requires.kernel}+`, ...(r.requires.maps ?? []).map((m) => `map ${m}`), ...(r.requires.programs ?? []).map((p) => `prog ${p}`)].filter(Boolean).join(', ');
    out.push(`${r.id}: ${r.title}`, `  requires: ${req || 'nothing special'}`,
      `  params (${r.runs} runs): ${Object.entries(r.params).map(([k, v]) => `${k}=${v.join('|')}`).join('  ')}`,
      `  metrics: ${Object.entries(r.metrics).map(([k, m]) => `${k} [${m.unit}${BETTER_MARK[m.better]}]`).join(', ')}`, '');
  }
  out.push('↑ higher is better, ↓ lower is better; unmarked metrics are run totals (accounting, not compared)', '');
  return out.join('\n');
}
