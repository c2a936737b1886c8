/* map-types driver: ns per operation on lru_hash (under eviction), percpu_hash, percpu_array, queue, stack,
 * bloom_filter, prog_array (tail calls), array_of_maps, hash_of_maps, cgroup_array, sockmap, sockhash, stack_trace.
 * One phase of the sampling core per map type (the variant). Its producer runs batches: every operation's
 * maptypes.bpf.c program once with BPF_PROG_TEST_RUN (MT_OPS operations in a timed loop), the user-space operations
 * (syscall variants: percpu copies, sockmap updates) as a timed loop of syscalls, then the empty loop. Per interval,
 * from the median run of each (robust to a vCPU descheduled by the host in the middle of a run):
 *   ns_per_op  BPF ops: the op loop's ns per iteration minus the empty loop's;
 *              prog_array: (chain of --depth tail calls − chain of none) / depth; syscall ops: ns per call (gross)
 *   loop_ns_per_iter  the empty loop's ns per iteration (what was subtracted)
 *   bloom_speedup_pct (bloom_filter) hash lookups of absent keys without / with the bloom filter in front, − 1, in %
 * At the end of a phase, per op: ops_requested (counted by the producer), ops_done (counted where the op ran),
 * op_hits (found / succeeded; prog_array: complete chains), order_errors (queue/stack pops out of order) and, where
 * misses are expected (LRU lookups under eviction, bloom false positives, user stacks), hit_pct.
 * Samples are labelled {op, via: bpf|syscall}. A map type the kernel lacks is a skipped variant with the reason.
 * Options: --maps a,b --entries N --depth N --warmup S --duration S --interval-ms MS */
#include "common.h"
#include "core/bench.h"
#include "core/proginfo.h"
#include "core/testrun.h"
#include <fcntl.h>
#include <math.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "../maptypes.h"
#include "maptypes.skel.h"

#define NSOCK 64 /* sockets per sockmap / sockhash batch: each is inserted, then deleted */

enum expect { EXPECT_ALL, EXPECT_NONE, EXPECT_SOME };
enum kind { BPF_LOOP, BPF_TAIL, SYSCALL };

struct op {
	const char *name;
	int slot;
	enum kind kind;
	enum expect expect;
	struct bpf_program *prog;       /* BPF_LOOP / BPF_TAIL */
	int (*sys)(unsigned long idx);  /* SYSCALL: one operation, 0 on success */
	int batch;                      /* SYSCALL: operations per batch */
};

struct group {
	const char *map;
	enum bpf_map_type type;
	const char *needs;             /* when the kernel lacks the map type: the version that brought it */
	struct bpf_map *maps[2];
	struct bpf_program *extra;     /* a program the ops need loaded (the tail-call target) */
	int (*setup)(char *why, size_t n); /* 0, or non-zero with the reason the variant is skipped */
	int nops;
	struct op ops[5];
};

static struct maptypes_bpf *skel;
static long entries, depth;
static int ncpu;
static unsigned char *pcpu_val;

/* user-space counters per slot; requested counts for every slot */
static volatile unsigned long long u_ns[MT_NSLOTS], u_done[MT_NSLOTS], u_hits[MT_NSLOTS], requested[MT_NSLOTS];

static bool is_sys(int slot)
{
	switch (slot) {
	case MT_PCPU_HASH_SYS_LOOKUP: case MT_PCPU_HASH_SYS_UPDATE: case MT_PCPU_ARRAY_SYS_LOOKUP: case MT_PCPU_ARRAY_SYS_UPDATE:
	case MT_SOCKMAP_UPDATE: case MT_SOCKMAP_DELETE: case MT_SOCKHASH_UPDATE: case MT_SOCKHASH_DELETE:
		return true;
	default:
		return false;
	}
}

struct counts { double ns[MT_NSLOTS], done[MT_NSLOTS], hits[MT_NSLOTS]; };

static void snapshot(struct counts *c)
{
	for (int s = 0; s < MT_NSLOTS; s++) {
		bool u = is_sys(s);
		c->ns[s] = u ? u_ns[s] : skel->bss->elapsed[s];
		c->done[s] = u ? u_done[s] : skel->bss->done[s];
		c->hits[s] = u ? u_hits[s] : skel->bss->hits[s];
	}
}

