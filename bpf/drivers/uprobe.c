/* uprobe-tracing driver: the probed code is this binary's own lab_uprobe_target(), a nop (the USDT site) and a
 * return, called in a loop like the kernel bench's trig-uprobe-nop producer.
 *
 * --mode overhead: for each variant in --variants, one program (or none, for "baseline") is attached while the
 * producers call the function: uprobe (entry), uretprobe (return), usdt (the bpf_lab:tick probe, one argument).
 * All attach with pid -1 to /proc/self/exe, like the bench. The baseline runs first and again last. Per interval:
 * calls_per_s, ns_per_call and, against the mean baseline rate, overhead_ns, overhead_pct, ratio_to_baseline. Per
 * variant: calls_made (while attached, warm-up included), probe_hits (the program's counter) and, for usdt,
 * usdt_arg_errors (sum of the arguments the program saw minus the sum passed: 0 when every argument arrived).
 *
 * --mode latency: variant uprobe-ringbuf: a uprobe on the function reserves one ring buffer record stamped with
 * bpf_ktime_get_ns(); one producer calls the function at --rate calls/s (0: as fast as it can); the consumer (libbpf
 * ring_buffer__poll, epoll wakeups) stamps CLOCK_MONOTONIC. Per interval latency_p50/p95/p99/p999_ns, events_per_s,
 * drops_per_s, calls_per_s; totals records_produced/consumed/dropped.
 *
 * Options: --mode overhead|latency --variants a,b --producers N --rate N --warmup S --duration S --interval-ms MS */
#include "common.h"
#include "core/bench.h"
#include "core/proginfo.h"
#include <sys/sdt.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "uprobe.skel.h"
#include "loghist.h"

/* The probe target: noinline so every iteration is a real call at a fixed address; the USDT probe is one nop. */
__attribute__((noinline, used)) void lab_uprobe_target(unsigned long seq)
{
	STAP_PROBE1(bpf_lab, tick, seq);
	asm volatile("" ::: "memory");
}

#define TARGET "lab_uprobe_target"
static unsigned long last_seq[BENCH_MAX_THREADS];
static long rate;

static void *producer(long idx)
{
	unsigned long seq = 0;
	unsigned long long period = rate > 0 ? 1000000000ULL / rate : 0, next = now_ns();
	while (!bench_producers_stop) {
		if (period) {
			while (now_ns() < next && !bench_producers_stop) ;
			next += period;
		}
		lab_uprobe_target(++seq);
		bench_count_call(idx);
	}
	last_seq[idx] = seq;
	return NULL;
}

static const char *VARIANTS[] = { "uprobe", "uretprobe", "usdt" };
static int slot_of(const char *v)
{
	for (int i = 0; i < 3; i++) if (strcmp(v, VARIANTS[i]) == 0) return i;
	return -1;
}

static struct uprobe_bpf *skel;

static struct bpf_link *attach(int slot)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = TARGET, .retprobe = slot == 1);
	if (slot == 0) return bpf_program__attach_uprobe_opts(skel->progs.on_uprobe, -1, "/proc/self/exe", 0, &opts);
	if (slot == 1) return bpf_program__attach_uprobe_opts(skel->progs.on_uretprobe, -1, "/proc/self/exe", 0, &opts);
	struct bpf_link *l = bpf_program__attach_usdt(skel->progs.on_usdt, -1, "/proc/self/exe", "bpf_lab", "tick", NULL);
	if (!l && errno == EOPNOTSUPP) {
		/* before BPF cookies (5.15) libbpf finds the USDT spec by absolute address, which a PIE binary only has
		 * in a given process */
		emit_warn("usdt: attached to this process only (pid filter): the kernel lacks BPF cookies, which libbpf needs for pid -1");
		l = bpf_program__attach_usdt(skel->progs.on_usdt, getpid(), "/proc/self/exe", "bpf_lab", "tick", NULL);
	}
	return l;
}

