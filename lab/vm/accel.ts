import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readFile, writeFile, mkdir } from 'node:fs/promises';
import { hostname, release as osRelease } from 'node:os';
import { qemuArgs, kernelCommandLine, type Accel } from './qemu.js';
import { cachePath } from '../host/paths.js';
import { track, PDEATHSIG } from './children.js';

export type AccelChoice = Accel | 'auto';

export interface AccelVerdict { accel: Accel; reason: string; cached: boolean }

const PROBE_TIMEOUT_MS = 8000;

/**
 * Decide the accelerator. `auto` uses KVM only if /dev/kvm opens read-write AND a probe boot under KVM
 * reaches the init within a few seconds (a nested paravirtual KVM can open fine and still hang every kernel).
 * The verdict is remembered per host (name, host kernel, QEMU version) in the user cache.
 */
export async function chooseAccel(choice: AccelChoice, probeKernel: string, probeInitrd: string, qemuVersion: string): Promise<AccelVerdict> {
  if (choice === 'tcg') return { accel: 'tcg', reason: 'forced with --accel tcg', cached: false };
  if (choice === 'kvm') return { accel: 'kvm', reason: 'forced with --accel kvm', cached: false };
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return { accel: 'tcg', reason: '/dev/kvm is absent or not accessible to this user', cached: false };
  }
  const file = cachePath('accel.json');
  // per host: its name, its kernel (the KVM module) and the QEMU that would use it
  const key = `${hostname()}|${osRelease()}|${qemuVersion}`;
  let memo: Record<string, { accel: Accel; reason: string }> = {};
  try { memo = JSON.parse(await readFile(file, 'utf8')); } catch { /* first time */ }
  if (memo[key]) return { ...memo[key], cached: true };
  const ok = await probeBoot(probeKernel, probeInitrd);
  const verdict = ok.ok
    ? { accel: 'kvm' as const, reason: `KVM probe boot reached the init in ${ok.ms} ms` }
    : { accel: 'tcg' as const, reason: `KVM probe boot failed (${ok.why}); using TCG` };
  memo[key] = verdict;
  await mkdir(cachePath(), { recursive: true });
  await writeFile(file, JSON.stringify(memo, null, 2));
  return { ...verdict, cached: false };
}

export function probeBoot(kernel: string, initrd: string): Promise<{ ok: boolean; ms: number; why: string }> {
  const args = qemuArgs({ accel: 'kvm', cpus: 1, memoryMb: 256, kernel, initrd, append: kernelCommandLine('kvm', { 'lab.probe': '1' }) });
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = track(spawn(PDEATHSIG[0], [...PDEATHSIG.slice(1), 'qemu-system-x86_64', ...args], { stdio: ['pipe', 'pipe', 'pipe'] }));
    let out = '';
    let done = false;
    const finish = (ok: boolean, why: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.kill('SIGKILL');
      resolve({ ok, ms: Date.now() - t0, why });
    };
    const timer = setTimeout(() => finish(false, `no init within ${PROBE_TIMEOUT_MS / 1000} s`), PROBE_TIMEOUT_MS);
    child.stdout!.on('data', (d) => { out += d; if (out.includes('lab-init: probe ok')) finish(true, ''); });
    child.stderr!.on('data', (d) => { out += d; });
    child.on('exit', (code) => finish(out.includes('lab-init: probe ok'), `qemu exited ${code}: ${out.trim().split('\n').pop() ?? ''}`));
  });
}
