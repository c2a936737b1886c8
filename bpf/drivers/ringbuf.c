/* ringbuf-throughput driver (the shape of the kernel's `bench` ringbuf benchmarks).
 * Variant "baseline": producers call getpgid() with no program attached.
 * Variant "ringbuf":  the tracepoint program writes `batch` records per call; a consumer drains them with
 *                     libbpf's ring_buffer__poll (--consumer libbpf) or a hand-written reader (--consumer custom).
 * Options: --record-size B --batch N --producers N --wakeup-every N (0 = every record) --api reserve|output
 *          --placement parallel|back-to-back --ring-kb K --warmup S --duration S --interval-ms MS */
#include "common.h"
#include <stdatomic.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "ringbuf.skel.h"

#define MAX_PRODUCERS 64
static struct padded_counter calls[MAX_PRODUCERS];
static volatile int stop_producers, stop_consumer;
static struct padded_counter consumed;
static int nr_cpus;
static bool back_to_back;

static void *producer(void *arg)
{
	long idx = (long)arg;
	pin_cpu(back_to_back ? 0 : idx);
	while (!stop_producers) {
		syscall(__NR_getpgid);
		calls[idx].v++;
	}
	return NULL;
}

static int on_record(void *ctx, void *data, size_t len)
{
	consumed.v++;
	return 0;
}

/* libbpf consumer */
static struct ring_buffer *rb_libbpf;
static void *consumer_libbpf(void *arg)
{
	pin_cpu(back_to_back ? 0 : (nr_cpus > 1 ? nr_cpus - 1 : 0));
	while (!stop_consumer)
		ring_buffer__poll(rb_libbpf, 100);
	ring_buffer__consume(rb_libbpf);
	return NULL;
}

/* Hand-written consumer: maps the ring directly and walks the records (BPF_RINGBUF_* header layout). */
struct custom_rb {
	int map_fd, epoll_fd;
	unsigned long mask;
	unsigned long *consumer_pos;
	unsigned long *producer_pos;
	void *data;
};
static struct custom_rb crb;

