import { cpus } from 'node:os';
import { defineScenario, ScenarioSkip, higher, lower, type Reference } from './define.js';
import type { Params, Sample } from '../lab/agent/protocol.js';
import { versionAtLeast } from '../lab/kernels/catalog.js';

/**
 * The kernel's own selftests `bench` (tools/testing/selftests/bpf), built on the host from the guest kernel's Debian
 * source package, run in the same guest as the lab's scenarios: the referee for the lab's harness.
 */

const RB_SOURCE = 'Andrii Nakryiko, "bpf: add BPF ringbuf and perf buffer benchmarks", bpf list 2020-05-29 (selftests/bpf/benchs/bench_ringbufs.c)';
const RB_SETUP = 'Xeon E5-2680 v4 @ 2.4 GHz, bare metal, `bench -w3 -d10 -a`, fentry on getpgid, batch 500 x 8 B records, 1 producer';
const TRIG_SOURCE = 'Andrii Nakryiko, "[PATCH bpf-next 3/3] selftest/bpf: add BPF triggering benchmark", bpf list 2020-05-08 (selftests/bpf/benchs/bench_trigger.c)';
const TRIG_SETUP = 'Xeon E5-2680 v4 @ 2.4 GHz, bare metal, `bench -w2 -d5 -a`, producer loops on getpgid()';

/** The bench's ringbuf/perfbuf modes: its flags and the lab parameters the same mode has. */
export const RB_MODES = [
  { mode: 'parallel', flags: [], wakeup: 'every', placement: 'parallel' },
  { mode: 'parallel-sampled', flags: ['--rb-sampled'], wakeup: 'sampled', placement: 'parallel' },
  { mode: 'b2b', flags: ['--rb-b2b'], wakeup: 'every', placement: 'back-to-back' },
  { mode: 'b2b-sampled', flags: ['--rb-b2b', '--rb-sampled'], wakeup: 'sampled', placement: 'back-to-back' },
] as const;

const RB_BENCHES = ['rb-libbpf', 'rb-custom', 'pb-libbpf', 'pb-custom'] as const;
const TRIG_BENCHES = ['trig-base', 'trig-tp', 'trig-rawtp', 'trig-kprobe', 'trig-fentry'] as const;
/** Since 6.10 the trigger benches drive the hook from an in-kernel loop; the syscall baseline is renamed. */
const BATCHED_TRIGGER_SINCE = '6.10';

/** Published numbers of the same bench runs (mean over the per-second samples), M/s. */
const RB_PUBLISHED: Record<string, [number, number, number, number]> = {
  //              parallel, parallel-sampled, b2b, b2b-sampled
  'rb-libbpf': [12.054, 11.563, 15.507, 14.692],
  'rb-custom': [8.158, 15.895, 21.449, 20.024],
  'pb-libbpf': [0.931, 9.889, 1.601, 8.545],
  'pb-custom': [0.965, 9.866, 1.607, 8.988],
};
const TRIG_PUBLISHED: Record<string, number> = { 'trig-base': 9.2, 'trig-tp': 6.69, 'trig-rawtp': 8.571, 'trig-kprobe': 6.431, 'trig-fentry': 8.955 };

export const benchVariant = (bench: string, mode?: string) => (mode ? `${bench}:${mode}` : bench);

/** A kernel-bench row and the lab rows that measure the same thing (first one measured wins). */
export interface FidelityMatch {
  label: string;
  bench: { variant: string; metric: string };
  lab: { scenario: string; variant: string; metric: string; params: Params }[];
  /** a known reason the two sides differ (or why there is no lab side), shown in the verdict */
  caveat?: string;
  /** a known reason that holds from a kernel version on (bench changed its method there) */
  caveatSince?: { since: string; why: string };
  /** the bench row this one becomes on newer kernels where bench measures it another way: shown, never compared */
  otherMethod?: { variant: string; why: string };
}

