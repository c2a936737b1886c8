import { join } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { resolveKernels } from '../kernels/catalog.js';
import { ensurePrerequisites } from '../host/prereqs.js';
import { prepareHost, bootGuest } from './session.js';
import { run } from '../host/spawn.js';
import { Ui } from '../ui.js';

export interface GuestExecResult { kernel: string; release: string; accel: string; bootMs: number; code: number; stdout: string; stderr: string }

/** Boot one kernel, run a command as guest root through the agent, power off. */
export async function execInGuest(o: { kernel: string; argv: string[]; accel: 'auto' | 'kvm' | 'tcg'; cpus: number; memoryMb: number; verbose: boolean }): Promise<GuestExecResult> {
  const [k] = resolveKernels(o.kernel);
  const ui = new Ui(o.verbose);
  await ensurePrerequisites((m) => ui.info(m));
  const host = await prepareHost([k], ui);
  const qemu = (await run('qemu-system-x86_64', ['--version'])).stdout.split('\n')[0];
  const dir = await mkdtemp(join(tmpdir(), 'bpf-lab-exec-'));
  try {
    const g = await bootGuest(host, k, { accel: o.accel, cpus: o.cpus, memoryMb: o.memoryMb, consolePath: join(dir, 'console.log') }, ui, qemu);
    try {
      const r = (await g.vm.request({ op: 'exec', argv: o.argv, timeoutMs: 600000 }, {}, 660000)) as { code: number; stdout: string; stderr: string };
      return { kernel: k.line, release: g.vm.hello.release, accel: g.accel.accel, bootMs: g.vm.bootMs, ...r };
    } finally {
      await g.vm.shutdown();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
