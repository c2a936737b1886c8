/* stack-trace-collection driver: a sampling profiler's cost on a CPU-bound workload (see cpu_sampling.h for the
 * workload, the per-CPU CPU-clock events and the accounting).
 *
 * Variants, one after another: baseline (the workload alone), perf-event-only (the events with an empty program:
 * the cost of sampling), stackid (kernel stack of every sample and user stack of the workload's samples with
 * bpf_get_stackid into two BPF_MAP_TYPE_STACK_TRACE maps), get-stack-ringbuf (the same stacks with bpf_get_stack
 * into one ring buffer record per sample, read by a libbpf ring_buffer consumer thread), baseline again.
 *
 * Besides the rows of emit_sampling_rows, per variant: workload_samples (the program's count of samples in this process);
 * stackid: kernel_/user_stackid_eexist, _efault, stackid_other_errors, distinct_kernel_stacks, distinct_user_stacks;
 * get-stack-ringbuf: records_produced, records_consumed, ringbuf_drops, get_stack_errors; both: kernel_stack_depth_max,
 * and over the workload's user stacks (those holding the recursion) user_stack_depth_max, user_stack_depth_p50 (ring
 * buffer only: per sample),
 * recursion_frames_max (frames returning into the recursion: --depth - 1 when the walk is whole), workload_user_stacks
 * (stackid: distinct stacks in the map; ringbuf: samples).
 *
 * Options: --variants a,b --freq HZ --depth N --spin N --warmup S --duration S --interval-ms MS */
#include "cpu_sampling.h"
#include "core/proginfo.h"
#include "stacktrace.skel.h"

#define MAX_STACK 127

static struct stacktrace_bpf *skel;

/* ---- what the user stacks hold ---- */
struct depth_stats {
	unsigned long long hist[MAX_STACK + 1]; /* workload user stacks by depth */
	unsigned long long workload_stacks;
	int user_max, kernel_max, recursion_max;
};
static struct depth_stats depths;

static int stack_depth(const unsigned long long *ips, int max)
{
	int n = 0;
	while (n < max && ips[n]) n++;
	return n;
}

static void add_user_stack(const unsigned long long *ips, int n)
{
	int rec = 0;
	for (int i = 0; i < n; i++) if (recursion_ret && ips[i] == recursion_ret) rec++;
	if (rec > depths.recursion_max) depths.recursion_max = rec;
	if (rec == 0) return; /* not inside the workload's recursion: another thread, or the loop around it */
	depths.workload_stacks++;
	depths.hist[n]++;
	if (n > depths.user_max) depths.user_max = n;
}

static void add_kernel_stack(int n)
{
	if (n > depths.kernel_max) depths.kernel_max = n;
}

static double depth_p50(void)
{
	unsigned long long seen = 0;
	for (int d = 0; d <= MAX_STACK; d++) {
		seen += depths.hist[d];
		if (seen * 2 >= depths.workload_stacks) return d;
	}
	return 0;
}

/* per_sample: the depths are one per sample (ring buffer records), so a median means something; a stack map holds
 * each distinct stack once (the few deep stacks in the spin against many short ones caught mid-recursion) */
static void emit_depths(const char *variant, bool per_sample)
{
	emit_sample(variant, "kernel_stack_depth_max", "frames", depths.kernel_max, 0);
	emit_sample(variant, "recursion_frames_max", "frames", depths.recursion_max, 0);
	emit_sample(variant, "workload_user_stacks", "stacks", depths.workload_stacks, 0);
	if (depths.workload_stacks) {
		emit_sample(variant, "user_stack_depth_max", "frames", depths.user_max, 0);
		if (per_sample) emit_sample(variant, "user_stack_depth_p50", "frames", depth_p50(), 0);
	} else {
		emit_warn("%s: no user stack of the workload's recursion was collected", variant);
	}
}

/* Every stack in a STACK_TRACE map: how many, and each one's depth. */
static unsigned long long walk_stack_map(struct bpf_map *map, bool user)
{
	int fd = bpf_map__fd(map);
	__u32 key, next;
	unsigned long long ips[MAX_STACK], n = 0;
	int err = bpf_map_get_next_key(fd, NULL, &next);
	while (!err) {
		key = next;
		if (bpf_map_lookup_elem(fd, &key, ips) == 0) {
			int d = stack_depth(ips, MAX_STACK);
			if (user) add_user_stack(ips, d);
			else add_kernel_stack(d);
			n++;
		}
		err = bpf_map_get_next_key(fd, &key, &next);
	}
	return n;
}

/* ---- the ring buffer consumer ---- */
struct stack_rec {
	unsigned int tgid;
	int klen, ulen;
	unsigned int pad;
	unsigned long long kstack[MAX_STACK];
	unsigned long long ustack[MAX_STACK];
};
static struct ring_buffer *rb;
static struct padded_counter consumed;

static int on_record(void *ctx, void *data, size_t len)
{
	const struct stack_rec *r = data;
	if (len < sizeof(*r)) return 0;
	if (r->klen > 0) add_kernel_stack(r->klen / 8);
	if (r->ulen > 0) add_user_stack(r->ustack, r->ulen / 8);
	bench_count(&consumed);
	return 0;
}

static void *consumer(long idx)
{
	while (!bench_consumers_stop) ring_buffer__poll(rb, BENCH_POLL_FOREVER);
	return NULL;
}

/* after the workers stop (the events are still attached): let the consumer catch up */
static void settle(void) { sleep_ns(200000000ULL); }

static unsigned long long read_samples(void) { return skel->bss->samples; }