/* the same key scatter as maptypes.bpf.c */
static unsigned int key_of(unsigned long start, unsigned int i, unsigned int n) { return (unsigned int)((start + i) * 2654435761u) % n; }

/* ---- user-space operations ---- */
static int fd_pcpu_hash, fd_pcpu_array, fd_sockmap, fd_sockhash;
static int socks[NSOCK];

static int pcpu_lookup(int fd, unsigned long idx) { unsigned int k = key_of(idx, 0, entries); return bpf_map_lookup_elem(fd, &k, pcpu_val); }
static int pcpu_update(int fd, unsigned long idx) { unsigned int k = key_of(idx, 0, entries); return bpf_map_update_elem(fd, &k, pcpu_val, BPF_ANY); }
static int pcpu_hash_sys_lookup(unsigned long i) { return pcpu_lookup(fd_pcpu_hash, i); }
static int pcpu_hash_sys_update(unsigned long i) { return pcpu_update(fd_pcpu_hash, i); }
static int pcpu_array_sys_lookup(unsigned long i) { return pcpu_lookup(fd_pcpu_array, i); }
static int pcpu_array_sys_update(unsigned long i) { return pcpu_update(fd_pcpu_array, i); }
static int sock_update(int fd, unsigned long i) { unsigned int k = i % NSOCK; unsigned int v = socks[k]; return bpf_map_update_elem(fd, &k, &v, BPF_ANY); }
static int sock_delete(int fd, unsigned long i) { unsigned int k = i % NSOCK; return bpf_map_delete_elem(fd, &k); }
static int sockmap_update(unsigned long i) { return sock_update(fd_sockmap, i); }
static int sockmap_delete(unsigned long i) { return sock_delete(fd_sockmap, i); }
static int sockhash_update(unsigned long i) { return sock_update(fd_sockhash, i); }
static int sockhash_delete(unsigned long i) { return sock_delete(fd_sockhash, i); }

/* ---- per map type setup ---- */
#define WHY(...) (snprintf(why, n, __VA_ARGS__), 1)

static int fill(struct bpf_map *m, long count, bool keyless)
{
	int fd = bpf_map__fd(m);
	for (long k = 0; k < count; k++) {
		unsigned int key = k;
		unsigned long long v = k;
		if (keyless ? bpf_map_update_elem(fd, NULL, &key, BPF_ANY) : bpf_map_update_elem(fd, &key, &v, BPF_ANY)) return -errno;
	}
	return 0;
}

static int setup_lru(char *why, size_t n)
{
	int err = fill(skel->maps.m_lru, entries, false);
	return err ? WHY("filling the LRU map: %s", strerror(-err)) : 0;
}

static int setup_pcpu(char *why, size_t n)
{
	fd_pcpu_hash = bpf_map__fd(skel->maps.m_pcpu_hash);
	fd_pcpu_array = bpf_map__fd(skel->maps.m_pcpu_array);
	for (long k = 0; k < entries; k++) {
		unsigned int key = k;
		if (fd_pcpu_hash >= 0 && bpf_map_update_elem(fd_pcpu_hash, &key, pcpu_val, BPF_ANY)) return WHY("filling percpu_hash: %s", strerror(errno));
	}
	return 0;
}

static int setup_bloom(char *why, size_t n)
{
	int err = fill(skel->maps.m_bloom, entries, true);
	if (!err) err = fill(skel->maps.m_bloom_hash, entries, false);
	return err ? WHY("filling the bloom filter / hash map: %s", strerror(-err)) : 0;
}

static int setup_tail(char *why, size_t n)
{
	unsigned int k = 0, fd = bpf_program__fd(skel->progs.tail_hop);
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.m_jmp), &k, &fd, BPF_ANY)) return WHY("prog_array update: %s", strerror(errno));
	return 0;
}

