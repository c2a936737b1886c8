// SPDX-License-Identifier: GPL-2.0
/* Attach-type overhead ("trigger" benchmarks): one program per attach type, each counting the getpgid() calls into its
 * own slot of a global array. The driver attaches one program at a time. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#define NR_GETPGID 121 /* x86_64 */

enum { C_KPROBE, C_KRETPROBE, C_FENTRY, C_FEXIT, C_TP, C_RAW_TP, C_MAX };

/* The work per call is the kernel bench's trig-* programs' exactly: one atomic add on a global, no filter (nothing
 * else in the guest calls getpgid; raw_tp filters on the syscall number as the bench does). */
__u64 hits[C_MAX] = {};

static __always_inline void count(__u32 slot)
{
	__sync_fetch_and_add(&hits[slot], 1); /* slot is a constant at every call site */
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
