import test from 'ava';
import { join } from 'node:path';
import { repo } from '../helpers.js';
import { loadRunForReport, inlineCharts } from '../../lab/results/write-report.js';
import { benchmarkExport } from '../../lab/results/export.js';
import { renderOverview, crossKernelTable, kernelChange, kernelChangeLines, kernelSteps, headlineMetric, varyingParams } from '../../lab/results/overview.js';
import { scenarioCharts, renderSvg, kernelChangeChart } from '../../lab/results/charts.js';
import { scenarioById } from '../../scenarios/index.js';
import type { ResultRow, SummaryRow } from '../../lab/results/csv.js';

// the committed example is a real run (phase1 on 6.1 under TCG, quick, producers=1,2): its rows are the shape the export and summary see
const example = join(repo, 'results', 'examples', 'phase1-6.1-tcg');

test('benchmark export: one entry per complete row with a direction, split by it; run totals and failed rows left out', async (t) => {
  const { summary } = await loadRunForReport(example, scenarioById);
  const e = benchmarkExport(summary);
  const complete = summary.filter((r) => r.status === 'ok' && r.n > 0 && Number.isFinite(r.mean));
  t.is(e.customBiggerIsBetter.length, complete.filter((r) => r.better === 'higher').length);
  t.is(e.customSmallerIsBetter.length, complete.filter((r) => r.better === 'lower').length);
  t.true(e.customBiggerIsBetter.length > 0 && e.customSmallerIsBetter.length > 0);
  const all = [...e.customBiggerIsBetter, ...e.customSmallerIsBetter];
  t.is(new Set(all.map((x) => x.name)).size, all.length, 'names are unique: one dashboard series per summary row');
  t.false(all.some((x) => /records_produced|records_consumed|calls_made$/.test(x.name)), 'metrics declared none are not exported');
  t.true(e.customSmallerIsBetter.some((x) => x.name.endsWith('/ latency_p99_ns') && x.unit === 'ns'));
  t.true(e.customBiggerIsBetter.some((x) => x.name.startsWith('kernel 6.1 / ringbuf-throughput / ringbuf / ') && x.name.endsWith('/ events_per_s')));
  for (const x of all) {
    t.true(Number.isFinite(x.value), x.name);
    t.true(x.range === undefined || /^± [\d.e+-]+$/.test(x.range), `${x.name}: ${x.range}`);
    t.regex(x.extra!, /^n=\d+ median=/);
  }
  // the value is the row's mean; the range its 95% CI half width
  const r = complete.find((x) => x.better === 'higher' && x.n > 1)!;
  const entry = e.customBiggerIsBetter.find((x) => x.name === `kernel ${r.kernel} / ${r.scenario} / ${r.variant} / ${r.params} / ${r.metric}`)!;
  t.is(entry.value, Number(r.mean.toPrecision(8)));
  t.is(entry.range, `± ${Number(((r.ci95_high - r.ci95_low) / 2).toPrecision(4))}`);
});

test('summary first: one row per scenario headline with the in-run ratio to the baseline; noisy counts; charts after', async (t) => {
  const i = await loadRunForReport(example, scenarioById);
  const charts = new Map(i.scenarios.map((s) => [s.id, scenarioCharts(s, i.summary, i.manifest.options.kernels)]));
  const md = renderOverview({ kernels: i.manifest.options.kernels, summary: i.summary, samples: i.samples, outcomes: i.outcomes, scenarios: i.scenarios, charts }).join('\n');
  t.true(md.startsWith('## Summary'));
  t.true(md.indexOf('| scenario | headline metric | variant | kernel 6.1 | notes |') < md.indexOf('### Charts'));
  t.regex(md, /\| kprobe-overhead \| syscalls_per_s ↑ \(calls\/s\) at producers=1 \(\+1 more\) \| baseline \(baseline\) \| [\d.]+ [kM]( \(noisy\))? \|/);
  t.regex(md, /\|  \|  \| kprobe \| [\d.]+ [kM]( \(noisy\))?, ×b 0\.\d{3} \|/, 'variants carry the ratio to the baseline measured in the same run');
  t.regex(md, /\| ringbuf-latency \| latency_p50_ns ↓ \(ns\)/);
  t.regex(md, /\d+\/\d+ rows noisy \(cv > 5%\)/);
  t.regex(md, /!\[ringbuf-latency: latency percentiles[^\]]*\]\(charts\/ringbuf-latency\.latency-percentiles\.svg\)/);
  t.is(crossKernelTable('kprobe-overhead', { ...i, kernels: i.manifest.options.kernels }).length, 0, 'one kernel: no cross-kernel table');
});

