/* ringbuf-throughput driver: the method of the kernel selftests' ringbuf benches (bench_ringbufs.c).
 * Variant "baseline": the producers call getpgid() with nothing attached.
 * Variant "ringbuf":  the program (fentry on the getpgid syscall function, or the sys_enter_getpgid tracepoint)
 *                     writes `batch` records per call; one consumer drains them with libbpf's ring_buffer__poll
 *                     (--consumer libbpf) or a hand-written reader of the mmap'ed ring (--consumer custom).
 * Placement: parallel (producers loop on their own CPUs, the consumer on CPU 0) or back-to-back (the bench's b2b:
 *            one batch is seeded, then the consumer triggers the next batch after each drain; one producer only).
 * Wakeups:   --wakeup-every 0 = the kernel's default notification; N = forced once N records' worth of data is
 *            unconsumed (the bench's --rb-sampled with --rb-sample-rate N).
 * Options:   --record-size B --batch N --producers N --wakeup-every N --api reserve|output --hook fentry|tracepoint
 *            --placement parallel|back-to-back --consumer libbpf|custom --ring-kb K --warmup S --duration S --interval-ms MS */
#include "buffers.h"
#include "core/proginfo.h"
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "ringbuf.skel.h"
#include "syscall_func.h"

static struct padded_counter consumed;
static struct ringbuf_bpf *skel;

static int on_record(void *ctx, void *data, size_t len)
{
	bench_count(&consumed);
	return 0;
}

static struct ring_buffer *rb_libbpf;
static void *consumer_libbpf(long idx)
{
	while (!bench_consumers_stop) {
		ring_buffer__poll(rb_libbpf, BUF_POLL_MS);
		buf_consumer_trigger();
	}
	ring_buffer__consume(rb_libbpf);
	return NULL;
}

/* Hand-written consumer: maps the ring and walks the records (BPF_RINGBUF_* header layout). */
struct custom_rb {
	int epoll_fd;
	unsigned long mask;
	unsigned long *consumer_pos, *producer_pos;
	void *data;
};
static struct custom_rb crb;

static int custom_open(int map_fd, unsigned long size)
{
	long page = sysconf(_SC_PAGESIZE);
	crb.mask = size - 1;
	crb.consumer_pos = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (crb.consumer_pos == MAP_FAILED) return -errno;
	void *p = mmap(NULL, page + 2 * size, PROT_READ, MAP_SHARED, map_fd, page);
	if (p == MAP_FAILED) return -errno;
	crb.producer_pos = p;
	crb.data = (char *)p + page;
	crb.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN };
	return epoll_ctl(crb.epoll_fd, EPOLL_CTL_ADD, map_fd, &ev) ? -errno : 0;
}

/* Walks committed records and releases them to the producer once per pass, as the kernel bench's custom consumer
 * does; on an uncommitted record it stops, but keeps what it consumed (the bench returns there without storing the
 * position, so it walks — and counts — those records again on the next wakeup). */
static void custom_drain(void)
{
	unsigned long cons = atomic_load_explicit((_Atomic unsigned long *)crb.consumer_pos, memory_order_acquire);
	for (;;) {
		unsigned long prod = atomic_load_explicit((_Atomic unsigned long *)crb.producer_pos, memory_order_acquire);
		unsigned long start = cons;
		bool busy = false;
		while (cons < prod) {
			unsigned int *hdr = (unsigned int *)((char *)crb.data + (cons & crb.mask));
			unsigned int len = atomic_load_explicit((_Atomic unsigned int *)hdr, memory_order_acquire);
			if (len & BPF_RINGBUF_BUSY_BIT) { busy = true; break; }
			cons += (((len & ~BPF_RINGBUF_DISCARD_BIT) + BPF_RINGBUF_HDR_SZ) + 7) / 8 * 8;
			if (!(len & BPF_RINGBUF_DISCARD_BIT)) bench_count(&consumed);
		}
		if (cons != start) atomic_store_explicit((_Atomic unsigned long *)crb.consumer_pos, cons, memory_order_release);
		if (busy || cons == start) return;
	}
}

