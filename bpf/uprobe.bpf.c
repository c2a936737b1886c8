// SPDX-License-Identifier: GPL-2.0
/* uprobe-tracing: programs on a function of the driver itself (bpf/drivers/uprobe.c, lab_uprobe_target) and on the
 * USDT probe inside it. The counting programs do the kernel bench's trig-uprobe work (one atomic add on a global);
 * the USDT program also adds the probe's argument, so the driver can check the argument arrived. The ring buffer
 * program stamps one record per call for the latency variant. Attach targets are set by the driver. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

enum { C_UPROBE, C_URETPROBE, C_USDT, C_MAX };

__u64 hits[C_MAX] = {};
__u64 usdt_arg_sum = 0;

SEC("uprobe")
int on_uprobe(void *ctx) { __sync_fetch_and_add(&hits[C_UPROBE], 1); return 0; }

SEC("uretprobe")
int on_uretprobe(void *ctx) { __sync_fetch_and_add(&hits[C_URETPROBE], 1); return 0; }

SEC("usdt")
int BPF_USDT(on_usdt, unsigned long seq)
{
	__sync_fetch_and_add(&hits[C_USDT], 1);
	__sync_fetch_and_add(&usdt_arg_sum, seq);
	return 0;
}

struct rec { __u64 ts; __u64 seq; };

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 512 * 1024);
} rb SEC(".maps");

__u64 produced = 0;
__u64 dropped = 0;

SEC("uprobe")
int stamp(void *ctx)
{
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
