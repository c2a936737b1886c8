// SPDX-License-Identifier: GPL-2.0
/* Ring buffer producer. On every getpgid() of the target process, write `batch` records into a BPF ring buffer.
 * The record work matches the kernel selftests' ringbuf bench: reserve, store one 8-byte value, submit (or
 * bpf_ringbuf_output of that value); sampled wakeups force a wakeup once the unconsumed data reaches
 * `wakeup_data_size` bytes (bpf_ringbuf_query). The hook is fentry on the syscall function (the bench's) or the
 * syscalls/sys_enter_getpgid tracepoint: only the chosen program is loaded. Nothing else runs per record. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define MAX_BATCH 1024
#define MAX_RECORD 4096

const volatile __u32 target_tgid = 0;
const volatile __u32 batch = 1;
const volatile __u32 record_size = 8;
const volatile __u64 wakeup_data_size = 0; /* 0: the kernel's default notification (every record when idle) */
const volatile __u32 use_output = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 512 * 1024);
} rb SEC(".maps");

__u64 calls = 0;   /* program runs for the target process: records attempted = calls * batch */
__u64 dropped = 0; /* reserve/output failed: ring full */
__u64 sample_val = 42;
char scratch[MAX_RECORD] = {};

static __always_inline __u64 wakeup_flags(void)
{
	if (!wakeup_data_size)
		return 0;
	return bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA) >= wakeup_data_size ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

static __always_inline int produce(void)
{
	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	__sync_fetch_and_add(&calls, 1);
	for (__u32 i = 0; i < MAX_BATCH; i++) {
		if (i >= batch)
			break;
		if (use_output) {
			*(__u64 *)scratch = sample_val;
			if (bpf_ringbuf_output(&rb, scratch, record_size & (MAX_RECORD - 1), wakeup_flags()))
				__sync_fetch_and_add(&dropped, 1);
			continue;
		}
		__u64 *rec = bpf_ringbuf_reserve(&rb, record_size, 0);
		if (!rec) {
			__sync_fetch_and_add(&dropped, 1);
			continue;
		}
		*rec = sample_val;
		bpf_ringbuf_submit(rec, wakeup_flags());
	}
	return 0;
}

SEC("fentry/__x64_sys_getpgid") /* the driver resolves the real function name from kallsyms */
int produce_fentry(void *ctx) { return produce(); }

SEC("tp/syscalls/sys_enter_getpgid")
int produce_tp(void *ctx) { return produce(); }

char LICENSE[] SEC("license") = "GPL";
