import { parseQemuVersion } from './qemu-version.js';

export interface TcgThreading { mode: 'multi' | 'single'; reason: string }

/**
 * Multi-threaded TCG (one host thread per vCPU) unless this QEMU is known to break the guest kernel's live text
 * patching: see docs/tcg-text-patching.md. LAB_TCG_THREAD=multi|single overrides the choice.
 */
export function tcgThreading(qemuVersionLine: string, env: NodeJS.ProcessEnv = process.env): TcgThreading {
  const forced = env.LAB_TCG_THREAD;
  if (forced === 'multi' || forced === 'single') return { mode: forced, reason: `${forced}-threaded TCG (LAB_TCG_THREAD)` };
  const v = parseQemuVersion(qemuVersionLine);
  if (v && v[0] < SAFE_MTTCG_MAJOR) {
    return {
      mode: 'single',
      reason: `single-threaded TCG: QEMU ${v.join('.')} under multi-threaded TCG lets a vCPU run a stale int3 while the guest kernel patches its text (Oops: int3); QEMU ${SAFE_MTTCG_MAJOR}+ keeps vCPUs parallel (Debian 12: apt-get install -t bookworm-backports qemu-system-x86)`,
    };
  }
  return { mode: 'multi', reason: v ? `multi-threaded TCG (QEMU ${v.join('.')})` : 'multi-threaded TCG (QEMU version unknown)' };
}

/** The first QEMU major version whose multi-threaded TCG survived the text-patching stress (docs/tcg-text-patching.md). */
export const SAFE_MTTCG_MAJOR = 10;
