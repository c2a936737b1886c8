import { lower, none, type MetricSpec } from './define.js';

/**
 * What every driver built on the sampling core reports for each program it loads (bpf/drivers/core/proginfo.c):
 * variant `prog:<name>` from the verifier's statistics log and BPF_OBJ_GET_INFO_BY_FD, variant `object:<name>` for the
 * object's load time. The verifier counts and image sizes do not depend on the accelerator, so they compare across
 * machines; verify_us and load_ms are times (TCG inflates them). xlated/JIT sizes have no better direction (a kernel
 * that inlines a helper grows the image and runs faster).
 */
export const PROG_METRICS: Record<string, MetricSpec> = {
  verified_insns: { ...lower('insns'), exact: true }, verifier_states: { ...lower('states'), exact: true }, verify_us: lower('us'),
  xlated_bytes: none('bytes'), jited_bytes: none('bytes'), load_ms: lower('ms'),
};

/** The sentence scenario descriptions append about those rows. */
export const PROG_METRICS_NOTE =
  ' Each loaded program also gets a prog:<name> row (verified_insns and verifier_states from the verifier\'s statistics log, ' +
  'verify_us where the kernel logs it, xlated_bytes and jited_bytes from BPF_OBJ_GET_INFO_BY_FD) and the BPF object an ' +
  'object:<name> row (load_ms: open to loaded, verification and JIT of every program included).';
