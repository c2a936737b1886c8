import test from 'ava';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readmeWithCoverage } from '../../lab/results/coverage-readme.js';
import { coverageRows, coverageSection, coverageTable } from '../../lab/results/coverage.js';
import { scenarios } from '../../scenarios/index.js';
import { defineScenario, higher, type ScenarioDefinition } from '../../scenarios/define.js';
import type { SummaryRow } from '../../lab/results/csv.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

test('README\'s coverage table is the one generated from the scenario definitions (npm run coverage:update)', (t) => {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  t.is(readmeWithCoverage(readme), readme);
});

const scenario = (id: string, over: Partial<ScenarioDefinition>): ScenarioDefinition => ({
  id, title: id, description: id, requires: {}, params: { p: [1] }, metrics: { rate: higher('1/s') }, references: [],
  run: async () => {}, estimateS: () => 1, ...over,
});

test('coverage table: a line below the minimum kernel says which it needs; an entry nobody claims says so', (t) => {
  const defs = [
    scenario('maps', { requires: { kernel: '5.8' }, covers: [{ entry: 'map:hash', params: { map: 'hash' } }, { entry: 'map:bloom_filter', since: '5.16' }] }),
    scenario('other', { requires: { kernel: '6.6' }, covers: [{ entry: 'map:hash', variants: ['x'] }] }),
  ];
  const table = coverageTable(defs, ['6.1', '5.10', '5.15']);
  t.is(table[0], '| entry | kind | measured by | 5.10 | 5.15 | 6.1 |');
  t.true(table.includes('| HASH | map type | maps [map=hash]; other (x) | ✓ | ✓ | ✓ |'));
  t.true(table.includes('| BLOOM_FILTER | map type | maps | needs 5.16 | needs 5.16 | ✓ |'));
  t.true(table.includes('| QUEUE / STACK | map type | **not covered yet** |  |  |  |'));
  t.throws(() => defineScenario(scenario('bad', { covers: [{ entry: 'map:nonsense' }] })), { message: /covers\.0\.entry: 'map:nonsense' is not in scenarios\/coverage\.ts/ });
});

const row = (over: Partial<SummaryRow>): SummaryRow => ({
  kernel: '6.1', kernel_release: '', accel: 'tcg', scenario: 'maps', variant: 'in-kernel', params: 'p=1;map=hash', metric: 'rate', unit: '',
  better: 'higher', n: 3, median: 1, mean: 1, stddev: 0, cv: 0, p50: 1, p95: 1, p99: 1, p999: 1, ci95_low: 1, ci95_high: 1, noisy: false,
  reference: '', reference_source: '', ratio_to_reference: '', status: 'ok', note: '', ...over,
});

test('report coverage: measured, skipped with the reason, not in this run, per kernel', (t) => {
  const defs = [
    scenario('maps', { covers: [{ entry: 'map:hash', params: { map: 'hash' } }, { entry: 'map:bloom_filter', variants: ['bloom'] }] }),
    scenario('ring', { covers: [{ entry: 'ringbuf' }] }),
    scenario('q', { covers: [{ entry: 'map:queue' }] }),
    scenario('tp', { covers: [{ entry: 'tracepoint' }] }),
  ];
  const summary = [
    row({}), row({ kernel: '5.10' }),
    row({ kernel: '5.10', variant: 'bloom', params: 'p=1', n: 0, status: 'skipped', note: 'bloom filter needs 5.16' }),
    row({ variant: 'bloom', params: 'p=1' }),
  ];
  const outcomes = [{ kernel: '6.1', scenario: 'q', params: '', status: 'skipped' as const, note: 'needs kernel 9.9+', wallMs: 0 }];
  const rows = coverageRows(defs, ['maps', 'q', 'tp'], ['5.10', '6.1'], summary, outcomes);
  const by = (name: string) => rows.find((r) => r.entry === name)!;
  t.deepEqual(by('HASH').cells['6.1'], { status: 'measured', note: 'maps in-kernel' });
  t.deepEqual(by('BLOOM_FILTER').cells['5.10'], { status: 'skipped', note: 'bloom filter needs 5.16' });
  t.is(by('BLOOM_FILTER').cells['6.1'].status, 'measured');
  t.deepEqual(by('QUEUE / STACK').cells['6.1'], { status: 'skipped', note: 'needs kernel 9.9+' });
  t.deepEqual(by('ring buffer: throughput').cells['6.1'], { status: 'not in this run', note: 'ring' });
  t.is(by('tracepoint').cells['6.1'].status, 'not measured');
  t.is(by('USDT').cells['6.1'].status, 'not covered');
  const md = coverageSection(defs, ['maps', 'q', 'tp'], ['5.10', '6.1'], summary, outcomes);
  t.is(md[0], '## Coverage');
  t.true(md.some((l) => l.startsWith('| BLOOM_FILTER | map type | skipped: bloom filter needs 5.16 | ✓ maps bloom |')));
  t.deepEqual(coverageSection(defs, ['maps', 'q'], ['6.1'], summary, outcomes), [], 'a run of fewer than three covering scenarios has no section');
});

test('every registered scenario that measures something claims at least one coverage entry', (t) => {
  const without = scenarios.filter((s) => !s.covers?.length && s.id !== 'kernel-bench').map((s) => s.id);
  t.deepEqual(without, []);
});
