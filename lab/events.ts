/**
 * The engine's typed event stream. runLab and what it calls (fetch, build, boot, scenarios, shutdown, outputs) emit
 * these events and nothing else about their progress; the progress display, `--json` and the manifest's phase timings
 * are all consumers of the one stream.
 */
import type { Accel } from './vm/qemu.js';
import type { InterruptSignal } from './vm/children.js';

/**
 * A timed step of the engine. One that is done per kernel carries `kernel` and is keyed `<phase>_<kernel>` in the
 * manifest's timings (`boot_6.1`); the others are keyed by name (`fetch`).
 */
export type PhaseName = 'fetch' | 'build' | 'kernel_bench' | 'initramfs' | 'accel' | 'boot' | 'shutdown' | 'outputs';

/** What happened to one run of a scenario's parameter matrix (the results' `status` column). */
export type RunStatus = 'ok' | 'failed' | 'skipped';

/** An event before the engine stamps it (see {@link LabEvent}). */
export type LabEventBody =
  /** the run directory exists; `plannedRuns` = kernels × rounds × the runs of every scenario's matrix */
  | { type: 'start'; runId: string; runDir: string; kernels: string[]; scenarios: string[]; quick: boolean; plannedRuns: number }
  | { type: 'phase-start'; phase: PhaseName; kernel?: string; label: string }
  | { type: 'phase-end'; phase: PhaseName; kernel?: string; ms: number; ok: boolean; error?: string }
  /** a progress message inside a long phase (a download, a compile, host prerequisites) */
  | { type: 'step'; message: string; kernel?: string }
  /** the accelerator chosen for every guest of the run */
  | { type: 'accel'; accel: Accel; reason: string; cached: boolean }
  /** the agent answered: the guest is up */
  | { type: 'hello'; kernel: string; release: string; bootMs: number; vcpus: number; featuresCached: boolean }
  /** `round` of `rounds` (--rounds: the boot's whole schedule again) counts from 1 */
  | { type: 'scenario-start'; kernel: string; scenario: string; runs: number; round: number; rounds: number }
  /** one parameter combination; `index` counts from 1 */
  | { type: 'scenario-run-start'; kernel: string; scenario: string; params: string; index: number; runs: number }
  | { type: 'scenario-run-end'; kernel: string; scenario: string; params: string; index: number; runs: number; status: RunStatus; samples: number; ms: number; note: string }
  /** a scenario's own progress inside one run (the kernel bench: bench i of n) */
  | { type: 'scenario-progress'; kernel: string; scenario: string; params: string; label: string; done: number; total: number }
  /** a variant the driver could not measure in this run (the other variants of the run count) */
  | { type: 'variant-skipped'; kernel: string; scenario: string; params: string; variant: string; reason: string }
  | { type: 'scenario-end'; kernel: string; scenario: string; ms: number; ok: boolean }
  /** a scenario that did not start: its requirements are not met (skipped) or its guest did not boot (failed) */
  | { type: 'scenario-not-run'; kernel: string; scenario: string; status: Exclude<RunStatus, 'ok'>; reason: string; runs: number }
  /** something the user must see; every warning is also in the manifest and the report */
  | { type: 'warning'; message: string }
  /** a driver's or scenario's own log line (shown and streamed with --verbose only) */
  | { type: 'log'; kernel: string; scenario: string; message: string }
  | { type: 'interrupted'; signal: InterruptSignal }
  /** the last event: the run directory is complete (`error`: the run stopped on it; what was measured is written) */
  | { type: 'end'; runDir: string; exitStatus: number; ms: number; error?: string };

/** An event as consumers see it: `t` is milliseconds since the run started. */
export type LabEvent = LabEventBody & { t: number };

export type LabEventType = LabEvent['type'];

/** A consumer of the stream. */
export type LabEventListener = (e: LabEvent) => void;

/** Stamps events, keeps them (the timings are computed from them) and hands each to every listener in order. */
export class LabEvents {
  readonly events: LabEvent[] = [];
  private readonly t0 = Date.now();
  constructor(private readonly listeners: LabEventListener[] = []) {}

  emit(body: LabEventBody, t = this.now()): LabEvent {
    const e = { ...body, t } as LabEvent;
    this.events.push(e);
    for (const l of this.listeners) l(e);
    return e;
  }

  step(message: string, kernel?: string): void {
    this.emit({ type: 'step', message, ...(kernel ? { kernel } : {}) });
  }

  warn(message: string): void {
    this.emit({ type: 'warning', message });
  }

  /** Run fn as a timed phase: phase-start, then phase-end with its wall time and whether it threw. */
  async phase<T>(phase: PhaseName, kernel: string | undefined, label: string, fn: () => Promise<T>): Promise<T> {
    const k = kernel ? { kernel } : {};
    const start = this.emit({ type: 'phase-start', phase, ...k, label });
    const end = (ok: boolean, error?: string) => {
      const t = this.now();
      this.emit({ type: 'phase-end', phase, ...k, ms: t - start.t, ok, ...(error === undefined ? {} : { error }) }, t);
    };
    try {
      const r = await fn();
      end(true);
      return r;
    } catch (e) {
      end(false, e instanceof Error ? e.message : String(e));
      throw e;
    }
  }

  /** Milliseconds since the run started, on the events' clock. */
  now(): number {
    return Date.now() - this.t0;
  }
}

/** The manifest key of a phase: `<phase>` or `<phase>_<kernel>`. */
export const phaseKey = (phase: PhaseName, kernel?: string): string => (kernel ? `${phase}_${kernel}` : phase);

/**
 * The manifest's `timings.phases` (ms): every ended phase summed by key (a guest booted twice counts both boots),
 * every scenario's time summed as `scenario_<kernel>_<id>` (a scenario's runs may be split around the kernel bench's),
 * in first-seen order, then `total`: the time of the last event given.
 */
export function phaseTimings(events: readonly LabEvent[]): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (key: string, ms: number) => { out[key] = (out[key] ?? 0) + ms; };
  for (const e of events) {
    if (e.type === 'phase-end') add(phaseKey(e.phase, e.kernel), e.ms);
    else if (e.type === 'scenario-end') add(`scenario_${e.kernel}_${e.scenario}`, e.ms);
  }
  out.total = events.length ? events[events.length - 1].t : 0;
  return out;
}
