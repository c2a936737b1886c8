/* Program metrics from the verifier log and BPF_OBJ_GET_INFO_BY_FD (see proginfo.h). */
#include "../common.h"
#include "proginfo.h"
#include <bpf/bpf.h>
#include <linux/bpf.h>

#define LOG_SIZE (64 * 1024)
#define MAX_PROGS 32

/* one object at a time: a driver loads its skeleton once (or again after a failed first try) */
static struct { const struct bpf_program *prog; char *log; } logs[MAX_PROGS];
static int nlogs;
static unsigned long long load_start_ns;

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

void prog_stats_before_load(struct bpf_object *obj)
{
	for (int i = 0; i < nlogs; i++) free(logs[i].log);
	nlogs = 0;
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__autoload(prog) || nlogs == MAX_PROGS) continue;
		char *buf = calloc(1, LOG_SIZE);
		if (!buf) die("allocate verifier log", ENOMEM);
		/* level 4 (BPF_LOG_STATS, 5.2+) logs only the summary lines, so the buffer never fills */
		bpf_program__set_log_level(prog, 4);
		bpf_program__set_log_buf(prog, buf, LOG_SIZE);
		logs[nlogs].prog = prog;
		logs[nlogs++].log = buf;
	}
	load_start_ns = now_ns();
}

void prog_stats_emit(struct bpf_object *obj)
{
	double load_ms = (now_ns() - load_start_ns) / 1e6;
	char variant[160];
	snprintf(variant, sizeof(variant), "object:%s", bpf_object__name(obj));
	emit_sample(variant, "load_ms", "ms", load_ms, 0);
	for (int i = 0; i < nlogs; i++) {
		const struct bpf_program *prog = logs[i].prog;
		int fd = bpf_program__fd(prog);
		if (fd < 0) continue;
		snprintf(variant, sizeof(variant), "prog:%s", bpf_program__name(prog));
		struct verifier_stats st;
		parse_verifier_stats(logs[i].log, &st);
		if (st.insns >= 0) emit_sample(variant, "verified_insns", "insns", st.insns, 0);
		else emit_warn("%s: no verifier statistics in the load log", variant);
		if (st.states >= 0) emit_sample(variant, "verifier_states", "states", st.states, 0);
		if (st.verify_us >= 0) emit_sample(variant, "verify_us", "us", st.verify_us, 0);
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
			emit_sample(variant, "xlated_bytes", "bytes", info.xlated_prog_len, 0);
			emit_sample(variant, "jited_bytes", "bytes", info.jited_prog_len, 0);
		} else {
			emit_warn("%s: BPF_OBJ_GET_INFO_BY_FD failed (%s)", variant, strerror(errno));
		}
	}
}
