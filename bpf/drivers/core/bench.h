/* The sampling core every driver shares: the lifecycle of the kernel selftests' `bench` (struct bench) —
 * consumers and producers started on pinned CPUs, a warm-up (BPF run-time stats on in its first half: proginfo.h),
 * then one sample per interval of each declared counter as a rate, then producers stopped, a drain step, consumers
 * stopped.
 *
 * A driver describes one phase (a variant: "baseline", "ringbuf", "kprobe", ...) as a struct bench_phase and calls
 * bench_run(). Counters are cumulative; the core turns their deltas into per-second rates (times `scale`). */
#ifndef LAB_BENCH_H
#define LAB_BENCH_H
#include <stdbool.h>
#include "../common.h"

#define BENCH_MAX_THREADS 64
#define BENCH_MAX_COUNTERS 8

/* Timing and placement, read from --warmup S --duration S --interval-ms MS (like bench's -w -d, and its -a:
 * consumers on the first CPUs, producers on the next ones, wrapping around the online CPUs). */
struct bench_env {
	double warmup_s, duration_s;
	long interval_ms;
	int nr_cpus;
};
void bench_env_from_opts(struct bench_env *env);
int bench_samples(const struct bench_env *env);

struct bench_counter {
	const char *metric; /* e.g. "events_per_s" */
	const char *unit;   /* e.g. "events/s" */
	double scale;       /* rate = delta / seconds * scale (0 means 1) */
	unsigned long long (*read)(void); /* cumulative value */
	/* optional: value = delta(read) / delta(per) * scale, not a rate (ns per op); an interval where per did not move
	 * has no value (not emitted; NAN in `keep`) */
	unsigned long long (*per)(void);
};

struct bench_phase {
	const char *variant;
	const char *labels; /* optional JSON object attached to every sample, e.g. {"map":"hash","op":"lookup"} */
	int producers, consumers;
	void *(*producer)(long idx); /* loops while !bench_producers_stop; may return early (back-to-back seeding) */
	void *(*consumer)(long idx); /* loops while !bench_consumers_stop */
	void (*drain)(void);         /* after producers stopped, before consumers stop (detach, let them catch up) */
	/* optional: called once bench_producers_stop is set, before the producers are joined, to wake a producer that
	 * blocks outside a loop (a pktgen start write returns only when "stop" is written) */
	void (*stop)(void);
	int ncounters;
	struct bench_counter counters[BENCH_MAX_COUNTERS];
	/* optional: called once the warm-up is over, before the first interval (a driver that computes its own deltas
	 * in on_interval takes its starting snapshot here) */
	void (*on_measure_start)(void);
	/* called after each interval's counters, for metrics that are not rates (latency percentiles) */
	void (*on_interval)(int rep);
	/* when set, rates go here ([sample][counter]) instead of being emitted: for metrics derived across phases */
	double *keep;
};

extern volatile int bench_producers_stop, bench_consumers_stop;

/* Consumers wait in their poll without a timeout, as the kernel bench's do: a timeout arms an hrtimer and reads the
 * clock on every sleep, and under TCG the guest's clocksource is usually the HPET (the kernel marks the TSC
 * unstable), where each clock read is an emulated device access. bench_run() ends the wait with a signal when it
 * stops the consumers, so a poll may also return -EINTR. */
#define BENCH_POLL_FOREVER (-1)

/* Counts as the kernel bench counts its producers' calls and its consumers' records: one atomic add each (a `lock
 * add`, dearer than a plain increment under TCG, so the loops cost what the bench's cost). */
static inline void bench_count(struct padded_counter *c) { __atomic_fetch_add(&c->v, 1, __ATOMIC_RELAXED); }

/* Per-thread call counters for the producer loops (index = producer idx; a back-to-back consumer uses its own). */
extern struct padded_counter bench_call_counts[BENCH_MAX_THREADS + 1];
static inline void bench_count_call(long slot) { bench_count(&bench_call_counts[slot < BENCH_MAX_THREADS ? slot : BENCH_MAX_THREADS]); }
unsigned long long bench_calls(void);
void bench_reset_calls(void);

void bench_run(const struct bench_env *env, const struct bench_phase *phase);

/* Variants measured one after another (phases kept with `keep`), the baseline first and again last: per interval the
 * rate (rate_metric, calls/s), ns_per_call and, against the mean rate of every baseline phase, overhead_ns,
 * overhead_pct and ratio_to_baseline. rates[v * samples + rep]; variants with ran[v] false and NAN rates are left out. */
/* The mean rate of every "baseline" phase that ran (0 if none): what overheads are taken against. */
double bench_baseline_rate(const char *const *names, const bool *ran, int nv, const double *rates, int samples);
void bench_emit_against_baseline(const char *rate_metric, const char *const *names, const bool *ran, int nv,
				 const double *rates, int samples, int producers);
#endif
