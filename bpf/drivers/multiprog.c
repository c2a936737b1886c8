/* Multi-program attachment driver: N programs on one hook, cost per event as programs are added. Each program is its
 * own copy of multiprog.bpf.o (its own `hits` global) doing the kernel bench's trig-* work, one atomic add.
 *   --hook kprobe        N kprobes on the getpgid syscall function (resolved from /proc/kallsyms, or --func)
 *   --hook kprobe_multi  N kprobe.multi links (fprobe, 5.18+ with CONFIG_FPROBE) on that function
 *   --hook tracepoint    N programs on syscalls/sys_enter_getpgid
 *   --hook fentry        N fentry programs on that function (one BPF trampoline)
 *   --hook xdp           N freplace programs on the slots of one dispatcher XDP program (multiprog_dispatcher.bpf.c),
 *                        run per packet with BPF_PROG_TEST_RUN (--repeat per call), timed by the kernel (its
 *                        run time per repetition); the baseline is the dispatcher with no slot called
 * Phases: baseline (nothing attached; for xdp the bare dispatcher), the hook with N programs, baseline again. One
 * producer loops on getpgid() (xdp: on test runs). Per interval: calls_per_s, ns_per_call, overhead_ns, overhead_pct,
 * ratio_to_baseline (core) and overhead_ns_per_program = overhead_ns / N. Then the accounting: calls_made (calls while
 * attached, warm-up included), records_counted once per program (repetition = program index; each must equal
 * calls_made) and programs_miscounted (how many do not).
 * A hook the kernel cannot load or attach is reported as a skip before anything is measured.
 * Options: --hook H --programs N --warmup S --duration S --interval-ms MS [--func NAME] [--repeat R] */
#include "common.h"
#include "core/bench.h"
#include "core/proginfo.h"
#include <sys/syscall.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "multiprog.skel.h"
#include "multiprog_dispatcher.skel.h"
#include "syscall_func.h"

#define MP_SLOTS 16 /* the dispatcher's slots (multiprog_dispatcher.bpf.c); an x86 fentry trampoline takes 38 programs */

enum hook { H_KPROBE, H_KPROBE_MULTI, H_TP, H_FENTRY, H_XDP, H_MAX };
static const char *HOOKS[H_MAX] = { "kprobe", "kprobe_multi", "tracepoint", "fentry", "xdp" };

static enum hook hook;
static const char *func;
static struct multiprog_bpf *copies[MP_SLOTS];
static struct bpf_link *links[MP_SLOTS];

/* ---- producers ---- */
static void *syscall_producer(long idx)
{
	while (!bench_producers_stop) {
		syscall(__NR_getpgid);
		bench_count_call(idx);
	}
	return NULL;
}

static struct {
	int prog_fd;
	long repeat;
	unsigned char frame[64];
	pthread_mutex_t lock;
	unsigned long long runs, kernel_ns; /* under lock: always updated together */
	unsigned long long seen_ns;          /* kernel_ns as of the last read_runs() */
	volatile unsigned long long wrong_retval;
	volatile int err;
} tr = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int test_run(int prog_fd, long repeat, __u32 *retval, __u32 *duration)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = tr.frame, .data_size_in = sizeof(tr.frame), .repeat = repeat);
	int err = bpf_prog_test_run_opts(prog_fd, &o);
	*retval = o.retval;
	*duration = o.duration;
	return err ? -errno : 0;
}

/* Back-to-back test runs of the dispatcher: every repetition is one packet through the whole chain. The time is the
 * kernel's (its mean per repetition, times the repetitions): with repeat > 1 each call also swaps the kernel's own XDP
 * dispatcher to the program and back (text patching and an RCU grace period, tens of ms under TCG), which is not the
 * hook's cost per packet. */
static void *xdp_producer(long idx)
{
	while (!bench_producers_stop) {
		__u32 ret, duration;
		int err = test_run(tr.prog_fd, tr.repeat, &ret, &duration);
		if (err) { tr.err = err; break; }
		if (ret != XDP_PASS) tr.wrong_retval++;
		pthread_mutex_lock(&tr.lock);
		tr.runs += tr.repeat;
		tr.kernel_ns += (unsigned long long)duration * tr.repeat;
		pthread_mutex_unlock(&tr.lock);
	}
	return NULL;
}

/* The core reads a counter's value, then its `per` (bench.c): read_runs() takes both from one snapshot. */
static unsigned long long read_runs(void)
{
	pthread_mutex_lock(&tr.lock);
	unsigned long long runs = tr.runs;
	tr.seen_ns = tr.kernel_ns;
	pthread_mutex_unlock(&tr.lock);
	return runs;
}
static unsigned long long read_kernel_ns(void) { return tr.seen_ns; }

