// SPDX-License-Identifier: GPL-2.0
/* Map operation latency, measured inside the kernel: one raw_tp program per (map type, op), run with
 * BPF_PROG_TEST_RUN (raw_tp supports test_run since 5.10; it takes no repeat count, so each run loops OPS times).
 * ctx->args[0] is the first key index; keys are (start + i) % nr_keys, written into the first 4 bytes of a
 * zeroed key buffer (the map's key size is set by the driver: 4 for arrays). bpf_ktime_get_ns() around the loop;
 * elapsed_ns / ops accumulate across runs (the driver reads the deltas). delete re-inserts the deleted keys in a
 * second, untimed loop so that the map stays at its fill level. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "timed_loop.bpf.h"

#define OPS 256
#define MAX_KEY 64
#define MAX_VALUE 256

const volatile __u32 nr_keys = 1;

__u64 elapsed_ns = 0;
__u64 ops = 0;
__u64 hits = 0; /* lookups that found the key, updates and deletes that succeeded */

#define MAP(name, TYPE)                               \
	struct {                                      \
		__uint(type, TYPE);                   \
		__uint(max_entries, 1);               \
		__uint(key_size, sizeof(__u32));      \
		__uint(value_size, sizeof(__u64));    \
	} name SEC(".maps")

MAP(m_hash, BPF_MAP_TYPE_HASH);
MAP(m_array, BPF_MAP_TYPE_ARRAY);
MAP(m_percpu_array, BPF_MAP_TYPE_PERCPU_ARRAY);
MAP(m_percpu_hash, BPF_MAP_TYPE_PERCPU_HASH);
MAP(m_lru_hash, BPF_MAP_TYPE_LRU_HASH);

static __always_inline void do_lookup(void *map, __u64 start)
{
	__u8 key[MAX_KEY] = {};
	TIMED_LOOP(OPS, elapsed_ns, ops, hits, {
		*(__u32 *)key = (start + i) % nr_keys;
		if (bpf_map_lookup_elem(map, key))
			n_hit++;
	});
}

static __always_inline void do_update(void *map, __u64 start)
{
	__u8 key[MAX_KEY] = {};
	__u8 val[MAX_VALUE] = {};
	TIMED_LOOP(OPS, elapsed_ns, ops, hits, {
		*(__u32 *)key = (start + i) % nr_keys;
		*(__u32 *)val = i;
		if (bpf_map_update_elem(map, key, val, BPF_ANY) == 0)
			n_hit++;
	});
}

static __always_inline void do_delete(void *map, __u64 start)
{
	__u8 key[MAX_KEY] = {};
	__u8 val[MAX_VALUE] = {};
	TIMED_LOOP(OPS, elapsed_ns, ops, hits, {
		*(__u32 *)key = (start + i) % nr_keys;
		if (bpf_map_delete_elem(map, key) == 0)
			n_hit++;
	});
#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < OPS; i++) {
		*(__u32 *)key = (start + i) % nr_keys;
		bpf_map_update_elem(map, key, val, BPF_ANY);
	}
}

#define PROGS(m)                                                                                 \
	SEC("raw_tp") int m##_lookup(struct bpf_raw_tracepoint_args *ctx) { do_lookup(&m_##m, ctx->args[0]); return 0; } \
	SEC("raw_tp") int m##_update(struct bpf_raw_tracepoint_args *ctx) { do_update(&m_##m, ctx->args[0]); return 0; } \
	SEC("raw_tp") int m##_delete(struct bpf_raw_tracepoint_args *ctx) { do_delete(&m_##m, ctx->args[0]); return 0; }

PROGS(hash)
PROGS(array)
PROGS(percpu_array)
PROGS(percpu_hash)
PROGS(lru_hash)

char LICENSE[] SEC("license") = "GPL";