static const char *VARIANTS[] = { "perf-event-only", "stackid", "get-stack-ringbuf" };
static int slot_of(const char *v)
{
	for (int i = 0; i < 3; i++) if (strcmp(v, VARIANTS[i]) == 0) return i;
	return -1;
}

static void reset_counters(void)
{
	skel->bss->samples = skel->bss->target_samples = 0;
	memset(skel->bss->stackid_stats, 0, sizeof(skel->bss->stackid_stats));
	skel->bss->produced = skel->bss->dropped = skel->bss->get_stack_errors = 0;
	memset(&depths, 0, sizeof(depths));
}

static void emit_stackid_totals(const char *v)
{
	const char *kind[2] = { "kernel", "user" };
	unsigned long long other = 0;
	char m[64];
	for (int k = 0; k < 2; k++) {
		snprintf(m, sizeof(m), "%s_stackid_eexist", kind[k]);
		emit_sample(v, m, "calls", skel->bss->stackid_stats[k][1], 0);
		snprintf(m, sizeof(m), "%s_stackid_efault", kind[k]);
		emit_sample(v, m, "calls", skel->bss->stackid_stats[k][2], 0);
		other += skel->bss->stackid_stats[k][3];
	}
	emit_sample(v, "stackid_other_errors", "calls", other, 0);
	emit_sample(v, "distinct_kernel_stacks", "stacks", walk_stack_map(skel->maps.kstacks, false), 0);
	emit_sample(v, "distinct_user_stacks", "stacks", walk_stack_map(skel->maps.ustacks, true), 0);
	emit_depths(v, false);
}

static void emit_ringbuf_totals(const char *v)
{
	emit_sample(v, "records_produced", "records", skel->bss->produced, 0);
	emit_sample(v, "records_consumed", "records", consumed.v, 0);
	emit_sample(v, "ringbuf_drops", "records", skel->bss->dropped, 0);
	emit_sample(v, "get_stack_errors", "records", skel->bss->get_stack_errors, 0);
	emit_depths(v, true);
}

int main(int argc, char **argv)
{
	struct bench_env env;
	long freq = sampling_driver_init(argc, argv, &env);
	char variants[256];
	snprintf(variants, sizeof(variants), "%s", opt_str("variants", "baseline,perf-event-only,stackid,get-stack-ringbuf"));
	char *list[15];
	int nv = 0;
	bool has_base = false, wanted[3] = {};
	for (char *tok = strtok(variants, ","); tok && nv < 14; tok = strtok(NULL, ",")) {
		int s = slot_of(tok);
		if (strcmp(tok, "baseline") && s < 0) { fprintf(stderr, "unknown variant %s\n", tok); return 2; }
		if (s < 0) has_base = true;
		else wanted[s] = true;
		list[nv++] = tok;
	}
	if (has_base) list[nv++] = "baseline"; /* first and again last */

	skel = stacktrace_bpf__open();
	if (!skel) die("open stacktrace.bpf.o", errno);
	bpf_program__set_autoload(skel->progs.empty, wanted[0]);
	bpf_program__set_autoload(skel->progs.by_stackid, wanted[1]);
	bpf_program__set_autoload(skel->progs.to_ringbuf, wanted[2]);
	prog_stats_before_load(skel->obj);
	int err = stacktrace_bpf__load(skel);
	if (err) die("load stacktrace.bpf.o", err);
	prog_stats_emit(skel->obj);
	skel->bss->target_tgid = getpid();
	enable_bpf_stats();
	long max_rate = read_long_file(MAX_RATE_PATH);
	emit_log("perf_event_max_sample_rate %ld, perf_event_paranoid %ld, perf_event_max_stack %ld", max_rate,
		 read_long_file("/proc/sys/kernel/perf_event_paranoid"), read_long_file("/proc/sys/kernel/perf_event_max_stack"));
	if (wanted[2]) {
		rb = ring_buffer__new(bpf_map__fd(skel->maps.rb), on_record, NULL, NULL);
		if (!rb) die("ring_buffer__new", errno);
	}

	struct sampling_phase ph[16] = {};
	struct bpf_program *progs[3] = { skel->progs.empty, skel->progs.by_stackid, skel->progs.to_ringbuf };
	for (int v = 0; v < nv; v++) {
		int s = slot_of(list[v]);
		ph[v] = (struct sampling_phase){ .variant = list[v], .prog = s >= 0 ? progs[s] : NULL };
		if (s >= 1) ph[v].counted = read_samples;
		if (s == 2) { ph[v].consumer = consumer; ph[v].drain = settle; }
		reset_counters();
		consumed.v = 0;
		err = run_sampling_phase(&env, &ph[v], freq, env.nr_cpus, max_rate);
		if (err == -ENOENT || err == -EOPNOTSUPP || err == -EINVAL) {
			emit_skip_variant(list[v], "no CPU-clock sampling event with a BPF program here (perf_event_open/attach: %s)", strerror(-err));
			continue;
		}
		if (err) die("perf_event_open + attach (CPU clock, per CPU)", err);
		if (s < 1) continue;
		emit_sample(list[v], "workload_samples", "samples", skel->bss->target_samples, 0);
		if (s == 1) emit_stackid_totals(list[v]);
		else {
			ring_buffer__consume(rb);
			emit_ringbuf_totals(list[v]);
		}
	}
	emit_sampling_rows(&env, ph, nv, freq, env.nr_cpus);
	if (rb) ring_buffer__free(rb);
	stacktrace_bpf__destroy(skel);
	return 0;
}