static void *consumer_custom(long idx)
{
	struct epoll_event ev;
	while (!bench_consumers_stop) {
		buf_consumer_trigger();
		if (epoll_wait(crb.epoll_fd, &ev, 1, BUF_POLL_MS) > 0) custom_drain();
	}
	custom_drain();
	return NULL;
}

static void detach_and_settle(void)
{
	ringbuf_bpf__detach(skel);
	sleep_ns(200000000ULL); /* the consumer drains what is left */
}

static unsigned long long read_consumed(void) { return consumed.v; }
static unsigned long long read_dropped(void) { return skel->bss->dropped; }

int main(int argc, char **argv)
{
	opts_init(argc, argv);
	lab_bpf_init();
	struct bench_env env;
	bench_env_from_opts(&env);
	struct buf_opts o;
	buf_opts_parse(&o);
	long ring_kb = opt_long("ring-kb", 512);
	const char *api = opt_str("api", "reserve");
	bool custom = strcmp(opt_str("consumer", "libbpf"), "custom") == 0;
	buf_run_baseline(&env, &o);

	skel = ringbuf_bpf__open();
	if (!skel) die("open ringbuf.bpf.o", errno);
	skel->rodata->target_tgid = getpid();
	skel->rodata->batch = o.batch;
	skel->rodata->record_size = o.record_size;
	/* the bench's sampled threshold: N records of data (record rounded to 8 bytes + the 8-byte header) */
	skel->rodata->wakeup_data_size = o.wakeup_every > 0 ? o.wakeup_every * ((o.record_size + 7) / 8 * 8 + 8) : 0;
	skel->rodata->use_output = strcmp(api, "output") == 0;
	bpf_map__set_max_entries(skel->maps.rb, ring_kb * 1024);
	bpf_program__set_autoload(skel->progs.produce_fentry, o.fentry);
	bpf_program__set_autoload(skel->progs.produce_tp, !o.fentry);
	const char *func = syscall_func("getpgid");
	if (o.fentry) bpf_program__set_attach_target(skel->progs.produce_fentry, 0, func);
	prog_stats_before_load(skel->obj);
	int err = ringbuf_bpf__load(skel);
	if (!err) prog_stats_emit(skel->obj);
	if (err && o.fentry) {
		emit_skip_variant("ringbuf", "fentry on %s does not load on this kernel (%s)", func, strerror(-err));
		return 0;
	}
	if (err) die("load ringbuf.bpf.o", err);
	err = ringbuf_bpf__attach(skel);
	if (err) die(o.fentry ? "attach fentry" : "attach tracepoint syscalls/sys_enter_getpgid", err);

	if (custom) {
		err = custom_open(bpf_map__fd(skel->maps.rb), ring_kb * 1024);
		if (err) die("mmap ring buffer", err);
	} else {
		rb_libbpf = ring_buffer__new(bpf_map__fd(skel->maps.rb), on_record, NULL, NULL);
		if (!rb_libbpf) die("ring_buffer__new", errno);
	}
	struct bench_phase rb = {
		.variant = "ringbuf", .producers = o.producers, .consumers = 1, .producer = buf_producer,
		.consumer = custom ? consumer_custom : consumer_libbpf, .drain = detach_and_settle, .ncounters = 4,
		.counters = {
			{ "events_per_s", "events/s", 0, read_consumed },
			{ "drops_per_s", "events/s", 0, read_dropped },
			{ "mb_per_s", "MB/s", o.record_size / 1e6, read_consumed },
			{ "syscalls_per_s", "calls/s", 0, bench_calls },
		},
	};
	bench_run(&env, &rb);

	/* accounting over the whole run: every record the program attempted was consumed or dropped */
	emit_sample("ringbuf", "records_produced", "records", (double)skel->bss->calls * o.batch, 0);
	emit_sample("ringbuf", "records_consumed", "records", consumed.v, 0);
	emit_sample("ringbuf", "records_dropped", "records", skel->bss->dropped, 0);
	if (rb_libbpf) ring_buffer__free(rb_libbpf);
	ringbuf_bpf__destroy(skel);
	return 0;
}
