/* ringbuf-latency driver: kernel → user delivery latency of a BPF ring buffer.
 * A kprobe on the getpgid syscall function writes a record stamped with bpf_ktime_get_ns(); the consumer thread
 * (libbpf ring_buffer__poll, woken on every record) stamps CLOCK_MONOTONIC when its callback sees the record.
 * One producer thread calls getpgid() at a fixed rate (--rate N/s, paced by spinning on the clock against an absolute
 * schedule) or as fast as it can (--rate 0). Latencies go into a log-linear histogram (loghist.h); per interval the
 * driver emits latency_p50_ns, latency_p95_ns, latency_p99_ns, latency_p999_ns, events_per_s and drops_per_s.
 * --consumer epoll (default): ring_buffer__poll, the consumer sleeps in epoll_wait and is woken through the ring
 * buffer's irq_work notification; --consumer busy-poll: the consumer spins on ring_buffer__consume (no wakeups, the
 * latency of the data path alone).
 * Options: --rate N --consumer epoll|busy-poll --ring-kb K --warmup S --duration S --interval-ms MS [--func NAME] */
#include "common.h"
#include "core/bench.h"
#include "core/proginfo.h"
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "ringbuf_lat.skel.h"
#include "syscall_func.h"
#include "loghist.h"

struct rec { unsigned long long ts, seq; };

static struct padded_counter consumed;
static struct loghist hist, snap_prev, snap_cur;
static struct ring_buffer *rb;
static long rate;
static bool busy_poll;
static struct ringbuf_lat_bpf *skel;
static struct bpf_link *kprobe_link;
static const char *variant = "ringbuf";

static void *producer(long idx)
{
	unsigned long long period = rate > 0 ? 1000000000ULL / rate : 0, next = now_ns();
	while (!bench_producers_stop) {
		if (period) {
			while (now_ns() < next && !bench_producers_stop) ;
			next += period;
		}
		syscall(__NR_getpgid);
		bench_count_call(idx);
	}
	return NULL;
}

static int on_record(void *ctx, void *data, size_t len)
{
	unsigned long long t = now_ns(), ts = ((struct rec *)data)->ts;
	lh_add(&hist, t > ts ? t - ts : 0);
	bench_count(&consumed);
	return 0;
}

static void *consumer(long idx)
{
	if (busy_poll)
		while (!bench_consumers_stop) ring_buffer__consume(rb);
	else
		while (!bench_consumers_stop) ring_buffer__poll(rb, BENCH_POLL_FOREVER);
	ring_buffer__consume(rb);
	return NULL;
}

/* latency percentiles of the records consumed in this interval (histogram difference) */
static void on_interval(int rep)
{
	memcpy(&snap_cur, &hist, sizeof(hist));
	unsigned long long n;
	double p50 = lh_percentile(&snap_cur, &snap_prev, 0.50, &n);
	if (n) {
		emit_sample(variant, "latency_p50_ns", "ns", p50, rep);
		emit_sample(variant, "latency_p95_ns", "ns", lh_percentile(&snap_cur, &snap_prev, 0.95, NULL), rep);
		emit_sample(variant, "latency_p99_ns", "ns", lh_percentile(&snap_cur, &snap_prev, 0.99, NULL), rep);
		emit_sample(variant, "latency_p999_ns", "ns", lh_percentile(&snap_cur, &snap_prev, 0.999, NULL), rep);
	} else {
		emit_warn("ringbuf-latency interval %d: no records consumed", rep);
	}
	memcpy(&snap_prev, &snap_cur, sizeof(hist));
}

static void detach_and_settle(void)
{
	bpf_link__destroy(kprobe_link);
	sleep_ns(200000000ULL);
}

static unsigned long long read_consumed(void) { return consumed.v; }
static unsigned long long read_dropped(void) { return skel->bss->dropped; }

int main(int argc, char **argv)
{
	opts_init(argc, argv);
	lab_bpf_init();
	rate = opt_long("rate", 10000);
	busy_poll = strcmp(opt_str("consumer", "epoll"), "busy-poll") == 0;
	struct bench_env env;
	bench_env_from_opts(&env);
	long ring_kb = opt_long("ring-kb", 512);
	const char *func = opt_str("func", NULL);
	if (!func) func = syscall_func("getpgid");

	skel = ringbuf_lat_bpf__open();
	if (!skel) die("open ringbuf_lat.bpf.o", errno);
	skel->rodata->target_tgid = getpid();
	bpf_map__set_max_entries(skel->maps.rb, ring_kb * 1024);
	prog_stats_before_load(skel->obj);
	int err = ringbuf_lat_bpf__load(skel);
	if (err) die("load ringbuf_lat.bpf.o", err);
	prog_stats_emit(skel->obj);
	kprobe_link = bpf_program__attach_kprobe(skel->progs.stamp, false, func);
	if (!kprobe_link) die("attach kprobe", errno);
	emit_log("kprobe on %s, rate %ld/s%s, consumer %s", func, rate, rate ? "" : " (as fast as possible)", busy_poll ? "busy-poll" : "epoll");
	rb = ring_buffer__new(bpf_map__fd(skel->maps.rb), on_record, NULL, NULL);
	if (!rb) die("ring_buffer__new", errno);

	/* the consumer on CPU 0, the producer on the next CPU */
	struct bench_phase ph = {
		.variant = variant, .producers = 1, .consumers = 1, .producer = producer, .consumer = consumer,
		.drain = detach_and_settle, .on_interval = on_interval, .ncounters = 3,
		.counters = {
			{ "events_per_s", "events/s", 0, read_consumed },
			{ "drops_per_s", "events/s", 0, read_dropped },
			{ "syscalls_per_s", "calls/s", 0, bench_calls },
		},
	};
	memcpy(&snap_prev, &hist, sizeof(hist));
	bench_run(&env, &ph);
	emit_sample(variant, "records_produced", "records", skel->bss->produced, 0);
	emit_sample(variant, "records_consumed", "records", consumed.v, 0);
	emit_sample(variant, "records_dropped", "records", skel->bss->dropped, 0);
	ring_buffer__free(rb);
	ringbuf_lat_bpf__destroy(skel);
	return 0;
}
