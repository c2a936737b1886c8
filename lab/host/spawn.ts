import { spawn, type SpawnOptions } from 'node:child_process';

export interface ExecResult { code: number; stdout: string; stderr: string }

/** Run a command to completion, capturing output. Never throws on a non-zero exit: callers decide. */
export function run(cmd: string, args: string[], opts: SpawnOptions & { input?: string | Buffer } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (d) => out.push(d));
    child.stderr!.on('data', (d) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) =>
      resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

/** Like run(), but a non-zero exit becomes an Error carrying the command's last stderr line. */
export async function runChecked(cmd: string, args: string[], opts: SpawnOptions & { input?: string | Buffer } = {}): Promise<ExecResult> {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) {
    const last = (r.stderr.trim() || r.stdout.trim()).split('\n').slice(-3).join(' | ');
    throw new Error(`${cmd} ${args.slice(0, 3).join(' ')}… exited ${r.code}: ${last}`);
  }
  return r;
}

/** Debian puts bpftool, setpriv and ip in sbin, which an ordinary user's login PATH leaves out. */
export const SBIN_DIRS = ['/usr/sbin', '/sbin'];

/** PATH with the sbin directories appended where missing: every tool the lab spawns (and make) then finds them. */
export function pathWithSbin(path: string | undefined): string {
  const dirs = (path ?? '').split(':').filter(Boolean);
  return [...dirs, ...SBIN_DIRS.filter((d) => !dirs.includes(d))].join(':');
}

export async function which(cmd: string): Promise<string | undefined> {
  const dirs = pathWithSbin(process.env.PATH).split(':');
  const { access, constants } = await import('node:fs/promises');
  for (const d of dirs) {
    if (!d) continue;
    try { await access(`${d}/${cmd}`, constants.X_OK); return `${d}/${cmd}`; } catch { /* next */ }
  }
  return undefined;
}

/** Run a command and return its stdout as bytes (for decompressors). */
export function captureBytes(cmd: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout!.on('data', (d) => out.push(d));
    child.stderr!.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`${cmd} exited ${code}: ${err.trim()}`))));
  });
}
