import test from 'ava';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { lab, unprivilegedCheckout } from './helpers.js';
import { checkPage } from './browser.js';

const as = unprivilegedCheckout('bpf-lab-report-browser');

// A small real run: the kernel's bench for three trigger rows (the fidelity table and its chart), the lab's kprobe
// rows with their baseline, and ringbuf latency percentiles. Everything in the report comes from this run.
test.serial('report.html of a real run renders in Chromium: tables and SVG charts with a size, no console errors; report RUN_DIR re-renders it', async (t) => {
  const r = await lab(['--kernel', '6.1', '--scenario', 'kernel-bench,kprobe-overhead,ringbuf-latency', '--quick',
    '--param', 'producers=1', '--param', 'bench=trig-base,trig-kprobe,trig-fentry', '--out', join(as.cwd, 'results')], as);
  t.is(r.code, 0, r.stderr);
  const dir = r.lastLine;

  const charts = readdirSync(join(dir, 'charts')).sort();
  t.deepEqual(charts, ['fidelity.svg', 'kernel-bench.calls_per_s.svg', 'kprobe-overhead.syscalls_per_s.svg', 'ringbuf-latency.latency-percentiles.svg']);
  const md = readFileSync(join(dir, 'report.md'), 'utf8');
  // the TCG note is there when the run used TCG (always on this machine, not on a runner with KVM)
  const order = [...(md.includes('> **TCG') ? ['> **TCG'] : []), '## Fidelity', '## Summary', '### Charts', '![Fidelity', '## Environment', '## kprobe-overhead'];
  const at = order.map((h) => md.indexOf(h));
  t.false(at.includes(-1), `all of ${order.join(', ')} are in report.md`);
  t.deepEqual(at, [...at].sort((a, b) => a - b), 'TCG note, fidelity table, summary, charts (the fidelity chart first), then the details');
  for (const c of charts) t.true(md.includes(`](charts/${c})`), `report.md links ${c}`);
  const bench = JSON.parse(readFileSync(join(dir, 'benchmark.json'), 'utf8'));
  t.true(bench.customBiggerIsBetter.some((e: { name: string }) => e.name === 'kernel 6.1 / kprobe-overhead / kprobe / producers=1 / syscalls_per_s'));
  t.true(bench.customSmallerIsBetter.some((e: { name: string }) => /^kernel 6\.1 \/ ringbuf-latency \/ ringbuf \/ .* \/ latency_p99_ns$/.test(e.name)));

  // the same run dir rendered again from its CSV and manifest gives the same report
  const before = statSync(join(dir, 'report.html')).mtimeMs;
  const again = await lab(['report', dir], as);
  t.is(again.code, 0, again.stderr);
  t.is(again.lastLine, join(dir, 'report.html'));
  t.true(statSync(join(dir, 'report.html')).mtimeMs >= before);
  t.is(readFileSync(join(dir, 'report.md'), 'utf8').replace(/\| total \| \d+ \|/, ''), md.replace(/\| total \| \d+ \|/, ''));

  const tablesInMd = md.split('\n').filter((l) => /^\| ---( \| ---)* \|$/.test(l)).length;
  const page = await checkPage(join(dir, 'report.html'), join(dir, 'report.png'));
  t.deepEqual(page.errors, [], 'no console errors');
  t.deepEqual(page.failed, [], 'no failed loads');
  t.is(page.tables.count, tablesInMd, 'every Markdown table is a table in the page');
  t.is(page.tables.empty, 0, 'every table has a size');
  t.is(page.svgs.count, charts.length, 'every chart is inlined as SVG');
  t.is(page.svgs.empty, 0, 'every chart has a size');
  t.is(page.svgs.blank, 0, 'every chart draws its data (a bar, point or line with a size)');
  t.true(statSync(join(dir, 'report.png')).size > 10_000, 'a screenshot of the first screen is kept in the run directory');
  t.log(`report: ${join(dir, 'report.html')}, screenshot ${join(dir, 'report.png')}`);
});

test('report RUN_DIR on a directory that is not a run: one line, exit 2', async (t) => {
  const r = await lab(['report', as.cwd], as);
  t.is(r.code, 2);
  t.regex(r.stderr, /^bpf-lab: .* is not a run directory \(no manifest\.json\)\n$/);
});
