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
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "ringbuf_lat.skel.h"
#include "syscall_func.h"
#include "loghist.h"

struct rec { unsigned long long ts, seq; };

static volatile int stop_producer, stop_consumer;
static struct padded_counter calls, consumed;
static struct loghist hist, snap_prev, snap_cur;
static struct ring_buffer *rb;
static long rate;
static bool busy_poll;
static int nr_cpus;

static void *producer(void *arg)
{
	pin_cpu(0);
	unsigned long long period = rate > 0 ? 1000000000ULL / rate : 0, next = now_ns();
	while (!stop_producer) {
		if (period) {
			while (now_ns() < next && !stop_producer) ;
			next += period;
		}
		syscall(__NR_getpgid);
		calls.v++;
	}
	return NULL;
}

static int on_record(void *ctx, void *data, size_t len)
{
	unsigned long long t = now_ns(), ts = ((struct rec *)data)->ts;
	lh_add(&hist, t > ts ? t - ts : 0);
	consumed.v++;
	return 0;
}

static void *consumer(void *arg)
{
	pin_cpu(nr_cpus > 1 ? nr_cpus - 1 : 0);
	if (busy_poll)
		while (!stop_consumer) ring_buffer__consume(rb);
	else
		while (!stop_consumer) ring_buffer__poll(rb, 100);
	ring_buffer__consume(rb);
	return NULL;
}

int main(int argc, char **argv)
{
	opts_init(argc, argv);
	lab_bpf_init();
	rate = opt_long("rate", 10000);
	busy_poll = strcmp(opt_str("consumer", "epoll"), "busy-poll") == 0;
	long ring_kb = opt_long("ring-kb", 512), interval_ms = opt_long("interval-ms", 1000);
	double warmup = opt_double("warmup", 1), duration = opt_double("duration", 5);
	const char *func = opt_str("func", NULL);
	if (!func) func = syscall_func("getpgid");
	nr_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	const char *variant = "ringbuf";

	struct ringbuf_lat_bpf *skel = ringbuf_lat_bpf__open();
	if (!skel) die("open ringbuf_lat.bpf.o", errno);
	skel->rodata->target_tgid = getpid();
	bpf_map__set_max_entries(skel->maps.rb, ring_kb * 1024);
	int err = ringbuf_lat_bpf__load(skel);
	if (err) die("load ringbuf_lat.bpf.o", err);
	struct bpf_link *link = bpf_program__attach_kprobe(skel->progs.stamp, false, func);
	if (!link) die("attach kprobe", errno);
	emit_log("kprobe on %s, rate %ld/s%s, consumer %s", func, rate, rate ? "" : " (as fast as possible)", busy_poll ? "busy-poll" : "epoll");
	rb = ring_buffer__new(bpf_map__fd(skel->maps.rb), on_record, NULL, NULL);
	if (!rb) die("ring_buffer__new", errno);

	pthread_t prod, cons;
	pthread_create(&cons, NULL, consumer, NULL);
	pthread_create(&prod, NULL, producer, NULL);
	sleep_ns((unsigned long long)(warmup * 1e9));
	int samples = (int)(duration * 1000 / interval_ms);
	if (samples < 1) samples = 1;
	unsigned long long t0 = now_ns(), k0 = consumed.v, d0 = skel->bss->dropped, c0 = calls.v;
	memcpy(&snap_prev, &hist, sizeof(hist));
	for (int rep = 0; rep < samples; rep++) {
		sleep_ns(interval_ms * 1000000ULL);
		unsigned long long t1 = now_ns(), k1 = consumed.v, d1 = skel->bss->dropped, c1 = calls.v;
		memcpy(&snap_cur, &hist, sizeof(hist));
		double dt = (t1 - t0) / 1e9;
		emit_sample(variant, "events_per_s", "events/s", (k1 - k0) / dt, rep);
		emit_sample(variant, "drops_per_s", "events/s", (d1 - d0) / dt, rep);
		emit_sample(variant, "syscalls_per_s", "calls/s", (c1 - c0) / dt, rep);
		unsigned long long n;
		double p50 = lh_percentile(&snap_cur, &snap_prev, 0.50, &n);
		if (n) {
			emit_sample(variant, "latency_p50_ns", "ns", p50, rep);
			emit_sample(variant, "latency_p95_ns", "ns", lh_percentile(&snap_cur, &snap_prev, 0.95, NULL), rep);
			emit_sample(variant, "latency_p99_ns", "ns", lh_percentile(&snap_cur, &snap_prev, 0.99, NULL), rep);
			emit_sample(variant, "latency_p999_ns", "ns", lh_percentile(&snap_cur, &snap_prev, 0.999, NULL), rep);
		} else {
			emit_warn("interval %d: no records consumed", rep);
		}
		memcpy(&snap_prev, &snap_cur, sizeof(hist));
		t0 = t1; k0 = k1; d0 = d1; c0 = c1;
	}
	stop_producer = 1;
	pthread_join(prod, NULL);
	bpf_link__destroy(link);
	sleep_ns(200000000ULL);
	stop_consumer = 1;
	pthread_join(cons, NULL);
	emit_sample(variant, "records_produced", "records", skel->bss->produced, 0);
	emit_sample(variant, "records_consumed", "records", consumed.v, 0);
	emit_sample(variant, "records_dropped", "records", skel->bss->dropped, 0);
	ring_buffer__free(rb);
	ringbuf_lat_bpf__destroy(skel);
	return 0;
}
