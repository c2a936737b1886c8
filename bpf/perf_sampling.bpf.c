// SPDX-License-Identifier: GPL-2.0
/* perf-event-sampling: a BPF_PROG_TYPE_PERF_EVENT program on a CPU-clock software event (one per CPU) doing minimal
 * work: one atomic add on a global, so the driver can check it against the kernel's own count of runs (run_cnt from
 * BPF stats). Returns 0: no perf ring buffer output. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

__u64 samples = 0;

SEC("perf_event")
int count_sample(struct bpf_perf_event_data *ctx)
{
	__sync_fetch_and_add(&samples, 1);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