const rbLab = (bench: string, m: (typeof RB_MODES)[number]): FidelityMatch['lab'] => {
  const shape = { hook: 'fentry', recordSize: 8, batch: 500, producers: 1, wakeup: m.wakeup, placement: m.placement };
  if (bench.startsWith('rb-')) {
    const consumer = bench.endsWith('libbpf') ? 'libbpf' : 'custom';
    return [{ scenario: 'ringbuf-throughput', variant: 'ringbuf', metric: 'events_per_s', params: { ...shape, api: 'reserve', consumer } }];
  }
  // the lab's perf buffer consumer is libbpf's: pb-custom has no lab counterpart
  return bench === 'pb-libbpf' ? [{ scenario: 'perfbuf-throughput', variant: 'perfbuf', metric: 'events_per_s', params: shape }] : [];
};

const TRIG_LAB: Record<string, [string, string][]> = {
  'trig-base': [['kprobe-overhead', 'baseline'], ['tracepoint-overhead', 'baseline']],
  'trig-tp': [['tracepoint-overhead', 'tracepoint']],
  'trig-rawtp': [['tracepoint-overhead', 'raw_tracepoint']],
  'trig-kprobe': [['kprobe-overhead', 'kprobe']],
  'trig-fentry': [['kprobe-overhead', 'fentry']],
};

/** Declared matching between the bench's rows and the lab's (read by lab/results/fidelity.ts). */
const caveat = (bench: string, mode: string): string | undefined => {
  if (bench === 'pb-custom') return "the lab's perf buffer consumer is libbpf's";
  // docs/measurements.md: the custom reader re-walks records still being written, so it counts them again
  if (bench === 'rb-custom' && mode.startsWith('parallel')) return "bench's rb-custom consumer over-counts in parallel mode (re-counts records still being written)";
  return undefined;
};

export const fidelityMatches: FidelityMatch[] = [
  ...RB_BENCHES.flatMap((b) => RB_MODES.map((m) => ({
    label: `${b}, ${m.mode}`, bench: { variant: benchVariant(b, m.mode), metric: 'events_per_s' }, lab: rbLab(b, m), caveat: caveat(b, m.mode),
  }))),
  ...TRIG_BENCHES.map((b) => ({
    label: b, bench: { variant: b, metric: 'calls_per_s' },
    lab: TRIG_LAB[b].map(([scenario, variant]) => ({ scenario, variant, metric: 'syscalls_per_s', params: { producers: 1 } })),
    // docs/measurements.md: the two counting loops side by side in one guest process
    caveatSince: b === 'trig-base' ? {
      since: BATCHED_TRIGGER_SINCE,
      why: "bench's trig-syscall-count counts each call in a per-thread slot found through thread-local storage, which under TCG " +
        "costs about 0.1-0.2 us more per call than the lab's one atomic add (both loops in one guest process: 2.0 vs 2.9 M/s on 7.3)",
    } : undefined,
    otherMethod: b === 'trig-kprobe' || b === 'trig-fentry'
      ? { variant: `${b}-batched`, why: `since ${BATCHED_TRIGGER_SINCE} bench drives the hook from an in-kernel loop, not getpgid()` } : undefined,
  })),
];

const references: Reference[] = [
  ...RB_BENCHES.flatMap((b) => RB_MODES.map((m, i) => ({
    metric: 'events_per_s', variant: benchVariant(b, m.mode), value: RB_PUBLISHED[b][i] * 1e6, unit: 'events/s', source: RB_SOURCE, setup: `${RB_SETUP}; ${b} ${m.mode}`,
  }))),
  ...TRIG_BENCHES.map((b) => ({
    metric: 'calls_per_s', variant: b, value: TRIG_PUBLISHED[b] * 1e6, unit: 'calls/s', source: TRIG_SOURCE, setup: `${TRIG_SETUP}; ${b}`,
  })),
];

