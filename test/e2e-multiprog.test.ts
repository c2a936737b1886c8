import test from 'ava';
import { join } from 'node:path';
import { lab, readCsv, unprivilegedCheckout } from './helpers.js';

// Correctness, not speed: four programs on every hook on 6.1 (quick), one boot. Every program must count every call.
const as = unprivilegedCheckout('bpf-lab-multiprog');
const ID = 'multi-program-attachment';
const N = 4;
const MEASURED = ['kprobe', 'tracepoint', 'fentry', 'xdp'];

type Row = Record<string, string>;
const of = (rows: Row[], hook: string, variant: string, metric: string) =>
  rows.filter((r) => r.scenario === ID && r.params === `hook=${hook};programs=${N}` && r.variant === variant && r.metric === metric);

test.serial(`${ID} on 6.1, quick, ${N} programs per hook: every program counts every call; baseline first and last; kprobe.multi skipped with its reason`, async (t) => {
  const r = await lab(['--kernel', '6.1', '--scenario', ID, '--quick', '--param', `programs=${N}`, '--out', join(as.cwd, 'results-multiprog')], as);
  t.is(r.code, 0, r.stderr);
  const rows = readCsv(join(r.lastLine, 'results.csv'));
  const summary = readCsv(join(r.lastLine, 'summary.csv'));

  for (const hook of MEASURED) {
    t.false(summary.some((x) => x.scenario === ID && x.params === `hook=${hook};programs=${N}` && x.status !== 'ok'), `${hook}: ok`);
    const base = of(rows, hook, 'baseline', 'calls_per_s').map((x) => Number(x.value));
    const rate = of(rows, hook, hook, 'calls_per_s').map((x) => Number(x.value));
    // quick: 4 intervals of 0.5 s per phase, the baseline twice (xdp: an interval in which no test run completed has no sample)
    if (hook === 'xdp') t.true(base.length > rate.length, `${hook}: baseline first and last`);
    else t.is(base.length, 2 * rate.length, `${hook}: baseline first and last`);
    t.true(rate.length >= 2 && [...base, ...rate].every((v) => v > 0), `${hook}: rates ${rate.join(' ')} | ${base.join(' ')}`);
    for (const m of ['ns_per_call', 'overhead_ns', 'overhead_ns_per_program', 'ratio_to_baseline']) {
      t.is(of(rows, hook, hook, m).length, rate.length, `${hook}: ${m} per interval`);
    }
    const perProgram = of(rows, hook, hook, 'overhead_ns_per_program').map((x) => Number(x.value));
    const overhead = of(rows, hook, hook, 'overhead_ns').map((x) => Number(x.value));
    perProgram.forEach((v, i) => t.true(Math.abs(v * N - overhead[i]) < 1e-6 * Math.max(1, Math.abs(overhead[i])), `${hook}: per program = overhead / ${N}`));

    const made = of(rows, hook, hook, 'calls_made').map((x) => Number(x.value));
    t.is(made.length, 1);
    t.true(made[0] > 0, `${hook}: calls made`);
    // one count per program, each its own global: no call missed, none counted twice
    const counted = of(rows, hook, hook, 'records_counted');
    t.deepEqual(counted.map((x) => Number(x.repetition)).sort(), [...Array(N).keys()], `${hook}: one count per program`);
    for (const c of counted) t.is(Number(c.value), made[0], `${hook}: program ${c.repetition} counted every call`);
    t.deepEqual(of(rows, hook, hook, 'programs_miscounted').map((x) => Number(x.value)), [0]);
  }
  // one program's metrics per hook (the copies are the same program), the dispatcher's for xdp
  for (const [hook, progs] of [['kprobe', ['mp_kprobe']], ['tracepoint', ['mp_tp']], ['fentry', ['mp_fentry']], ['xdp', ['mp_dispatcher', 'mp_ext']]] as const) {
    for (const p of progs) t.true(of(rows, hook, `prog:${p}`, 'verified_insns').every((x) => Number(x.value) > 0) && of(rows, hook, `prog:${p}`, 'verified_insns').length === 1, `${hook}: prog:${p}`);
  }
  // Debian's 6.1 cloud kernel is built without CONFIG_FPROBE: kprobe.multi links do not attach there
  const multi = summary.filter((x) => x.scenario === ID && x.params === `hook=kprobe_multi;programs=${N}`);
  t.true(multi.length > 0 && multi.every((x) => x.status === 'skipped' && /kprobe_multi/.test(x.note)), JSON.stringify(multi));
  t.false(rows.some((x) => x.scenario === ID && x.params.startsWith('hook=kprobe_multi')), 'nothing measured for a skipped hook');
});
