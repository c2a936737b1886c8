/* CPU-clock sampling on a CPU-bound workload, shared by the stacktrace and perf_sampling drivers (one copy each).
 *
 * Workload: one worker per online CPU (pinned by the core) calls workload_iteration() in a loop: a recursion of
 * --depth frames (noinline, noipa, work after the call so it is neither inlined nor turned into a loop) whose deepest
 * frame spins --spin steps of a multiply-add. The drivers are built with frame pointers (bpf/Makefile). gcc 12 gives
 * the spin (a leaf that needs no stack) no frame even with -mno-omit-leaf-frame-pointer, so a walk from a sample in
 * the spin reads the spin's IP and then the return addresses of the --depth recursion frames (the spin's own return
 * into the innermost one is skipped, as in any frame-pointer walk through a frameless leaf): --depth - 1 returns
 * into the recursive call, one into the loop, and whatever follows. Rate: iterations_per_s.
 *
 * Sampling: one PERF_TYPE_SOFTWARE / PERF_COUNT_SW_CPU_CLOCK event per online CPU (pid -1: whatever runs there), at
 * --freq samples per second, with a BPF_PROG_TYPE_PERF_EVENT program attached (libbpf enables the event). The kernel
 * turns a frequency on the CPU clock into a fixed hrtimer period (1e9 / freq ns, at least 10 us).
 *
 * Accounting: run_cnt / run_time_ns of the program from BPF stats (BPF_ENABLE_STATS, else the
 * kernel.bpf_stats_enabled sysctl) give the kernel's count of samples that ran the program and their cost; the
 * perf events' time_enabled times --freq gives the samples requested. */
#ifndef LAB_CPU_SAMPLING_H
#define LAB_CPU_SAMPLING_H
#include "common.h"
#include "core/bench.h"
#include <linux/perf_event.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <sys/syscall.h>
#include <sys/ioctl.h>

/* ---- the workload ---- */
static int workload_depth = 32;
static long workload_spin = 2000;
static volatile unsigned long long workload_sink;
/* the return address of the recursive call: a user stack holds it once per recursion frame but the outermost */
static volatile unsigned long recursion_ret;

__attribute__((noinline, noipa)) static unsigned long long workload_spin_leaf(long n)
{
	unsigned long long x = (unsigned long long)n;
	for (long i = 0; i < n; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		asm volatile("" : "+r"(x));
	}
	return x;
}

__attribute__((noinline, noipa)) static unsigned long long workload_recurse(int n)
{
	if (n < workload_depth && !recursion_ret) recursion_ret = (unsigned long)__builtin_return_address(0);
	unsigned long long r = n <= 1 ? workload_spin_leaf(workload_spin) : workload_recurse(n - 1);
	asm volatile("" : "+r"(r)); /* after the call: no tail call, no accumulator loop */
	return r + (unsigned long long)n;
}

static void *workload_producer(long idx)
{
	while (!bench_producers_stop) {
		workload_sink += workload_recurse(workload_depth);
		bench_count_call(idx);
	}
	return NULL;
}

/* ---- perf_event_max_sample_rate: the guest's own limit, restored before each phase ---- */
static long read_long_file(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1) v = -1;
		fclose(f);
	}
	return v;
}

static bool write_long_file(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	if (!f) return false;
	bool ok = fprintf(f, "%ld\n", v) > 0;
	return fclose(f) == 0 && ok;
}

#define MAX_RATE_PATH "/proc/sys/kernel/perf_event_max_sample_rate"

