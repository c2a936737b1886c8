/**
 * The guest agent: runs as root inside the VM under the host's node (the host root is shared read-only).
 * Talks JSON lines over the virtio-serial port `lab.agent`; runs scenarios and streams their samples.
 */
import { openSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, release, totalmem, uptime } from 'node:os';
import { join } from 'node:path';
import { AGENT_PORT_NAME, Features, HostMessage, LineSplitter, type GuestMessage } from './protocol.js';
import { makeContext } from './context.js';
import { execCommand } from './command.js';

function findPort(): string {
  for (const p of readdirSync('/sys/class/virtio-ports')) {
    if (readFileSync(`/sys/class/virtio-ports/${p}/name`, 'utf8').trim() === AGENT_PORT_NAME) return `/dev/${p}`;
  }
  throw new Error(`virtio-serial port ${AGENT_PORT_NAME} not found`);
}

// set by the guest init from the boot's configuration files
const buildDir = process.env.LAB_BUILD ?? '';
const port = findPort();
const fd = openSync(port, 'r+');

function send(msg: GuestMessage): void {
  const line = Buffer.from(JSON.stringify(msg) + '\n');
  let off = 0;
  while (off < line.length) {
    try {
      off += writeSync(fd, line, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
    }
  }
}

async function probeFeatures(): Promise<{ features: Features | null; error?: string }> {
  const r = await execCommand([join(buildDir, 'bin', 'probe')], 20000);
  if (r.code !== 0) return { features: null, error: `feature probe failed (${r.code}): ${r.stderr.trim()}` };
  const parsed = Features.safeParse(JSON.parse(r.stdout));
  return parsed.success ? { features: parsed.data } : { features: null, error: 'feature probe printed an unexpected shape' };
}

/** The host's cached answer for this kernel and probe binary (see lab/vm/feature-cache.ts), else a fresh probe. */
async function helloFeatures(): Promise<{ features: Features | null; error?: string }> {
  try {
    const cached = Features.safeParse(JSON.parse(readFileSync('/run/lab/features.json', 'utf8')));
    if (cached.success) return { features: cached.data };
  } catch { /* none handed over: probe */ }
  return probeFeatures();
}

let helloAt = 0n;

function clocksource(): string | undefined {
  try {
    return readFileSync('/sys/devices/system/clocksource/clocksource0/current_clocksource', 'utf8').trim();
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const probe = await helloFeatures();
  const meminfo = /MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'));
  helloAt = process.hrtime.bigint();
  send({
    type: 'hello', release: release(), uptimeS: uptime(), vcpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryKb: meminfo ? Number(meminfo[1]) : Math.round(totalmem() / 1024), clocksource: clocksource(), features: probe.features, featureError: probe.error,
  });

  const split = new LineSplitter();
  // serialise requests: a scenario owns the guest while it runs
  let queue = Promise.resolve();
  reader = readPort();
  reader.stdout!.setEncoding('utf8');
  reader.stdout!.on('data', (chunk: string) => {
    for (const line of split.push(chunk)) {
      queue = queue.then(() => handle(line, probe.features));
    }
  });
}

/**
 * The port is read by a `cat` child whose stdin is our port fd, and we read its stdout pipe (epoll-driven).
 * Reading the character device from node itself (fs streams) parks a libuv threadpool thread in read(), and
 * process.exit then waits forever joining that thread: the guest never powered off after `shutdown`.
 * (A virtio port can be opened only once, so the child shares our open file rather than opening it again.)
 */
let reader: ChildProcess | undefined;
function readPort(): ChildProcess {
  const child = spawn('cat', [], { stdio: [fd, 'pipe', 'inherit'] });
  child.on('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`agent: port reader exited (${signal ?? code})\n`);
  });
  return child;
}

let stopping = false;
function exitAgent(code: number): never {
  stopping = true;
  reader?.kill('SIGKILL');
  process.exit(code);
}

async function handle(line: string, features: Features | null): Promise<void> {
  let msg: HostMessage;
  try {
    msg = HostMessage.parse(JSON.parse(line));
  } catch (e) {
    const id = (() => { try { return Number(JSON.parse(line).id) || 0; } catch { return 0; } })();
    send({ id, type: 'error', message: `agent: malformed request: ${(e as Error).message.split('\n')[0]}` });
    return;
  }
  const id = msg.id;
  try {
    switch (msg.op) {
      case 'probe':
        send({ id, type: 'result', data: (await probeFeatures()) });
        break;
      case 'exec':
        send({ id, type: 'result', data: await execCommand(msg.argv, msg.timeoutMs ?? 60000) });
        break;
      case 'run': {
        const { scenarioById } = await import('../../scenarios/index.js');
        const { ScenarioSkip } = await import('../../scenarios/define.js');
        const scenario = scenarioById(msg.scenario);
        if (!scenario) throw new Error(`agent: unknown scenario ${msg.scenario}`);
        const ctx = makeContext({ id, quick: msg.quick, buildDir, features, tools: msg.tools, send });
        try {
          await scenario.run(ctx, msg.params);
        } catch (e) {
          if (e instanceof ScenarioSkip) {
            send({ id, type: 'error', message: e.message, skipped: true });
            return;
          }
          throw e;
        }
        send({ id, type: 'result' });
        break;
      }
      case 'shutdown':
        // how long the guest's clock says this boot lasted since hello: the host checks it against its own
        send({ id, type: 'result', data: { guestElapsedS: Number(process.hrtime.bigint() - helloAt) / 1e9 } });
        exitAgent(0);
    }
  } catch (e) {
    send({ id, type: 'error', message: (e as Error).message || String(e) });
  }
}

main().catch((e) => {
  try { send({ id: 0, type: 'error', message: `agent failed to start: ${(e as Error).message}` }); } catch { /* port gone */ }
  process.stderr.write(`agent: ${(e as Error).stack}\n`);
  exitAgent(1);
});