static int setup_map_in_map(struct bpf_map *outer, char *why, size_t n)
{
	for (unsigned int o = 0; o < MT_OUTER; o++) {
		int in = bpf_map_create(BPF_MAP_TYPE_ARRAY, NULL, 4, 8, MT_INNER, NULL);
		if (in < 0) return WHY("inner array: %s", strerror(errno));
		if (bpf_map_update_elem(bpf_map__fd(outer), &o, &in, BPF_ANY)) return WHY("outer map update: %s", strerror(errno));
		close(in); /* the outer map holds it */
	}
	return 0;
}
static int setup_aom(char *why, size_t n) { return setup_map_in_map(skel->maps.m_aom, why, n); }
static int setup_hom(char *why, size_t n) { return setup_map_in_map(skel->maps.m_hom, why, n); }

/* slot 0: the cgroup (v2) this process is in, so bpf_current_task_under_cgroup answers 1 */
static int setup_cgroup(char *why, size_t n)
{
	char line[512] = "", path[600];
	FILE *f = fopen("/proc/self/cgroup", "r");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0) break;
	if (f) fclose(f);
	if (strncmp(line, "0::", 3)) return WHY("no cgroup v2 membership in /proc/self/cgroup");
	line[strcspn(line, "\n")] = 0;
	snprintf(path, sizeof(path), "/sys/fs/cgroup%s", line + 3);
	int cg = open(path, O_RDONLY | O_DIRECTORY);
	if (cg < 0) return WHY("open %s (cgroup2 not mounted at /sys/fs/cgroup?): %s", path, strerror(errno));
	unsigned int k = 0;
	if (bpf_map_update_elem(bpf_map__fd(skel->maps.m_cgroup), &k, &cg, BPF_ANY)) return WHY("cgroup_array update: %s", strerror(errno));
	emit_log("cgroup_array: slot 0 is %s", path);
	return 0;
}

/* NSOCK established TCP connections over loopback; the client ends go into the maps */
static int make_sockets(char *why, size_t n)
{
	static bool made;
	if (made) return 0;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, NSOCK) || getsockname(l, (struct sockaddr *)&a, &len))
		return WHY("TCP listener on 127.0.0.1 (is lo up?): %s", strerror(errno));
	for (int i = 0; i < NSOCK; i++) {
		socks[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (socks[i] < 0 || connect(socks[i], (struct sockaddr *)&a, sizeof(a))) return WHY("connect over loopback: %s", strerror(errno));
		if (accept(l, NULL, NULL) < 0) return WHY("accept: %s", strerror(errno));
	}
	made = true;
	return 0;
}

static int setup_sock(enum bpf_map_type type, int *fd, char *why, size_t n)
{
	if (make_sockets(why, n)) return 1;
	*fd = bpf_map_create(type, NULL, 4, 4, NSOCK, NULL);
	return *fd < 0 ? WHY("creating the map: %s", strerror(errno)) : 0;
}
static int setup_sockmap(char *why, size_t n) { return setup_sock(BPF_MAP_TYPE_SOCKMAP, &fd_sockmap, why, n); }
static int setup_sockhash(char *why, size_t n) { return setup_sock(BPF_MAP_TYPE_SOCKHASH, &fd_sockhash, why, n); }

#define LOOP(name, slot, expect, prog) { name, slot, BPF_LOOP, expect, prog, NULL, MT_OPS }
#define SYS(name, slot, expect, fn, batch) { name, slot, SYSCALL, expect, NULL, fn, batch }

