// SPDX-License-Identifier: GPL-2.0
/* stack-trace-collection: BPF_PROG_TYPE_PERF_EVENT programs on a CPU-clock software event (one per CPU), the shape of
 * a sampling profiler. Every sample gets a kernel stack; samples in the workload's process (target_tgid, set by the
 * driver) also get a user stack. `empty` does nothing (the cost of sampling alone); `by_stackid` stores both stacks in
 * BPF_MAP_TYPE_STACK_TRACE maps with bpf_get_stackid; `to_ringbuf` copies them with bpf_get_stack into one ring buffer
 * record per sample. All return 0: no perf ring buffer output. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define MAX_STACK 127 /* PERF_MAX_STACK_DEPTH, the default kernel.perf_event_max_stack */
#define E_EXIST 17
#define E_FAULT 14

__u32 target_tgid = 0;

/* per stack kind (0 kernel, 1 user): calls, -EEXIST, -EFAULT, other errors */
enum { S_CALLS, S_EEXIST, S_EFAULT, S_OTHER, S_MAX };
__u64 samples = 0;
__u64 target_samples = 0;
__u64 stackid_stats[2][S_MAX] = {};
__u64 produced = 0, dropped = 0, get_stack_errors = 0;

SEC("perf_event")
int empty(struct bpf_perf_event_data *ctx) { return 0; }

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MAX_STACK * sizeof(__u64));
} kstacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 16384);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MAX_STACK * sizeof(__u64));
} ustacks SEC(".maps");

static __always_inline void count_stackid(int kind, long id)
{
	__sync_fetch_and_add(&stackid_stats[kind][S_CALLS], 1);
	if (id >= 0) return;
	int slot = id == -E_EXIST ? S_EEXIST : id == -E_FAULT ? S_EFAULT : S_OTHER;
	__sync_fetch_and_add(&stackid_stats[kind][slot], 1);
}

static __always_inline bool in_target(void)
{
	__sync_fetch_and_add(&samples, 1);
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != target_tgid) return false;
	__sync_fetch_and_add(&target_samples, 1);
	return true;
}

SEC("perf_event")
int by_stackid(struct bpf_perf_event_data *ctx)
{
	bool target = in_target();
	count_stackid(0, bpf_get_stackid(ctx, &kstacks, 0));
	if (target) count_stackid(1, bpf_get_stackid(ctx, &ustacks, BPF_F_USER_STACK));
	return 0;
}

struct stack_rec {
	__u32 tgid;
	__s32 klen; /* bytes bpf_get_stack wrote, or its error */
	__s32 ulen; /* same for the user stack; 0 when not collected (another process) */
	__u32 pad;
	__u64 kstack[MAX_STACK];
	__u64 ustack[MAX_STACK];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 * 1024 * 1024);
} rb SEC(".maps");

SEC("perf_event")
int to_ringbuf(struct bpf_perf_event_data *ctx)
{
	bool target = in_target();
	__sync_fetch_and_add(&produced, 1);
	struct stack_rec *r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	r->tgid = bpf_get_current_pid_tgid() >> 32;
	r->pad = 0;
	r->klen = bpf_get_stack(ctx, r->kstack, sizeof(r->kstack), 0);
	r->ulen = target ? bpf_get_stack(ctx, r->ustack, sizeof(r->ustack), BPF_F_USER_STACK) : 0;
	if (r->klen < 0 || r->ulen < 0) __sync_fetch_and_add(&get_stack_errors, 1);
	bpf_ringbuf_submit(r, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
