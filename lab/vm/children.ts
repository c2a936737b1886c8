import type { ChildProcess } from 'node:child_process';

/**
 * Every helper process the lab starts (qemu, virtiofsd) is registered here and killed when the lab exits,
 * is interrupted or fails, so no VM outlives its run. Processes are also started under
 * `setpriv --pdeathsig SIGKILL`, which covers the lab itself being killed.
 */
const live = new Set<ChildProcess>();
let installed = false;

export type InterruptSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';
/** The conventional 128 + signal number. */
export const SIGNAL_EXIT: Record<InterruptSignal, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

let handler: ((sig: InterruptSignal) => void) | undefined;
let finishing = false;
/** how long an interrupted run may take to write its results before a further signal is obeyed */
const FINISH_GRACE_MS = 10000;

/**
 * While a run is watching, a signal stops the VMs and hands over to the run (which writes what it measured and
 * exits with SIGNAL_EXIT). Signals that follow within a short grace are ignored (runuser/su forward a SIGTERM right
 * after the terminal's SIGINT); a signal outside a run, or after the grace, exits at once. Returns the unwatch function.
 */
export function onInterrupt(h: (sig: InterruptSignal) => void): () => void {
  installSignals();
  handler = h;
  return () => { if (handler === h) handler = undefined; };
}

function installSignals(): void {
  if (installed) return;
  installed = true;
  process.once('exit', killAll);
  for (const sig of Object.keys(SIGNAL_EXIT) as InterruptSignal[]) {
    process.on(sig, () => {
      killAll();
      const h = handler;
      if (h) {
        handler = undefined;
        finishing = true;
        setTimeout(() => { finishing = false; }, FINISH_GRACE_MS).unref();
        h(sig);
        return;
      }
      if (finishing) return;
      process.stderr.write(`\nbpf-lab: interrupted (${sig}); VM stopped\n`);
      process.exit(SIGNAL_EXIT[sig]);
    });
  }
}

export function track(child: ChildProcess): ChildProcess {
  live.add(child);
  child.once('exit', () => live.delete(child));
  installSignals();
  return child;
}

export function killAll(): void {
  for (const c of live) {
    try { c.kill('SIGKILL'); } catch { /* gone */ }
  }
}

/** argv prefix that makes the kernel kill the child when the lab dies. */
export const PDEATHSIG = ['setpriv', '--pdeathsig', 'SIGKILL', '--'];
