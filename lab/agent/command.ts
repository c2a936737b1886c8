import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';

export interface CommandResult {
  /** the exit status; 128 + the signal's number when a signal ended the process, as a shell reports it */
  code: number; stdout: string; stderr: string;
  /** the signal that ended the process (SIGSEGV, SIGKILL, ...), if one did */
  signal?: string;
}

/** How a command ended, for error messages: "exited 3" or "was killed by SIGSEGV". */
export const howItEnded = (r: Pick<CommandResult, 'code' | 'signal'>): string => (r.signal ? `was killed by ${r.signal}` : `exited ${r.code}`);

/** Run a command in the guest with a hard timeout (the process is killed when it runs over). */
export function execCommand(argv: string[], timeoutMs: number, onStdoutLine?: (line: string) => void): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    const timer = setTimeout(() => { stderr += `\n(killed after ${timeoutMs} ms)`; child.kill('SIGKILL'); }, timeoutMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      if (!onStdoutLine) { stdout += d; return; }
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      for (const l of lines) if (l.trim()) onStdoutLine(l);
    });
    child.stderr.on('data', (d) => { stderr += d; if (stderr.length > 65536) stderr = stderr.slice(-32768); });
    child.on('error', (e) => { clearTimeout(timer); resolve({ code: 127, stdout, stderr: `${argv[0]}: ${e.message}` }); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (onStdoutLine && partial.trim()) onStdoutLine(partial);
      const signo = signal ? osConstants.signals[signal] : undefined;
      resolve({ code: code ?? (signo ? 128 + signo : 1), stdout, stderr, ...(signal ? { signal } : {}) });
    });
  });
}
