import { z } from 'zod';
import type { Features, Params, Sample } from '../lab/agent/protocol.js';
import { COVERAGE_IDS, type Cover } from './coverage.js';

/** What a scenario needs from the kernel. Checked on the host against the guest's hello before running. */
export interface Requirements {
  /** minimum kernel version, e.g. "5.8" */
  kernel?: string;
  maps?: string[];
  programs?: string[];
  helpers?: string[];
  /** kernel config options (without CONFIG_), built in or as modules; checked on the host before booting */
  config?: string[];
}

/** A published number to put beside a measured one (docs/references.md lists them with their setups). */
export interface Reference {
  metric: string;
  variant: string;
  /** parameter values the reference corresponds to; a summary row matches when all of these agree */
  params?: Params;
  value: number;
  unit: string;
  source: string;
  setup: string;
  /** why the method differs so much that no ratio to the measured value is shown (the number is still listed) */
  notComparable?: string;
}

/**
 * Which way a metric improves: 'higher' (rates, ratio to baseline), 'lower' (ns, latency, overhead, drop rates), or
 * 'none' for run totals and counters that account for a run (records produced, packets sent) rather than measure it.
 */
export type Better = 'higher' | 'lower' | 'none';
export interface MetricSpec {
  unit: string; better: Better;
  /** the same code on the same kernel always gives this value (verifier counts): compare needs no significance test */
  exact?: boolean;
}

/** Metric table entries: `events_per_s: higher('events/s')`. */
export const higher = (unit: string): MetricSpec => ({ unit, better: 'higher' });
export const lower = (unit: string): MetricSpec => ({ unit, better: 'lower' });
export const none = (unit: string): MetricSpec => ({ unit, better: 'none' });
/** How listings and reports mark the direction beside a metric's unit or name. */
export const BETTER_MARK: Record<Better, string> = { higher: ' ↑', lower: ' ↓', none: '' };
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
  /** a warning the user sees without --verbose (report Warnings section, manifest, stderr) */
  warn(msg: string): void;
  /** one variant cannot run here: it gets a `skipped` row with the reason; variants measured before it stay `ok` */
  skipVariant(variant: string, reason: string): void;
  progress(label: string, done: number, total: number): void;
  /** path of a host-built tool (see ScenarioDefinition.hostTools) for this guest's kernel line */
  tool(name: HostTool): string;
  /**
   * Run a native driver; its JSON-lines samples, logs and warnings are forwarded as they come. A "skip" line naming a
   * variant, or arriving after samples were emitted, skips that variant (or the rest of the run) and keeps what was
   * measured; a "skip" before any sample throws ScenarioSkip (the whole run is skipped).
   */
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
  /** metric name → unit and which direction is better (compare and the report read it; nothing guesses from names) */
  metrics: Record<string, MetricSpec>;
  /** which variant is the baseline that overhead ratios are taken against */
  baseline?: string;
  /** combinations of the matrix that do not exist, with the reason (e.g. back-to-back takes one producer) */
  excluded?: (p: Params) => string | undefined;
  run(ctx: ScenarioContext, p: Params): Promise<void>;
  references: Reference[];
  /** rough guest wall time of one run, for timeouts (seconds) */
  estimateS(p: Params, quick: boolean): number;
  /** host-built tools run() needs (built for each kernel line before boot; see ScenarioContext.tool) */
  hostTools?: HostTool[];
  /** what the VM needs beyond the default; a run boots with the maximum over its selected scenarios */
  vm?: { /** extra virtio-net NICs on a QEMU-internal hub (no host network) */ hubNics?: number };
  /** which entries of the lab's coverage list (scenarios/coverage.ts) this scenario measures, and through which variants */
  covers?: Cover[];
}

export class ScenarioSkip extends Error {}

const value = z.union([z.string(), z.number()]);
const matrix = z.record(z.array(value).min(1));
const snake = z.string().regex(/^[a-z][a-z0-9_]*$/, 'metric names are snake_case');
/** The data part of a definition, checked once when a scenario module is loaded. */
const DefinitionShape = z.object({
  id: z.string().regex(/^[a-z][a-z0-9-]*$/, 'scenario ids are kebab-case'),
  title: z.string().min(1),
  description: z.string().min(1),
  requires: z.object({
    kernel: z.string().regex(/^\d+\.\d+$/).optional(),
    maps: z.array(z.string()).optional(), programs: z.array(z.string()).optional(), helpers: z.array(z.string()).optional(),
    config: z.array(z.string().regex(/^[A-Z0-9_]+$/, 'config options are written without CONFIG_, e.g. VETH')).optional(),
  }).strict(),
  params: matrix,
  quickParams: matrix.optional(),
  metrics: z.record(snake, z.object({ unit: z.string().min(1), better: z.enum(['higher', 'lower', 'none']), exact: z.boolean().optional() }).strict())
    .refine((m) => Object.keys(m).length > 0, 'a scenario declares at least one metric'),
  baseline: z.string().optional(),
  excluded: z.function().optional(),
  hostTools: z.array(z.enum(['kernel-bench'])).optional(),
  run: z.function(),
  estimateS: z.function(),
  references: z.array(z.object({
    metric: z.string(), variant: z.string(), params: z.record(z.union([value, z.boolean()])).optional(),
    value: z.number().finite(), unit: z.string(), source: z.string().min(1), setup: z.string().min(1),
  })),
  vm: z.object({ hubNics: z.number().int().min(0).optional() }).optional(),
  covers: z.array(z.object({
    entry: z.string().refine((e) => COVERAGE_IDS.includes(e), (e) => ({ message: `'${e}' is not in scenarios/coverage.ts` })),
    variants: z.array(z.string()).min(1).optional(),
    params: z.record(value).optional(),
    since: z.string().regex(/^\d+\.\d+$/).optional(),
  }).strict()).optional(),
}).superRefine((s, ctx) => {
  for (const k of Object.keys(s.quickParams ?? {})) {
    if (!(k in s.params)) ctx.addIssue({ code: 'custom', message: `quickParams key '${k}' is not a parameter` });
  }
  for (const r of s.references) {
    const m = s.metrics[r.metric];
    if (!m) ctx.addIssue({ code: 'custom', message: `reference metric '${r.metric}' is not a declared metric` });
    else if (m.unit !== r.unit) ctx.addIssue({ code: 'custom', message: `reference for '${r.metric}' is in ${r.unit}, the metric in ${m.unit}` });
  }
});

/** Register a scenario: its definition is validated here, once, so a bad table fails at load time naming the field. */
export function defineScenario(s: ScenarioDefinition): ScenarioDefinition {
  const r = DefinitionShape.safeParse(s);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new Error(`scenario '${s.id}': ${i.path.join('.') || 'definition'}: ${i.message}`);
  }
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

/** The axes a run uses before expansion: the full matrix, or the quick one (missing keys: first value). */
export function matrixAxes(s: Pick<ScenarioDefinition, 'params' | 'quickParams'>, quick: boolean): Record<string, (string | number)[]> {
  if (!quick) return { ...s.params };
  const m: Record<string, (string | number)[]> = {};
  for (const [k, v] of Object.entries(s.params)) m[k] = s.quickParams?.[k] ?? [v[0]];
  return m;
}

/** The runs of a matrix: every combination of the axes except those the scenario excludes. */
export function runsOf(s: Pick<ScenarioDefinition, 'excluded'>, axes: Record<string, (string | number)[]>): Params[] {
  return expandMatrix(axes).filter((p) => !s.excluded?.(p));
}

export function matrixFor(s: ScenarioDefinition, quick: boolean): Params[] {
  return runsOf(s, matrixAxes(s, quick));
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