static int run_overhead(const struct bench_env *env, long producers, char *variants)
{
	char *list[16];
	int nv = 0;
	bool has_base = false;
	for (char *tok = strtok(variants, ","); tok && nv < 15; tok = strtok(NULL, ",")) {
		if (strcmp(tok, "baseline") && slot_of(tok) < 0) { fprintf(stderr, "unknown variant %s\n", tok); return 2; }
		if (strcmp(tok, "baseline") == 0) has_base = true;
		list[nv++] = tok;
	}
	if (has_base) list[nv++] = "baseline";
	int samples = bench_samples(env);
	double *rates = calloc((size_t)nv * samples, sizeof(double));
	unsigned long long made[16] = {}, counted[16] = {};
	long long arg_err[16] = {};
	for (int v = 0; v < nv; v++) {
		int slot = slot_of(list[v]);
		struct bpf_link *link = NULL;
		if (slot >= 0) {
			skel->bss->hits[slot] = 0;
			skel->bss->usdt_arg_sum = 0;
			link = attach(slot);
			if (!link) {
				char what[128];
				snprintf(what, sizeof(what), "attach %s to /proc/self/exe:%s", list[v], TARGET);
				die(what, errno);
			}
		}
		bench_reset_calls();
		memset(last_seq, 0, sizeof(last_seq));
		struct bench_phase ph = {
			.variant = list[v], .producers = producers, .producer = producer, .ncounters = 1,
			.counters = { { "calls_per_s", "calls/s", 0, bench_calls } }, .keep = &rates[v * samples],
		};
		bench_run(env, &ph);
		if (link) bpf_link__destroy(link);
		made[v] = bench_calls();
		if (slot >= 0) counted[v] = skel->bss->hits[slot];
		if (slot == 2) {
			/* each producer passed 1..last_seq: the arguments sum to n(n+1)/2 per producer */
			unsigned long long want = 0;
			for (int i = 0; i < producers; i++) want += (unsigned long long)last_seq[i] * (last_seq[i] + 1) / 2;
			arg_err[v] = (long long)(skel->bss->usdt_arg_sum - want);
		}
	}

	bool ran[16];
	for (int v = 0; v < nv; v++) ran[v] = true;
	bench_emit_against_baseline("calls_per_s", (const char *const *)list, ran, nv, rates, samples, producers);
	for (int v = 0; v < nv; v++) {
		if (strcmp(list[v], "baseline") == 0) continue;
		emit_sample(list[v], "calls_made", "calls", made[v], 0);
		emit_sample(list[v], "probe_hits", "calls", counted[v], 0);
		if (slot_of(list[v]) == 2) emit_sample(list[v], "usdt_arg_errors", "count", (double)arg_err[v], 0);
	}
	free(rates);
	return 0;
}

static const char *LAT = "uprobe-ringbuf";
static struct padded_counter consumed;
static struct loghist hist, snap_prev, snap_cur;
static struct ring_buffer *rb;
static struct bpf_link *stamp_link;

static int on_record(void *ctx, void *data, size_t len)
{
	unsigned long long t = now_ns(), ts = ((unsigned long long *)data)[0];
	lh_add(&hist, t > ts ? t - ts : 0);
	bench_count(&consumed);
	return 0;
}

static void *consumer(long idx)
{
	while (!bench_consumers_stop) ring_buffer__poll(rb, BENCH_POLL_FOREVER);
	ring_buffer__consume(rb);
	return NULL;
}

