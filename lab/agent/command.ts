import { spawn } from 'node:child_process';

export interface CommandResult { code: number; stdout: string; stderr: string }

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
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}
