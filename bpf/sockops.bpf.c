// SPDX-License-Identifier: GPL-2.0
/* BPF_PROG_TYPE_SOCK_OPS on a cgroup: counts every callback by op, and on established connections asks for
 * state-change callbacks (BPF_SOCK_OPS_STATE_CB_FLAG), like a connection tracker would. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define N_OPS 32

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, N_OPS);
	__type(key, __u32);
	__type(value, __u64);
} ops SEC(".maps");

SEC("sockops")
int count_ops(struct bpf_sock_ops *skops)
{
	__u32 op = skops->op & (N_OPS - 1);
	__u64 *c = bpf_map_lookup_elem(&ops, &op);
	if (c)
		*c += 1;
	if (skops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB || skops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		bpf_sock_ops_cb_flags_set(skops, BPF_SOCK_OPS_STATE_CB_FLAG);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
