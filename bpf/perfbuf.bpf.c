// SPDX-License-Identifier: GPL-2.0
/* Perf buffer producer: on every getpgid() of the target process, write `batch` records of `record_size` bytes
 * into a BPF_MAP_TYPE_PERF_EVENT_ARRAY with bpf_perf_event_output (this CPU's buffer). Wakeups are set on the
 * consumer side (perf_event_attr wakeup_events / sample_period). A failed output (buffer full) counts as dropped. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define MAX_BATCH 1024
#define MAX_RECORD 4096

const volatile __u32 target_tgid = 0;
const volatile __u32 batch = 1;
const volatile __u32 record_size = 64;

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} pb SEC(".maps");

__u64 produced = 0; /* records the program tried to write */
__u64 dropped = 0;  /* bpf_perf_event_output failed: buffer full */
char scratch[MAX_RECORD] = {};

SEC("tp/syscalls/sys_enter_getpgid")
int produce(void *ctx)
{
	if ((bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	for (__u32 i = 0; i < MAX_BATCH; i++) {
		if (i >= batch)
			break;
		__sync_fetch_and_add(&produced, 1);
		*(__u64 *)scratch = bpf_ktime_get_ns();
		if (bpf_perf_event_output(ctx, &pb, BPF_F_CURRENT_CPU, scratch, record_size & (MAX_RECORD - 1)))
			__sync_fetch_and_add(&dropped, 1);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