/* ---- loading and attaching ---- */
static struct bpf_program *prog_of(struct multiprog_bpf *s)
{
	struct bpf_program *p[H_MAX] = { s->progs.mp_kprobe, s->progs.mp_kprobe_multi, s->progs.mp_tp, s->progs.mp_fentry,
					 s->progs.mp_ext };
	return p[hook];
}

static struct multiprog_dispatcher_bpf *load_dispatcher(unsigned int n, bool stats)
{
	struct multiprog_dispatcher_bpf *d = multiprog_dispatcher_bpf__open();
	if (!d) die("open multiprog_dispatcher.bpf.o", errno);
	d->rodata->slots_used = n;
	if (stats) prog_stats_before_load(d->obj);
	int err = multiprog_dispatcher_bpf__load(d);
	if (err) die("load multiprog_dispatcher.bpf.o", err);
	if (stats) prog_stats_emit(d->obj);
	return d;
}

/* One copy of the object with only the hook's program; slot: the dispatcher slot it replaces (xdp). */
static struct multiprog_bpf *load_copy(int slot, int dispatcher_fd, bool stats, int *err)
{
	struct multiprog_bpf *s = multiprog_bpf__open();
	if (!s) die("open multiprog.bpf.o", errno);
	struct bpf_program *mine = prog_of(s), *p;
	bpf_object__for_each_program(p, s->obj) bpf_program__set_autoload(p, p == mine);
	if (hook == H_FENTRY) bpf_program__set_attach_target(mine, 0, func);
	if (hook == H_XDP) {
		char name[16];
		snprintf(name, sizeof(name), "slot%d", slot);
		bpf_program__set_attach_target(mine, dispatcher_fd, name);
	}
	if (stats) prog_stats_before_load(s->obj);
	*err = multiprog_bpf__load(s);
	if (*err) {
		multiprog_bpf__destroy(s);
		return NULL;
	}
	if (stats) prog_stats_emit(s->obj);
	return s;
}

static struct bpf_link *attach(struct multiprog_bpf *s, int slot, int dispatcher_fd)
{
	struct bpf_program *p = prog_of(s);
	switch (hook) {
	case H_KPROBE:
		return bpf_program__attach_kprobe(p, false, func);
	case H_KPROBE_MULTI: {
		const char *syms[] = { func };
		LIBBPF_OPTS(bpf_kprobe_multi_opts, o, .syms = syms, .cnt = 1);
		return bpf_program__attach_kprobe_multi_opts(p, NULL, &o);
	}
	case H_XDP: {
		char name[16];
		snprintf(name, sizeof(name), "slot%d", slot);
		return bpf_program__attach_freplace(p, dispatcher_fd, name);
	}
	default: /* tracepoint (from the section name), fentry (from the attach target) */
		return bpf_program__attach(p);
	}
}

/* Before anything is measured: can this kernel load and attach the hook's program (and, for xdp, run the chain)?
 * A throwaway copy, so the measured copies' load times stay clean. Returns the reason it cannot, or NULL. */
static const char *check_hook(char *why, size_t len)
{
	struct multiprog_dispatcher_bpf *d = hook == H_XDP ? load_dispatcher(1, false) : NULL;
	int dfd = d ? bpf_program__fd(d->progs.mp_dispatcher) : -1, err = 0;
	struct multiprog_bpf *s = load_copy(0, dfd, false, &err);
	const char *what = HOOKS[hook];
	if (!s) {
		snprintf(why, len, "%s programs do not load on this kernel (%s)%s", what, strerror(-err),
			 hook == H_FENTRY ? ": needs BTF and BPF trampolines" : hook == H_KPROBE_MULTI ? ": kprobe.multi needs 5.18+" : "");
	} else {
		struct bpf_link *l = attach(s, 0, dfd);
		if (!l) {
			err = errno;
			snprintf(why, len, "%s attach on %s fails on this kernel (%s)%s", what, hook == H_XDP ? "a dispatcher slot" : func,
				 strerror(err), hook == H_KPROBE_MULTI && err == EOPNOTSUPP ? ": kprobe.multi links need CONFIG_FPROBE" : "");
		} else if (hook == H_XDP) {
			__u32 ret, duration;
			err = test_run(dfd, 1, &ret, &duration);
			if (err) snprintf(why, len, "BPF_PROG_TEST_RUN of the XDP dispatcher fails on this kernel (%s)", strerror(-err));
			else if (s->bss->hits != 1) snprintf(why, len, "the freplace program did not run in the dispatcher (hits %llu)", (unsigned long long)s->bss->hits);
		}
		bpf_link__destroy(l);
		multiprog_bpf__destroy(s);
	}
	if (d) multiprog_dispatcher_bpf__destroy(d);
	return why[0] ? why : NULL;
}

