import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { run } from './spawn.js';

/**
 * The checkout's commit, read from .git's files (HEAD, the ref, packed-refs; worktrees too) without running git
 * on the repository: git reads the checkout's own config, which may name commands to run (core.fsmonitor, filters),
 * so it must not be forced (safe.directory=*) onto a checkout that belongs to someone else. Whether the tree has
 * uncommitted changes is asked from git only when the checkout is ours, which is the case git itself trusts.
 */
export async function gitCommit(root: string): Promise<string> {
  const commit = await readHeadCommit(root).catch(() => undefined);
  if (!commit) return 'unknown (not a git checkout)';
  const owner = (await stat(root)).uid;
  if (owner !== process.getuid?.()) return `${commit} (working tree state not checked: the checkout belongs to uid ${owner})`;
  const dirty = await run('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no']).catch(() => ({ code: 1, stdout: '' }));
  if (dirty.code !== 0) return `${commit} (working tree state unknown)`;
  return commit + (dirty.stdout.trim() ? ' (with uncommitted changes)' : '');
}

export async function readHeadCommit(root: string): Promise<string | undefined> {
  let gitDir = join(root, '.git');
  if ((await stat(gitDir)).isFile()) {
    // a worktree or submodule: ".git" is a file "gitdir: PATH"
    const m = /^gitdir:\s*(.+)$/m.exec(await readFile(gitDir, 'utf8'));
    if (!m) return undefined;
    gitDir = isAbsolute(m[1].trim()) ? m[1].trim() : resolve(root, m[1].trim());
  }
  const common = await readFile(join(gitDir, 'commondir'), 'utf8').then((c) => resolve(gitDir, c.trim()), () => gitDir);
  const head = (await readFile(join(gitDir, 'HEAD'), 'utf8')).trim();
  if (/^[0-9a-f]{40,64}$/.test(head)) return head;
  const ref = /^ref:\s*(refs\/\S+)$/.exec(head)?.[1];
  if (!ref || ref.split('/').includes('..')) return undefined;
  for (const dir of [gitDir, common]) {
    const loose = await readFile(join(dir, ref), 'utf8').then((x) => x.trim(), () => '');
    if (/^[0-9a-f]{40,64}$/.test(loose)) return loose;
  }
  const packed = await readFile(join(common, 'packed-refs'), 'utf8').catch(() => '');
  for (const line of packed.split('\n')) {
    const [sha, name] = line.trim().split(' ');
    if (name === ref && /^[0-9a-f]{40,64}$/.test(sha)) return sha;
  }
  return undefined;
}