static int init_groups(struct group *g)
{
	__typeof__(skel->progs) *p = &skel->progs;
	__typeof__(skel->maps) *m = &skel->maps;
	struct group all[] = {
		{ "lru_hash", BPF_MAP_TYPE_LRU_HASH, NULL, { m->m_lru }, NULL, setup_lru, 2, {
			LOOP("update", MT_LRU_UPDATE, EXPECT_ALL, p->lru_update), LOOP("lookup", MT_LRU_LOOKUP, EXPECT_SOME, p->lru_lookup) } },
		{ "percpu_hash", BPF_MAP_TYPE_PERCPU_HASH, NULL, { m->m_pcpu_hash }, NULL, setup_pcpu, 4, {
			LOOP("lookup", MT_PCPU_HASH_LOOKUP, EXPECT_ALL, p->pcpu_hash_lookup), LOOP("update", MT_PCPU_HASH_UPDATE, EXPECT_ALL, p->pcpu_hash_update),
			SYS("lookup", MT_PCPU_HASH_SYS_LOOKUP, EXPECT_ALL, pcpu_hash_sys_lookup, MT_OPS), SYS("update", MT_PCPU_HASH_SYS_UPDATE, EXPECT_ALL, pcpu_hash_sys_update, MT_OPS) } },
		{ "percpu_array", BPF_MAP_TYPE_PERCPU_ARRAY, NULL, { m->m_pcpu_array }, NULL, setup_pcpu, 4, {
			LOOP("lookup", MT_PCPU_ARRAY_LOOKUP, EXPECT_ALL, p->pcpu_array_lookup), LOOP("update", MT_PCPU_ARRAY_UPDATE, EXPECT_ALL, p->pcpu_array_update),
			SYS("lookup", MT_PCPU_ARRAY_SYS_LOOKUP, EXPECT_ALL, pcpu_array_sys_lookup, MT_OPS), SYS("update", MT_PCPU_ARRAY_SYS_UPDATE, EXPECT_ALL, pcpu_array_sys_update, MT_OPS) } },
		{ "queue", BPF_MAP_TYPE_QUEUE, "4.20", { m->m_queue }, NULL, NULL, 3, {
			LOOP("push", MT_QUEUE_PUSH, EXPECT_ALL, p->queue_push), LOOP("peek", MT_QUEUE_PEEK, EXPECT_ALL, p->queue_peek), LOOP("pop", MT_QUEUE_POP, EXPECT_ALL, p->queue_pop) } },
		{ "stack", BPF_MAP_TYPE_STACK, "4.20", { m->m_stack }, NULL, NULL, 3, {
			LOOP("push", MT_STACK_PUSH, EXPECT_ALL, p->stack_push), LOOP("peek", MT_STACK_PEEK, EXPECT_ALL, p->stack_peek), LOOP("pop", MT_STACK_POP, EXPECT_ALL, p->stack_pop) } },
		{ "bloom_filter", BPF_MAP_TYPE_BLOOM_FILTER, "5.16", { m->m_bloom, m->m_bloom_hash }, NULL, setup_bloom, 5, {
			LOOP("push", MT_BLOOM_PUSH, EXPECT_ALL, p->bloom_push), LOOP("peek", MT_BLOOM_PEEK_PRESENT, EXPECT_ALL, p->bloom_peek_present),
			LOOP("peek_absent", MT_BLOOM_PEEK_ABSENT, EXPECT_SOME, p->bloom_peek_absent),
			LOOP("hash_lookup_absent", MT_HASH_ABSENT, EXPECT_NONE, p->hash_absent),
			LOOP("bloom_then_hash_absent", MT_BLOOM_HASH_ABSENT, EXPECT_NONE, p->bloom_hash_absent) } },
		{ "prog_array", BPF_MAP_TYPE_PROG_ARRAY, NULL, { m->m_jmp }, p->tail_hop, setup_tail, 1, {
			{ "tail_call", MT_TAIL_CHAIN, BPF_TAIL, EXPECT_ALL, p->tail_entry, NULL, 0 } } },
		{ "array_of_maps", BPF_MAP_TYPE_ARRAY_OF_MAPS, NULL, { m->m_aom }, NULL, setup_aom, 2, {
			LOOP("outer_lookup", MT_AOM_OUTER, EXPECT_ALL, p->aom_outer), LOOP("outer_inner_lookup", MT_AOM_BOTH, EXPECT_ALL, p->aom_both) } },
		{ "hash_of_maps", BPF_MAP_TYPE_HASH_OF_MAPS, NULL, { m->m_hom }, NULL, setup_hom, 2, {
			LOOP("outer_lookup", MT_HOM_OUTER, EXPECT_ALL, p->hom_outer), LOOP("outer_inner_lookup", MT_HOM_BOTH, EXPECT_ALL, p->hom_both) } },
		{ "cgroup_array", BPF_MAP_TYPE_CGROUP_ARRAY, NULL, { m->m_cgroup }, NULL, setup_cgroup, 1, {
			LOOP("current_task_under_cgroup", MT_CGROUP, EXPECT_ALL, p->cgroup_check) } },
		{ "sockmap", BPF_MAP_TYPE_SOCKMAP, NULL, {}, NULL, setup_sockmap, 2, {
			SYS("update", MT_SOCKMAP_UPDATE, EXPECT_ALL, sockmap_update, NSOCK), SYS("delete", MT_SOCKMAP_DELETE, EXPECT_ALL, sockmap_delete, NSOCK) } },
		{ "sockhash", BPF_MAP_TYPE_SOCKHASH, NULL, {}, NULL, setup_sockhash, 2, {
			SYS("update", MT_SOCKHASH_UPDATE, EXPECT_ALL, sockhash_update, NSOCK), SYS("delete", MT_SOCKHASH_DELETE, EXPECT_ALL, sockhash_delete, NSOCK) } },
		{ "stack_trace", BPF_MAP_TYPE_STACK_TRACE, NULL, { m->m_stacks }, NULL, NULL, 2, {
			LOOP("get_stackid_kernel", MT_STACKID_KERNEL, EXPECT_ALL, p->stackid_kernel), LOOP("get_stackid_user", MT_STACKID_USER, EXPECT_SOME, p->stackid_user) } },
	};
	int n = sizeof(all) / sizeof(all[0]);
	memcpy(g, all, sizeof(all));
	return n;
}

