// SPDX-License-Identifier: GPL-2.0
/* multi-program-attachment: the program that is attached N times to one hook. The driver opens and loads this object
 * once per attached program, autoloading only the hook's program, so every copy counts into its own global `hits` (its
 * own .bss map) with the kernel bench's trig-* work: one atomic add, no filter (nothing else in the guest calls
 * getpgid). Attach targets (the syscall function, the dispatcher slot) are set by the driver. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

__u64 hits = 0;

static __always_inline void count(void)
{
	__sync_fetch_and_add(&hits, 1);
}

SEC("kprobe")
int mp_kprobe(void *ctx) { count(); return 0; }

/* a kprobe.multi link (fprobe) on the one syscall function */
SEC("kprobe.multi")
int mp_kprobe_multi(void *ctx) { count(); return 0; }

SEC("tp/syscalls/sys_enter_getpgid")
int mp_tp(void *ctx) { count(); return 0; }

SEC("fentry")
int mp_fentry(void *ctx) { count(); return 0; }

/* replaces one slot of mp_dispatcher (multiprog_dispatcher.bpf.c): same signature as the slot */
SEC("freplace")
int mp_ext(struct xdp_md *ctx) { count(); return XDP_PASS; }

char LICENSE[] SEC("license") = "GPL";