test('charts are declared per scenario, not per row: headline, the baseline\'s metric, percentiles together', async (t) => {
  const i = await loadRunForReport(example, scenarioById);
  const ids = i.scenarios.flatMap((s) => scenarioCharts(s, i.summary, ['6.1']).map((c) => c.id));
  t.deepEqual(ids, ['ringbuf-throughput.events_per_s', 'ringbuf-throughput.syscalls_per_s', 'perfbuf-throughput.events_per_s', 'perfbuf-throughput.syscalls_per_s',
    'ringbuf-latency.latency-percentiles', 'kprobe-overhead.syscalls_per_s', 'tracepoint-overhead.syscalls_per_s', 'map-operation-latency.ns_per_op']);
  t.is(headlineMetric(scenarioById('map-operation-latency')!, i.summary), 'ns_per_op');
  const kprobe = scenarioCharts(scenarioById('kprobe-overhead')!, i.summary, ['6.1'])[0];
  const svg = await renderSvg(kprobe.spec);
  t.true(svg.startsWith('<svg'));
  // one bar per measured row of the metric, baseline included (vega writes a path per bar with its aria label)
  const bars = i.summary.filter((r) => r.scenario === 'kprobe-overhead' && r.metric === 'syscalls_per_s' && r.n > 0).length;
  t.is((svg.match(/role="graphics-symbol" aria-roledescription="bar"/g) ?? []).length, bars);
  t.true(svg.includes('group: baseline  producers=1; kernel: 6.1; variant: baseline'), 'the baseline is a bar of its own, marked as such');
  const html = inlineCharts(`<p><img src="${kprobe.file}" alt="x"></p><p><img src="charts/missing.svg" alt="y"></p>`, new Map([[kprobe.file, svg]]));
  t.true(html.startsWith('<figure class="chart"') && html.includes('<svg') && html.includes('<img src="charts/missing.svg"'));
});

const sample = (kernel: string, value: number, repetition: number): ResultRow => ({
  run_id: 'r', kernel, kernel_release: '', accel: 'tcg', vcpus: 2, scenario: 's', variant: 'v', params: 'p=1', repetition, metric: 'm', unit: 'u', value,
});
const row = (kernel: string, mean: number) => ({ kernel, scenario: 's', variant: 'v', params: 'p=1', metric: 'm', mean }) as SummaryRow;

test('a change between adjacent kernels is marked only when Welch says so, better or worse by the declared direction', (t) => {
  const samples = [...[10, 11, 10.5, 10.2].map((v, i) => sample('a', v, i)), ...[20, 21, 20.4, 20.8].map((v, i) => sample('b', v, i)),
    ...[10, 30, 12, 28].map((v, i) => sample('c', v, i))];
  const up = kernelChange(samples, row('a', 10.425), row('b', 20.55), 'higher');
  t.like(up, { from: 'a', to: 'b', verdict: 'better' });
  t.true(up!.pct > 0.9 && up!.pct < 1);
  t.is(kernelChange(samples, row('a', 10.425), row('b', 20.55), 'lower')!.verdict, 'worse');
  t.is(kernelChange(samples, row('a', 10.425), row('c', 20), 'higher'), undefined, 'spread too wide: not significant, not marked');
  t.deepEqual(varyingParams([{ params: 'a=1;b=2' }, { params: 'a=1;b=3' }] as SummaryRow[]), ['b']);
});

