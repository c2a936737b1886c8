/* Implementation of the shared sampling core (see bench.h). */
#define _GNU_SOURCE
#include "bench.h"
#include "../common.h"
#include "proginfo.h"
#include <math.h>
#include <signal.h>
#include <time.h>

volatile int bench_producers_stop, bench_consumers_stop;
struct padded_counter bench_call_counts[BENCH_MAX_THREADS + 1];

unsigned long long bench_calls(void)
{
	unsigned long long s = 0;
	for (int i = 0; i <= BENCH_MAX_THREADS; i++) s += bench_call_counts[i].v;
	return s;
}

void bench_reset_calls(void) { memset(bench_call_counts, 0, sizeof(bench_call_counts)); }

void bench_env_from_opts(struct bench_env *env)
{
	env->warmup_s = opt_double("warmup", 1);
	env->duration_s = opt_double("duration", 5);
	env->interval_ms = opt_long("interval-ms", 1000);
	env->nr_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (env->interval_ms < 1 || env->duration_s <= 0 || env->warmup_s < 0) {
		fprintf(stderr, "--interval-ms must be >= 1, --duration > 0, --warmup >= 0\n");
		exit(2);
	}
}

int bench_samples(const struct bench_env *env)
{
	int n = (int)(env->duration_s * 1000 / env->interval_ms);
	return n < 1 ? 1 : n;
}

struct thread_start { void *(*fn)(long); long idx; int cpu; };

static void wake_from_poll(int sig) { (void)sig; }

/* Consumers block in polls without a timeout (BENCH_POLL_FOREVER): a signal without SA_RESTART ends the wait with
 * EINTR; it is sent again every 10 ms until the thread has returned, in case it arrived before the thread went to
 * sleep. */
static void stop_consumers(pthread_t *cons, int n)
{
	bench_consumers_stop = 1;
	for (int i = 0; i < n; i++) {
		for (;;) {
			pthread_kill(cons[i], SIGUSR1);
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 10000000;
			if (until.tv_nsec >= 1000000000) { until.tv_sec++; until.tv_nsec -= 1000000000; }
			if (pthread_timedjoin_np(cons[i], NULL, &until) == 0) break;
		}
	}
}

static void *thread_main(void *arg)
{
	struct thread_start *t = arg;
	pin_cpu(t->cpu);
	return t->fn(t->idx);
}

void bench_run(const struct bench_env *env, const struct bench_phase *ph)
{
	if (ph->producers > BENCH_MAX_THREADS || ph->consumers > BENCH_MAX_THREADS || ph->ncounters > BENCH_MAX_COUNTERS) {
		fprintf(stderr, "bench_run: too many threads or counters\n");
		exit(2);
	}
	pthread_t prod[BENCH_MAX_THREADS], cons[BENCH_MAX_THREADS];
	struct thread_start ps[BENCH_MAX_THREADS], cs[BENCH_MAX_THREADS];
	bench_producers_stop = bench_consumers_stop = 0;
	struct sigaction wake = { .sa_handler = wake_from_poll }; /* no SA_RESTART: the poll returns */
	sigaction(SIGUSR1, &wake, NULL);
	/* BPF run-time stats for the loaded programs in the first half of the warm-up only: they cost two clock reads per
	 * program run, and flipping the kernel's static key patches code (done here, before the threads start, and again
	 * mid-warm-up, with the second half to settle), so the measured intervals run with stats off */
	unsigned long long half = (unsigned long long)(env->warmup_s * 1e9 / 2);
	int stats_fd = half ? bpf_stats_window_open() : -1;
	for (int i = 0; i < ph->consumers; i++) {
		cs[i] = (struct thread_start){ ph->consumer, i, i % env->nr_cpus };
		pthread_create(&cons[i], NULL, thread_main, &cs[i]);
	}
	for (int i = 0; i < ph->producers; i++) {
		ps[i] = (struct thread_start){ ph->producer, i, (ph->consumers + i) % env->nr_cpus };
		pthread_create(&prod[i], NULL, thread_main, &ps[i]);
	}

	sleep_ns(half);
	bpf_stats_window_close(stats_fd);
	sleep_ns((unsigned long long)(env->warmup_s * 1e9) - half);
	int samples = bench_samples(env);
	unsigned long long prev[BENCH_MAX_COUNTERS], prev_per[BENCH_MAX_COUNTERS] = {}, t0 = now_ns();
	if (ph->on_measure_start) ph->on_measure_start();
	for (int c = 0; c < ph->ncounters; c++) {
		prev[c] = ph->counters[c].read();
		if (ph->counters[c].per) prev_per[c] = ph->counters[c].per();
	}
	for (int rep = 0; rep < samples; rep++) {
		sleep_ns(env->interval_ms * 1000000ULL);
		unsigned long long t1 = now_ns();
		double dt = (t1 - t0) / 1e9;
		for (int c = 0; c < ph->ncounters; c++) {
			const struct bench_counter *k = &ph->counters[c];
			unsigned long long v = k->read();
			double den = dt;
			if (k->per) {
				unsigned long long p = k->per();
				den = (double)(p - prev_per[c]);
				prev_per[c] = p;
			}
			/* a per-op value with no op completed in the interval has no value (NAN when kept, not emitted) */
			double value = den > 0 ? (double)(v - prev[c]) / den * (k->scale ? k->scale : 1) : k->per ? NAN : 0;
			prev[c] = v;
			if (ph->keep) ph->keep[rep * ph->ncounters + c] = value;
			else if (!isnan(value)) emit_sample_labels(ph->variant, k->metric, k->unit, value, rep, ph->labels);
		}
		if (ph->on_interval) ph->on_interval(rep);
		t0 = t1;
	}

	bench_producers_stop = 1;
	if (ph->stop) ph->stop();
	for (int i = 0; i < ph->producers; i++) pthread_join(prod[i], NULL);
	if (ph->drain) ph->drain();
	stop_consumers(cons, ph->consumers);
}

double bench_baseline_rate(const char *const *names, const bool *ran, int nv, const double *rates, int samples)
{
	double sum = 0;
	int n = 0;
	for (int v = 0; v < nv; v++)
		if (ran[v] && strcmp(names[v], "baseline") == 0)
			for (int rep = 0; rep < samples; rep++)
				if (!isnan(rates[v * samples + rep])) { sum += rates[v * samples + rep]; n++; }
	return n ? sum / n : 0;
}

void bench_emit_against_baseline(const char *rate_metric, const char *const *names, const bool *ran, int nv,
				 const double *rates, int samples, int producers)
{
	double base_rate = bench_baseline_rate(names, ran, nv, rates, samples);
	int base_rep = 0;
	for (int v = 0; v < nv; v++) {
		if (!ran[v]) continue;
		bool is_base = strcmp(names[v], "baseline") == 0;
		for (int rep = 0; rep < samples; rep++) {
			double rate = rates[v * samples + rep];
			int r = is_base ? base_rep++ : rep; /* both baseline phases: one series of repetitions */
			if (isnan(rate)) continue;
			double ns = rate > 0 ? producers * 1e9 / rate : 0;
			emit_sample(names[v], rate_metric, "calls/s", rate, r);
			emit_sample(names[v], "ns_per_call", "ns", ns, r);
			if (base_rate > 0 && !is_base) {
				double base_ns = producers * 1e9 / base_rate;
				emit_sample(names[v], "overhead_ns", "ns", ns - base_ns, rep);
				emit_sample(names[v], "overhead_pct", "%", (ns - base_ns) / base_ns * 100, rep);
				emit_sample(names[v], "ratio_to_baseline", "ratio", rate / base_rate, rep);
			}
		}
	}
}
