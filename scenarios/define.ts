import type { Features, Params, Sample } from '../lab/agent/protocol.js';

/** What a scenario needs from the kernel. Checked on the host against the guest's hello before running. */
export interface Requirements {
  /** minimum kernel version, e.g. "5.8" */
  kernel?: string;
  maps?: string[];
  programs?: string[];
  helpers?: string[];
}

/** A published number to put beside a measured one (REFERENCES.md). */
export interface Reference {
  metric: string;
  variant: string;
  /** parameter values the reference corresponds to; a summary row matches when all of these agree */
  params?: Params;
  value: number;
  unit: string;
  source: string;
  setup: string;
}

/** Tools the host builds for each booted kernel line before boot, visible in the guest at the same path. */
export type HostTool = 'kernel-bench';

export interface DriverResult { code: number; stderr: string }

/** What a scenario's run() gets inside the guest. */
export interface ScenarioContext {
  quick: boolean;
  release: string;
  vcpus: number;
  features: Features | null;
  buildDir: string;
  /** path of a native driver built from bpf/drivers/NAME.c */
  bin(name: string): string;
  sample(s: Sample): void;
  log(msg: string): void;
  progress(label: string, done: number, total: number): void;
  /** path of a host-built tool (see ScenarioDefinition.hostTools) for this guest's kernel line */
  tool(name: HostTool): string;
  /** run a native driver; its JSON-lines samples are forwarded as they come; a "skip" line throws ScenarioSkip */
  runDriver(name: string, args: (string | number)[]): Promise<void>;
  /** insmod a module shipped in the initramfs, with its dependencies */
  loadModule(name: string): Promise<void>;
  exec(argv: string[], opts?: { allowFail?: boolean }): Promise<{ code: number; stdout: string; stderr: string }>;
}

export interface ScenarioDefinition {
  id: string;
  title: string;
  description: string;
  requires: Requirements;
  /** parameter matrix: every combination is one run (one driver invocation) */
  params: Record<string, (string | number)[]>;
  /** a smaller matrix for --quick; missing keys fall back to the first value of `params` */
  quickParams?: Record<string, (string | number)[]>;
  /** metric name → unit */
  metrics: Record<string, string>;
  /** which variant is the baseline that overhead ratios are taken against */
  baseline?: string;
  run(ctx: ScenarioContext, p: Params): Promise<void>;
  references: Reference[];
  /** rough guest wall time of one run, for timeouts (seconds) */
  estimateS(p: Params, quick: boolean): number;
  /** host-built tools run() needs (built for each kernel line before boot; see ScenarioContext.tool) */
  hostTools?: HostTool[];
  /** what the VM needs beyond the default; a run boots with the maximum over its selected scenarios */
  vm?: { /** extra virtio-net NICs on a QEMU-internal hub (no host network) */ hubNics?: number };
}

export class ScenarioSkip extends Error {}

export function defineScenario(s: ScenarioDefinition): ScenarioDefinition {
  return s;
}

/** Durations: the kernel bench tool's shape by default, shortened with --quick. */
export function durations(quick: boolean): { warmup: number; duration: number; intervalMs: number } {
  return quick ? { warmup: 0.5, duration: 2, intervalMs: 500 } : { warmup: 1, duration: 5, intervalMs: 1000 };
}

/** Cartesian product of a parameter matrix, in a stable order. */
export function expandMatrix(matrix: Record<string, (string | number)[]>): Params[] {
  let out: Params[] = [{}];
  for (const [k, values] of Object.entries(matrix)) {
    out = out.flatMap((p) => values.map((v) => ({ ...p, [k]: v })));
  }
  return out;
}

export function matrixFor(s: ScenarioDefinition, quick: boolean): Params[] {
  if (!quick) return expandMatrix(s.params);
  const m: Record<string, (string | number)[]> = {};
  for (const [k, v] of Object.entries(s.params)) m[k] = s.quickParams?.[k] ?? [v[0]];
  return expandMatrix(m);
}

/** Why a scenario cannot run on this guest, or undefined if it can. */
export function unmetRequirement(req: Requirements, release: string, features: Features | null): string | undefined {
  if (req.kernel) {
    const [a, b] = release.split('.').map(Number);
    const [x, y] = req.kernel.split('.').map(Number);
    if (a < x || (a === x && b < y)) return `needs kernel ${req.kernel}+, guest runs ${release}`;
  }
  if (!features) return undefined;
  for (const m of req.maps ?? []) if (features.maps[m] === false) return `map type ${m} not supported by ${release}`;
  for (const p of req.programs ?? []) if (features.programs[p] === false) return `program type ${p} not supported by ${release}`;
  for (const h of req.helpers ?? []) if (features.helpers[h] === false) return `helper bpf_${h} not supported by ${release}`;
  return undefined;
}
