/* The timed loop of the in-kernel map benchmarks (mapops.bpf.c, maptypes.bpf.c): OPS iterations between two
 * bpf_ktime_get_ns() (loop overhead included, as in the kernel's bench tool; maptypes subtracts an empty loop).
 * The body (the variadic argument, so that it may contain commas) sees the iteration i and counts the operations
 * that hit (found, succeeded) with n_hit++; the ns, the iterations and the hits are added to ELAPSED, DONE, HITS. */
#ifndef LAB_TIMED_LOOP_BPF_H
#define LAB_TIMED_LOOP_BPF_H

#define TIMED_LOOP(OPS, ELAPSED, DONE, HITS, ...)                      \
	do {                                                           \
		__u64 n_hit = 0;                                       \
		__u64 t0 = bpf_ktime_get_ns();                         \
		_Pragma("clang loop unroll(disable)")                  \
		for (__u32 i = 0; i < (OPS); i++) {                    \
			__VA_ARGS__                                    \
		}                                                      \
		(ELAPSED) += bpf_ktime_get_ns() - t0;                  \
		(DONE) += (OPS);                                       \
		(HITS) += n_hit;                                       \
	} while (0)
#endif