/** One per-second line of bench's output: `Iter   3 ( 12.345us): hits    4.333M/s (  4.333M/prod), drops    0.000M/s, …`. */
export interface BenchIteration { iter: number; hitsMps: number; dropsMps?: number }

export function parseBenchOutput(text: string): { iterations: BenchIteration[]; summary?: string } {
  const iterations: BenchIteration[] = [];
  let summary: string | undefined;
  for (const line of text.split('\n')) {
    const m = /^Iter\s+(\d+)\s+\([^)]*\):\s+hits\s+([\d.]+)M\/s(?:.*?drops\s+([\d.]+)M\/s)?/.exec(line);
    if (m) iterations.push({ iter: Number(m[1]), hitsMps: Number(m[2]), dropsMps: m[3] !== undefined ? Number(m[3]) : undefined });
    else if (line.startsWith('Summary:')) summary = line.trim();
  }
  return { iterations, summary };
}

/** Samples from the iterations after warm-up, the way bench's own summary counts them. */
export function benchSamples(iterations: BenchIteration[], warmup: number, variant: string, family: 'rb' | 'trig'): Sample[] {
  const out: Sample[] = [];
  for (const it of iterations.filter((x) => x.iter >= warmup)) {
    const repetition = it.iter - warmup;
    if (family === 'rb') {
      out.push({ variant, metric: 'events_per_s', unit: 'events/s', value: Math.round(it.hitsMps * 1e6), repetition });
      if (it.dropsMps !== undefined) out.push({ variant, metric: 'drops_per_s', unit: 'events/s', value: Math.round(it.dropsMps * 1e6), repetition });
    } else {
      out.push({ variant, metric: 'calls_per_s', unit: 'calls/s', value: Math.round(it.hitsMps * 1e6), repetition });
    }
  }
  return out;
}

const AFFINITY_RACE = /setting affinity to CPU #\d+ failed/;
const AFFINITY_RETRIES = 3;

const benchDurations = (quick: boolean) => (quick ? { warmup: 1, duration: 2 } : { warmup: 2, duration: 5 });

