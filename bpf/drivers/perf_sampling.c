/* perf-event-sampling driver: what sampling at --freq costs a CPU-bound workload (see cpu_sampling.h for the
 * workload, the per-CPU CPU-clock events and the accounting). Variants: baseline (the workload alone), perf-event
 * (the events with a program that adds one to a global per sample), baseline again. Rows: those of
 * emit_sampling_rows; samples_counted (the program's counter) must equal samples_kernel (run_cnt).
 *
 * Options: --freq HZ --depth N --spin N --warmup S --duration S --interval-ms MS */
#include "cpu_sampling.h"
#include "core/proginfo.h"
#include "perf_sampling.skel.h"

static struct perf_sampling_bpf *skel;
static unsigned long long read_samples(void) { return skel->bss->samples; }

int main(int argc, char **argv)
{
	struct bench_env env;
	long freq = sampling_driver_init(argc, argv, &env);

	skel = perf_sampling_bpf__open();
	if (!skel) die("open perf_sampling.bpf.o", errno);
	prog_stats_before_load(skel->obj);
	int err = perf_sampling_bpf__load(skel);
	if (err) die("load perf_sampling.bpf.o", err);
	prog_stats_emit(skel->obj);
	enable_bpf_stats();
	long max_rate = read_long_file(MAX_RATE_PATH);
	emit_log("perf_event_max_sample_rate %ld, perf_event_paranoid %ld", max_rate,
		 read_long_file("/proc/sys/kernel/perf_event_paranoid"));
	if (max_rate > 0 && freq > max_rate) {
		emit_skip_variant("perf-event", "--freq %ld is above this guest's perf_event_max_sample_rate (%ld): perf_event_open refuses it", freq, max_rate);
		freq = 0;
	}

	struct sampling_phase ph[3] = {
		{ .variant = "baseline" },
		{ .variant = "perf-event", .prog = skel->progs.count_sample, .counted = read_samples },
		{ .variant = "baseline" },
	};
	for (int v = 0; v < 3; v++) {
		if (ph[v].prog && !freq) continue;
		err = run_sampling_phase(&env, &ph[v], freq, env.nr_cpus, max_rate);
		if (err == -ENOENT || err == -EOPNOTSUPP || err == -EINVAL) {
			emit_skip_variant(ph[v].variant, "no CPU-clock sampling event with a BPF program here (perf_event_open/attach: %s)", strerror(-err));
			continue;
		}
		if (err) die("perf_event_open + attach (CPU clock, per CPU)", err);
	}
	emit_sampling_rows(&env, ph, 3, freq, env.nr_cpus);
	if (ph[1].ran && bpf_stats_on && ph[1].counted_total != ph[1].run_cnt)
		emit_warn("perf-event: the program counted %llu samples, the kernel ran it %llu times", ph[1].counted_total, ph[1].run_cnt);
	perf_sampling_bpf__destroy(skel);
	return 0;
}
