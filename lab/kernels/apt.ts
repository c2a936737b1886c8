import { mkdir, readFile, readdir, writeFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { cachePath } from '../host/paths.js';
import { run } from '../host/spawn.js';
import { LabError } from '../errors.js';
import type { PinnedPackage } from './catalog.js';

/**
 * The lab's own apt configuration under the user cache: its own sources list, lists and archives,
 * so that downloading pinned packages needs no root and leaves the system's apt setup untouched.
 * Mirrors come from LAB_DEBIAN_MIRROR / LAB_DEBIAN_SECURITY_MIRROR, else from the system's sources.
 */
export interface Mirrors { archive: string; security: string }

export function parseAptSources(text: string): { uri: string; suites: string[] }[] {
  const out: { uri: string; suites: string[] }[] = [];
  // deb822 stanzas
  for (const stanza of text.split(/\n\s*\n/)) {
    const field = (name: string) => new RegExp(`^${name}:\\s*(.+)$`, 'mi').exec(stanza)?.[1].trim();
    const uris = field('URIs');
    const suites = field('Suites');
    if (uris && suites) for (const uri of uris.split(/\s+/)) out.push({ uri, suites: suites.split(/\s+/) });
  }
  // one-line format
  for (const line of text.split('\n')) {
    const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
    if (m) out.push({ uri: m[1], suites: [m[2]] });
  }
  return out;
}

export function pickMirrors(entries: { uri: string; suites: string[] }[]): Partial<Mirrors> {
  const debian = entries.filter((e) => /debian/.test(e.uri));
  const security = debian.find((e) => e.suites.some((s) => s.endsWith('-security')));
  const archive = debian.find((e) => e.suites.some((s) => !s.includes('-')) && e !== security);
  return { archive: archive?.uri.replace(/\/$/, ''), security: security?.uri.replace(/\/$/, '') };
}

async function systemSourcesText(): Promise<string> {
  const parts: string[] = [];
  try { parts.push(await readFile('/etc/apt/sources.list', 'utf8')); } catch { /* absent */ }
  try {
    for (const f of await readdir('/etc/apt/sources.list.d')) {
      if (f.endsWith('.list') || f.endsWith('.sources')) parts.push(await readFile(join('/etc/apt/sources.list.d', f), 'utf8'));
    }
  } catch { /* absent */ }
  return parts.join('\n\n');
}

export async function findMirrors(): Promise<Mirrors> {
  const fromSystem = pickMirrors(parseAptSources(await systemSourcesText()));
  const archive = process.env.LAB_DEBIAN_MIRROR ?? fromSystem.archive;
  const security = process.env.LAB_DEBIAN_SECURITY_MIRROR ?? fromSystem.security ?? (archive ? `${archive}-security` : undefined);
  if (!archive || !security) {
    throw new LabError('no Debian mirror found in /etc/apt/sources*; set LAB_DEBIAN_MIRROR (and LAB_DEBIAN_SECURITY_MIRROR) to a Debian archive URL');
  }
  return { archive, security };
}

export function sourcesList(m: Mirrors, suites: string[]): string {
  return suites
    .map((s) => `deb ${s.endsWith('-security') ? m.security : m.archive} ${s} main`)
    .join('\n') + '\n';
}

const aptDir = () => cachePath('apt');

function aptOptions(dir: string): string[] {
  return [
    '-o', `Dir::Etc::SourceList=${join(dir, 'sources.list')}`,
    '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State::Lists=${join(dir, 'lists')}`,
    '-o', `Dir::Cache=${join(dir, 'cache')}`,
    '-o', 'Dir::State::status=/dev/null',
    '-o', 'Debug::NoLocking=true',
    // as root apt would drop to _apt, which cannot write into a user's cache
    ...(process.getuid?.() === 0 ? ['-o', 'APT::Sandbox::User=root'] : []),
    '-q',
  ];
}

const LIST_MAX_AGE_MS = 6 * 3600 * 1000;
const LIST_RECHECK_MS = 10 * 60 * 1000;

/** Make sure the lab's package lists exist and are fresh enough; serialised by a lock. */
export async function ensureAptLists(suites: string[], maxAgeMs = LIST_MAX_AGE_MS): Promise<string> {
  const dir = aptDir();
  await mkdir(join(dir, 'lists', 'partial'), { recursive: true });
  await mkdir(join(dir, 'cache', 'archives', 'partial'), { recursive: true });
  const release = await lockfile.lock(dir, { retries: { retries: 600, minTimeout: 200, maxTimeout: 1000 }, stale: 120000 });
  try {
    const sources = sourcesList(await findMirrors(), suites);
    const stampFile = join(dir, 'updated');
    let fresh = false;
    try {
      const [st, old] = await Promise.all([stat(stampFile), readFile(join(dir, 'sources.list'), 'utf8')]);
      fresh = old === sources && Date.now() - st.mtimeMs < maxAgeMs;
    } catch { /* never updated */ }
    if (!fresh) {
      await writeFile(join(dir, 'sources.list'), sources);
      const r = await run('apt-get', [...aptOptions(dir), 'update']);
      if (r.code !== 0) throw new LabError(`apt-get update (lab lists under ${dir}) failed: ${lastLines(r.stderr || r.stdout)}`);
      await writeFile(stampFile, new Date().toISOString());
    }
  } finally {
    await release();
  }
  return dir;
}

/** The archive no longer serves these pinned versions (Debian drops superseded ones). */
export class PinsGone extends LabError {
  constructor(readonly gone: PinnedPackage[]) {
    super(`the Debian archive no longer serves ${gone.map((p) => `${p.name} ${p.version}`).join(', ')} (pinned in kernels/catalog.json)`);
  }
}

/** Download exactly the pinned versions into destDir. A pin the archive no longer serves is a clear error. */
export async function downloadPinned(pkgs: PinnedPackage[], destDir: string, suites: string[]): Promise<void> {
  const dir = await ensureAptLists(suites);
  const specs = pkgs.map((p) => `${p.name}=${p.version}`);
  let r = await run('apt-get', [...aptOptions(dir), 'download', ...specs], { cwd: destDir });
  if (r.code !== 0 && /not found|Unable to locate|Can't find a source/i.test(r.stderr)) {
    await ensureAptLists(suites, LIST_RECHECK_MS); // lists may predate the pin: refresh once, unless just refreshed
    r = await run('apt-get', [...aptOptions(dir), 'download', ...specs], { cwd: destDir });
  }
  if (r.code !== 0) {
    const gone = pkgs.filter((p) => r.stderr.includes(p.name));
    if (gone.length && /not found|Unable to locate|Can't find a source/i.test(r.stderr)) {
      throw new PinsGone(gone);
    }
    throw new LabError(`apt-get download failed: ${lastLines(r.stderr || r.stdout)}`);
  }
}

function lastLines(s: string): string {
  return s.trim().split('\n').filter((l) => !/unsandboxed/.test(l)).slice(-2).join(' | ');
}

/**
 * Which of these exact versions the mirror serves, per the lab's package lists (one apt-cache call: it rebuilds its
 * cache each time, which takes seconds). undefined: the lists were never fetched.
 */
export async function aptServed(pkgs: PinnedPackage[]): Promise<Set<string> | undefined> {
  const dir = aptDir();
  try { await stat(join(dir, 'updated')); } catch { return undefined; }
  const r = await run('apt-cache', [...aptOptions(dir), 'show', '--no-all-versions', ...pkgs.map((p) => `${p.name}=${p.version}`)]);
  const served = new Set<string>();
  for (const stanza of r.stdout.split(/\n\s*\n/)) {
    const name = /^Package: (.+)$/m.exec(stanza)?.[1];
    const version = /^Version: (.+)$/m.exec(stanza)?.[1];
    if (name && version) served.add(`${name}=${version}`);
  }
  return served;
}
