// SPDX-License-Identifier: GPL-2.0
/* Attach-type overhead ("trigger" benchmarks): one program per attach type, each counting the getpgid() calls of the
 * target process into its own slot of an array map. The driver attaches one program at a time. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define NR_GETPGID 121 /* x86_64 */

enum { C_KPROBE, C_KRETPROBE, C_FENTRY, C_FEXIT, C_TP, C_RAW_TP, C_MAX };

const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, C_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 slot)
{
	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return;
	__u64 *c = bpf_map_lookup_elem(&counters, &slot);
	if (c)
		__sync_fetch_and_add(c, 1);
}

/* attach targets are set by the driver (the syscall function's name differs between kernels) */
SEC("kprobe")
int on_kprobe(void *ctx) { count(C_KPROBE); return 0; }

SEC("kretprobe")
int on_kretprobe(void *ctx) { count(C_KRETPROBE); return 0; }

SEC("fentry")
int on_fentry(void *ctx) { count(C_FENTRY); return 0; }

SEC("fexit")
int on_fexit(void *ctx) { count(C_FEXIT); return 0; }

SEC("tp/syscalls/sys_enter_getpgid")
int on_tp(void *ctx) { count(C_TP); return 0; }

/* raw_tp/sys_enter fires on every syscall: filter on the syscall number (args[1]) */
SEC("raw_tp/sys_enter")
int on_raw_tp(struct bpf_raw_tracepoint_args *ctx)
{
	if (ctx->args[1] != NR_GETPGID)
		return 0;
	count(C_RAW_TP);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