export default defineScenario({
  id: 'kernel-bench',
  title: "The kernel's selftests bench (referee): ring/perf buffer and trigger benches",
  description:
    "The kernel's own tools/testing/selftests/bpf `bench`, built on the host from the Debian source package of the guest kernel's " +
    'version (vmlinux.h from that kernel\'s BTF; trigger benches changed to load only the program under test, since Debian ' +
    'kernels reject the sleepable fentry in the same object), run in the same guest as the lab\'s scenarios, its threads on the CPUs the lab\'s drivers use (`-a` for the ' +
    'buffer benches: consumer on CPU 0, producer on CPU 1; `--prod-affinity 0` for the trigger benches, as the lab\'s trigger ' +
    'producer), `-w2 -d5` (`-w1 -d2` with --quick). rb-*/pb-*: 1 producer, 8-byte records x batch 500 (`--rb-batch-cnt 500`), modes ' +
    'parallel, parallel-sampled (`--rb-sampled`), b2b (`--rb-b2b`), b2b-sampled. trig-*: getpgid() loop with one program ' +
    'attached. One sample per iteration after warm-up. On 6.10+ the trigger benches drive the hook from an in-kernel loop: ' +
    'trig-base is then bench\'s trig-syscall-count (same syscall loop), trig-kprobe/trig-fentry are reported as *-batched ' +
    'variants (a different method), and trig-tp/trig-rawtp need bpf_testmod.ko (not shipped by Debian) and are skipped.',
  requires: { kernel: '5.8', maps: ['ringbuf'] },
  hostTools: ['kernel-bench'],
  params: { bench: [...RB_BENCHES, ...TRIG_BENCHES] },
  quickParams: { bench: ['rb-libbpf', 'pb-libbpf', ...TRIG_BENCHES] },
  metrics: { events_per_s: higher('events/s'), drops_per_s: lower('events/s'), calls_per_s: higher('calls/s') },
  estimateS: (p, quick) => {
    const d = benchDurations(quick);
    const runs = String(p.bench).startsWith('trig-') ? 1 : RB_MODES.length;
    return runs * (d.warmup + d.duration + 1 + 10);
  },
  async run(ctx, p) {
    const bench = String(p.bench);
    const d = benchDurations(ctx.quick);
    const common = [`-w${d.warmup}`, `-d${d.duration}`];
    // where the lab's drivers run their threads (bpf/drivers/core: consumers from CPU 0, then producers): -a does the
    // same for the buffer benches; for the trigger benches, bench before 6.10 creates one idle consumer that -a puts
    // on CPU 0 and the producer on CPU 1, where the lab's trigger producer is on CPU 0 (under TCG CPU 0 also takes the
    // guest's device interrupts, which cost the lab's row 3-4% on 6.1), so their CPUs are named
    const rbPinning = ['-a'];
    const trigPinning = ['--prod-affinity', '0', '--cons-affinity', cpus().length > 1 ? '1' : '0'];
    const batched = versionAtLeast(ctx.release, BATCHED_TRIGGER_SINCE);
    const runs: { variant: string; argv: string[]; family: 'rb' | 'trig' }[] = [];
    if (bench.startsWith('trig-')) {
      if (batched && (bench === 'trig-tp' || bench === 'trig-rawtp')) {
        throw new ScenarioSkip(`${bench} on ${BATCHED_TRIGGER_SINCE}+ is driven by bpf_testmod.ko, which Debian does not ship`);
      }
      const name = batched && bench === 'trig-base' ? 'trig-syscall-count' : bench;
      const variant = batched && bench !== 'trig-base' ? `${bench}-batched` : bench;
      runs.push({ variant, argv: [...common, ...trigPinning, name], family: 'trig' });
    } else {
      for (const m of RB_MODES) {
        // -c1: since 6.x bench's default consumer count is 0, which its ring buffer benches refuse
        runs.push({ variant: benchVariant(bench, m.mode), argv: [...common, ...rbPinning, '-p1', '-c1', '--rb-batch-cnt', '500', ...m.flags, bench], family: 'rb' });
      }
    }
    for (const [i, r] of runs.entries()) {
      ctx.progress(bench, i, runs.length);
      let out = await ctx.exec([ctx.tool('kernel-bench'), ...r.argv], { allowFail: true });
      // Before 6.10 the trigger benches' consumer thread returns at once, and with -a bench pins it after creating
      // it: when it has already exited, pinning fails and bench exits before measuring. A start-up race: run again.
      for (let retry = 1; retry <= AFFINITY_RETRIES && out.code !== 0 && AFFINITY_RACE.test(out.stderr); retry++) {
        ctx.log(`${r.variant}: bench lost its start-up race pinning an exited consumer thread; running it again (${retry}/${AFFINITY_RETRIES})`);
        out = await ctx.exec([ctx.tool('kernel-bench'), ...r.argv], { allowFail: true });
      }
      const parsed = parseBenchOutput(out.stdout);
      if (out.code !== 0) {
        const why = (out.stderr.trim() || out.stdout.trim()).split('\n').slice(-2).join(' | ');
        throw new Error(`bench ${r.argv.join(' ')} exited ${out.code}: ${why}`);
      }
      const samples = benchSamples(parsed.iterations, d.warmup, r.variant, r.family);
      if (!samples.length) throw new Error(`bench ${r.argv.join(' ')} printed no iterations after warm-up`);
      for (const s of samples) ctx.sample(s);
      // bench's own lines, for --verbose and the log: what the samples were parsed from
      for (const line of out.stdout.split('\n').filter((l) => /^(Iter|Summary)/.test(l))) ctx.log(`${r.variant}: ${line.trim()}`);
    }
  },
  references,
});