test('what changed between adjacent kernels: counts of significantly better and worse rows, largest first', (t) => {
  const samples = [...[10, 11, 10.5, 10.2].map((v, i) => sample('a', v, i)), ...[20, 21, 20.4, 20.8].map((v, i) => sample('b', v, i))];
  const summary = [{ ...row('a', 10.425), better: 'lower', n: 4, accel: 'tcg' }, { ...row('b', 20.55), better: 'lower', n: 4, accel: 'tcg' }] as SummaryRow[];
  const [line] = kernelChangeLines(['a', 'b'], { summary, samples });
  t.regex(line, /^\*\*a → b:\*\* of 1 rows measured on both, 1 significantly worse \(largest: s v m \+97%\), 0 significantly better\. Under TCG/);
  t.deepEqual(kernelChangeLines(['a'], { summary, samples }), []);
});

test('the kernel-change chart: one bar per significant change, settings told apart, coloured by direction, drawn', async (t) => {
  const s2 = (kernel: string, params: string, vals: number[]) => vals.map((v, i) => ({ ...sample(kernel, v, i), params }));
  const samples = [...s2('a', 'p=1', [10, 11, 10.5, 10.2]), ...s2('b', 'p=1', [20, 21, 20.4, 20.8]),
    ...s2('a', 'p=2', [10, 10.1, 9.9, 10]), ...s2('b', 'p=2', [5, 5.1, 4.9, 5]), ...s2('a', 'p=3', [1, 2, 1, 2]), ...s2('b', 'p=3', [1, 2, 1, 2])];
  const summary = (['p=1', 'p=2', 'p=3'] as const).flatMap((params) => ['a', 'b'].map((k) => {
    const vals = samples.filter((x) => x.kernel === k && x.params === params).map((x) => x.value);
    return { ...row(k, vals.reduce((x, y) => x + y) / vals.length), params, better: 'higher', n: 4, accel: 'tcg', status: 'ok' } as SummaryRow;
  }));
  const steps = kernelSteps(['a', 'b'], { summary, samples });
  t.is(steps[0].compared, 3);
  const chart = kernelChangeChart(steps)!;
  const values = (chart.spec as { data: { values: { row: string; verdict: string }[] } }).data.values;
  t.deepEqual(values.map((v) => [v.row, v.verdict]), [['a→b  s v m  p=1', 'better'], ['a→b  s v m  p=2', 'worse']]);
  const svg = await renderSvg(chart.spec);
  t.is((svg.match(/aria-roledescription="bar"/g) ?? []).length, 2);
  t.is(kernelChangeChart(kernelSteps(['a'], { summary, samples })), undefined, 'one kernel: no chart');
  t.true(kernelChangeLines(['a', 'b'], { summary, samples }, chart).includes(`![${chart.title}](charts/kernel-changes.svg)`));
});

test('the kernel table names each boot\'s clocksource; a TCG boot off the TSC says what that costs', async (t) => {
  const { renderMarkdown } = await import('../../lab/results/report.js');
  const i = await loadRunForReport(example, scenarioById);
  const withClock = (cs: string) => ({ ...i.manifest, kernels: i.manifest.kernels.map((k) => ({ ...k, clocksource: cs })) });
  const onTsc = renderMarkdown(withClock('tsc'), i.summary, i.outcomes, i.scenarios);
  t.regex(onTsc, /\| boot → agent ready \| clocksource \|/);
  t.regex(onTsc, /\| tsc \|/);
  t.notRegex(onTsc, /clocksource is not the TSC/);
  t.notRegex(renderMarkdown(withClock('tsc-early'), i.summary, i.outcomes, i.scenarios), /clocksource is not the TSC/);
  t.regex(renderMarkdown(withClock('hpet'), i.summary, i.outcomes, i.scenarios), /The guest clocksource is not the TSC .* every clock read/);
});
