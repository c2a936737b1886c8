/* Shared helpers for the lab's native drivers: options, JSON-lines output, clocks, CPU pinning.
 * Contract with the agent: stdout carries one JSON object per line:
 *   {"type":"sample","variant":V,"metric":M,"unit":U,"value":X,"repetition":R[,"labels":{...}]}
 *   {"type":"log","msg":S}       (detail, shown with --verbose)
 *   {"type":"warn","msg":S}      (the user must see it: report Warnings, manifest, stderr)
 *   {"type":"skip","reason":S[,"variant":V]}   (the kernel lacks something: that variant, or the whole run when no
 *                                 variant is named and nothing was measured yet, becomes "skipped")
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

static int lab_argc;
static char **lab_argv;

static inline void opts_init(int argc, char **argv) { lab_argc = argc; lab_argv = argv; }

static inline const char *opt_str(const char *name, const char *def)
{
	for (int i = 1; i + 1 < lab_argc; i++)
		if (lab_argv[i][0] == '-' && lab_argv[i][1] == '-' && strcmp(lab_argv[i] + 2, name) == 0)
			return lab_argv[i + 1];
	return def;
}

static inline long opt_long(const char *name, long def)
{
	const char *s = opt_str(name, NULL);
	if (!s) return def;
	char *end;
	long v = strtol(s, &end, 0);
	if (*end) { fprintf(stderr, "option --%s: '%s' is not an integer\n", name, s); exit(2); }
	return v;
}

static inline double opt_double(const char *name, double def)
{
	const char *s = opt_str(name, NULL);
	return s ? atof(s) : def;
}

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

static pthread_mutex_t lab_out_lock = PTHREAD_MUTEX_INITIALIZER;

static inline void emit_sample_labels(const char *variant, const char *metric, const char *unit, double value,
				      int rep, const char *labels_json)
{
	pthread_mutex_lock(&lab_out_lock);
	printf("{\"type\":\"sample\",\"variant\":\"%s\",\"metric\":\"%s\",\"unit\":\"%s\",\"value\":%.6f,\"repetition\":%d%s%s%s}\n",
	       variant, metric, unit, value, rep, labels_json ? ",\"labels\":" : "", labels_json ? labels_json : "", "");
	fflush(stdout);
	pthread_mutex_unlock(&lab_out_lock);
}

static inline void emit_sample(const char *variant, const char *metric, const char *unit, double value, int rep)
{
	emit_sample_labels(variant, metric, unit, value, rep, NULL);
}

/* text safe inside a JSON string: quotes, backslashes and control characters become spaces */
static inline void json_safe(char *s)
{
	for (char *p = s; *p; p++) if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) *p = ' ';
}

static inline void emit_text(const char *type, const char *fmt, va_list ap)
{
	char buf[1024];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	json_safe(buf);
	pthread_mutex_lock(&lab_out_lock);
	printf("{\"type\":\"%s\",\"msg\":\"%s\"}\n", type, buf);
	fflush(stdout);
	pthread_mutex_unlock(&lab_out_lock);
}

static inline void emit_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit_text("log", fmt, ap);
	va_end(ap);
}

static inline void emit_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit_text("warn", fmt, ap);
	va_end(ap);
}

/* variant NULL: the whole run is skipped (when nothing was measured yet) */
static inline void emit_skip_variant(const char *variant, const char *reason)
{
	char r[1024], v[128];
	snprintf(r, sizeof(r), "%s", reason);
	snprintf(v, sizeof(v), "%s", variant ? variant : "");
	json_safe(r);
	json_safe(v);
	pthread_mutex_lock(&lab_out_lock);
	if (variant) printf("{\"type\":\"skip\",\"variant\":\"%s\",\"reason\":\"%s\"}\n", v, r);
	else printf("{\"type\":\"skip\",\"reason\":\"%s\"}\n", r);
	fflush(stdout);
	pthread_mutex_unlock(&lab_out_lock);
}

static inline void emit_skip(const char *reason)
{
	emit_skip_variant(NULL, reason);
}

static inline int pin_cpu(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu % sysconf(_SC_NPROCESSORS_ONLN), &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static int lab_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG) return 0;
	return vfprintf(stderr, fmt, args);
}

/* Before 5.11 BPF memory is charged to RLIMIT_MEMLOCK. */
static inline void lab_bpf_init(void)
{
	struct rlimit r = { RLIM_INFINITY, RLIM_INFINITY };
	setrlimit(RLIMIT_MEMLOCK, &r);
	libbpf_set_print(lab_libbpf_print);
}

static inline void die(const char *what, int err)
{
	fprintf(stderr, "%s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

#define CACHELINE 64
struct padded_counter { volatile unsigned long long v; char pad[CACHELINE - sizeof(unsigned long long)]; };

#endif