static void on_interval(int rep)
{
	memcpy(&snap_cur, &hist, sizeof(hist));
	unsigned long long n;
	double p50 = lh_percentile(&snap_cur, &snap_prev, 0.50, &n);
	if (n) {
		emit_sample(LAT, "latency_p50_ns", "ns", p50, rep);
		emit_sample(LAT, "latency_p95_ns", "ns", lh_percentile(&snap_cur, &snap_prev, 0.95, NULL), rep);
		emit_sample(LAT, "latency_p99_ns", "ns", lh_percentile(&snap_cur, &snap_prev, 0.99, NULL), rep);
		emit_sample(LAT, "latency_p999_ns", "ns", lh_percentile(&snap_cur, &snap_prev, 0.999, NULL), rep);
	} else {
		emit_warn("uprobe-ringbuf interval %d: no records consumed", rep);
	}
	memcpy(&snap_prev, &snap_cur, sizeof(hist));
}

static void detach_and_settle(void)
{
	bpf_link__destroy(stamp_link);
	sleep_ns(200000000ULL);
}

static unsigned long long read_consumed(void) { return consumed.v; }
static unsigned long long read_dropped(void) { return skel->bss->dropped; }

static int run_latency(const struct bench_env *env)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = TARGET);
	stamp_link = bpf_program__attach_uprobe_opts(skel->progs.stamp, -1, "/proc/self/exe", 0, &opts);
	if (!stamp_link) die("attach uprobe-ringbuf to /proc/self/exe:" TARGET, errno);
	rb = ring_buffer__new(bpf_map__fd(skel->maps.rb), on_record, NULL, NULL);
	if (!rb) die("ring_buffer__new", errno);
	bench_reset_calls();
	struct bench_phase ph = {
		.variant = LAT, .producers = 1, .consumers = 1, .producer = producer, .consumer = consumer,
		.drain = detach_and_settle, .on_interval = on_interval, .ncounters = 3,
		.counters = {
			{ "events_per_s", "events/s", 0, read_consumed },
			{ "drops_per_s", "events/s", 0, read_dropped },
			{ "calls_per_s", "calls/s", 0, bench_calls },
		},
	};
	memcpy(&snap_prev, &hist, sizeof(hist));
	bench_run(env, &ph);
	emit_sample(LAT, "calls_made", "calls", bench_calls(), 0);
	emit_sample(LAT, "records_produced", "records", skel->bss->produced, 0);
	emit_sample(LAT, "records_consumed", "records", consumed.v, 0);
	emit_sample(LAT, "records_dropped", "records", skel->bss->dropped, 0);
	ring_buffer__free(rb);
	return 0;
}

int main(int argc, char **argv)
{
	opts_init(argc, argv);
	lab_bpf_init();
	struct bench_env env;
	bench_env_from_opts(&env);
	const char *mode = opt_str("mode", "overhead");
	bool latency = strcmp(mode, "latency") == 0;
	if (!latency && strcmp(mode, "overhead")) { fprintf(stderr, "--mode must be overhead or latency\n"); return 2; }
	long producers = opt_long("producers", 1);
	if (producers < 1 || producers > BENCH_MAX_THREADS) { fprintf(stderr, "--producers must be 1..%d\n", BENCH_MAX_THREADS); return 2; }
	rate = latency ? opt_long("rate", 10000) : 0;
	char variants[256];
	snprintf(variants, sizeof(variants), "%s", opt_str("variants", "baseline,uprobe,uretprobe,usdt"));

	skel = uprobe_bpf__open();
	if (!skel) die("open uprobe.bpf.o", errno);
	/* load only what the mode attaches */
	bpf_program__set_autoload(skel->progs.on_uprobe, !latency);
	bpf_program__set_autoload(skel->progs.on_uretprobe, !latency);
	bpf_program__set_autoload(skel->progs.on_usdt, !latency);
	bpf_program__set_autoload(skel->progs.stamp, latency);
	prog_stats_before_load(skel->obj);
	int err = uprobe_bpf__load(skel);
	if (err) die("load uprobe.bpf.o", err);
	prog_stats_emit(skel->obj);

	int rc = latency ? run_latency(&env) : run_overhead(&env, producers, variants);
	uprobe_bpf__destroy(skel);
	return rc;
}
