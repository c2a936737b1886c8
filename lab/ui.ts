import cliProgress from 'cli-progress';

/**
 * Progress output on stderr (stdout is kept for the run directory / --json). Phases are timed here so the
 * manifest's timings and the user's view come from one place.
 */
export class Ui {
  readonly phases: Record<string, number> = {};
  private bar?: cliProgress.SingleBar;
  constructor(private readonly verbose: boolean, private readonly tty = process.stderr.isTTY === true) {}

  info(msg: string): void {
    this.clearBar();
    process.stderr.write(`bpf-lab: ${msg}\n`);
  }

  detail(msg: string): void {
    if (this.verbose) this.info(msg);
  }

  async phase<T>(name: string, label: string, fn: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    this.info(`${label}…`);
    try {
      return await fn();
    } finally {
      this.phases[name] = (this.phases[name] ?? 0) + (Date.now() - t0);
    }
  }

  /** A bar over the runs of a scenario matrix (a plain line per run when stderr is not a terminal). */
  startRuns(total: number, label: string): void {
    if (this.tty && total > 1) {
      this.bar = new cliProgress.SingleBar({ format: `  ${label} [{bar}] {value}/{total} {status}`, stream: process.stderr, hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
      this.bar.start(total, 0, { status: '' });
    }
  }

  runDone(done: number, status: string): void {
    if (this.bar) this.bar.update(done, { status });
    else process.stderr.write(`  ${status}\n`);
  }

  endRuns(): void { this.clearBar(); }

  private clearBar(): void {
    if (this.bar) { this.bar.stop(); this.bar = undefined; }
  }
}
