// SPDX-License-Identifier: GPL-2.0
/* Perf buffer producer. On every getpgid() of the target process, write `batch` records into this CPU's buffer
 * of a BPF_MAP_TYPE_PERF_EVENT_ARRAY with bpf_perf_event_output. The record work matches the kernel selftests'
 * perfbuf bench: one 8-byte value per record. Wakeups are set on the consumer side (perf_event_attr
 * wakeup_events / sample_period). The hook is fentry on the syscall function (the bench's) or the
 * syscalls/sys_enter_getpgid tracepoint: only the chosen program is loaded. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define MAX_BATCH 1024
#define MAX_RECORD 4096

const volatile __u32 target_tgid = 0;
const volatile __u32 batch = 1;
const volatile __u32 record_size = 8;

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} pb SEC(".maps");

__u64 calls = 0;   /* program runs for the target process: records attempted = calls * batch */
__u64 dropped = 0; /* bpf_perf_event_output failed: buffer full */
char scratch[MAX_RECORD] = {};

static __always_inline int produce(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	__sync_fetch_and_add(&calls, 1);
	*(__u64 *)scratch = 42;
	for (__u32 i = 0; i < MAX_BATCH; i++) {
		if (i >= batch)
			break;
		if (bpf_perf_event_output(ctx, &pb, BPF_F_CURRENT_CPU, scratch, record_size & (MAX_RECORD - 1)))
			__sync_fetch_and_add(&dropped, 1);
	}
	return 0;
}

SEC("fentry/__x64_sys_getpgid")
int produce_fentry(void *ctx) { return produce(ctx); }

SEC("tp/syscalls/sys_enter_getpgid")
int produce_tp(void *ctx) { return produce(ctx); }

char LICENSE[] SEC("license") = "GPL";
