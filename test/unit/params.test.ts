import test from 'ava';
import { parseParamFlags, resolveParamValues, filterMatrix, filterCombinations } from '../../lab/param-filter.js';
import { parseCommand } from '../../lab/args.js';
import { resolveMatrices, resolveScenarios } from '../../lab/run.js';
import { recordedMatrices } from '../../lab/results/reproduce.js';
import { UsageError } from '../../lab/errors.js';
import { expandMatrix } from '../../scenarios/define.js';
import type { Manifest } from '../../lab/results/manifest.js';

const defaults = { kernel: '6.1', suite: 'phase1' };

test('--param: syntax, repetition and comma lists; recorded on the run command', (t) => {
  t.deepEqual(parseParamFlags(['producers=1,2', 'wakeup=every', 'producers=2']), { producers: ['1', '2'], wakeup: ['every'] });
  t.throws(() => parseParamFlags(['producers']), { instanceOf: UsageError, message: /not key=value/ });
  t.throws(() => parseParamFlags(['producers=1,']), { instanceOf: UsageError, message: /empty value/ });
  const c = parseCommand(['--scenario', 'ringbuf-throughput', '--param', 'producers=2', '--param', 'api=output'], defaults);
  t.like(c, { cmd: 'run', params: { producers: ['2'], api: ['output'] } });
  t.throws(() => parseCommand(['compare', 'a', 'b', '--param', 'x=1'], defaults), { instanceOf: UsageError, message: /a run, plan or reproduce only/ });
  t.like(parseCommand(['reproduce', 'd', '--param', 'producers=1'], defaults), { cmd: 'reproduce', params: { producers: ['1'] }, accel: undefined, threshold: 5 });
  t.like(parseCommand(['reproduce', 'd', '--accel', 'tcg'], defaults), { cmd: 'reproduce', accel: 'tcg' });
  t.throws(() => parseCommand(['reproduce', 'd', '--cpus', '4'], defaults), { instanceOf: UsageError, message: /--cpus from the run's manifest/ });
  t.throws(() => parseCommand(['compare', 'a', 'b', '--threshold', 'x'], defaults), { instanceOf: UsageError, message: /percentage/ });
  t.like(parseCommand(['--scenario', 'kernel-bench', '--rounds', '3'], defaults), { cmd: 'run', rounds: 3 });
  t.like(parseCommand(['--scenario', 'kernel-bench'], defaults), { cmd: 'run', rounds: 1 });
  t.throws(() => parseCommand(['--rounds', '0'], defaults), { instanceOf: UsageError, message: /--rounds '0' must be an integer 1\.\.50/ });
  t.throws(() => parseCommand(['reproduce', 'd', '--rounds', '2'], defaults), { instanceOf: UsageError, message: /--rounds from the run's manifest/ });
});

test('--param values are typed against the declared axis; wrong ones name the valid values', (t) => {
  t.deepEqual(resolveParamValues('s', 'producers', [1, 2], ['2', '4']), [2, 4], 'integer axes take any integer');
  t.throws(() => resolveParamValues('s', 'producers', [1, 2], ['two']), { instanceOf: UsageError, message: /producers=two.*valid: any integer \(declared: 1, 2\)/ });
  t.throws(() => resolveParamValues('s', 'producers', [1, 2], ['1.5']), { instanceOf: UsageError });
  t.deepEqual(resolveParamValues('s', 'wakeup', ['every', 'sampled'], ['sampled']), ['sampled']);
  t.throws(() => resolveParamValues('s', 'wakeup', ['every', 'sampled'], ['often']), { instanceOf: UsageError, message: /valid: every, sampled/ });
  t.deepEqual(resolveParamValues('s', 'rate', [10000, 'max'], ['max', '500']), ['max', 500], 'mixed axes take numbers and their strings');
});

test('--param subsets every selected scenario that has the key, in quick or full matrices; unknown keys are usage errors', (t) => {
  const scenarios = resolveScenarios({ scenario: 'ringbuf-throughput,perfbuf-throughput,map-operation-latency' });
  const full = resolveMatrices(scenarios, { quick: false, params: { wakeup: ['sampled'], placement: ['parallel'] } });
  // fentry: 2 producers x 2 apis x 2 consumers; tracepoint: the 1-producer reserve/libbpf slice only
  t.is(full['ringbuf-throughput'].length, 9, 'wakeup and placement fixed: 8 fentry runs + 1 tracepoint run');
  t.true(full['ringbuf-throughput'].every((p) => p.wakeup === 'sampled' && p.placement === 'parallel'));
  t.is(full['perfbuf-throughput'].length, 5, '2 record sizes x 2 batches with fentry + the tracepoint at 8 B x 500');
  const b2b = resolveMatrices(scenarios, { quick: false, params: { placement: ['back-to-back'] } });
  t.true(b2b['ringbuf-throughput'].length > 0 && b2b['ringbuf-throughput'].every((p) => p.producers === 1), 'back-to-back runs take one producer');
  t.throws(() => resolveMatrices(scenarios, { quick: true, params: { placement: ['back-to-back'], producers: ['2'] } }),
    { instanceOf: UsageError, message: /ringbuf-throughput: no run left .*back-to-back takes one producer/ });
  t.is(full['map-operation-latency'].length, 4, 'a scenario without the key runs its matrix');
  const quick = resolveMatrices(scenarios, { quick: true, params: { producers: ['2'] } });
  t.deepEqual(quick['ringbuf-throughput'].map((p) => p.producers), [2], 'quick matrix with the axis replaced');
  t.throws(() => resolveMatrices(scenarios, { quick: true, params: { rate: ['max'] } }), { instanceOf: UsageError, message: /no selected scenario .* has a parameter 'rate'; valid keys: .*batch.*fill.*producers/ });
  t.throws(() => resolveMatrices(scenarios, { quick: true, params: { wakeup: ['never'] } }), { instanceOf: UsageError, message: /valid: every, sampled/ });
  const s = { id: 'x', params: { a: [1, 2], b: ['p', 'q'] } };
  t.deepEqual(expandMatrix(filterMatrix(s, s.params, { b: ['q'] })), [{ a: 1, b: 'q' }, { a: 2, b: 'q' }]);
});

test('reproduce narrows the recorded combinations with --param and names what was recorded', (t) => {
  const combos = [{ producers: 1, wakeup: 'every' }, { producers: 2, wakeup: 'every' }];
  const s = { id: 'ringbuf-throughput', params: { producers: [1, 2], wakeup: ['every', 'sampled'] } };
  t.deepEqual(filterCombinations(s, combos, { producers: ['2'] }), [{ producers: 2, wakeup: 'every' }]);
  t.throws(() => filterCombinations(s, combos, { wakeup: ['sampled'] }), { instanceOf: UsageError, message: /recorded ringbuf-throughput with wakeup = every only/ });
  const m = { scenarios: [{ id: 'ringbuf-throughput', params: combos }, { id: 'map-operation-latency', params: [{ keySize: 4, valueSize: 8, fill: 100 }] }] } as unknown as Manifest;
  const r = recordedMatrices(m, { producers: ['1'] });
  t.deepEqual(r['ringbuf-throughput'], [combos[0]]);
  t.is(r['map-operation-latency'].length, 1);
  t.throws(() => recordedMatrices(m, { rate: ['max'] }), { instanceOf: UsageError, message: /no scenario of the run/ });
});
