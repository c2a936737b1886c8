/* perfbuf-throughput driver (the shape of the kernel's `bench` pb-libbpf benchmark).
 * Variant "baseline": producers call getpgid() with no program attached.
 * Variant "perfbuf":  the tracepoint program writes `batch` records per call with bpf_perf_event_output into the
 *                     calling CPU's perf buffer; a consumer thread drains all CPUs' buffers with perf_buffer__poll.
 * Notification: --wakeup-every 0 wakes the consumer on every record (sample_period = wakeup_events = 1);
 *               N wakes it every N records (sample_period = wakeup_events = N), as bench_ringbufs.c does.
 * Lost samples: drops_per_s comes from the PERF_RECORD_LOST records the consumer sees; records_dropped (total) is the
 * program's own count of failed outputs, so records_produced = records_consumed + records_dropped exactly.
 * Options: --record-size B --batch N --producers N --wakeup-every N --placement parallel|back-to-back
 *          --pages N (per CPU) --warmup S --duration S --interval-ms MS */
#include "common.h"
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include "perfbuf.skel.h"

#define MAX_PRODUCERS 64
static struct padded_counter calls[MAX_PRODUCERS];
static volatile int stop_producers, stop_consumer;
static struct padded_counter consumed, lost;
static int nr_cpus;
static bool back_to_back;
static struct perf_buffer *pb;

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

struct lost_record { struct perf_event_header header; __u64 id; __u64 lost; };

static enum bpf_perf_event_ret on_event(void *ctx, int cpu, struct perf_event_header *ev)
{
	if (ev->type == PERF_RECORD_SAMPLE) consumed.v++;
	else if (ev->type == PERF_RECORD_LOST) lost.v += ((struct lost_record *)ev)->lost;
	return LIBBPF_PERF_EVENT_CONT;
}

static void *consumer(void *arg)
{
	pin_cpu(back_to_back ? 0 : (nr_cpus > 1 ? nr_cpus - 1 : 0));
	while (!stop_consumer)
		perf_buffer__poll(pb, 100);
	perf_buffer__consume(pb);
	return NULL;
}

static unsigned long long sum_calls(int n)
{
	unsigned long long s = 0;
	for (int i = 0; i < n; i++) s += calls[i].v;
	return s;
}

static void measure(const char *variant, int producers, double warmup, double duration, long interval_ms, long record_size, bool bpf)
{
	sleep_ns((unsigned long long)(warmup * 1e9));
	int samples = (int)(duration * 1000 / interval_ms);
	if (samples < 1) samples = 1;
	unsigned long long t0 = now_ns(), c0 = sum_calls(producers), k0 = consumed.v, l0 = lost.v;
	for (int rep = 0; rep < samples; rep++) {
		sleep_ns(interval_ms * 1000000ULL);
		unsigned long long t1 = now_ns(), c1 = sum_calls(producers), k1 = consumed.v, l1 = lost.v;
		double dt = (t1 - t0) / 1e9;
		emit_sample(variant, "syscalls_per_s", "calls/s", (c1 - c0) / dt, rep);
		if (bpf) {
			emit_sample(variant, "events_per_s", "events/s", (k1 - k0) / dt, rep);
			emit_sample(variant, "drops_per_s", "events/s", (l1 - l0) / dt, rep);
			emit_sample(variant, "mb_per_s", "MB/s", (k1 - k0) * (double)record_size / dt / 1e6, rep);
		}
		t0 = t1; c0 = c1; k0 = k1; l0 = l1;
	}
}

int main(int argc, char **argv)
{
	opts_init(argc, argv);
	lab_bpf_init();
	long record_size = opt_long("record-size", 64), batch = opt_long("batch", 1);
	long producers = opt_long("producers", 1), wakeup_every = opt_long("wakeup-every", 0);
	long pages = opt_long("pages", 128), interval_ms = opt_long("interval-ms", 1000);
	double warmup = opt_double("warmup", 1), duration = opt_double("duration", 5);
	back_to_back = strcmp(opt_str("placement", "parallel"), "back-to-back") == 0;
	nr_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (producers < 1 || producers > MAX_PRODUCERS) { fprintf(stderr, "--producers must be 1..%d\n", MAX_PRODUCERS); return 2; }
	if (record_size < 8 || record_size >= 4096) { fprintf(stderr, "--record-size must be 8..4095\n"); return 2; }
	if (batch < 1 || batch > 1024) { fprintf(stderr, "--batch must be 1..1024\n"); return 2; }

	pthread_t prod[MAX_PRODUCERS], cons;
	stop_producers = 0;
	for (long i = 0; i < producers; i++) pthread_create(&prod[i], NULL, producer, (void *)i);
	measure("baseline", producers, warmup, duration, interval_ms, 0, false);
	stop_producers = 1;
	for (long i = 0; i < producers; i++) pthread_join(prod[i], NULL);
	memset(calls, 0, sizeof(calls));

	struct perfbuf_bpf *skel = perfbuf_bpf__open();
	if (!skel) die("open perfbuf.bpf.o", errno);
	skel->rodata->target_tgid = getpid();
	skel->rodata->batch = batch;
	skel->rodata->record_size = record_size;
	int err = perfbuf_bpf__load(skel);
	if (err) die("load perfbuf.bpf.o", err);

	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE, .config = PERF_COUNT_SW_BPF_OUTPUT, .sample_type = PERF_SAMPLE_RAW,
		.sample_period = wakeup_every > 0 ? wakeup_every : 1, .wakeup_events = wakeup_every > 0 ? wakeup_every : 1,
	};
	pb = perf_buffer__new_raw(bpf_map__fd(skel->maps.pb), pages, &attr, on_event, NULL, NULL);
	if (!pb) die("perf_buffer__new_raw", errno);
	err = perfbuf_bpf__attach(skel);
	if (err) die("attach tracepoint syscalls/sys_enter_getpgid", err);
	pthread_create(&cons, NULL, consumer, NULL);

	stop_producers = 0;
	for (long i = 0; i < producers; i++) pthread_create(&prod[i], NULL, producer, (void *)i);
	measure("perfbuf", producers, warmup, duration, interval_ms, record_size, true);
	stop_producers = 1;
	for (long i = 0; i < producers; i++) pthread_join(prod[i], NULL);
	perfbuf_bpf__detach(skel);
	sleep_ns(200000000ULL);
	stop_consumer = 1;
	pthread_join(cons, NULL);

	emit_sample("perfbuf", "records_produced", "records", skel->bss->produced, 0);
	emit_sample("perfbuf", "records_consumed", "records", consumed.v, 0);
	emit_sample("perfbuf", "records_dropped", "records", skel->bss->dropped, 0);
	emit_sample("perfbuf", "records_lost_reported", "records", lost.v, 0);
	perf_buffer__free(pb);
	perfbuf_bpf__destroy(skel);
	return 0;
}
