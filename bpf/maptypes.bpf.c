// SPDX-License-Identifier: GPL-2.0
/* map-types: the cost of one operation on the map types map-operation-latency leaves out, measured inside the
 * kernel. Every program is a raw_tp run with BPF_PROG_TEST_RUN; ctx->args[0] is the first key index. A program does
 * MT_OPS operations between two bpf_ktime_get_ns() and adds the ns, the operations done and the hits to its slot
 * (maptypes.h). loop_empty runs the same loop without the map operation; the driver subtracts it, so that
 * ns per op = (time with ops - time without) / ops. Keys are scattered over [0, n) by a multiplicative hash of the
 * index, the same in every loop (the empty one included).
 * prog_array is the exception: tail_entry starts a chain of tail_target tail calls into tail_hop (one program that
 * tail-calls itself), and the last program stamps the time; the driver subtracts a chain of length 0. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "maptypes.h"
#include "timed_loop.bpf.h"

const volatile __u32 nr_keys = 1;  /* keys of percpu_hash / percpu_array / the bloom filter and its hash map */
const volatile __u32 lru_keys = 2; /* keys cycled over the LRU map: more than its max_entries */
const volatile __u32 mim_keys = MT_OUTER * MT_INNER; /* a variable like the others: every loop divides alike */

__u64 elapsed[MT_NSLOTS], done[MT_NSLOTS], hits[MT_NSLOTS];
__u64 order_errors[MT_NSLOTS]; /* pops that did not return the value FIFO (queue) / LIFO (stack) order promises */

struct val64 { __u64 v; };

struct { __uint(type, BPF_MAP_TYPE_LRU_HASH); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } m_lru SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_HASH); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } m_pcpu_hash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } m_pcpu_array SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_QUEUE); __uint(max_entries, MT_OPS); __uint(value_size, sizeof(__u64)); } m_queue SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_STACK); __uint(max_entries, MT_OPS); __uint(value_size, sizeof(__u64)); } m_stack SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_BLOOM_FILTER); __uint(max_entries, 1); __uint(value_size, sizeof(__u32)); __uint(map_extra, MT_HASH_FUNCS); } m_bloom SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 1); __type(key, __u32); __type(value, __u64); } m_bloom_hash SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_PROG_ARRAY); __uint(max_entries, 1); __uint(key_size, sizeof(__u32)); __uint(value_size, sizeof(__u32)); } m_jmp SEC(".maps");
struct inner { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, MT_INNER); __type(key, __u32); __type(value, __u64); };
struct { __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS); __uint(max_entries, MT_OUTER); __type(key, __u32); __array(values, struct inner); } m_aom SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS); __uint(max_entries, MT_OUTER); __type(key, __u32); __array(values, struct inner); } m_hom SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_CGROUP_ARRAY); __uint(max_entries, 1); __uint(key_size, sizeof(__u32)); __uint(value_size, sizeof(__u32)); } m_cgroup SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_STACK_TRACE); __uint(max_entries, 1024); __uint(key_size, sizeof(__u32)); __uint(value_size, 127 * sizeof(__u64)); } m_stacks SEC(".maps");

static __always_inline __u32 key_of(__u64 start, __u32 i, __u32 n) { return (__u32)((start + i) * 2654435761u) % n; }

/* BODY (timed_loop.bpf.h) also sees the key k in [0, N); k is computed in every loop, used or not (barrier_var), so
 * that the empty loop does the same work as the others minus the map operation */
#define TIMED(SLOT, N, ...)                                                                              \
	do {                                                                                             \
		__u64 start = ctx->args[0];                                                              \
		TIMED_LOOP(MT_OPS, elapsed[SLOT], done[SLOT], hits[SLOT], __u32 k = key_of(start, i, N); barrier_var(k); __VA_ARGS__); \
	} while (0)

#define PROG(name) SEC("raw_tp") int name(struct bpf_raw_tracepoint_args *ctx)

PROG(loop_empty) { TIMED(MT_EMPTY, nr_keys, { n_hit++; }); return 0; }

/* lru_hash under eviction: lru_keys (> max_entries) keys, so updates of absent keys evict and lookups miss */
PROG(lru_update) { TIMED(MT_LRU_UPDATE, lru_keys, { __u32 key = k; __u64 v = k; if (!bpf_map_update_elem(&m_lru, &key, &v, BPF_ANY)) n_hit++; }); return 0; }
PROG(lru_lookup) { TIMED(MT_LRU_LOOKUP, lru_keys, { __u32 key = k; if (bpf_map_lookup_elem(&m_lru, &key)) n_hit++; }); return 0; }

