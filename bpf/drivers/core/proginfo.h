/* Accelerator-independent numbers for every program a driver loads: what the verifier did (instructions processed,
 * states), the size of the translated and JIT-compiled images, the memory charged for it, the load time of the object,
 * and how often and how long it ran while BPF run-time statistics were on.
 *
 * Call prog_stats_before_load(obj) after open, before load (it asks the verifier for its statistics, log level 4
 * = BPF_LOG_STATS, into a buffer per program), and prog_stats_emit(obj) after a successful load. Samples go to the
 * variant "prog:<program name>" (verified_insns, verifier_states, xlated_bytes, jited_bytes, memlock_bytes and, where
 * the kernel logs it, verify_us) and "object:<object name>" (load_ms: open-to-loaded time of the whole object: BTF,
 * maps, every program's verification and JIT).
 *
 * Run-time statistics (run_cnt, run_time_ns, ns_per_run per program) are collected only inside stats windows
 * (bpf_stats_window_open/close: BPF_ENABLE_STATS, 5.8+), which the sampling core opens for the first half of each
 * phase's warm-up: the measured intervals run with stats off. They are emitted when the driver exits, for every
 * program loaded through prog_stats_emit, whether or not it still exists. */
#ifndef LAB_PROGINFO_H
#define LAB_PROGINFO_H
#include <bpf/libbpf.h>

void prog_stats_before_load(struct bpf_object *obj);
void prog_stats_emit(struct bpf_object *obj);
/* the same with labels on every sample (a driver that loads the same object more than once with other constants) */
void prog_stats_emit_labels(struct bpf_object *obj, const char *labels_json);

/* -1 when there is nothing to collect (no program loaded yet) or the kernel refused (warned once) */
int bpf_stats_window_open(void);
void bpf_stats_window_close(int fd);

/* The numbers from a verifier log at level 4; fields not found stay -1. */
struct verifier_stats { long long insns, states, verify_us; };
void parse_verifier_stats(const char *log, struct verifier_stats *out);

/* The value of a "key:\tN" line of /proc/self/fdinfo/<fd> (memlock of a map or program), or -1. */
long long fdinfo_value(int fd, const char *key);
#endif
