import type { ChildProcess } from 'node:child_process';

/**
 * Every helper process the lab starts (qemu, virtiofsd) is registered here and killed when the lab exits,
 * is interrupted or fails, so no VM outlives its run. Processes are also started under
 * `setpriv --pdeathsig SIGKILL`, which covers the lab itself being killed.
 */
const live = new Set<ChildProcess>();
let installed = false;

export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!installed) {
    installed = true;
    process.once('exit', killAll);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(sig, () => {
        killAll();
        process.stderr.write(`\nbpf-lab: interrupted (${sig}); VM stopped\n`);
        process.exit(130);
      });
    }
  }
  return child;
}

export function killAll(): void {
  for (const c of live) {
    try { c.kill('SIGKILL'); } catch { /* gone */ }
  }
}

/** argv prefix that makes the kernel kill the child when the lab dies. */
export const PDEATHSIG = ['setpriv', '--pdeathsig', 'SIGKILL', '--'];