/* ---- the measured loop ----
 * Every run's own time is kept (per op, per interval), and an interval's value is taken from the medians of its runs:
 * a host that deschedules the vCPU in the middle of one run (TCG on a shared machine) moves one run, not the value. */
static const struct group *cur;

#define MAX_RUNS 65536 /* runs kept per op and interval; each run takes microseconds, so an interval of 1 s fits */
#define EMPTY_IDX 8    /* the empty loop's runs */
#define NONE_IDX 9     /* prog_array: the chains of no tail call */
static double *runs_ns[10];
static int nruns[10];
static pthread_mutex_t runs_lock = PTHREAD_MUTEX_INITIALIZER;

static void keep_run(int idx, double ns)
{
	pthread_mutex_lock(&runs_lock);
	if (nruns[idx] < MAX_RUNS) runs_ns[idx][nruns[idx]++] = ns;
	pthread_mutex_unlock(&runs_lock);
}

/* one BPF_PROG_TEST_RUN; returns the ns the program added to its slot */
static double bpf_run(int prog_fd, int slot, unsigned long start)
{
	unsigned long long e0 = skel->bss->elapsed[slot];
	raw_tp_run(prog_fd, start);
	return (double)(skel->bss->elapsed[slot] - e0);
}

static void *batches(long idx)
{
	unsigned long start = 0;
	int empty_fd = bpf_program__fd(skel->progs.loop_empty);
	while (!bench_producers_stop) {
		bool loops = false;
		for (int o = 0; o < cur->nops; o++) {
			const struct op *op = &cur->ops[o];
			/* each op of a batch gets other keys (an LRU lookup does not find the keys the update just wrote) */
			unsigned long first = start + o * 7919UL;
			if (op->kind == BPF_LOOP) {
				keep_run(o, bpf_run(bpf_program__fd(op->prog), op->slot, first));
				requested[op->slot] += MT_OPS;
				loops = true;
			} else if (op->kind == BPF_TAIL) {
				int fd = bpf_program__fd(op->prog);
				skel->bss->tail_target = depth;
				keep_run(o, bpf_run(fd, MT_TAIL_CHAIN, 0));
				requested[op->slot] += depth;
				skel->bss->tail_target = 0;
				keep_run(NONE_IDX, bpf_run(fd, MT_TAIL_NONE, 0));
			} else {
				unsigned long long ok = 0, t0 = now_ns();
				for (int i = 0; i < op->batch; i++)
					if (op->sys(first + i) == 0) ok++;
				unsigned long long t = now_ns() - t0;
				keep_run(o, t);
				u_ns[op->slot] += t;
				u_done[op->slot] += op->batch;
				u_hits[op->slot] += ok;
				requested[op->slot] += op->batch;
			}
		}
		if (loops) {
			keep_run(EMPTY_IDX, bpf_run(empty_fd, MT_EMPTY, start));
			requested[MT_EMPTY] += MT_OPS;
		}
		start += MT_OPS;
	}
	return NULL;
}

