// SPDX-License-Identifier: GPL-2.0
/* memory-usage: one small program per program type, the same body in each (a clock read, no maps), so the memory a
 * loaded program costs can be compared across types. Loaded one at a time by drivers/memusage.c, never attached. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define BODY { bpf_ktime_get_ns(); return 0; } /* 0: the only value fentry may return */

SEC("socket") int p_socket_filter(void *ctx) BODY
SEC("xdp") int p_xdp(void *ctx) BODY
SEC("tc") int p_sched_cls(void *ctx) BODY
SEC("cgroup_skb/ingress") int p_cgroup_skb(void *ctx) BODY
SEC("kprobe") int p_kprobe(void *ctx) BODY
SEC("tp/syscalls/sys_enter_getpgid") int p_tracepoint(void *ctx) BODY
SEC("raw_tp/sys_enter") int p_raw_tracepoint(void *ctx) BODY
SEC("perf_event") int p_perf_event(void *ctx) BODY
/* attach target set by the driver (the syscall function's name differs between kernels) */
SEC("fentry") int p_fentry(void *ctx) BODY

char LICENSE[] SEC("license") = "GPL";
