import test from 'ava';
import { join } from 'node:path';
import { lab, readCsv, unprivilegedCheckout, values, total, type CsvRow } from './helpers.js';

// Correctness, not speed: CPU-clock perf_event programs on 6.1 (stack traces and plain sampling), one quick boot.
const as = unprivilegedCheckout('bpf-lab-perf-events');
const ST = 'stack-trace-collection';
const PS = 'perf-event-sampling';
const DEPTH = 32; // both scenarios' depth parameter

type Row = CsvRow;

test.serial('perf events on 6.1, quick: samples delivered and accounted, user stacks as deep as the recursion, overhead against a baseline', async (t) => {
  const r = await lab(['--kernel', '6.1', '--scenario', `${ST},${PS}`, '--quick', '--out', join(as.cwd, 'results-perf-events')], as);
  t.is(r.code, 0, r.stderr);
  const rows = readCsv(join(r.lastLine, 'results.csv'));
  const summary = readCsv(join(r.lastLine, 'summary.csv'));
  for (const id of [ST, PS]) t.false(summary.some((x) => x.scenario === id && x.status !== 'ok'), `${id}: all runs ok`);
  t.true(rows.some((x) => x.scenario === ST && x.params.includes(`depth=${DEPTH}`)), 'the depth the checks assume');

  // stack-trace-collection: the baseline (first and last) and an overhead row per interval for every sampled variant
  const base = values(rows, ST, 'baseline', 'iterations_per_s');
  t.true(base.length >= 4 && base.every((v) => v > 0), `baseline: ${base.join(' ')}`);
  for (const v of ['perf-event-only', 'stackid', 'get-stack-ringbuf']) {
    const rate = values(rows, ST, v, 'iterations_per_s');
    t.true(rate.length >= 2 && rate.every((x) => x > 0), `${v}: workload rate ${rate.join(' ')}`);
    t.is(values(rows, ST, v, 'overhead_pct').length, rate.length, `${v}: an overhead per interval`);
    const sps = values(rows, ST, v, 'samples_per_s');
    t.true(sps.length === rate.length && sps.every((x) => x > 0), `${v}: samples/s ${sps.join(' ')}`);
    t.true(values(rows, ST, v, 'ns_per_sample').every((x) => x > 0), `${v}: program cost from BPF stats`);
    t.true(total(rows, ST, v, 'samples_kernel') > 0 && total(rows, ST, v, 'samples_requested') > 0, `${v}: samples ran and requested`);
  }
  for (const v of ['stackid', 'get-stack-ringbuf']) {
    // the program's own count of samples is the kernel's count of its runs
    t.is(total(rows, ST, v, 'samples_counted'), total(rows, ST, v, 'samples_kernel'), `${v}: counted == run_cnt`);
    t.true(total(rows, ST, v, 'workload_samples') > 0, `${v}: samples in the workload`);
    t.true(total(rows, ST, v, 'workload_user_stacks') > 0, `${v}: user stacks inside the recursion`);
    t.true(total(rows, ST, v, 'user_stack_depth_max') >= DEPTH, `${v}: user stack depth ${total(rows, ST, v, 'user_stack_depth_max')} >= ${DEPTH}`);
    t.is(total(rows, ST, v, 'recursion_frames_max'), DEPTH - 1, `${v}: every recursion frame walked`);
    t.true(total(rows, ST, v, 'kernel_stack_depth_max') > 0, `${v}: kernel stacks`);
  }
  t.true(total(rows, ST, 'stackid', 'distinct_user_stacks') > 0 && total(rows, ST, 'stackid', 'distinct_kernel_stacks') > 0);
  // a sample of the workload's process has a user stack unless it caught a thread exiting (its mm already gone): rare
  const efault = total(rows, ST, 'stackid', 'user_stackid_efault');
  t.true(efault >= 0 && efault <= total(rows, ST, 'stackid', 'workload_samples') / 100, `user stacks missing: ${efault}`);
  const ring = 'get-stack-ringbuf';
  const produced = total(rows, ST, ring, 'records_produced');
  t.is(produced, total(rows, ST, ring, 'samples_counted'), 'one record per sample');
  t.is(total(rows, ST, ring, 'records_consumed') + total(rows, ST, ring, 'ringbuf_drops'), produced, 'records consumed or dropped');
  t.is(total(rows, ST, ring, 'get_stack_errors'), 0);
  // most samples land in the spin at the bottom of the recursion
  t.true(total(rows, ST, ring, 'user_stack_depth_p50') >= DEPTH, `median user stack depth >= ${DEPTH}`);

  // perf-event-sampling: one run per frequency, each with its baseline and an accounted sample count
  for (const freq of [999, 9999]) { // the quick matrix
    const at = new RegExp(`freq=${freq}(;|$)`);
    t.true(values(rows, PS, 'baseline', 'iterations_per_s', at).every((x) => x > 0), `${freq} Hz: baseline`);
    const over = values(rows, PS, 'perf-event', 'overhead_pct', at);
    t.true(over.length >= 2, `${freq} Hz: overhead rows`);
    const sps = values(rows, PS, 'perf-event', 'samples_per_s', at);
    t.true(sps.length >= 2 && sps.every((x) => x > 0), `${freq} Hz: samples/s ${sps.join(' ')}`);
    const kernel = total(rows, PS, 'perf-event', 'samples_kernel', at);
    t.true(kernel > 0, `${freq} Hz: samples`);
    t.is(total(rows, PS, 'perf-event', 'samples_counted', at), kernel, `${freq} Hz: counted == run_cnt`);
    // never more samples than the hrtimers were asked for (a little slack: enabled time is read just before detaching)
    t.true(kernel <= total(rows, PS, 'perf-event', 'samples_requested', at) * 1.01 + 2, `${freq} Hz: delivered <= requested`);
  }
  t.true(rows.some((x) => x.scenario === PS && x.variant === 'prog:count_sample' && x.metric === 'verified_insns' && Number(x.value) > 0));
});