int main(int argc, char **argv)
{
	opts_init(argc, argv);
	lab_bpf_init();
	struct bench_env env;
	bench_env_from_opts(&env);
	const char *hook_name = opt_str("hook", "kprobe");
	long n = opt_long("programs", 1);
	tr.repeat = opt_long("repeat", 1000);
	func = opt_str("func", NULL);
	if (!func) func = syscall_func("getpgid");
	hook = H_MAX;
	for (int h = 0; h < H_MAX; h++) if (strcmp(hook_name, HOOKS[h]) == 0) hook = h;
	if (hook == H_MAX) { fprintf(stderr, "--hook must be kprobe, kprobe_multi, tracepoint, fentry or xdp\n"); return 2; }
	if (n < 1 || n > MP_SLOTS) { fprintf(stderr, "--programs must be 1..%d\n", MP_SLOTS); return 2; }
	if (tr.repeat < 1) { fprintf(stderr, "--repeat must be >= 1\n"); return 2; }
	emit_log("hook %s, %ld programs%s%s", HOOKS[hook], n, hook == H_XDP ? "" : ", syscall function ", hook == H_XDP ? "" : func);

	char why[512] = "";
	if (check_hook(why, sizeof(why))) {
		emit_skip(why);
		return 0;
	}

	/* the measured copies: program metrics from the first (the others are the same program) */
	struct multiprog_dispatcher_bpf *disp = NULL, *bare = NULL;
	int dfd = -1;
	if (hook == H_XDP) {
		disp = load_dispatcher(n, true);
		bare = load_dispatcher(0, false);
		dfd = bpf_program__fd(disp->progs.mp_dispatcher);
	}
	for (int i = 0; i < n; i++) {
		int err;
		copies[i] = load_copy(i, dfd, i == 0, &err);
		if (!copies[i]) die("load multiprog.bpf.o", err);
	}

	const char *names[3] = { "baseline", HOOKS[hook], "baseline" };
	int samples = bench_samples(&env);
	double *rates = calloc(3 * samples, sizeof(double));
	bool ran[3] = {};
	unsigned long long made = 0;
	for (int v = 0; v < 3; v++) {
		bool attached = v == 1;
		if (attached) {
			for (int i = 0; i < n; i++) {
				copies[i]->bss->hits = 0;
				links[i] = attach(copies[i], i, dfd);
				if (!links[i]) {
					char what[256];
					snprintf(what, sizeof(what), "attach %s program %d of %ld", HOOKS[hook], i + 1, n);
					die(what, errno);
				}
			}
		}
		bench_reset_calls();
		tr.runs = tr.kernel_ns = 0;
		struct bench_phase ph = { .variant = names[v], .producers = 1, .ncounters = 1, .keep = &rates[v * samples] };
		if (hook == H_XDP) {
			tr.prog_fd = bpf_program__fd((attached ? disp : bare)->progs.mp_dispatcher);
			ph.producer = xdp_producer;
			/* repetitions per second of the kernel's run time */
			ph.counters[0] = (struct bench_counter){ "calls_per_s", "calls/s", 1e9, read_runs, read_kernel_ns };
		} else {
			ph.producer = syscall_producer;
			ph.counters[0] = (struct bench_counter){ "calls_per_s", "calls/s", 0, bench_calls };
		}
		bench_run(&env, &ph);
		if (tr.err) die("BPF_PROG_TEST_RUN of the dispatcher", tr.err);
		if (attached) {
			for (int i = 0; i < n; i++) bpf_link__destroy(links[i]);
			made = hook == H_XDP ? tr.runs : bench_calls();
		}
		ran[v] = true;
	}
	if (tr.wrong_retval) emit_warn("%llu test runs of the dispatcher returned another action than XDP_PASS", tr.wrong_retval);

	bench_emit_against_baseline("calls_per_s", names, ran, 3, rates, samples, 1);
	double base_rate = bench_baseline_rate(names, ran, 3, rates, samples);
	for (int rep = 0; rep < samples; rep++) {
		double rate = rates[samples + rep];
		if (rate > 0 && base_rate > 0) /* false for NAN too */
			emit_sample(names[1], "overhead_ns_per_program", "ns", (1e9 / rate - 1e9 / base_rate) / n, rep);
	}
	emit_sample(names[1], "calls_made", "calls", made, 0);
	int miscounted = 0;
	for (int i = 0; i < n; i++) {
		unsigned long long hits = copies[i]->bss->hits;
		emit_sample(names[1], "records_counted", "calls", hits, i);
		if (hits != made) {
			miscounted++;
			emit_warn("%s program %d of %ld counted %llu calls of %llu made", HOOKS[hook], i + 1, n, hits, made);
		}
	}
	emit_sample(names[1], "programs_miscounted", "programs", miscounted, 0);

	free(rates);
	for (int i = 0; i < n; i++) multiprog_bpf__destroy(copies[i]);
	if (disp) multiprog_dispatcher_bpf__destroy(disp);
	if (bare) multiprog_dispatcher_bpf__destroy(bare);
	return 0;
}
