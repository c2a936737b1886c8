// SPDX-License-Identifier: GPL-2.0
/* BPF_PROG_TYPE_SOCKET_FILTER for a receiving UDP socket. policy 0: accept all; 1: drop all;
 * 2: drop every second packet (by a per-CPU sequence number). Counts seen/accepted/dropped. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

const volatile __u32 policy = 0;

enum { C_SEEN, C_ACCEPTED, C_DROPPED, C_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, C_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

SEC("socket")
int filter(struct __sk_buff *skb)
{
	__u32 k = C_SEEN;
	__u64 *seen = bpf_map_lookup_elem(&counters, &k);
	if (!seen)
		return skb->len;
	*seen += 1;
	int drop = policy == 1 || (policy == 2 && (*seen & 1) == 0);
	k = drop ? C_DROPPED : C_ACCEPTED;
	__u64 *c = bpf_map_lookup_elem(&counters, &k);
	if (c)
		*c += 1;
	return drop ? 0 : skb->len;
}

char LICENSE[] SEC("license") = "GPL";
