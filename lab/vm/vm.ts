import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { createWriteStream, type WriteStream, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { qemuArgs, kernelCommandLine, type Accel } from './qemu.js';
import { virtiofsdArgs, type VirtiofsdCommand } from './virtiofsd.js';
import { track, PDEATHSIG } from './children.js';
import { LabError } from '../errors.js';
import { GuestMessage, LineSplitter, type Hello, type HostRequest, type Sample } from '../agent/protocol.js';

export interface VmOptions {
  accel: Accel;
  cpus: number;
  memoryMb: number;
  kernelImage: string;
  initrd: string;
  virtiofsd: VirtiofsdCommand;
  /** what the guest runs: node binary, agent script, working directory, build dir */
  node: string;
  agentScript: string;
  cwd: string;
  buildDir: string;
  consolePath: string;
  bootTimeoutMs: number;
  hubNics?: number;
}

export interface RequestHandlers {
  onSample?: (s: Sample) => void;
  onLog?: (msg: string) => void;
  onWarning?: (msg: string) => void;
  onSkipped?: (variant: string, reason: string) => void;
  onProgress?: (label: string, done: number, total: number) => void;
}

export class GuestError extends LabError {
  constructor(message: string, readonly skipped = false) { super(message); }
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; handlers: RequestHandlers; timer?: NodeJS.Timeout };

/** A running guest: QEMU + virtiofsd + the agent connection. */
export class Vm {
  hello!: Hello;
  bootMs = 0;
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private exited = false;
  private exitInfo = '';
  private consoleTail: string[] = [];
  private consolePartial = '';

  private constructor(
    private readonly qemu: ChildProcess,
    private readonly fsd: ChildProcess,
    private readonly server: Server,
    private readonly dir: string,
    private readonly console: WriteStream,
  ) {}

  static async start(o: VmOptions): Promise<Vm> {
    const dir = await mkdtemp(join(tmpdir(), 'bpf-lab-vm-'));
    const fsSocket = join(dir, 'fs.sock');
    const agentSocket = join(dir, 'agent.sock');
    const console = createWriteStream(o.consolePath);

    const fsd = track(spawn(PDEATHSIG[0], [...PDEATHSIG.slice(1), o.virtiofsd.cmd, ...o.virtiofsd.prefixArgs, ...virtiofsdArgs(fsSocket)], { stdio: ['ignore', 'ignore', 'pipe'] }));
    let fsdErr = '';
    fsd.stderr!.on('data', (d) => { fsdErr += d; console.write(`[virtiofsd] ${d}`); });
    await waitFor(() => existsSync(fsSocket) || fsd.exitCode !== null, 10000);
    if (!existsSync(fsSocket)) {
      throw new LabError(`virtiofsd did not start: ${fsdErr.trim().split('\n').pop() ?? 'no output'}`);
    }

    const server = createServer();
    const connected = new Promise<Socket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((resolve, reject) => server.listen(agentSocket, resolve).once('error', reject));

    const append = kernelCommandLine({
      'lab.node': o.node, 'lab.agent': o.agentScript, 'lab.cwd': o.cwd, 'lab.build': o.buildDir,
    });
    const args = qemuArgs({
      accel: o.accel, cpus: o.cpus, memoryMb: o.memoryMb, kernel: o.kernelImage, initrd: o.initrd, append,
      fsSocket, agentSocket, hubNics: o.hubNics,
    });
    const t0 = Date.now();
    const qemu = track(spawn(PDEATHSIG[0], [...PDEATHSIG.slice(1), 'qemu-system-x86_64', ...args], { stdio: ['pipe', 'pipe', 'pipe'] }));
    const vm = new Vm(qemu, fsd, server, dir, console);
    qemu.stdout!.on('data', (d: Buffer) => vm.onConsole(d));
    qemu.stderr!.on('data', (d: Buffer) => vm.onConsole(d, '[qemu] '));
    qemu.on('exit', (code, signal) => vm.onExit(code, signal));

    const boot = (async () => {
      const sock = await connected;
      const hello = await vm.attach(sock);
      return hello;
    })();
    const died = new Promise<never>((_, reject) => qemu.once('exit', () => setTimeout(() => reject(vm.deathError('during boot')), 50)));
    try {
      vm.hello = await withTimeout(Promise.race([boot, died]), o.bootTimeoutMs, () => vm.deathError(`no agent hello within ${o.bootTimeoutMs / 1000} s`));
    } catch (e) {
      await vm.kill();
      throw e;
    }
    vm.bootMs = Date.now() - t0;
    return vm;
  }

  private onConsole(d: Buffer, prefix = ''): void {
    const text = d.toString();
    this.console.write(prefix ? text.split('\n').filter(Boolean).map((l) => prefix + l + '\n').join('') : text);
    const lines = (this.consolePartial + text).split('\n');
    this.consolePartial = lines.pop()!;
    this.consoleTail.push(...lines.map((l) => l.replace(/\r$/, '')).filter((l) => l.trim()));
    if (this.consoleTail.length > 60) this.consoleTail.splice(0, this.consoleTail.length - 60);
  }

  private onExit(code: number | null, signal: string | null): void {
    this.exited = true;
    this.exitInfo = signal ? `signal ${signal}` : `exit status ${code}`;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(this.deathError('while running a request'));
      this.pending.delete(id);
    }
  }

  /** An error that explains how the guest died, with the interesting console lines. */
  deathError(when: string): LabError {
    const tail = this.consolePartial.trim() ? [...this.consoleTail, this.consolePartial] : this.consoleTail;
    const panic = tail.findIndex((l) => /Kernel panic|BUG:|Oops|general protection|Call Trace/.test(l));
    const lines = panic >= 0 ? tail.slice(panic, panic + 6) : tail.slice(-4);
    const what = this.exited ? `the guest stopped (${this.exitInfo}) ${when}` : `the guest is stuck ${when}`;
    return new LabError(`${what}; console: ${lines.join(' | ') || '(empty)'}`);
  }

  private socket?: Socket;
  private attach(sock: Socket): Promise<Hello> {
    this.socket = sock;
    const split = new LineSplitter();
    return new Promise((resolve, reject) => {
      sock.setEncoding('utf8');
      sock.on('data', (chunk: string) => {
        for (const line of split.push(chunk)) {
          let msg: GuestMessage;
          try {
            msg = GuestMessage.parse(JSON.parse(line));
          } catch (e) {
            this.console.write(`[agent: unparsable line] ${line}\n`);
            continue;
          }
          if (msg.type === 'hello') resolve(msg);
          else this.dispatch(msg);
        }
      });
      sock.on('error', reject);
    });
  }

  private dispatch(msg: Exclude<GuestMessage, { type: 'hello' }>): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    switch (msg.type) {
      case 'log': p.handlers.onLog?.(msg.msg); break;
      case 'warning': p.handlers.onWarning?.(msg.msg); break;
      case 'skipped': p.handlers.onSkipped?.(msg.variant, msg.reason); break;
      case 'progress': p.handlers.onProgress?.(msg.label, msg.done, msg.total); break;
      case 'sample': p.handlers.onSample?.(msg.sample); break;
      case 'result': clearTimeout(p.timer); this.pending.delete(msg.id); p.resolve(msg.data); break;
      case 'error': clearTimeout(p.timer); this.pending.delete(msg.id); p.reject(new GuestError(msg.message, msg.skipped)); break;
    }
  }

  /** Send one request; samples/logs stream to the handlers; resolves with the result data. */
  request(msg: HostRequest, handlers: RequestHandlers = {}, timeoutMs = 600000): Promise<unknown> {
    if (this.exited || !this.socket) return Promise.reject(this.deathError('before the request'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(this.deathError(`: request '${msg.op}' got no answer within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, handlers, timer });
      this.socket!.write(JSON.stringify({ ...msg, id }) + '\n');
    });
  }

  /** Ask the agent to power the guest off; fall back to killing QEMU. */
  async shutdown(timeoutMs = 15000): Promise<void> {
    if (!this.exited) {
      this.request({ op: 'shutdown' }, {}, timeoutMs).catch(() => { /* the guest goes away mid-answer */ });
      await waitFor(() => this.exited, timeoutMs);
    }
    await this.kill();
  }

  private killed = false;
  async kill(): Promise<void> {
    if (this.killed) return;
    this.killed = true;
    for (const c of [this.qemu, this.fsd]) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await waitFor(() => (this.qemu.exitCode !== null || this.qemu.signalCode !== null), 5000);
    this.server.close();
    this.socket?.destroy();
    await new Promise<void>((r) => this.console.end(r));
    await rm(this.dir, { recursive: true, force: true });
  }

  get alive(): boolean { return !this.exited; }
}

export async function waitFor(cond: () => boolean, timeoutMs: number, stepMs = 20): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  return true;
}

export function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(onTimeout()), ms);
    p.then((v) => { clearTimeout(t); resolve(v); }, (e) => { clearTimeout(t); reject(e); });
  });
}
