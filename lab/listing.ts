import { join } from 'node:path';
import { loadCatalog, type KernelEntry } from './kernels/catalog.js';
import { packagesCached, exists } from './kernels/packages.js';
import { aptServed } from './kernels/apt.js';
import { snapshotBase } from './kernels/snapshot.js';
import { kernelOrgBase, tarballUrl, tarballCachePath } from './kernels/kernel-org.js';
import { httpGet } from './kernels/download.js';
import { readBuiltNames } from './kernels/names.js';
import { builtDir, buildKey, compilerVersion, FRAGMENT } from './kernels/build.js';
import { sha256File } from './host/hash.js';
import { errorMessage } from './errors.js';
import { scenarios } from '../scenarios/index.js';
import { runsOf, BETTER_MARK } from '../scenarios/define.js';

interface KernelRow { line: string; release: string; default: boolean; source: string; pin: string; cached: boolean; fetchable: string; packages?: unknown[] }

/** Can we reach url from here? A short probe: HEAD-like GET whose body is dropped. */
async function reachable(url: string): Promise<string | true> {
  try {
    const res = await httpGet(url, {}, 5000);
    await res.body?.cancel();
    return res.ok ? true : `HTTP ${res.status}`;
  } catch (e) {
    return (e as { reason?: string }).reason ?? errorMessage(e);
  }
}

async function debianRow(k: Extract<KernelEntry, { kind: 'debian' }>, servedSet: Set<string> | undefined): Promise<Pick<KernelRow, 'cached' | 'fetchable' | 'source'>> {
  const cached = await packagesCached(`linux-${k.line}`, k.packages);
  const served = cached || !servedSet || k.packages.every((p) => servedSet.has(`${p.name}=${p.version}`));
  if (cached || served) return { cached, source: `debian apt (${[...new Set(k.packages.map((p) => p.suite))].join(', ')})`, fetchable: cached ? 'cached' : 'yes (apt)' };
  const p = k.packages[0];
  const snap = await reachable(`${snapshotBase()}/mr/binary/${encodeURIComponent(p.name)}/${encodeURIComponent(p.version)}/binfiles`);
  return { cached, source: 'snapshot.debian.org (gone from the archive)', fetchable: snap === true ? 'yes (snapshot)' : `no (${snap})` };
}

async function tarballRow(k: Extract<KernelEntry, { kind: 'tarball' }>): Promise<Pick<KernelRow, 'cached' | 'fetchable' | 'source'>> {
  const source = 'kernel.org tarball, built here';
  const cc = await compilerVersion().catch(() => undefined);
  const built = cc ? await exists(join(builtDir(buildKey(k.tarball.sha256, await sha256File(FRAGMENT), cc)), 'meta.json')) : false;
  if (built) return { cached: true, source, fetchable: 'built' };
  if (await exists(tarballCachePath(k.tarball))) return { cached: false, source, fetchable: 'yes (tarball cached; builds on first use)' };
  const r = await reachable(tarballUrl(k.tarball.name));
  return { cached: false, source, fetchable: r === true ? `yes (${kernelOrgBase()}; builds on first use)` : `no (${r})` };
}

export async function listKernels(json: boolean): Promise<string> {
  const c = loadCatalog();
  const uncached = [];
  for (const k of c.kernels) if (k.kind === 'debian' && !(await packagesCached(`linux-${k.line}`, k.packages))) uncached.push(...k.packages);
  const served = uncached.length ? await aptServed(uncached) : new Set<string>();
  const rows: KernelRow[] = await Promise.all(c.kernels.map(async (k) => {
    const base = { line: k.line, release: k.release, default: k.line === c.default };
    if (k.kind === 'debian') {
      return { ...base, ...(await debianRow(k, served)), pin: k.packages.map((p) => `${p.name} ${p.version} sha256 ${p.sha256}`).join(' + '), packages: k.packages };
    }
    if (k.kind === 'tarball') return { ...base, ...(await tarballRow(k)), pin: `${k.tarball.name} sha256 ${k.tarball.sha256}` };
    throw new Error('catalog holds only debian and tarball lines');
  }));
  for (const [name, b] of Object.entries(readBuiltNames())) {
    const cached = await exists(join(builtDir(b.key), 'meta.json'));
    rows.push({ line: name, release: b.release, default: false, source: 'local build', pin: `${b.source} (build ${b.key})`, cached, fetchable: cached ? 'built' : 'no (gone from the cache; build again)' });
  }
  if (json) return JSON.stringify(rows, null, 2) + '\n';
  const w = (s: string, n: number) => s.padEnd(n);
  const lines = [`${w('line', 12)} ${w('source', 44)} ${w('fetchable from here', 42)} pin`];
  for (const r of rows) lines.push(`${w(r.line + (r.default ? '*' : ''), 12)} ${w(r.source, 44)} ${w(r.fetchable, 42)} ${r.pin}`);
  lines.push('* default kernel line.  Also: --kernel PATH (bzImage or built tree), --kernel oci:REGISTRY/REPO@sha256:DIGEST');
  return lines.join('\n') + '\n';
}
export function listScenarios(json: boolean): string {
  const rows = scenarios.map((s) => ({
    id: s.id, title: s.title, requires: s.requires, params: s.params, runs: runsOf(s, s.params).length, metrics: s.metrics,
  }));
  if (json) return JSON.stringify(rows, null, 2) + '\n';
  const out: string[] = [];
  for (const r of rows) {
    const req = [r.requires.kernel && `kernel ${r.requires.kernel}+`, ...(r.requires.maps ?? []).map((m) => `map ${m}`), ...(r.requires.programs ?? []).map((p) => `prog ${p}`), ...(r.requires.config ?? []).map((o) => `CONFIG_${o}`)].filter(Boolean).join(', ');
    out.push(`${r.id}: ${r.title}`, `  requires: ${req || 'nothing special'}`,
      `  params (${r.runs} runs): ${Object.entries(r.params).map(([k, v]) => `${k}=${v.join('|')}`).join('  ')}`,
      `  metrics: ${Object.entries(r.metrics).map(([k, m]) => `${k} [${m.unit}${BETTER_MARK[m.better]}]`).join(', ')}`, '');
  }
  out.push('↑ higher is better, ↓ lower is better; unmarked metrics are run totals (accounting, not compared)', '');
  return out.join('\n');
}
