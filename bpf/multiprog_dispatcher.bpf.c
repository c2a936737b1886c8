// SPDX-License-Identifier: GPL-2.0
/* An XDP dispatcher for several programs on one hook, the design libxdp uses: the attached XDP program calls a row of
 * global stub functions, and each program to run replaces one stub with BPF_PROG_TYPE_EXT (freplace). A program's
 * XDP_PASS hands the packet to the next one; any other action ends the chain. `slots_used` (.rodata, set before load)
 * says how many slots are called: the verifier drops the calls past it, so slots_used = 0 is the dispatcher alone. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

const volatile __u32 slots_used = 0; /* 0..16 (the driver's MP_SLOTS) */

/* Global (verified on their own, replaceable) and not inlined. The empty asm hides the stub's return value from clang,
 * so the dispatcher keeps testing what the call returns (a replacing program's action) instead of a folded constant,
 * and takes ctx as an input: clang does not set up an argument the callee ignores, and the replacing program needs it.
 * A stub that was not replaced passes the packet on. */
#define SLOT(i)                                                                    \
	__attribute__((noinline)) int slot##i(struct xdp_md *ctx)                  \
	{                                                                          \
		int action = XDP_PASS;                                             \
		asm volatile("" : "+r"(action) : "r"(ctx));                        \
		return action;                                                     \
	}
SLOT(0) SLOT(1) SLOT(2) SLOT(3) SLOT(4) SLOT(5) SLOT(6) SLOT(7)
SLOT(8) SLOT(9) SLOT(10) SLOT(11) SLOT(12) SLOT(13) SLOT(14) SLOT(15)

#define CALL(i)                                                                    \
	if (slots_used > i) {                                                      \
		ret = slot##i(ctx);                                                \
		if (ret != XDP_PASS)                                               \
			return ret;                                                \
	}

SEC("xdp")
int mp_dispatcher(struct xdp_md *ctx)
{
	int ret;
	CALL(0) CALL(1) CALL(2) CALL(3) CALL(4) CALL(5) CALL(6) CALL(7)
	CALL(8) CALL(9) CALL(10) CALL(11) CALL(12) CALL(13) CALL(14) CALL(15)
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
