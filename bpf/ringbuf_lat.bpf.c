// SPDX-License-Identifier: GPL-2.0
/* Ring buffer latency: a kprobe on the getpgid syscall function (attach target set by the driver) writes one
 * record stamped with bpf_ktime_get_ns() (CLOCK_MONOTONIC) per getpgid() of the target process. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct rec { __u64 ts; __u64 seq; };

const volatile __u32 target_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 512 * 1024);
} rb SEC(".maps");

__u64 produced = 0;
__u64 dropped = 0;

SEC("kprobe")
int stamp(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	__sync_fetch_and_add(&produced, 1); /* result unused: fetching atomics need 5.12+ */
	struct rec *r = bpf_ringbuf_reserve(&rb, sizeof(*r), 0);
	if (!r) {
		__sync_fetch_and_add(&dropped, 1);
		return 0;
	}
	r->seq = 0;
	r->ts = bpf_ktime_get_ns();
	bpf_ringbuf_submit(r, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
