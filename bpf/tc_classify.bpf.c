// SPDX-License-Identifier: GPL-2.0
/* cls_bpf classifier (direct action) for clsact ingress: parse Ethernet/IPv4/UDP, look the UDP destination port
 * up in an array map of class ids, set skb->tc_classid, count, and return the configured verdict. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define TC_ACT_OK 0
#define TC_ACT_SHOT 2
#define ETH_P_IP 0x0800

const volatile __u32 verdict = TC_ACT_OK;

enum { C_PKTS, C_MATCHED, C_BYTES, C_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, C_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} classes SEC(".maps");

SEC("tc")
int classify(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	__u32 k = C_PKTS;
	__u64 *c = bpf_map_lookup_elem(&counters, &k);
	if (c)
		*c += 1;
	k = C_BYTES;
	c = bpf_map_lookup_elem(&counters, &k);
	if (c)
		*c += skb->len;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != 17 || ip->ihl != 5)
		return verdict;
	struct udphdr *udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > data_end)
		return verdict;
	__u32 key = bpf_ntohs(udp->dest) & 0xff;
	__u32 *cls = bpf_map_lookup_elem(&classes, &key);
	if (cls && *cls) {
		skb->tc_classid = *cls;
		k = C_MATCHED;
		c = bpf_map_lookup_elem(&counters, &k);
		if (c)
			*c += 1;
	}
	return verdict;
}

char LICENSE[] SEC("license") = "GPL";
