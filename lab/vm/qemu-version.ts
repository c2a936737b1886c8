import { run } from '../host/spawn.js';

let cached: Promise<string> | undefined;

/** First line of `qemu-system-x86_64 --version` (asked once per process). */
export function qemuVersion(): Promise<string> {
  cached ??= run('qemu-system-x86_64', ['--version'])
    .then((r) => (r.stdout || r.stderr).split('\n')[0].trim() || 'unknown')
    .catch(() => 'unknown');
  return cached;
}

/** [major, minor] from a `QEMU emulator version X.Y.Z ...` line; undefined when it cannot be read. */
export function parseQemuVersion(line: string): [number, number] | undefined {
  const m = /version (\d+)\.(\d+)/.exec(line);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}
