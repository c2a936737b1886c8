/* Shared by maptypes.bpf.c and drivers/maptypes.c: one slot per measured operation. The BPF side accumulates, per
 * slot, the ns spent in its timed loops (elapsed), the operations done and the ones that hit (found, succeeded);
 * user-space operations (syscall variants) use the same slot numbers for their own counters. */
#ifndef LAB_MAPTYPES_H
#define LAB_MAPTYPES_H

#define MT_OPS 256   /* operations per BPF_PROG_TEST_RUN (and per user-space batch) */
#define MT_OUTER 16  /* array_of_maps / hash_of_maps: outer entries */
#define MT_INNER 64  /* entries of each inner array */
#define MT_HASH_FUNCS 5 /* bloom filter: the kernel's default, and the selftests bench's */

enum mt_slot {
	MT_EMPTY,                /* the timed loop without a map operation: subtracted from every BPF op */
	MT_LRU_UPDATE, MT_LRU_LOOKUP,
	MT_PCPU_HASH_LOOKUP, MT_PCPU_HASH_UPDATE, MT_PCPU_HASH_SYS_LOOKUP, MT_PCPU_HASH_SYS_UPDATE,
	MT_PCPU_ARRAY_LOOKUP, MT_PCPU_ARRAY_UPDATE, MT_PCPU_ARRAY_SYS_LOOKUP, MT_PCPU_ARRAY_SYS_UPDATE,
	MT_QUEUE_PUSH, MT_QUEUE_PEEK, MT_QUEUE_POP,
	MT_STACK_PUSH, MT_STACK_PEEK, MT_STACK_POP,
	MT_BLOOM_PUSH, MT_BLOOM_PEEK_PRESENT, MT_BLOOM_PEEK_ABSENT, MT_BLOOM_HASH_ABSENT, MT_HASH_ABSENT,
	MT_TAIL_CHAIN, MT_TAIL_NONE,
	MT_AOM_OUTER, MT_AOM_BOTH, MT_HOM_OUTER, MT_HOM_BOTH,
	MT_CGROUP,
	MT_SOCKMAP_UPDATE, MT_SOCKMAP_DELETE, MT_SOCKHASH_UPDATE, MT_SOCKHASH_DELETE,
	MT_STACKID_KERNEL, MT_STACKID_USER,
	MT_NSLOTS,
};
#endif
