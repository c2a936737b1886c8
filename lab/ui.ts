import cliProgress from 'cli-progress';
import type { LabEvent, LabEventListener } from './events.js';

const secs = (ms: number) => `${(ms / 1000).toFixed(ms < 10000 ? 2 : 0)} s`;

/**
 * The event stream as readable lines (stderr when it is not a terminal, and above the bar when it is). Lines start
 * with `bpf-lab: `, a run's result line with two spaces; `log` events and the start of the quiet phases (shutdown,
 * writing outputs) only with verbose.
 */
export class PlainRenderer {
  private labels = new Map<string, string>();
  private variantsSkipped = 0;
  private readonly counts = { ok: 0, skipped: 0, failed: 0 };

  constructor(private readonly verbose = false) {}

  line(e: LabEvent): string | undefined {
    const say = (m: string) => `bpf-lab: ${m}`;
    switch (e.type) {
      case 'start':
        return say(`run ${e.runId}: kernels ${e.kernels.join(', ')}; scenarios ${e.scenarios.join(', ')}${e.quick ? ' (quick)' : ''}`);
      case 'phase-start':
        this.labels.set(`${e.phase}_${e.kernel ?? ''}`, e.label);
        return e.phase === 'shutdown' || e.phase === 'outputs' ? (this.verbose ? say(`${e.label}…`) : undefined) : say(`${e.label}…`);
      case 'phase-end':
        // a failure reaches the user as the warning or error that follows it; verbose adds every phase's time
        if (!this.verbose) return undefined;
        return say(`${this.labels.get(`${e.phase}_${e.kernel ?? ''}`) ?? e.phase}: ${e.ok ? 'done' : 'failed'} in ${secs(e.ms)}`);
      case 'step':
        return say(`  ${e.kernel ? `${e.kernel}: ` : ''}${e.message}`);
      case 'accel':
        return say(`accelerator: ${e.accel} (${e.reason}${e.cached ? ', remembered' : ''})`);
      case 'hello':
        return say(`${e.kernel}: agent ready in ${(e.bootMs / 1000).toFixed(2)} s (uname -r ${e.release}${e.featuresCached ? ', BPF features from the cache' : ''})`);
      case 'scenario-start':
        return say(`${e.kernel}: ${e.scenario}: ${e.runs} run(s)${e.rounds > 1 ? ` (round ${e.round} of ${e.rounds})` : ''}`);
      case 'scenario-run-start':
        this.variantsSkipped = 0;
        return undefined;
      case 'scenario-progress':
        return this.verbose ? say(`  [${e.scenario}] ${e.label} (${e.done}/${e.total})`) : undefined;
      case 'variant-skipped':
        this.variantsSkipped++;
        return say(`${e.kernel} ${e.scenario} [${e.params}]: variant ${e.variant} skipped: ${e.reason}`);
      case 'scenario-run-end':
        this.counts[e.status]++;
        return e.status === 'ok'
          ? `  ${e.params}: ${e.samples} samples${this.variantsSkipped ? `, ${this.variantsSkipped} variant(s) skipped` : ''}`
          : `  ${e.params}: ${e.status === 'skipped' ? 'skipped' : 'FAILED'}: ${e.note}`;
      case 'scenario-end':
        return undefined;
      case 'scenario-not-run':
        this.counts[e.status] += e.runs;
        return say(`${e.kernel}: ${e.scenario} ${e.status === 'skipped' ? 'skipped' : 'not run'}: ${e.reason}`);
      case 'warning':
        return say(`warning: ${e.message}`);
      case 'log':
        return this.verbose ? say(`  [${e.scenario}] ${e.message}`) : undefined;
      case 'interrupted':
        return say(`interrupted (${e.signal}): stopping the VM and writing the results measured so far`);
      case 'end': {
        const c = this.counts;
        return say(`${e.error ? 'stopped' : 'done'} after ${secs(e.ms)}: ${c.ok} run(s) ok, ${c.skipped} skipped, ${c.failed} failed; exit status ${e.exitStatus}`);
      }
    }
  }
}

/**
 * The progress display: on a terminal, one bar over the run's planned scenario runs (the current phase or run beside
 * it) with the plain lines printed above it; otherwise the plain lines alone.
 */
export function progressDisplay(o: { verbose: boolean; stream?: NodeJS.WriteStream; tty?: boolean }): LabEventListener {
  const stream = o.stream ?? process.stderr;
  const plain = new PlainRenderer(o.verbose);
  if (!(o.tty ?? stream.isTTY === true)) {
    return (e) => {
      const l = plain.line(e);
      if (l !== undefined) stream.write(`${l}\n`);
    };
  }
  let bars: cliProgress.MultiBar | undefined;
  let bar: cliProgress.SingleBar | undefined;
  let done = 0;
  return (e) => {
    const l = plain.line(e);
    if (e.type === 'start' && !bars) {
      bars = new cliProgress.MultiBar({
        stream, format: ' {bar} {value}/{total} runs | {duration_formatted} | {status}', hideCursor: false, clearOnComplete: true,
        autopadding: true, barsize: 30,
      }, cliProgress.Presets.shades_classic);
      bar = bars.create(Math.max(1, e.plannedRuns), 0, { status: 'starting' });
    }
    if (e.type === 'end' && bars) {
      bars.stop();
      bars = undefined;
      bar = undefined;
    }
    if (l !== undefined) {
      if (bars) {
        bars.log(`${l}\n`);
        bars.update(); // redraw now: lines logged just before stop() would otherwise be lost
      } else stream.write(`${l}\n`);
    }
    if (!bar) return;
    const status = statusOf(e);
    if (e.type === 'scenario-run-end') done++;
    else if (e.type === 'scenario-not-run') done += e.runs;
    if (status !== undefined || e.type === 'scenario-run-end' || e.type === 'scenario-not-run') bar.update(done, status === undefined ? {} : { status });
  };
}

/** What the bar shows beside it while this event's step goes on. */
function statusOf(e: LabEvent): string | undefined {
  switch (e.type) {
    case 'phase-start': return e.label;
    case 'step': return `${e.kernel ? `${e.kernel}: ` : ''}${e.message}`.slice(0, 80);
    case 'scenario-run-start': return `${e.kernel} ${e.scenario} ${e.index}/${e.runs} [${e.params}]`;
    case 'scenario-progress': return `${e.kernel} ${e.scenario} [${e.params}]: ${e.label} ${e.done}/${e.total}`;
    case 'interrupted': return `interrupted (${e.signal})`;
    default: return undefined;
  }
}

/** `--json`: every event as one JSON line (log events only with verbose). */
export function jsonLines(o: { verbose: boolean; stream?: NodeJS.WritableStream }): LabEventListener {
  const stream = o.stream ?? process.stdout;
  return (e) => {
    if (e.type !== 'log' || o.verbose) stream.write(`${JSON.stringify(e)}\n`);
  };
}
