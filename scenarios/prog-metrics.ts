import { lower, none, type MetricSpec } from './define.js';

/**
 * What every driver built on the sampling core reports for each program it loads (bpf/drivers/core/proginfo.c):
 * variant `prog:<name>` from the verifier's statistics log, BPF_OBJ_GET_INFO_BY_FD and the program's fdinfo, variant
 * `object:<name>` for the object's load time. The verifier counts, image sizes and memlock do not depend on the
 * accelerator, so they compare across machines; verify_us and load_ms are times (TCG inflates them). xlated/JIT sizes
 * have no better direction (a kernel that inlines a helper grows the image and runs faster).
 * run_cnt / run_time_ns come from BPF run-time stats (BPF_ENABLE_STATS), on only in the first half of each phase's
 * warm-up: they count what ran then (a total that depends on the phase's speed, so no direction), and ns_per_run is
 * the program's own cost per run, with the stats' two clock reads (a time: TCG inflates it).
 */
export const PROG_METRICS: Record<string, MetricSpec> = {
  verified_insns: { ...lower('insns'), exact: true }, verifier_states: { ...lower('states'), exact: true }, verify_us: lower('us'),
  xlated_bytes: none('bytes'), jited_bytes: none('bytes'), memlock_bytes: none('bytes'), load_ms: lower('ms'),
  run_cnt: none('runs'), run_time_ns: none('ns'), ns_per_run: lower('ns'),
};

/** The sentence scenario descriptions append about those rows. */
export const PROG_METRICS_NOTE =
  ' Each loaded program also gets a prog:<name> row (verified_insns and verifier_states from the verifier\'s statistics log, ' +
  'verify_us where the kernel logs it, xlated_bytes and jited_bytes from BPF_OBJ_GET_INFO_BY_FD, memlock_bytes from its fdinfo; ' +
  'run_cnt, run_time_ns and ns_per_run from BPF run-time stats, which are on only during the first half of each phase\'s ' +
  'warm-up, so the measured intervals ran with stats off) and the BPF object an object:<name> row (load_ms: open to loaded, ' +
  'verification and JIT of every program included).';
