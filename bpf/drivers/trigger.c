/* Attach-type overhead driver (the shape of the kernel bench tool's trig-* benchmarks, syscall-driven version).
 * Producer threads loop on getpgid(); for each variant in --variants, one program (or none, for "baseline") is
 * attached while the producers run. The baseline runs first and again last. Per interval: syscalls_per_s, ns_per_call
 * and, against the mean baseline rate of the same run (both phases), overhead_ns, overhead_pct and ratio_to_baseline. Per variant totals: calls_made (getpgid
 * calls while the program was attached, warm-up included) and records_counted (the program's counter).
 * Variants: baseline kprobe kretprobe fentry fexit tracepoint raw_tracepoint.
 * Options: --variants a,b,c --producers N --warmup S --duration S --interval-ms MS [--func NAME] */
#include "common.h"
#include "core/bench.h"
#include "core/proginfo.h"
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "trigger.skel.h"
#include "syscall_func.h"

static void *producer(long idx)
{
	while (!bench_producers_stop) {
		syscall(__NR_getpgid);
		bench_count_call(idx);
	}
	return NULL;
}

static const char *VARIANTS[] = { "kprobe", "kretprobe", "fentry", "fexit", "tracepoint", "raw_tracepoint" };

static struct bpf_program *prog_for(struct trigger_bpf *s, int slot)
{
	struct bpf_program *p[] = { s->progs.on_kprobe, s->progs.on_kretprobe, s->progs.on_fentry, s->progs.on_fexit,
				    s->progs.on_tp, s->progs.on_raw_tp };
	return p[slot];
}

static int slot_of(const char *v)
{
	for (int i = 0; i < 6; i++) if (strcmp(v, VARIANTS[i]) == 0) return i;
	return -1;
}

int main(int argc, char **argv)
{
	opts_init(argc, argv);
	lab_bpf_init();
	struct bench_env env;
	bench_env_from_opts(&env);
	long producers = opt_long("producers", 1);
	char variants[256];
	snprintf(variants, sizeof(variants), "%s", opt_str("variants", "baseline,kprobe"));
	const char *func = opt_str("func", NULL);
	if (!func) func = syscall_func("getpgid");
	if (producers < 1 || producers > BENCH_MAX_THREADS) { fprintf(stderr, "--producers must be 1..%d\n", BENCH_MAX_THREADS); return 2; }

	char *list[16];
	int nv = 0;
	for (char *tok = strtok(variants, ","); tok && nv < 16; tok = strtok(NULL, ",")) {
		if (strcmp(tok, "baseline") && slot_of(tok) < 0) { fprintf(stderr, "unknown variant %s\n", tok); return 2; }
		list[nv++] = tok;
	}

	struct trigger_bpf *skel = trigger_bpf__open();
	if (!skel) die("open trigger.bpf.o", errno);
	bool wanted[6] = {};
	for (int i = 0; i < nv; i++) if (slot_of(list[i]) >= 0) wanted[slot_of(list[i])] = true;
	for (int i = 0; i < 6; i++) bpf_program__set_autoload(prog_for(skel, i), wanted[i]);
	if (wanted[2]) bpf_program__set_attach_target(skel->progs.on_fentry, 0, func);
	if (wanted[3]) bpf_program__set_attach_target(skel->progs.on_fexit, 0, func);
	prog_stats_before_load(skel->obj);
	int err = trigger_bpf__load(skel);
	if (err && (wanted[2] || wanted[3])) {
		/* tracing programs need BTF and trampolines: drop fentry/fexit and report them as skipped */
		if (wanted[2]) emit_skip_variant("fentry", "fentry/fexit on %s do not load on this kernel (%s)", func, strerror(-err));
		if (wanted[3]) emit_skip_variant("fexit", "fentry/fexit on %s do not load on this kernel (%s)", func, strerror(-err));
		trigger_bpf__destroy(skel);
		skel = trigger_bpf__open();
		if (!skel) die("open trigger.bpf.o", errno);
		wanted[2] = wanted[3] = false;
		for (int i = 0; i < 6; i++) bpf_program__set_autoload(prog_for(skel, i), wanted[i]);
		prog_stats_before_load(skel->obj);
		err = trigger_bpf__load(skel);
	}
	if (err) die("load trigger.bpf.o", err);
	prog_stats_emit(skel->obj);
	emit_log("syscall function: %s", func);

	/* The baseline runs first and again last (when listed): overheads are taken against the mean of both, which
	 * cancels slow drift of the host (TCG, shared CPUs). Samples are buffered and emitted at the end. */
	int samples = bench_samples(&env);
	bool has_base = false;
	for (int v = 0; v < nv; v++) if (strcmp(list[v], "baseline") == 0) has_base = true;
	if (has_base && nv < 16) list[nv++] = "baseline";
	double *rates = calloc((size_t)nv * samples, sizeof(double));
	unsigned long long made[16] = {}, counted[16] = {};
	bool ran[16] = {};
	for (int v = 0; v < nv; v++) {
		const char *name = list[v];
		int slot = slot_of(name);
		if (slot >= 0 && !wanted[slot]) continue;
		struct bpf_link *link = NULL;
		if (slot >= 0) {
			struct bpf_program *p = prog_for(skel, slot);
			skel->bss->hits[slot] = 0;
			if (slot == 0 || slot == 1) link = bpf_program__attach_kprobe(p, slot == 1, func);
			else link = bpf_program__attach(p);
			if (!link) {
				char what[512];
				snprintf(what, sizeof(what), "attach %s (%s)", name, func);
				die(what, errno);
			}
		}
		bench_reset_calls();
		struct bench_phase ph = {
			.variant = name, .producers = producers, .producer = producer, .ncounters = 1,
			.counters = { { "syscalls_per_s", "calls/s", 0, bench_calls } }, .keep = &rates[v * samples],
		};
		bench_run(&env, &ph);
		if (link) bpf_link__destroy(link);
		ran[v] = true;
		made[v] = bench_calls();
		if (slot >= 0) {
			counted[v] = skel->bss->hits[slot];
		}
	}

	bench_emit_against_baseline("syscalls_per_s", (const char *const *)list, ran, nv, rates, samples, producers);
	for (int v = 0; v < nv; v++) {
		if (!ran[v] || strcmp(list[v], "baseline") == 0) continue;
		emit_sample(list[v], "calls_made", "calls", made[v], 0);
		emit_sample(list[v], "records_counted", "calls", counted[v], 0);
	}
	free(rates);
	trigger_bpf__destroy(skel);
	return 0;
}
