/* Options, JSON-lines output and small process helpers shared by every driver (declared in ../common.h). */
#include "../common.h"

static int lab_argc;
static char **lab_argv;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

void opts_init(int argc, char **argv) { lab_argc = argc; lab_argv = argv; }

const char *opt_str(const char *name, const char *def)
{
	for (int i = 1; i + 1 < lab_argc; i++)
		if (lab_argv[i][0] == '-' && lab_argv[i][1] == '-' && strcmp(lab_argv[i] + 2, name) == 0)
			return lab_argv[i + 1];
	return def;
}

long opt_long(const char *name, long def)
{
	const char *s = opt_str(name, NULL);
	if (!s) return def;
	char *end;
	long v = strtol(s, &end, 0);
	if (*end) { fprintf(stderr, "option --%s: '%s' is not an integer\n", name, s); exit(2); }
	return v;
}

double opt_double(const char *name, double def)
{
	const char *s = opt_str(name, NULL);
	if (!s) return def;
	char *end;
	double v = strtod(s, &end);
	if (*end) { fprintf(stderr, "option --%s: '%s' is not a number\n", name, s); exit(2); }
	return v;
}

bool list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || p[n] == 0)) return true;
	return false;
}

void emit_sample_labels(const char *variant, const char *metric, const char *unit, double value, int rep,
			const char *labels_json)
{
	pthread_mutex_lock(&out_lock);
	printf("{\"type\":\"sample\",\"variant\":\"%s\",\"metric\":\"%s\",\"unit\":\"%s\",\"value\":%.6f,\"repetition\":%d%s%s}\n",
	       variant, metric, unit, value, rep, labels_json ? ",\"labels\":" : "", labels_json ? labels_json : "");
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

void emit_sample(const char *variant, const char *metric, const char *unit, double value, int rep)
{
	emit_sample_labels(variant, metric, unit, value, rep, NULL);
}

/* A JSON string body: quotes, backslashes and control characters are replaced, which keeps the line valid. */
static void sanitize(char *buf)
{
	for (char *p = buf; *p; p++) if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) *p = ' ';
}

static void emit_text(const char *type, const char *key, const char *variant, const char *fmt, va_list ap)
{
	char buf[1024];
	vsnprintf(buf, sizeof(buf), fmt, ap);
	sanitize(buf);
	pthread_mutex_lock(&out_lock);
	if (variant) printf("{\"type\":\"%s\",\"variant\":\"%s\",\"%s\":\"%s\"}\n", type, variant, key, buf);
	else printf("{\"type\":\"%s\",\"%s\":\"%s\"}\n", type, key, buf);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

void emit_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit_text("log", "msg", NULL, fmt, ap);
	va_end(ap);
}

void emit_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit_text("warn", "msg", NULL, fmt, ap);
	va_end(ap);
}

void emit_skip_variant(const char *variant, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	emit_text("skip", "reason", variant, fmt, ap);
	va_end(ap);
}

void emit_skip(const char *reason) { emit_skip_variant(NULL, "%s", reason); }

int pin_cpu(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu % sysconf(_SC_NPROCESSORS_ONLN), &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG) return 0;
	return vfprintf(stderr, fmt, args);
}

/* Before 5.11 BPF memory is charged to RLIMIT_MEMLOCK. */
void lab_bpf_init(void)
{
	struct rlimit r = { RLIM_INFINITY, RLIM_INFINITY };
	setrlimit(RLIMIT_MEMLOCK, &r);
	libbpf_set_print(libbpf_print);
}

void die(const char *what, int err)
{
	fprintf(stderr, "%s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}
