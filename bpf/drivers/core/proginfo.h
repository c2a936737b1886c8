/* Accelerator-independent numbers for every program a driver loads: what the verifier did (instructions processed,
 * states), the size of the translated and JIT-compiled images, and the load time of the object.
 *
 * Call prog_stats_before_load(obj) after open, before load (it asks the verifier for its statistics, log level 4
 * = BPF_LOG_STATS, into a buffer per program), and prog_stats_emit(obj) after a successful load. Samples go to the
 * variant "prog:<program name>" (verified_insns, verifier_states, xlated_bytes, jited_bytes and, where the kernel
 * logs it, verify_us) and "object:<object name>" (load_ms: open-to-loaded time of the whole object: BTF, maps,
 * every program's verification and JIT). */
#ifndef LAB_PROGINFO_H
#define LAB_PROGINFO_H
#include <bpf/libbpf.h>

void prog_stats_before_load(struct bpf_object *obj);
void prog_stats_emit(struct bpf_object *obj);

/* The numbers from a verifier log at level 4; fields not found stay -1. */
struct verifier_stats { long long insns, states, verify_us; };
void parse_verifier_stats(const char *log, struct verifier_stats *out);
#endif
