/* Program metrics from the verifier log, BPF_OBJ_GET_INFO_BY_FD, fdinfo and BPF run-time stats (see proginfo.h). */
#include "../common.h"
#include "proginfo.h"
#include <bpf/bpf.h>
#include <linux/bpf.h>

#define LOG_SIZE (64 * 1024)
#define MAX_PROGS 32
#define MAX_LOADED 256

/* one object at a time: a driver loads its skeleton once (or again after a failed first try) */
static struct { const struct bpf_program *prog; char *log; } logs[MAX_PROGS];
static int nlogs;
static unsigned long long load_start_ns;

/* every program emitted so far, by id (its fd may be closed and reused when the driver destroys the object) */
static struct loaded {
	__u32 id;
	char variant[160];
	char *labels;
	int windows; /* stats windows opened while it was loaded */
	unsigned long long run_cnt, run_time_ns;
} loaded[MAX_LOADED];
static int nloaded;
static bool stats_refused;

void parse_verifier_stats(const char *log, struct verifier_stats *out)
{
	out->insns = out->states = out->verify_us = -1;
	const char *p = strstr(log, "processed ");
	if (p) sscanf(p, "processed %lld insns", &out->insns);
	p = strstr(log, "total_states ");
	if (p) sscanf(p, "total_states %lld", &out->states);
	p = strstr(log, "verification time ");
	if (p) sscanf(p, "verification time %lld usec", &out->verify_us);
}

long long fdinfo_value(int fd, const char *key)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	FILE *f = fopen(path, "r");
	if (!f) return -1;
	size_t klen = strlen(key);
	long long v = -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') { v = strtoll(line + klen + 1, NULL, 10); break; }
	fclose(f);
	return v;
}

void prog_stats_before_load(struct bpf_object *obj)
{
	for (int i = 0; i < nlogs; i++) free(logs[i].log);
	nlogs = 0;
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__autoload(prog) || nlogs == MAX_PROGS) continue;
		char *buf = malloc(LOG_SIZE);
		if (!buf) die("allocate verifier log", ENOMEM);
		memset(buf, 0, LOG_SIZE); /* faulted in now, not by the kernel's log write during the load */
		/* level 4 (BPF_LOG_STATS, 5.2+) logs only the summary lines, so the buffer never fills */
		bpf_program__set_log_level(prog, 4);
		bpf_program__set_log_buf(prog, buf, LOG_SIZE);
		logs[nlogs].prog = prog;
		logs[nlogs++].log = buf;
	}
	load_start_ns = now_ns();
}

static void emit_runs_at_exit(void);

static void remember(__u32 id, const char *variant, const char *labels)
{
	static bool registered;
	if (!registered) { atexit(emit_runs_at_exit); registered = true; }
	if (nloaded == MAX_LOADED) return;
	struct loaded *l = &loaded[nloaded++];
	*l = (struct loaded){ .id = id };
	snprintf(l->variant, sizeof(l->variant), "%s", variant);
	l->labels = labels ? strdup(labels) : NULL;
}

void prog_stats_emit_labels(struct bpf_object *obj, const char *labels)
{
	double load_ms = (now_ns() - load_start_ns) / 1e6;
	char variant[160];
	snprintf(variant, sizeof(variant), "object:%s", bpf_object__name(obj));
	emit_sample_labels(variant, "load_ms", "ms", load_ms, 0, labels);
	for (int i = 0; i < nlogs; i++) {
		const struct bpf_program *prog = logs[i].prog;
		int fd = bpf_program__fd(prog);
		if (fd < 0) continue;
		snprintf(variant, sizeof(variant), "prog:%s", bpf_program__name(prog));
		struct verifier_stats st;
		parse_verifier_stats(logs[i].log, &st);
		if (st.insns >= 0) emit_sample_labels(variant, "verified_insns", "insns", st.insns, 0, labels);
		else emit_warn("%s: no verifier statistics in the load log", variant);
		if (st.states >= 0) emit_sample_labels(variant, "verifier_states", "states", st.states, 0, labels);
		if (st.verify_us >= 0) emit_sample_labels(variant, "verify_us", "us", st.verify_us, 0, labels);
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
			emit_sample_labels(variant, "xlated_bytes", "bytes", info.xlated_prog_len, 0, labels);
			emit_sample_labels(variant, "jited_bytes", "bytes", info.jited_prog_len, 0, labels);
			remember(info.id, variant, labels);
		} else {
			emit_warn("%s: BPF_OBJ_GET_INFO_BY_FD failed (%s)", variant, strerror(errno));
		}
		long long memlock = fdinfo_value(fd, "memlock");
		if (memlock >= 0) emit_sample_labels(variant, "memlock_bytes", "bytes", memlock, 0, labels);
	}
}

void prog_stats_emit(struct bpf_object *obj) { prog_stats_emit_labels(obj, NULL); }

/* The run totals of every program still loaded; a program gone since keeps its last totals (stats only grow inside
 * windows, and each window ends with a read). */
static void read_runs(void)
{
	for (int i = 0; i < nloaded; i++) {
		int fd = bpf_prog_get_fd_by_id(loaded[i].id);
		if (fd < 0) continue;
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
			loaded[i].run_cnt = info.run_cnt;
			loaded[i].run_time_ns = info.run_time_ns;
		}
		close(fd);
	}
}

int bpf_stats_window_open(void)
{
	if (!nloaded || stats_refused) return -1;
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0) {
		stats_refused = true;
		emit_warn("BPF_ENABLE_STATS failed (%s): no run_cnt / run_time_ns for the programs", strerror(-fd));
		return -1;
	}
	for (int i = 0; i < nloaded; i++) loaded[i].windows++;
	return fd;
}

void bpf_stats_window_close(int fd)
{
	if (fd < 0) return;
	close(fd);
	read_runs();
}

static void emit_runs_at_exit(void)
{
	/* kernel.bpf_stats_enabled=1 (set by someone else) keeps stats on outside the windows too */
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "r");
	int sysctl_on = 0;
	if (f) { if (fscanf(f, "%d", &sysctl_on) != 1) sysctl_on = 0; fclose(f); }
	if (sysctl_on) emit_warn("kernel.bpf_stats_enabled is 1: the measured phases ran with BPF run-time stats on");
	read_runs();
	for (int i = 0; i < nloaded; i++) {
		struct loaded *l = &loaded[i];
		if (!l->windows && !sysctl_on) continue;
		emit_sample_labels(l->variant, "run_cnt", "runs", l->run_cnt, 0, l->labels);
		emit_sample_labels(l->variant, "run_time_ns", "ns", l->run_time_ns, 0, l->labels);
		if (l->run_cnt) emit_sample_labels(l->variant, "ns_per_run", "ns", (double)l->run_time_ns / l->run_cnt, 0, l->labels);
	}
}
