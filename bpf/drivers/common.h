/* Shared helpers for the lab's native drivers: options, JSON-lines output, clocks, CPU pinning.
 * Contract with the agent: stdout carries one JSON object per line:
 *   {"type":"sample","variant":V,"metric":M,"unit":U,"value":X,"repetition":R[,"labels":{...}]}
 *   {"type":"log","msg":S}
 *   {"type":"skip","reason":S}   (the kernel lacks something: the scenario row becomes "skipped")
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

static inline void emit_log(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (char *p = buf; *p; p++) if (*p == '"' || *p == '\\' || *p == '\n') *p = ' ';
	pthread_mutex_lock(&lab_out_lock);
	printf("{\"type\":\"log\",\"msg\":\"%s\"}\n", buf);
	fflush(stdout);
	pthread_mutex_unlock(&lab_out_lock);
}

static inline void emit_skip(const char *reason)
{
	printf("{\"type\":\"skip\",\"reason\":\"%s\"}\n", reason);
	fflush(stdout);
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
