import { join } from 'node:path';
import { mkdtemp, rm, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { resolveKernels } from '../kernels/catalog.js';
import { ensurePrerequisites } from '../host/prereqs.js';
import { prepareBoot, planGuest } from './session.js';
import { Vm } from './vm.js';
import { qemuVersion } from './qemu-version.js';
import { LabEvents } from '../events.js';
import { progressDisplay } from '../ui.js';

export interface GuestExecResult { kernel: string; release: string; accel: string; bootMs: number; code: number; stdout: string; stderr: string; poweredOff: boolean }

/**
 * Boot one kernel, run a command as guest root, power off. The guest init runs the command itself (no agent,
 * no node in the guest): its stdout, stderr and exit status come back over their own virtio-serial ports.
 * With LAB_EXEC_CONSOLE=FILE the guest console is kept there (tests check the poweroff line).
 */
export async function execInGuest(o: { kernel: string; argv: string[]; accel: 'auto' | 'kvm' | 'tcg'; cpus: number; memoryMb: number; verbose: boolean; timeoutMs?: number }): Promise<GuestExecResult> {
  const [k] = resolveKernels(o.kernel);
  const ev = new LabEvents([progressDisplay({ verbose: o.verbose, tty: false })]);
  const detail = (m: string) => { if (o.verbose) ev.step(m, k.line); };
  await ensurePrerequisites((m) => ev.step(m));
  const host = await prepareBoot([k], ev);
  const dir = await mkdtemp(join(tmpdir(), 'bpf-lab-exec-'));
  try {
    const plan = await planGuest(host, k, { accel: o.accel, cpus: o.cpus, memoryMb: o.memoryMb, consolePath: join(dir, 'console.log') }, ev, await qemuVersion());
    detail(`booting ${k.release} (${plan.accel.accel}, ${o.cpus} vCPUs) to run ${o.argv[0]}`);
    try {
      const r = await Vm.runCommand(plan.options, o.argv, o.timeoutMs ?? 600000);
      detail(`command exited ${r.code}; guest ${r.poweredOff ? 'powered off' : 'was stopped'} after ${(r.wallMs / 1000).toFixed(2)} s`);
      return { kernel: k.line, release: k.release, accel: plan.accel.accel, bootMs: r.wallMs, code: r.code, stdout: r.stdout, stderr: r.stderr, poweredOff: r.poweredOff };
    } finally {
      if (process.env.LAB_EXEC_CONSOLE) await copyFile(join(dir, 'console.log'), process.env.LAB_EXEC_CONSOLE).catch(() => {});
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
