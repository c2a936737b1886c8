/* What the ring buffer and perf buffer drivers share: their options, the getpgid() producers (free-running, or
 * seeding one batch in back-to-back mode, after which the consumer triggers each batch), and the baseline phase. */
#ifndef LAB_BUFFERS_H
#define LAB_BUFFERS_H
#include "common.h"
#include "core/bench.h"
#include <sys/syscall.h>

struct buf_opts {
	long record_size, batch, producers, wakeup_every;
	bool back_to_back, fentry;
};

static bool buf_back_to_back;

static void buf_opts_parse(struct buf_opts *o)
{
	o->record_size = opt_long("record-size", 8);
	o->batch = opt_long("batch", 1);
	o->producers = opt_long("producers", 1);
	o->wakeup_every = opt_long("wakeup-every", 0);
	o->back_to_back = strcmp(opt_str("placement", "parallel"), "back-to-back") == 0;
	const char *hook = opt_str("hook", "fentry");
	o->fentry = strcmp(hook, "fentry") == 0;
	const char *bad = NULL;
	if (o->producers < 1 || o->producers > BENCH_MAX_THREADS) bad = "--producers must be 1..64";
	else if (o->back_to_back && o->producers != 1) bad = "--placement back-to-back takes exactly one producer (the consumer triggers each batch)";
	else if (o->record_size < 8 || o->record_size >= 4096) bad = "--record-size must be 8..4095";
	else if (o->batch < 1 || o->batch > 1024) bad = "--batch must be 1..1024";
	else if (!o->fentry && strcmp(hook, "tracepoint")) bad = "--hook must be fentry or tracepoint";
	if (bad) { fprintf(stderr, "%s\n", bad); exit(2); }
}

static inline void buf_trigger_batch(long slot)
{
	syscall(__NR_getpgid);
	bench_count_call(slot);
}

/* the consumer side of back-to-back: the next batch, while the phase runs */
/* How long a consumer's poll may wait (ms). Parallel: forever, as the kernel bench's (bench_run stops it with a
 * signal). Back-to-back: 100, because the consumer itself triggers the next batch after each poll, and a batch that
 * requests no wakeup (sampled wakeups with a batch below the threshold, or the output API, whose flags are chosen
 * before the record is added) would leave it asleep for good; in steady state its poll finds data and never waits. */
#define BUF_POLL_MS (buf_back_to_back ? 100 : BENCH_POLL_FOREVER)

static inline void buf_consumer_trigger(void)
{
	if (buf_back_to_back && !bench_producers_stop) buf_trigger_batch(BENCH_MAX_THREADS);
}

static void *buf_producer(long idx)
{
	if (buf_back_to_back) { buf_trigger_batch(idx); return NULL; } /* seed the first batch */
	while (!bench_producers_stop) buf_trigger_batch(idx);
	return NULL;
}

/* The producers with nothing attached; in back-to-back mode one thread looping, like the bench's trig-base. */
static void buf_run_baseline(const struct bench_env *env, const struct buf_opts *o)
{
	struct bench_phase base = {
		.variant = "baseline", .producers = o->producers, .producer = buf_producer, .ncounters = 1,
		.counters = { { "syscalls_per_s", "calls/s", 0, bench_calls } },
	};
	buf_back_to_back = false;
	bench_run(env, &base);
	buf_back_to_back = o->back_to_back;
	bench_reset_calls();
}
#endif
