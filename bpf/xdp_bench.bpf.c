// SPDX-License-Identifier: GPL-2.0
/* XDP benchmark programs (scenarios xdp, xdp-virtio, tc-classification's side-by-side XDP row).
 * xdp_main: counts every frame in a per-CPU array (packets, bytes), optionally emits a sampled ring-buffer
 *           event, and returns the configured action (XDP_TX swaps MACs first; XDP_REDIRECT goes through a devmap).
 * xdp_sink: attached on the device that receives XDP_TX/XDP_REDIRECT output, counts and drops. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

const volatile __u32 action = XDP_DROP;
const volatile __u32 sample_every = 0; /* 0: no events; N: one ring-buffer event every N frames (per CPU) */

enum { C_PKTS, C_BYTES, C_SINK, C_EV_DROPS, C_EV, C_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, C_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} tx_port SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct event { __u64 ts; __u32 len; __u32 ifindex; __u32 rxq; __u32 pad; };

static __always_inline __u64 *counter(__u32 k)
{
	return bpf_map_lookup_elem(&counters, &k);
}

SEC("xdp")
int xdp_main(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	__u64 *pk = counter(C_PKTS), *by = counter(C_BYTES);
	if (!pk || !by)
		return XDP_ABORTED;
	*pk += 1;
	*by += data_end - data;
	if (sample_every && (*pk % sample_every) == 0) {
		struct event e = { .ts = bpf_ktime_get_ns(), .len = data_end - data, .ifindex = ctx->ingress_ifindex, .rxq = ctx->rx_queue_index };
		__u64 *c = counter(bpf_ringbuf_output(&events, &e, sizeof(e), 0) ? C_EV_DROPS : C_EV);
		if (c)
			*c += 1;
	}
	if (action == XDP_TX) {
		/* send it back where it came from: swap Ethernet addresses */
		unsigned char *eth = data;
		if ((void *)(eth + 12) > data_end)
			return XDP_ABORTED;
		unsigned char tmp[6];
		__builtin_memcpy(tmp, eth, 6);
		__builtin_memcpy(eth, eth + 6, 6);
		__builtin_memcpy(eth + 6, tmp, 6);
		return XDP_TX;
	}
	if (action == XDP_REDIRECT)
		return bpf_redirect_map(&tx_port, 0, 0);
	return action;
}

SEC("xdp")
int xdp_sink(struct xdp_md *ctx)
{
	__u64 *c = counter(C_SINK);
	if (c)
		*c += 1;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
