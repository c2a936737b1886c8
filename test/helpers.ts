import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import Papa from 'papaparse';

/** Repository root (tests run from dist/test). */
export const repo = (() => {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'package.json'))) d = dirname(d);
  return d;
})();

export const TEST_USER = 'bpflab-test';
export const isRoot = process.getuid?.() === 0;

/**
 * The lab must run as an ordinary user. When the tests run as root, a dedicated user gets its own copy of the
 * checkout (a root-owned clone may not be readable to others) and its own home, so its cache starts empty.
 */
export function unprivilegedCheckout(dirName = 'bpf-lab', o: { alwaysCopy?: boolean } = {}): { cwd: string; user?: string; home?: string } {
  if (!isRoot && o.alwaysCopy) {
    // already an ordinary user: a copy under the given name (e.g. a path with spaces) in the temp dir
    const cwd = join(tmpdir(), dirName);
    copyCheckout(cwd);
    return { cwd };
  }
  if (!isRoot) return { cwd: repo };
  if (spawnSync('id', ['-u', TEST_USER]).status !== 0) {
    const r = spawnSync('useradd', ['--create-home', '--shell', '/bin/sh', TEST_USER], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`useradd ${TEST_USER}: ${r.stderr}`);
  }
  const home = `/home/${TEST_USER}`;
  // one directory per test file: a file that starts must not pull the tree from under another one's run
  const cwd = join(home, dirName);
  copyCheckout(cwd);
  spawnSync('chown', ['-R', `${TEST_USER}:${TEST_USER}`, home]);
  return { cwd, user: TEST_USER, home };
}

function copyCheckout(cwd: string): void {
  rmSync(cwd, { recursive: true, force: true });
  mkdirSync(cwd, { recursive: true });
  for (const e of ['package.json', 'package-lock.json', 'tsconfig.json', 'kernels', 'bpf', 'images', 'dist', 'node_modules', 'lab', 'scenarios']) {
    if (existsSync(join(repo, e))) cpSync(join(repo, e), join(cwd, e), { recursive: true });
  }
}

export interface CliResult { code: number; stdout: string; stderr: string; lastLine: string }

/** Run the lab CLI (as `as.user` when given) and collect its output. */
export function lab(args: string[], as: { cwd: string; user?: string; home?: string } = { cwd: repo }, opts: { killAfterMs?: number; onStderr?: (s: string, kill: () => void) => void } = {}): Promise<CliResult> {
  const argv = as.user
    ? ['runuser', '-u', as.user, '--', 'env', `HOME=${as.home}`, `PATH=${process.env.PATH}`, process.execPath, 'dist/lab/cli.js', ...args]
    : [process.execPath, 'dist/lab/cli.js', ...args];
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: as.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LAB_CACHE: as.user ? '' : process.env.LAB_CACHE ?? '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => { stderr += d; // like Ctrl-C in a terminal: SIGINT to the whole foreground process group
      opts.onStderr?.(stderr, () => process.kill(-child.pid!, 'SIGINT')); });
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr, lastLine: stdout.trim().split('\n').pop() ?? '' }));
  });
}

export function readCsv(path: string): Record<string, string>[] {
  return Papa.parse<Record<string, string>>(readFileSync(path, 'utf8').trim(), { header: true, skipEmptyLines: true }).data;
}

/**
 * qemu processes of a user (or of anyone), and with `cwd` only those started from that checkout (QEMU inherits the
 * lab's working directory): other test files may run VMs as the same test user at the same time.
 */
export function qemuProcesses(user?: string, cwd?: string): string[] {
  const r = spawnSync('pgrep', [...(user ? ['-u', user] : []), '-f', 'qemu-system-x86_64'], { encoding: 'utf8' });
  return r.stdout.trim().split('\n').filter(Boolean).filter((pid) => {
    if (!cwd) return true;
    try { return readlinkSync(`/proc/${pid}/cwd`) === cwd; } catch { return false; }
  });
}

export type CsvRow = Record<string, string>;

/** The values of one (scenario, variant, metric) in results.csv rows, optionally only where params match. */
export const values = (rows: CsvRow[], scenario: string, variant: string, metric: string, params?: RegExp): number[] =>
  rows.filter((r) => r.scenario === scenario && r.variant === variant && r.metric === metric && (!params || params.test(r.params))).map((r) => Number(r.value));

/** A run total: the single value of that row (NaN when there is none or more than one). */
export const total = (rows: CsvRow[], scenario: string, variant: string, metric: string, params?: RegExp): number => {
  const v = values(rows, scenario, variant, metric, params);
  return v.length === 1 ? v[0] : NaN;
};
