import test from 'ava';
import { scheduleWork } from '../../lab/schedule.js';
import { resolveScenarios, resolveMatrices } from '../../lab/run.js';
import { fidelityMatches } from '../../scenarios/kernel-bench.js';

const key = (id: string, p: Record<string, unknown>) => `${id} ${JSON.stringify(p)}`;

test('without the kernel bench, scenarios run one after the other with their whole matrix', (t) => {
  const scenarios = resolveScenarios({ scenario: 'ringbuf-throughput,kprobe-overhead' });
  const matrices = resolveMatrices(scenarios, { quick: false, params: { producers: ['1'] } });
  const work = scheduleWork(scenarios, matrices, fidelityMatches);
  t.deepEqual(work.map((w) => w.scenario.id), ['ringbuf-throughput', 'kprobe-overhead']);
  t.deepEqual(work[0].runs, matrices['ringbuf-throughput']);
});

test('beside the kernel bench, each bench run is followed by the lab runs it is matched with; nothing is lost or run twice', (t) => {
  const scenarios = resolveScenarios({ scenario: 'kernel-bench,ringbuf-throughput,perfbuf-throughput,kprobe-overhead,tracepoint-overhead' });
  const matrices = resolveMatrices(scenarios, { quick: false, params: { producers: ['1'], hook: ['fentry'], recordSize: ['8'], batch: ['500'], api: ['reserve'] } });
  const work = scheduleWork(scenarios, matrices, fidelityMatches);
  const all = work.flatMap((w) => w.runs.map((p) => key(w.scenario.id, p)));
  const expected = scenarios.flatMap((s) => matrices[s.id].map((p) => key(s.id, p)));
  t.deepEqual([...all].sort(), [...expected].sort(), 'the same runs, each once');
  const order = work.map((w) => `${w.scenario.id}${w.scenario.id === 'kernel-bench' ? `:${w.runs[0].bench}` : `(${w.runs.length})`}`);
  const after = (bench: string) => order[order.indexOf(`kernel-bench:${bench}`) + 1];
  t.is(after('rb-libbpf'), 'ringbuf-throughput(4)', 'rb-libbpf: the four libbpf-consumer settings next');
  t.is(after('rb-custom'), 'ringbuf-throughput(4)');
  t.is(after('pb-libbpf'), 'perfbuf-throughput(4)');
  // a trigger scenario measures several bench rows in one run: it follows the last of them
  t.is(after('trig-rawtp'), 'tracepoint-overhead(1)');
  t.is(after('trig-fentry'), 'kprobe-overhead(1)');
  t.is(after('trig-base'), 'kernel-bench:trig-tp');
});
