import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { createWriteStream, type WriteStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { qemuArgs, kernelCommandLine, type Accel, type QemuConfig } from './qemu.js';
import { writeBootInitrd } from './boot-config.js';
import { virtiofsdArgs, type VirtiofsdCommand } from './virtiofsd.js';
import { track, PDEATHSIG } from './children.js';
import { LabError } from '../errors.js';
import { GuestMessage, LineSplitter, type Hello, type HostRequest, type Sample } from '../agent/protocol.js';

export interface VmOptions {
  accel: Accel;
  tcgThread?: 'multi' | 'single';
  bios?: string;
  cpus: number;
  memoryMb: number;
  kernelImage: string;
  /** the cached initramfs; each boot appends its own configuration to a copy (boot-config.ts) */
  initrd: string;
  virtiofsd: VirtiofsdCommand;
  /** what the guest runs: node binary, agent script, working directory, build dir */
  node: string;
  agentScript: string;
  cwd: string;
  buildDir: string;
  /** cached feature probe answer handed to the agent (JSON) */
  features?: string;
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

export interface ExecOutputs { stdout: string; stderr: string; status: string }
export interface ExecResult { code: number; stdout: string; stderr: string; wallMs: number; poweredOff: boolean }

export class GuestError extends LabError {
  constructor(message: string, readonly skipped = false) { super(message); }
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; handlers: RequestHandlers; timer?: NodeJS.Timeout };

/** A running guest: QEMU + virtiofsd + the agent connection. */
export class Vm {
  hello!: Hello;
  bootMs = 0;
  /** host time (performance.now) when the hello arrived, and the clocks' readings over the boot from shutdown's answer */
  helloAt = 0;
  clockSpan?: { guestS: number; hostS: number };
  private nextId = 1;
  private pending = new Map<number, Pending>();
  private exited = false;
  private exitInfo = '';
  private consoleTail: string[] = [];
  private consolePartial = '';
  /** the first line of a kernel Oops/panic/BUG seen on the console */
  crashLine?: string;
  private crashRip?: string;
  /** QEMU exited on its own (guest powered off or crashed), not because the lab killed it */
  exitedBySelf = false;

  private constructor(
    readonly qemu: ChildProcess,
    private readonly fsd: ChildProcess,
    private readonly server: Server,
    private readonly dir: string,
    private readonly console: WriteStream,
  ) {}

  /** Start virtiofsd and QEMU for one boot (agent mode, or exec mode when `execArgv` is given). */
  private static async launch(o: VmOptions, execArgv?: string[]): Promise<{ vm: Vm; connected?: Promise<Socket>; outputs?: ExecOutputs }> {
    const dir = await mkdtemp(join(tmpdir(), 'bpf-lab-vm-'));
    const fsSocket = join(dir, 'fs.sock');
    // appended: after a crash or a hung request the run boots again, and the earlier boot's console stays
    const console = createWriteStream(o.consolePath, { flags: 'a' });
    console.write(`--- bpf-lab: boot at ${new Date().toISOString()} ---\n`);

    const fsd = track(spawn(PDEATHSIG[0], [...PDEATHSIG.slice(1), o.virtiofsd.cmd, ...o.virtiofsd.prefixArgs, ...virtiofsdArgs(fsSocket)], { stdio: ['ignore', 'ignore', 'pipe'] }));
    let fsdErr = '';
    fsd.stderr!.on('data', (d) => { fsdErr += d; console.write(`[virtiofsd] ${d}`); });
    const initrd = join(dir, 'initrd');
    await writeBootInitrd(o.initrd, { node: o.node, agent: o.agentScript, cwd: o.cwd, build: o.buildDir, execArgv, features: execArgv ? undefined : o.features }, initrd);
    await waitFor(() => existsSync(fsSocket) || fsd.exitCode !== null, 10000);
    if (!existsSync(fsSocket)) {
      fsd.kill('SIGKILL');
      throw new LabError(`virtiofsd did not start: ${fsdErr.trim().split('\n').pop() ?? 'no output'}`);
    }

    const server = createServer();
    const guest: Partial<QemuConfig> = {};
    let connected: Promise<Socket> | undefined;
    let outputs: ExecOutputs | undefined;
    if (execArgv) {
      outputs = { stdout: join(dir, 'stdout'), stderr: join(dir, 'stderr'), status: join(dir, 'status') };
      guest.execPorts = outputs;
    } else {
      guest.agentSocket = join(dir, 'agent.sock');
      connected = new Promise<Socket>((resolve) => server.once('connection', resolve));
      await new Promise<void>((resolve, reject) => server.listen(guest.agentSocket, resolve).once('error', reject));
    }
    const args = qemuArgs({
      accel: o.accel, tcgThread: o.tcgThread, bios: o.bios, cpus: o.cpus, memoryMb: o.memoryMb, kernel: o.kernelImage, initrd, append: kernelCommandLine(o.accel),
      fsSocket, hubNics: o.hubNics, ...guest,
    });
    const qemu = track(spawn(PDEATHSIG[0], [...PDEATHSIG.slice(1), 'qemu-system-x86_64', ...args], { stdio: ['pipe', 'pipe', 'pipe'] }));
    const vm = new Vm(qemu, fsd, server, dir, console);
    qemu.stdout!.on('data', (d: Buffer) => vm.onConsole(d));
    qemu.stderr!.on('data', (d: Buffer) => vm.onConsole(d, '[qemu] '));
    qemu.on('exit', (code, signal) => vm.onExit(code, signal));
    return { vm, connected, outputs };
  }

  /** Boot to agent-ready. */
  static async start(o: VmOptions): Promise<Vm> {
    const t0 = Date.now();
    const { vm, connected } = await Vm.launch(o);
    const boot = (async () => vm.attach(await connected!))();
    const died = new Promise<never>((_, reject) => vm.qemu.once('exit', () => setTimeout(() => reject(vm.deathError('during boot')), 50)));
    try {
      vm.hello = await withTimeout(Promise.race([boot, died]), o.bootTimeoutMs, () => vm.deathError(`no agent hello within ${o.bootTimeoutMs / 1000} s`));
    } catch (e) {
      await vm.kill();
      await vm.cleanup();
      throw e;
    }
    vm.bootMs = Date.now() - t0;
    vm.helloAt = performance.now();
    return vm;
  }

  /**
   * Exec mode: boot, let the guest init run `argv` as root (no agent, no node in the guest), read its stdout,
   * stderr and exit status from their own virtio-serial ports (QEMU writes them to files), and wait for the
   * guest to power itself off.
   */
  static async runCommand(o: VmOptions, argv: string[], timeoutMs: number): Promise<ExecResult> {
    const t0 = Date.now();
    const { vm, outputs } = await Vm.launch(o, argv);
    const exited = await waitFor(() => vm.exited, timeoutMs);
    const error = exited ? undefined : vm.deathError(`: the command did not finish within ${Math.round(timeoutMs / 1000)} s`);
    await vm.kill();
    const read = (p: string) => readFile(p, 'utf8').catch(() => '');
    const [stdout, stderr, status] = await Promise.all([read(outputs!.stdout), read(outputs!.stderr), read(outputs!.status)]);
    await vm.cleanup();
    if (error) throw error;
    if (!/^\d+\s*$/.test(status)) throw vm.deathError('before the command finished');
    return { code: Number(status), stdout, stderr, wallMs: Date.now() - t0, poweredOff: vm.exitedBySelf };
  }

  private onConsole(d: Buffer, prefix = ''): void {
    const text = d.toString();
    this.console.write(prefix ? text.split('\n').filter(Boolean).map((l) => prefix + l + '\n').join('') : text);
    const lines = (this.consolePartial + text).split('\n');
    this.consolePartial = lines.pop()!;
    const clean = lines.map((l) => l.replace(/\r$/, '')).filter((l) => l.trim());
    const stamp = /^\[\s*[\d.]+\]\s*/;
    for (const l of clean) {
      if (!this.crashLine && CRASH_LINE.test(l)) this.crashLine = l.replace(stamp, '');
      // the kernel-mode RIP of that crash (a later "RIP: 0033" is the user-space frame)
      else if (this.crashLine && !this.crashRip && /RIP: 0010:/.test(l)) this.crashRip = l.replace(stamp, '');
    }
    this.consoleTail.push(...clean);
    if (this.consoleTail.length > 60) this.consoleTail.splice(0, this.consoleTail.length - 60);
  }

  private onExit(code: number | null, signal: string | null): void {
    this.exited = true;
    this.exitedBySelf = !this.killed;
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
    if (this.crashLine) {
      return new LabError(`the guest kernel crashed ${when}: ${this.crashLine}${this.crashRip ? `; ${this.crashRip}` : ''} (full trace in the console log)`);
    }
    const what = this.exited ? `the guest stopped (${this.exitInfo}) ${when}` : `the guest is stuck ${when}`;
    return new LabError(`${what}; console: ${tail.slice(-4).join(' | ') || '(empty)'}`);
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
        // a hung request leaves the guest busy with it: stop this VM (the console is kept); callers boot afresh
        this.pending.delete(id);
        const e = this.deathError(`: request '${msg.op}' got no answer within ${Math.round(timeoutMs / 1000)} s; the VM was stopped`);
        this.kill().then(() => reject(e), () => reject(e));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, handlers, timer });
      this.socket!.write(JSON.stringify({ ...msg, id }) + '\n');
    });
  }

  /**
   * Ask the agent to power the guest off and wait for QEMU to exit by itself; kill it only after the timeout.
   * Resolves true when the guest powered off on its own.
   */
  async shutdown(timeoutMs = 15000): Promise<boolean> {
    if (!this.exited && !this.killed && this.socket) {
      this.request({ op: 'shutdown' }, {}, timeoutMs).then((data) => {
        const guestS = (data as { guestElapsedS?: unknown } | undefined)?.guestElapsedS;
        if (typeof guestS === 'number') this.clockSpan = { guestS, hostS: (performance.now() - this.helloAt) / 1000 };
      }, () => { /* the guest goes away mid-answer */ });
      await waitFor(() => this.exited, timeoutMs);
    }
    await this.kill();
    await this.cleanup();
    return this.exitedBySelf;
  }

  private killed = false;
  /** Stop QEMU and virtiofsd (if still running) and flush the console log. */
  async kill(): Promise<void> {
    if (this.killed) return;
    this.killed = true;
    for (const c of [this.qemu, this.fsd]) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await waitFor(() => (this.qemu.exitCode !== null || this.qemu.signalCode !== null), 5000);
    this.server.close();
    this.socket?.destroy();
    await new Promise<void>((r) => this.console.end(r));
  }

  /** Remove the boot's scratch directory (sockets, initrd, exec outputs). */
  async cleanup(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  get alive(): boolean { return !this.exited; }
}

const CRASH_LINE = /Kernel panic|BUG:|Oops|general protection fault|kernel BUG at|Unable to handle/;

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