static int custom_open(int map_fd, unsigned long size)
{
	long page = sysconf(_SC_PAGESIZE);
	crb.map_fd = map_fd;
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

static int custom_drain(void)
{
	unsigned long cons = atomic_load_explicit((_Atomic unsigned long *)crb.consumer_pos, memory_order_acquire);
	int n = 0;
	for (;;) {
		unsigned long prod = atomic_load_explicit((_Atomic unsigned long *)crb.producer_pos, memory_order_acquire);
		if (cons >= prod) break;
		while (cons < prod) {
			unsigned int *hdr = (unsigned int *)((char *)crb.data + (cons & crb.mask));
			unsigned int len = atomic_load_explicit((_Atomic unsigned int *)hdr, memory_order_acquire);
			if (len & BPF_RINGBUF_BUSY_BIT) goto out;
			cons += (((len & ~BPF_RINGBUF_DISCARD_BIT) + BPF_RINGBUF_HDR_SZ) + 7) / 8 * 8;
			if (!(len & BPF_RINGBUF_DISCARD_BIT)) { consumed.v++; n++; }
			atomic_store_explicit((_Atomic unsigned long *)crb.consumer_pos, cons, memory_order_release);
		}
	}
out:
	return n;
}

static void *consumer_custom(void *arg)
{
	struct epoll_event ev;
	pin_cpu(back_to_back ? 0 : (nr_cpus > 1 ? nr_cpus - 1 : 0));
	while (!stop_consumer) {
		if (custom_drain() == 0)
			epoll_wait(crb.epoll_fd, &ev, 1, 100);
	}
	custom_drain();
	return NULL;
}

static unsigned long long sum_calls(int n)
{
	unsigned long long s = 0;
	for (int i = 0; i < n; i++) s += calls[i].v;
	return s;
}

/* Warm up, then one sample per interval. `with_bpf` adds the ring buffer metrics. */
static void measure(const char *variant, int producers, double warmup, double duration, long interval_ms,
		    struct ringbuf_bpf *skel, long record_size)
{
	sleep_ns((unsigned long long)(warmup * 1e9));
	int samples = (int)(duration * 1000 / interval_ms);
	if (samples < 1) samples = 1;
	unsigned long long t0 = now_ns(), c0 = sum_calls(producers), k0 = consumed.v;
	unsigned long long d0 = skel ? skel->bss->dropped : 0;
	for (int rep = 0; rep < samples; rep++) {
		sleep_ns(interval_ms * 1000000ULL);
		unsigned long long t1 = now_ns(), c1 = sum_calls(producers), k1 = consumed.v;
		double dt = (t1 - t0) / 1e9;
		emit_sample(variant, "syscalls_per_s", "calls/s", (c1 - c0) / dt, rep);
		if (skel) {
			unsigned long long d1 = skel->bss->dropped;
			emit_sample(variant, "events_per_s", "events/s", (k1 - k0) / dt, rep);
			emit_sample(variant, "drops_per_s", "events/s", (d1 - d0) / dt, rep);
			emit_sample(variant, "mb_per_s", "MB/s", (k1 - k0) * (double)record_size / dt / 1e6, rep);
			d0 = d1;
		}
		t0 = t1; c0 = c1; k0 = k1;
	}
}

int main(int argc, char **argv)
{
	opts_init(argc, argv);
	lab_bpf_init();
	long record_size = opt_long("record-size", 64), batch = opt_long("batch", 1);
	long producers = opt_long("producers", 1), wakeup_every = opt_long("wakeup-every", 0);
	long ring_kb = opt_long("ring-kb", 512), interval_ms = opt_long("interval-ms", 1000);
	double warmup = opt_double("warmup", 1), duration = opt_double("duration", 5);
	const char *api = opt_str("api", "reserve"), *consumer = opt_str("consumer", "libbpf");
	back_to_back = strcmp(opt_str("placement", "parallel"), "back-to-back") == 0;
	nr_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (producers < 1 || producers > MAX_PRODUCERS) { fprintf(stderr, "--producers must be 1..%d\n", MAX_PRODUCERS); return 2; }
	if (record_size < 8 || record_size >= 4096) { fprintf(stderr, "--record-size must be 8..4095\n"); return 2; }
	if (batch < 1 || batch > 1024) { fprintf(stderr, "--batch must be 1..1024\n"); return 2; }

	pthread_t prod[MAX_PRODUCERS], cons;

	/* baseline: the same producers, nothing attached */
	stop_producers = 0;
	for (long i = 0; i < producers; i++) pthread_create(&prod[i], NULL, producer, (void *)i);
	measure("baseline", producers, warmup, duration, interval_ms, NULL, 0);
	stop_producers = 1;
	for (long i = 0; i < producers; i++) pthread_join(prod[i], NULL);
	memset(calls, 0, sizeof(calls));

	struct ringbuf_bpf *skel = ringbuf_bpf__open();
	if (!skel) die("open ringbuf.bpf.o", errno);
	skel->rodata->target_tgid = getpid();
	skel->rodata->batch = batch;
	skel->rodata->record_size = record_size;
	skel->rodata->wakeup_every = wakeup_every;
	skel->rodata->use_output = strcmp(api, "output") == 0;
	bpf_map__set_max_entries(skel->maps.rb, ring_kb * 1024);
	int err = ringbuf_bpf__load(skel);
	if (err) die("load ringbuf.bpf.o", err);
	err = ringbuf_bpf__attach(skel);
	if (err) die("attach tracepoint syscalls/sys_enter_getpgid", err);

	if (strcmp(consumer, "custom") == 0) {
		err = custom_open(bpf_map__fd(skel->maps.rb), ring_kb * 1024);
		if (err) die("mmap ring buffer", err);
		pthread_create(&cons, NULL, consumer_custom, NULL);
	} else {
		rb_libbpf = ring_buffer__new(bpf_map__fd(skel->maps.rb), on_record, NULL, NULL);
		if (!rb_libbpf) die("ring_buffer__new", errno);
		pthread_create(&cons, NULL, consumer_libbpf, NULL);
	}
	stop_producers = 0;
	for (long i = 0; i < producers; i++) pthread_create(&prod[i], NULL, producer, (void *)i);
	measure("ringbuf", producers, warmup, duration, interval_ms, skel, record_size);
	stop_producers = 1;
	for (long i = 0; i < producers; i++) pthread_join(prod[i], NULL);
	ringbuf_bpf__detach(skel);
	sleep_ns(200000000ULL);
	stop_consumer = 1;
	pthread_join(cons, NULL);

	/* accounting over the whole run: every record the program tried to write was consumed or dropped */
	emit_sample("ringbuf", "records_produced", "records", skel->bss->produced, 0);
	emit_sample("ringbuf", "records_consumed", "records", consumed.v, 0);
	emit_sample("ringbuf", "records_dropped", "records", skel->bss->dropped, 0);
	if (rb_libbpf) ring_buffer__free(rb_libbpf);
	ringbuf_bpf__destroy(skel);
	return 0;
}
