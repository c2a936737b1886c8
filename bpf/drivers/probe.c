/* BPF feature probe for the agent's hello: which map types, program types and helpers this kernel supports.
 * Prints one JSON object. Uses libbpf's probes (each loads a tiny map or program). */
#include "common.h"
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>

static const struct { const char *name; enum bpf_map_type type; } maps[] = {
	{ "hash", BPF_MAP_TYPE_HASH }, { "array", BPF_MAP_TYPE_ARRAY }, { "percpu_hash", BPF_MAP_TYPE_PERCPU_HASH },
	{ "percpu_array", BPF_MAP_TYPE_PERCPU_ARRAY }, { "lru_hash", BPF_MAP_TYPE_LRU_HASH },
	{ "lru_percpu_hash", BPF_MAP_TYPE_LRU_PERCPU_HASH }, { "perf_event_array", BPF_MAP_TYPE_PERF_EVENT_ARRAY },
	{ "ringbuf", BPF_MAP_TYPE_RINGBUF }, { "user_ringbuf", BPF_MAP_TYPE_USER_RINGBUF },
	{ "devmap", BPF_MAP_TYPE_DEVMAP }, { "cpumap", BPF_MAP_TYPE_CPUMAP }, { "xskmap", BPF_MAP_TYPE_XSKMAP },
	{ "bloom_filter", BPF_MAP_TYPE_BLOOM_FILTER }, { "lpm_trie", BPF_MAP_TYPE_LPM_TRIE },
	{ "sockmap", BPF_MAP_TYPE_SOCKMAP }, { "task_storage", BPF_MAP_TYPE_TASK_STORAGE },
	{ "stack_trace", BPF_MAP_TYPE_STACK_TRACE },
};
static const struct { const char *name; enum bpf_prog_type type; } progs[] = {
	{ "kprobe", BPF_PROG_TYPE_KPROBE }, { "tracepoint", BPF_PROG_TYPE_TRACEPOINT },
	{ "raw_tracepoint", BPF_PROG_TYPE_RAW_TRACEPOINT }, { "tracing", BPF_PROG_TYPE_TRACING },
	{ "perf_event", BPF_PROG_TYPE_PERF_EVENT }, { "xdp", BPF_PROG_TYPE_XDP }, { "sched_cls", BPF_PROG_TYPE_SCHED_CLS },
	{ "socket_filter", BPF_PROG_TYPE_SOCKET_FILTER }, { "sock_ops", BPF_PROG_TYPE_SOCK_OPS },
	{ "cgroup_skb", BPF_PROG_TYPE_CGROUP_SKB }, { "syscall", BPF_PROG_TYPE_SYSCALL },
};
static const struct { const char *name; enum bpf_prog_type prog; enum bpf_func_id id; } helpers[] = {
	{ "ringbuf_reserve", BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_ringbuf_reserve },
	{ "ktime_get_ns", BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_ktime_get_ns },
	{ "loop", BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_loop },
	{ "perf_event_output", BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_perf_event_output },
	{ "redirect_map", BPF_PROG_TYPE_XDP, BPF_FUNC_redirect_map },
	{ "get_func_ip", BPF_PROG_TYPE_KPROBE, BPF_FUNC_get_func_ip },
	{ "get_stackid", BPF_PROG_TYPE_PERF_EVENT, BPF_FUNC_get_stackid },
	{ "get_stack", BPF_PROG_TYPE_PERF_EVENT, BPF_FUNC_get_stack },
};

static int silent(enum libbpf_print_level l, const char *f, va_list a) { return 0; }

int main(void)
{
	struct rlimit r = { RLIM_INFINITY, RLIM_INFINITY };
	setrlimit(RLIMIT_MEMLOCK, &r);
	libbpf_set_print(silent);
	printf("{\"maps\":{");
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		printf("%s\"%s\":%s", i ? "," : "", maps[i].name, libbpf_probe_bpf_map_type(maps[i].type, NULL) == 1 ? "true" : "false");
	printf("},\"programs\":{");
	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		printf("%s\"%s\":%s", i ? "," : "", progs[i].name, libbpf_probe_bpf_prog_type(progs[i].type, NULL) == 1 ? "true" : "false");
	printf("},\"helpers\":{");
	for (size_t i = 0; i < sizeof(helpers) / sizeof(helpers[0]); i++)
		printf("%s\"%s\":%s", i ? "," : "", helpers[i].name,
		       libbpf_probe_bpf_helper(helpers[i].prog, helpers[i].id, NULL) == 1 ? "true" : "false");
	struct btf *btf = btf__load_vmlinux_btf();
	printf("},\"btf\":%s}\n", btf ? "true" : "false");
	return 0;
}
