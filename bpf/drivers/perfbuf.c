/* perfbuf-throughput driver: the method of the kernel selftests' perfbuf bench (pb-libbpf in bench_ringbufs.c).
 * Variant "baseline": the producers call getpgid() with nothing attached.
 * Variant "perfbuf":  the program (fentry on the getpgid syscall function, or the sys_enter_getpgid tracepoint)
 *                     writes `batch` records per call with bpf_perf_event_output into the calling CPU's buffer;
 *                     one consumer drains every CPU's buffer with perf_buffer__poll.
 * Placement and wakeups as in ringbuf.c; --wakeup-every N sets perf_event_attr sample_period = wakeup_events = N
 * (0: 1), as the bench's --pb-sampled does.
 * Lost samples: drops_per_s is the program's count of failed outputs per second; records_lost_reported is what the
 * consumer saw in PERF_RECORD_LOST records (they arrive late), so records_produced = records_consumed + records_dropped.
 * Options: --record-size B --batch N --producers N --wakeup-every N --hook fentry|tracepoint
 *          --placement parallel|back-to-back --pages N (per CPU) --warmup S --duration S --interval-ms MS */
#include "buffers.h"
#include "core/proginfo.h"
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <bpf/bpf.h>
#include "perfbuf.skel.h"
#include "syscall_func.h"

static struct padded_counter consumed, lost;
static struct perf_buffer *pb;
static struct perfbuf_bpf *skel;

struct lost_record { struct perf_event_header header; __u64 id; __u64 lost; };

static enum bpf_perf_event_ret on_event(void *ctx, int cpu, struct perf_event_header *ev)
{
	if (ev->type == PERF_RECORD_SAMPLE) bench_count(&consumed);
	else if (ev->type == PERF_RECORD_LOST) lost.v += ((struct lost_record *)ev)->lost;
	return LIBBPF_PERF_EVENT_CONT;
}

static void *consumer(long idx)
{
	while (!bench_consumers_stop) {
		perf_buffer__poll(pb, BUF_POLL_MS);
		buf_consumer_trigger();
	}
	perf_buffer__consume(pb);
	return NULL;
}

static void detach_and_settle(void)
{
	perfbuf_bpf__detach(skel);
	sleep_ns(200000000ULL);
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
	long pages = opt_long("pages", 128);
	buf_run_baseline(&env, &o);

	skel = perfbuf_bpf__open();
	if (!skel) die("open perfbuf.bpf.o", errno);
	skel->rodata->target_tgid = getpid();
	skel->rodata->batch = o.batch;
	skel->rodata->record_size = o.record_size;
	bpf_program__set_autoload(skel->progs.produce_fentry, o.fentry);
	bpf_program__set_autoload(skel->progs.produce_tp, !o.fentry);
	const char *func = syscall_func("getpgid");
	if (o.fentry) bpf_program__set_attach_target(skel->progs.produce_fentry, 0, func);
	prog_stats_before_load(skel->obj);
	int err = perfbuf_bpf__load(skel);
	if (!err) prog_stats_emit(skel->obj);
	if (err && o.fentry) {
		emit_skip_variant("perfbuf", "fentry on %s does not load on this kernel (%s)", func, strerror(-err));
		return 0;
	}
	if (err) die("load perfbuf.bpf.o", err);

	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE, .config = PERF_COUNT_SW_BPF_OUTPUT, .sample_type = PERF_SAMPLE_RAW,
		.sample_period = o.wakeup_every > 0 ? o.wakeup_every : 1, .wakeup_events = o.wakeup_every > 0 ? o.wakeup_every : 1,
	};
	pb = perf_buffer__new_raw(bpf_map__fd(skel->maps.pb), pages, &attr, on_event, NULL, NULL);
	if (!pb) die("perf_buffer__new_raw", errno);
	err = perfbuf_bpf__attach(skel);
	if (err) die(o.fentry ? "attach fentry" : "attach tracepoint syscalls/sys_enter_getpgid", err);

	struct bench_phase ph = {
		.variant = "perfbuf", .producers = o.producers, .consumers = 1, .producer = buf_producer, .consumer = consumer,
		.drain = detach_and_settle, .ncounters = 4,
		.counters = {
			{ "events_per_s", "events/s", 0, read_consumed },
			{ "drops_per_s", "events/s", 0, read_dropped },
			{ "mb_per_s", "MB/s", o.record_size / 1e6, read_consumed },
			{ "syscalls_per_s", "calls/s", 0, bench_calls },
		},
	};
	bench_run(&env, &ph);

	emit_sample("perfbuf", "records_produced", "records", (double)skel->bss->calls * o.batch, 0);
	emit_sample("perfbuf", "records_consumed", "records", consumed.v, 0);
	emit_sample("perfbuf", "records_dropped", "records", skel->bss->dropped, 0);
	emit_sample("perfbuf", "records_lost_reported", "records", lost.v, 0);
	perf_buffer__free(pb);
	perfbuf_bpf__destroy(skel);
	return 0;
}
