// SPDX-License-Identifier: GPL-2.0
/* Ring buffer producer: on every getpgid() of the target process, write `batch` records of `record_size`
 * bytes into a BPF ring buffer, with reserve+submit or bpf_ringbuf_output, and every-record or sampled wakeups. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define MAX_BATCH 1024
#define MAX_RECORD 4096

const volatile __u32 target_tgid = 0;
const volatile __u32 batch = 1;
const volatile __u32 record_size = 64;
const volatile __u32 wakeup_every = 0; /* 0: notify on every record; N: force a wakeup every N records */
const volatile __u32 use_output = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 512 * 1024);
} rb SEC(".maps");

__u64 produced = 0; /* records the program tried to write */
__u64 dropped = 0;  /* reserve/output failed: ring full */
__u64 seq = 0;
char scratch[MAX_RECORD] = {};

static __always_inline __u64 wakeup_flags(void)
{
	if (!wakeup_every)
		return 0;
	/* plain increment: a fetching atomic (BPF_FETCH) needs 5.12+; a lost update only shifts the wakeup sampling */
	__u64 n = seq++;
	return (n % wakeup_every) == 0 ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

SEC("tp/syscalls/sys_enter_getpgid")
int produce(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	for (__u32 i = 0; i < MAX_BATCH; i++) {
		if (i >= batch)
			break;
		__sync_fetch_and_add(&produced, 1);
		__u64 flags = wakeup_flags();
		if (use_output) {
			if (bpf_ringbuf_output(&rb, scratch, record_size & (MAX_RECORD - 1), flags))
				__sync_fetch_and_add(&dropped, 1);
			continue;
		}
		__u64 *rec = bpf_ringbuf_reserve(&rb, record_size, 0);
		if (!rec) {
			__sync_fetch_and_add(&dropped, 1);
			continue;
		}
		*rec = bpf_ktime_get_ns();
		bpf_ringbuf_submit(rec, flags);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