static void measure_start(void)
{
	pthread_mutex_lock(&runs_lock);
	memset(nruns, 0, sizeof(nruns));
	pthread_mutex_unlock(&runs_lock);
}

static char labels[128];
static const char *op_labels(const struct op *op)
{
	snprintf(labels, sizeof(labels), "{\"op\":\"%s\",\"via\":\"%s\"}", op->name, op->kind == SYSCALL ? "syscall" : "bpf");
	return labels;
}

static int cmp_double(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
static double median(double *v, int n)
{
	if (n == 0) return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void on_interval(int rep)
{
	double med[10];
	pthread_mutex_lock(&runs_lock);
	for (int i = 0; i < 10; i++) { med[i] = median(runs_ns[i], nruns[i]); nruns[i] = 0; }
	pthread_mutex_unlock(&runs_lock);
	double loop = med[EMPTY_IDX] / MT_OPS, ns[8];
	for (int o = 0; o < cur->nops; o++) {
		const struct op *op = &cur->ops[o];
		/* BPF loops net of the empty loop, tail calls net of a chain of none, syscalls gross */
		ns[o] = op->kind == BPF_LOOP ? med[o] / MT_OPS - loop
		      : op->kind == BPF_TAIL ? (med[o] - med[NONE_IDX]) / depth
		      : med[o] / op->batch;
		if (isfinite(ns[o])) emit_sample_labels(cur->map, "ns_per_op", "ns", ns[o], rep, op_labels(op));
	}
	if (isfinite(loop)) emit_sample(cur->map, "loop_ns_per_iter", "ns", loop, rep);
	if (cur->type == BPF_MAP_TYPE_BLOOM_FILTER && isfinite(ns[3]) && isfinite(ns[4]) && ns[4] > 0) /* hash_lookup_absent vs bloom_then_hash_absent */
		emit_sample(cur->map, "bloom_speedup_pct", "%", (ns[3] / ns[4] - 1) * 100, rep);
}

/* totals of the phase, and warnings where the accounting does not add up */
static void account(void)
{
	struct counts c;
	snapshot(&c);
	for (int o = 0; o < cur->nops; o++) {
		const struct op *op = &cur->ops[o];
		int s = op->slot;
		const char *l = op_labels(op);
		emit_sample_labels(cur->map, "ops_requested", "ops", requested[s], 0, l);
		emit_sample_labels(cur->map, "ops_done", "ops", c.done[s], 0, l);
		emit_sample_labels(cur->map, "op_hits", "ops", c.hits[s], 0, l);
		if (s == MT_QUEUE_POP || s == MT_STACK_POP) emit_sample_labels(cur->map, "order_errors", "ops", skel->bss->order_errors[s], 0, l);
		if (op->expect == EXPECT_SOME && c.done[s] > 0) emit_sample_labels(cur->map, "hit_pct", "%", c.hits[s] / c.done[s] * 100, 0, l);
		if (c.done[s] != requested[s]) emit_warn("%s %s: %.0f of %llu operations done", cur->map, op->name, c.done[s], requested[s]);
		double want_hits = op->kind == BPF_TAIL ? c.hits[s] : op->expect == EXPECT_ALL ? c.done[s] : 0;
		if (op->kind == BPF_TAIL && c.done[s] != c.hits[s] * depth)
			emit_warn("%s: chains reached depth %.2f on average, %ld requested", cur->map, c.done[s] / c.hits[s], depth);
		if (op->expect != EXPECT_SOME && op->kind != BPF_TAIL && c.hits[s] != want_hits)
			emit_warn("%s %s: %.0f hits in %.0f operations (expected %s)", cur->map, op->name, c.hits[s], c.done[s], op->expect == EXPECT_ALL ? "all" : "none");
	}
	if (cur->type == BPF_MAP_TYPE_QUEUE || cur->type == BPF_MAP_TYPE_STACK) {
		int push = cur->ops[0].slot, pop = cur->ops[2].slot;
		if (c.hits[push] != c.hits[pop]) emit_warn("%s: %.0f pushes, %.0f pops", cur->map, c.hits[push], c.hits[pop]);
	}
}

int main(int argc, char **argv)
{
	opts_init(argc, argv);
	lab_bpf_init();
	struct bench_env env;
	bench_env_from_opts(&env);
	entries = opt_long("entries", 10000);
	depth = opt_long("depth", 32);
	const char *want = opt_str("maps", "lru_hash,percpu_hash,percpu_array,queue,stack,bloom_filter,prog_array,array_of_maps,hash_of_maps,cgroup_array,sockmap,sockhash,stack_trace");
	if (entries < MT_OPS || entries > (1 << 24)) { fprintf(stderr, "--entries must be %d..%d\n", MT_OPS, 1 << 24); return 2; }
	if (depth < 1 || depth > 32) { fprintf(stderr, "--depth must be 1..32 (the kernel allows 32 or 33 tail calls)\n"); return 2; }
	ncpu = libbpf_num_possible_cpus();
	pcpu_val = calloc(ncpu, 8);
	for (int i = 0; i < 10; i++) runs_ns[i] = calloc(MAX_RUNS, sizeof(double));

	skel = maptypes_bpf__open();
	if (!skel) die("open maptypes.bpf.o", errno);
	skel->rodata->nr_keys = entries;
	skel->rodata->lru_keys = entries * 2;
	bpf_map__set_max_entries(skel->maps.m_lru, entries);
	bpf_map__set_max_entries(skel->maps.m_pcpu_hash, entries);
	bpf_map__set_max_entries(skel->maps.m_pcpu_array, entries);
	bpf_map__set_max_entries(skel->maps.m_bloom, entries);
	bpf_map__set_max_entries(skel->maps.m_bloom_hash, entries);

	struct utsname u;
	uname(&u);
	static struct group groups[16];
	int ng = init_groups(groups);
	bool run[16] = {};
	struct bpf_program *prog;
	bpf_object__for_each_program(prog, skel->obj) bpf_program__set_autoload(prog, false);
	bpf_program__set_autoload(skel->progs.loop_empty, true);
	for (int i = 0; i < ng; i++) {
		struct group *g = &groups[i];
		if (!list_has(want, g->map)) continue;
		run[i] = libbpf_probe_bpf_map_type(g->type, NULL) == 1;
		if (!run[i]) {
			if (g->needs) emit_skip_variant(g->map, "%s maps need Linux %s+; %s does not create them", g->map, g->needs, u.release);
			else emit_skip_variant(g->map, "%s does not create %s maps (kernel config?)", u.release, g->map);
			continue;
		}
		for (int o = 0; o < g->nops; o++) if (g->ops[o].prog) bpf_program__set_autoload(g->ops[o].prog, true);
		if (g->extra) bpf_program__set_autoload(g->extra, true);
	}
	/* maps of map types not run are not created (a 5.10 kernel rejects a bloom filter) */
	for (int i = 0; i < ng; i++)
		for (int k = 0; k < 2; k++)
			if (groups[i].maps[k] && !run[i]) bpf_map__set_autocreate(groups[i].maps[k], false);
	/* percpu_hash and percpu_array share setup_pcpu: a map not created has fd -1 */
	prog_stats_before_load(skel->obj);
	int err = maptypes_bpf__load(skel);
	if (err) die("load maptypes.bpf.o", err);
	prog_stats_emit(skel->obj);
	emit_log("entries %ld (LRU: %ld keys over %ld entries), tail-call depth %ld, %d possible CPUs, %d ops per run",
		 entries, entries * 2, entries, depth, ncpu, MT_OPS);

	for (int i = 0; i < ng; i++) {
		if (!run[i]) continue;
		cur = &groups[i];
		char why[256] = "";
		if (cur->setup && cur->setup(why, sizeof(why))) { emit_skip_variant(cur->map, "%s", why); continue; }
		struct bench_phase ph = {
			.variant = cur->map, .producers = 1, .producer = batches,
			.on_measure_start = measure_start, .on_interval = on_interval,
		};
		bench_run(&env, &ph);
		account();
	}
	maptypes_bpf__destroy(skel);
	free(pcpu_val);
	return 0;
}
