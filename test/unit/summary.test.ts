import test from 'ava';
import { summarizeRows, type ResultRow, type RunOutcome } from '../../lab/results/csv.js';
import { renderMarkdown } from '../../lab/results/report.js';
import type { Manifest } from '../../lab/results/manifest.js';

const row = (over: Partial<ResultRow>): ResultRow => ({
  run_id: 'r', kernel: '6.1', kernel_release: '6.1.0', accel: 'tcg', vcpus: 2, scenario: 's', variant: 'v', params: 'n=1',
  repetition: 0, metric: 'ns_per_op', unit: 'ns', value: 1, ...over,
});
const lookup = () => ({ references: [], metrics: { ns_per_op: { unit: 'ns', better: 'lower' as const } } });

test('rows of a failed run are failed, labelled rows included; a skipped variant has its own row and the measured ones stay ok', (t) => {
  const rows = [
    row({ params: 'n=1;map=hash;op=lookup', value: 5 }), row({ params: 'n=1;map=hash;op=lookup', value: 6, repetition: 1 }),
    row({ params: 'n=2', variant: 'baseline', value: 3 }), row({ params: 'n=2', variant: 'baseline', value: 4, repetition: 1 }),
  ];
  const outcomes: RunOutcome[] = [
    { kernel: '6.1', scenario: 's', params: 'n=1', status: 'failed', note: 'driver exited 1', wallMs: 1 },
    { kernel: '6.1', scenario: 's', params: 'n=2', status: 'ok', note: '2 samples', wallMs: 1 },
    { kernel: '6.1', scenario: 's', params: 'n=2', variant: 'xdp_tx', status: 'skipped', note: 'attach failed: -ENOSPC', wallMs: 0 },
  ];
  const summary = summarizeRows(rows, outcomes, lookup);
  t.like(summary.find((r) => r.params === 'n=1;map=hash;op=lookup'), { status: 'failed', note: 'driver exited 1', n: 2 });
  t.like(summary.find((r) => r.variant === 'baseline'), { status: 'ok', n: 2, better: 'lower' });
  t.like(summary.find((r) => r.variant === 'xdp_tx'), { status: 'skipped', note: 'attach failed: -ENOSPC', n: 0 });
  t.is(summary.length, 3, 'the failed run has its rows already: no extra empty row');

  const m = {
    runId: 'r', runDirName: 'd', command: 'c', argv: [], startedAt: '', options: { kernels: ['6.1'], scenarios: ['s'], quick: true, cpus: 2, memoryMb: 2048, accel: 'auto', params: { n: ['1', '2'] } },
    git: 'g', host: { cpuModel: 'X', qemu: 'Q', virtiofsd: 'V', node: 'N', user: 'u' }, accel: { accel: 'tcg', reason: 'r', cached: false },
    vm: { cpus: 2, memoryMb: 2048, kernelCmdline: '' }, toolchain: { clang: '', bpftool: '', libbpf: '', cc: '' }, build: { key: '', btfFrom: '', objects: {} },
    kernels: [], scenarios: [], timings: { phases: {} }, warnings: ['6.1 s [n=2]: mapops: hash lookup: 255 of 256 ops succeeded'],
  } as Manifest;
  const scen = [{ id: 's', title: 'T', description: 'D', metrics: {}, references: [] }] as never;
  const md = renderMarkdown(m, summary, outcomes, scen);
  t.true(md.indexOf('## Warnings') < md.indexOf('## Environment'));
  t.regex(md, /- 6\.1 s \[n=2\]: mapops: hash lookup: 255 of 256 ops succeeded/);
  t.regex(md, /- skipped: 6\.1 s \[n=2\] variant xdp_tx: attach failed/);
  t.regex(md, /- failed: 6\.1 s \[n=1\]: driver exited 1/);
  t.regex(md, /\| 6\.1 \| v \| n=1;map=hash;op=lookup \| ns_per_op ↓ \| .* \| failed \|/);
  t.regex(md, /\| --param \| n=1,2 \|/);
  t.notRegex(md, /comparable with the published ratio/);
});
