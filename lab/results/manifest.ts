import type { Toolchain } from '../host/build.js';
import type { AccelVerdict } from '../vm/accel.js';

/** A kernel package as pinned by the catalog (the catalog's zod schema checks the same fields). */
export interface PackagePin { name: string; version: string; suite: string; size: number; sha256: string }

/** Everything needed to understand and re-run a run. Written as manifest.json. */
export interface Manifest {
  runId: string;
  runDirName: string;
  command: string;
  argv: string[];
  startedAt: string;
  finishedAt?: string;
  /** params: the `--param` filter as given (key → values); the exact combinations run are in `scenarios` */
  options: { kernels: string[]; scenarios: string[]; quick: boolean; cpus: number; memoryMb: number; accel: string; params?: Record<string, string[]>; rounds?: number };
  git: string;
  host: { cpuModel: string; qemu: string; virtiofsd: string; node: string; user: string };
  accel: AccelVerdict;
  vm: { cpus: number; memoryMb: number; kernelCmdline: string };
  toolchain: Toolchain;
  build: { key: string; btfFrom: string; objects: Record<string, string> };
  /** per kernel line: the kernel's selftests bench built for the kernel-bench scenario */
  kernelBench?: Record<string, { source: string; key: string; bench: string; patched: string[]; buildLog: string }>;
  kernels: { line: string; release: string; packages: PackagePin[]; source?: string; imageSha256?: string; unameR?: string; bootMs?: number; guestUptimeAtHelloS?: number; clocksource?: string; image: string; initramfs?: string; features?: unknown }[];
  scenarios: { id: string; params: Record<string, unknown>[] }[];
  /** ms per phase, computed from the run's events by phaseTimings (lab/events.ts); `total` last */
  timings: { phases: Record<string, number> };
  warnings: string[];
  exitStatus?: number;
  /** set by `merge`: the run directories this run was merged from */
  merged?: { sources: { runId: string; dir: string; command: string; exitStatus?: number; kernels: string[]; scenarios: string[] }[] };
}