#define PERCPU_PROGS(m, LOOKUP, UPDATE)                                                                        \
	PROG(m##_lookup) { TIMED(LOOKUP, nr_keys, { __u32 key = k; if (bpf_map_lookup_elem(&m_##m, &key)) n_hit++; }); return 0; } \
	PROG(m##_update) { TIMED(UPDATE, nr_keys, { __u32 key = k; __u64 v = k; if (!bpf_map_update_elem(&m_##m, &key, &v, BPF_ANY)) n_hit++; }); return 0; }
PERCPU_PROGS(pcpu_hash, MT_PCPU_HASH_LOOKUP, MT_PCPU_HASH_UPDATE)
PERCPU_PROGS(pcpu_array, MT_PCPU_ARRAY_LOOKUP, MT_PCPU_ARRAY_UPDATE)

/* queue / stack: a run pushes MT_OPS values (0..MT_OPS-1) into the empty map, the next peeks, the next pops them all;
 * a pop checks the order: FIFO for the queue, LIFO for the stack */
#define QS_PROGS(m, PUSH, PEEK, POP, EXPECT)                                                                  \
	PROG(m##_push) { TIMED(PUSH, nr_keys, { __u64 v = i; if (!bpf_map_push_elem(&m_##m, &v, 0)) n_hit++; }); return 0; } \
	PROG(m##_peek) { TIMED(PEEK, nr_keys, { __u64 v; if (!bpf_map_peek_elem(&m_##m, &v)) n_hit++; }); return 0; }      \
	PROG(m##_pop) {                                                                                        \
		__u64 bad = 0;                                                                                 \
		TIMED(POP, nr_keys, { __u64 v; if (!bpf_map_pop_elem(&m_##m, &v)) { n_hit++; if (v != (EXPECT)) bad++; } }); \
		order_errors[POP] += bad;                                                                      \
		return 0;                                                                                      \
	}
QS_PROGS(queue, MT_QUEUE_PUSH, MT_QUEUE_PEEK, MT_QUEUE_POP, i)
QS_PROGS(stack, MT_STACK_PUSH, MT_STACK_PEEK, MT_STACK_POP, MT_OPS - 1 - i)

/* bloom filter: values [0, nr_keys) were added (and inserted in m_bloom_hash); [nr_keys, 2 nr_keys) are absent */
PROG(bloom_push) { TIMED(MT_BLOOM_PUSH, nr_keys, { __u32 v = k; if (!bpf_map_push_elem(&m_bloom, &v, 0)) n_hit++; }); return 0; }
PROG(bloom_peek_present) { TIMED(MT_BLOOM_PEEK_PRESENT, nr_keys, { __u32 v = k; if (!bpf_map_peek_elem(&m_bloom, &v)) n_hit++; }); return 0; }
PROG(bloom_peek_absent) { TIMED(MT_BLOOM_PEEK_ABSENT, nr_keys, { __u32 v = k + nr_keys; if (!bpf_map_peek_elem(&m_bloom, &v)) n_hit++; }); return 0; }
/* the selftests bench's hashmap-with-bloom / hashmap-without-bloom pair, here on absent keys */
PROG(bloom_hash_absent) { TIMED(MT_BLOOM_HASH_ABSENT, nr_keys, { __u32 v = k + nr_keys; if (!bpf_map_peek_elem(&m_bloom, &v) && bpf_map_lookup_elem(&m_bloom_hash, &v)) n_hit++; }); return 0; }
PROG(hash_absent) { TIMED(MT_HASH_ABSENT, nr_keys, { __u32 v = k + nr_keys; if (bpf_map_lookup_elem(&m_bloom_hash, &v)) n_hit++; }); return 0; }

/* prog_array: a chain of tail_target tail calls */
__u32 tail_target = 0;
__u32 tail_depth = 0;
__u64 tail_t0 = 0;

static __always_inline void tail_end(void)
{
	__u64 t = bpf_ktime_get_ns() - tail_t0;
	if (tail_target) { /* done: tail calls; hits: chains */
		elapsed[MT_TAIL_CHAIN] += t; done[MT_TAIL_CHAIN] += tail_depth; hits[MT_TAIL_CHAIN] += 1;
	} else {
		elapsed[MT_TAIL_NONE] += t; done[MT_TAIL_NONE] += tail_depth; hits[MT_TAIL_NONE] += 1;
	}
}

PROG(tail_hop)
{
	tail_depth++;
	if (tail_depth < tail_target)
		bpf_tail_call(ctx, &m_jmp, 0);
	tail_end();
	return 0;
}

PROG(tail_entry)
{
	tail_depth = 0;
	tail_t0 = bpf_ktime_get_ns();
	if (tail_target)
		bpf_tail_call(ctx, &m_jmp, 0);
	tail_end();
	return 0;
}

/* map in map: key k in [0, MT_OUTER * MT_INNER): outer key k / MT_INNER, inner key k % MT_INNER */
#define MIM_PROGS(m, OUTER, BOTH)                                                                              \
	PROG(m##_outer) { TIMED(OUTER, mim_keys, { __u32 ok = k / MT_INNER; if (bpf_map_lookup_elem(&m_##m, &ok)) n_hit++; }); return 0; } \
	PROG(m##_both) {                                                                                       \
		TIMED(BOTH, mim_keys, {                                                             \
			__u32 ok = k / MT_INNER; __u32 ik = k % MT_INNER;                                            \
			void *in = bpf_map_lookup_elem(&m_##m, &ok);                                           \
			if (in && bpf_map_lookup_elem(in, &ik)) n_hit++;                                       \
		});                                                                                            \
		return 0;                                                                                      \
	}
MIM_PROGS(aom, MT_AOM_OUTER, MT_AOM_BOTH)
MIM_PROGS(hom, MT_HOM_OUTER, MT_HOM_BOTH)

/* cgroup_array: slot 0 holds the cgroup the driver runs in, so every check answers 1 */
PROG(cgroup_check) { TIMED(MT_CGROUP, nr_keys, { if (bpf_current_task_under_cgroup(&m_cgroup, 0) == 1) n_hit++; }); return 0; }

/* stack_trace: the same stack every time, so the id is found and reused */
PROG(stackid_kernel) { TIMED(MT_STACKID_KERNEL, nr_keys, { if (bpf_get_stackid(ctx, &m_stacks, 0) >= 0) n_hit++; }); return 0; }
PROG(stackid_user) { TIMED(MT_STACKID_USER, nr_keys, { if (bpf_get_stackid(ctx, &m_stacks, BPF_F_USER_STACK) >= 0) n_hit++; }); return 0; }

char LICENSE[] SEC("license") = "GPL";
