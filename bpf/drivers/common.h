/* Shared helpers for the lab's native drivers: options, JSON-lines output, clocks, CPU pinning.
 * Contract with the agent: stdout carries one JSON object per line:
 *   {"type":"sample","variant":V,"metric":M,"unit":U,"value":X,"repetition":R[,"labels":{...}]}
 *   {"type":"log","msg":S}       (details, shown with --verbose)
 *   {"type":"warn","msg":S}      (the user must see it: report Warnings, manifest, stderr)
 *   {"type":"skip","reason":S[,"variant":V]}   (the kernel lacks something: that row becomes "skipped")
 * Errors go to stderr with a non-zero exit status. */
#ifndef LAB_COMMON_H
#define LAB_COMMON_H
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <bpf/libbpf.h>

/* Implemented in core/output.c: one copy of the option state and of the stdout lock for the whole driver. */
void opts_init(int argc, char **argv);
const char *opt_str(const char *name, const char *def);
long opt_long(const char *name, long def);
double opt_double(const char *name, double def);
/* Whether NAME is one of the comma-separated names in LIST ("hash,array"). */
bool list_has(const char *list, const char *name);

static inline unsigned long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline void sleep_ns(unsigned long long ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000ULL, .tv_nsec = ns % 1000000000ULL };
	while (nanosleep(&ts, &ts) && errno == EINTR) ;
}

void emit_sample_labels(const char *variant, const char *metric, const char *unit, double value, int rep,
			const char *labels_json);
void emit_sample(const char *variant, const char *metric, const char *unit, double value, int rep);
void emit_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Something the user must see in the report (a variant left out, a partial failure): not only with --verbose. */
void emit_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The kernel lacks something for `variant` (NULL: for the whole run): that row becomes "skipped" with the reason;
 * variants measured before it keep their samples. */
void emit_skip_variant(const char *variant, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void emit_skip(const char *reason);
int pin_cpu(int cpu);
void lab_bpf_init(void);
void die(const char *what, int err) __attribute__((noreturn));

#define CACHELINE 64
struct padded_counter { volatile unsigned long long v; char pad[CACHELINE - sizeof(unsigned long long)]; };

#endif