/* ---- is sched_clock() (BPF stats' clock) in step with the guest's clock? ----
 * run_time_ns comes from sched_clock(), which on x86 is the TSC scaled by the frequency the kernel calibrated at boot.
 * Under TCG on a busy host the PIT calibration can be far off (a 6.12 boot "Detected 120.897 MHz" for a 2.6 GHz
 * TSC), and the clocksource watchdog then moves timekeeping to the HPET but sched_clock() keeps the wrong scale.
 * Returns TSC ticks per CLOCK_MONOTONIC second over the kernel's TSC frequency (/proc/cpuinfo "cpu MHz"): the
 * factor by which sched_clock() runs fast, 1 when in step, 0 when unknown. */
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static double sched_clock_ratio(void)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	double mhz = 0;
	char line[256];
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "cpu MHz", 7) == 0 && sscanf(strchr(line, ':') + 1, "%lf", &mhz) == 1) break;
	if (f) fclose(f);
	if (mhz <= 0) return 0;
	unsigned long long t0 = now_ns(), c0 = __rdtsc();
	sleep_ns(200000000ULL);
	unsigned long long t1 = now_ns(), c1 = __rdtsc();
	return (double)(c1 - c0) / (double)(t1 - t0) * 1000.0 / mhz;
}
#else
static double sched_clock_ratio(void) { return 0; }
#endif

/* ---- BPF stats ---- */
static bool bpf_stats_on;
static bool bpf_stats_time_ok = true; /* run_time_ns usable: sched_clock() in step with the guest's clock */
static int bpf_stats_fd = -1;

/* BPF_ENABLE_STATS (5.8+) keeps stats on while the fd is open; before that, the sysctl. */
static void enable_bpf_stats(void)
{
	bpf_stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (bpf_stats_fd >= 0 || write_long_file("/proc/sys/kernel/bpf_stats_enabled", 1)) {
		bpf_stats_on = true;
		double r = sched_clock_ratio();
		emit_log("sched_clock / CLOCK_MONOTONIC: %.3f (0: unknown)", r);
		if (r > 0 && (r < 0.8 || r > 1.25)) {
			bpf_stats_time_ok = false;
			emit_warn("no ns_per_sample: sched_clock(), which times BPF programs, runs %.2fx the guest's clock (the kernel calibrated the TSC wrong at boot: /proc/cpuinfo cpu MHz)", r);
		}
		return;
	}
	emit_warn("BPF stats unavailable (BPF_ENABLE_STATS and kernel.bpf_stats_enabled failed): no ns_per_sample, samples from the program's counter");
}

static int stats_prog_fd = -1;

static bool prog_run_stats(int fd, unsigned long long *cnt, unsigned long long *ns)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) return false;
	*cnt = info.run_cnt;
	*ns = info.run_time_ns;
	return true;
}

static unsigned long long read_run_cnt(void)
{
	unsigned long long c = 0, n = 0;
	prog_run_stats(stats_prog_fd, &c, &n);
	return c;
}

static unsigned long long read_run_ns(void)
{
	unsigned long long c = 0, n = 0;
	prog_run_stats(stats_prog_fd, &c, &n);
	return n;
}

/* ---- one CPU-clock event per online CPU, the program attached to each ---- */
struct cpu_events {
	int n;
	int fd[BENCH_MAX_THREADS];
	struct bpf_link *link[BENCH_MAX_THREADS];
};

/* Opens and attaches; on failure closes what it opened and returns -errno. */
static int cpu_events_attach(struct cpu_events *ev, const struct bpf_program *prog, long freq, int ncpus)
{
	memset(ev, 0, sizeof(*ev));
	for (int cpu = 0; cpu < ncpus && cpu < BENCH_MAX_THREADS; cpu++) {
		struct perf_event_attr a = {
			.type = PERF_TYPE_SOFTWARE, .size = sizeof(a), .config = PERF_COUNT_SW_CPU_CLOCK,
			.freq = 1, .sample_freq = (unsigned long long)freq, .disabled = 1,
			.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING,
		};
		int fd = syscall(__NR_perf_event_open, &a, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		int err = fd < 0 ? -errno : 0;
		struct bpf_link *l = NULL;
		if (!err) {
			l = bpf_program__attach_perf_event(prog, fd);
			if (!l) { err = -errno; close(fd); }
		}
		if (err) {
			for (int i = 0; i < ev->n; i++) bpf_link__destroy(ev->link[i]);
			ev->n = 0;
			return err;
		}
		ev->fd[ev->n] = fd;
		ev->link[ev->n++] = l;
	}
	return 0;
}

/* Sum of the events' enabled time (ns), read before detaching. */
static unsigned long long cpu_events_enabled_ns(const struct cpu_events *ev)
{
	unsigned long long sum = 0;
	for (int i = 0; i < ev->n; i++) {
		unsigned long long v[3];
		if (read(ev->fd[i], v, sizeof(v)) == sizeof(v)) sum += v[1];
	}
	return sum;
}

/* Detaching closes the perf event too (libbpf owns the fd once attached). */
static void cpu_events_detach(struct cpu_events *ev)
{
	for (int i = 0; i < ev->n; i++) bpf_link__destroy(ev->link[i]);
	ev->n = 0;
}

/* ---- phases: the workload alone, or with one program sampling; rows emitted once every phase ran ---- */
enum { K_ITER, K_SAMPLES, K_NS, K_COUNTERS };

struct sampling_phase {
	const char *variant;
	const struct bpf_program *prog; /* NULL: the baseline, no perf event */
	unsigned long long (*counted)(void); /* the program's own sample counter, or NULL */
	/* optional: one consumer thread (the ring buffer) and the step after the workers stop */
	void *(*consumer)(long idx);
	void (*drain)(void);
	/* filled by run_sampling_phase */
	bool ran;
	double *kept; /* [rep][K_COUNTERS] */
	unsigned long long iterations, run_cnt, run_ns, counted_total, enabled_ns;
	long max_rate_after;
};

static struct cpu_events sampling_events;
static unsigned long long (*counted_reader)(void);
static unsigned long long read_counted(void) { return counted_reader ? counted_reader() : 0; }

/* Runs one phase; returns 0, or -errno when the perf events cannot be opened or attached (nothing measured). */
static int run_sampling_phase(const struct bench_env *env, struct sampling_phase *ph, long freq, int workers,
			      long max_rate)
{
	if (max_rate > 0) write_long_file(MAX_RATE_PATH, max_rate);
	unsigned long long cnt0 = 0, ns0 = 0, counted0 = 0;
	stats_prog_fd = ph->prog ? bpf_program__fd(ph->prog) : -1;
	counted_reader = ph->counted;
	if (ph->prog) {
		prog_run_stats(stats_prog_fd, &cnt0, &ns0);
		counted0 = read_counted();
		int err = cpu_events_attach(&sampling_events, ph->prog, freq, env->nr_cpus);
		if (err) return err;
	}
	bench_reset_calls();
	int samples = bench_samples(env);
	ph->kept = calloc((size_t)samples * K_COUNTERS, sizeof(double));
	/* without stats, samples per interval come from the program's counter (the empty program has none) */
	struct bench_phase bp = {
		.variant = ph->variant, .producers = workers, .producer = workload_producer,
		.consumers = ph->consumer ? 1 : 0, .consumer = ph->consumer, .drain = ph->drain,
		.ncounters = K_COUNTERS, .keep = ph->kept,
		.counters = {
			{ "iterations_per_s", "calls/s", 0, bench_calls },
			{ "samples_per_s", "samples/s", 0, bpf_stats_on ? read_run_cnt : read_counted },
			{ "ns_per_sample", "ns", 0, read_run_ns, read_run_cnt },
		},
	};
	bench_run(env, &bp);
	if (ph->prog) {
		ph->enabled_ns = cpu_events_enabled_ns(&sampling_events);
		cpu_events_detach(&sampling_events);
		unsigned long long cnt1 = 0, ns1 = 0;
		prog_run_stats(stats_prog_fd, &cnt1, &ns1);
		ph->run_cnt = cnt1 - cnt0;
		ph->run_ns = ns1 - ns0;
		ph->counted_total = read_counted() - counted0;
	}
	ph->iterations = bench_calls();
	ph->max_rate_after = read_long_file(MAX_RATE_PATH);
	if (max_rate > 0 && ph->max_rate_after >= 0 && ph->max_rate_after < max_rate)
		emit_warn("%s: the kernel lowered perf_event_max_sample_rate from %ld to %ld during the phase (perf interrupts took too long)",
			  ph->variant, max_rate, ph->max_rate_after);
	ph->ran = true;
	return 0;
}

/* Per interval: iterations_per_s, ns_per_call and, against the mean baseline, overhead_ns / overhead_pct /
 * ratio_to_baseline (the core's emitter); for sampled phases samples_per_s, delivered_pct (of freq x CPUs),
 * ns_per_sample (BPF stats) and lost_ns_per_sample (workload CPU time lost per sample). Per phase totals:
 * samples_kernel (run_cnt), samples_requested, samples_counted, perf_max_sample_rate. */
static void emit_sampling_rows(const struct bench_env *env, struct sampling_phase *phases, int nph, long freq,
			       int workers)
{
	int samples = bench_samples(env);
	const char *names[16];
	bool ran[16];
	double *rates = calloc((size_t)nph * samples, sizeof(double));
	double base = 0;
	int nbase = 0;
	for (int v = 0; v < nph && v < 16; v++) {
		names[v] = phases[v].variant;
		ran[v] = phases[v].ran;
		for (int rep = 0; ran[v] && rep < samples; rep++) {
			rates[v * samples + rep] = phases[v].kept[rep * K_COUNTERS + K_ITER];
			if (!phases[v].prog) { base += rates[v * samples + rep]; nbase++; }
		}
	}
	if (nbase) base /= nbase;
	bench_emit_against_baseline("iterations_per_s", names, ran, nph, rates, samples, workers);
	free(rates);

	double requested_per_s = (double)freq * env->nr_cpus;
	for (int v = 0; v < nph; v++) {
		struct sampling_phase *ph = &phases[v];
		if (!ph->ran || !ph->prog) continue;
		bool have_samples = bpf_stats_on || ph->counted;
		for (int rep = 0; have_samples && rep < samples; rep++) {
			const double *k = &ph->kept[rep * K_COUNTERS];
			emit_sample(ph->variant, "samples_per_s", "samples/s", k[K_SAMPLES], rep);
			emit_sample(ph->variant, "delivered_pct", "%", k[K_SAMPLES] / requested_per_s * 100, rep);
			if (bpf_stats_on && bpf_stats_time_ok) emit_sample(ph->variant, "ns_per_sample", "ns", k[K_NS], rep);
			if (base > 0 && k[K_SAMPLES] > 0) {
				double lost = 1 - k[K_ITER] / base;
				emit_sample(ph->variant, "lost_ns_per_sample", "ns", lost * workers * 1e9 / k[K_SAMPLES], rep);
			}
		}
		if (bpf_stats_on) emit_sample(ph->variant, "samples_kernel", "samples", ph->run_cnt, 0);
		emit_sample(ph->variant, "samples_requested", "samples", ph->enabled_ns / 1e9 * freq, 0);
		if (ph->counted) emit_sample(ph->variant, "samples_counted", "samples", ph->counted_total, 0);
		if (ph->max_rate_after >= 0) emit_sample(ph->variant, "perf_max_sample_rate", "samples/s", ph->max_rate_after, 0);
	}
}

/* The options both drivers take (sampling core, workload, --freq): returns the sampling frequency. */
static long sampling_driver_init(int argc, char **argv, struct bench_env *env)
{
	opts_init(argc, argv);
	lab_bpf_init();
	bench_env_from_opts(env);
	workload_depth = (int)opt_long("depth", 32);
	workload_spin = opt_long("spin", 2000);
	long freq = opt_long("freq", 1000);
	if (workload_depth < 2 || workload_depth > 100 || workload_spin < 1 || freq < 1) {
		fprintf(stderr, "--depth must be 2..100, --spin >= 1, --freq >= 1\n");
		exit(2);
	}
	return freq;
}
#endif
