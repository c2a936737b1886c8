/* map-operation-latency driver: ns per lookup / update / delete for array, hash, percpu_array, percpu_hash, lru_hash.
 * Variant "in-kernel": the mapops.bpf.c raw_tp program for (map, op) is run with BPF_PROG_TEST_RUN; each run does 256
 *                      ops between two bpf_ktime_get_ns() (loop overhead included, as in the kernel's bench tool).
 * Variant "syscall":   the same ops from user space with bpf_map_{lookup,update,delete}_elem(), timed per batch of 256.
 * Every map has --max-entries entries of --key-size / --value-size bytes (arrays: 4-byte keys, so --key-size > 4 skips
 * them) and is filled to --fill percent; keys cycle over the filled range. delete re-inserts the deleted keys after each
 * timed batch (untimed). Arrays do not support delete. Samples: ns_per_op per interval, labelled {map, op}.
 * Options: --maps a,b --ops lookup,update,delete --key-size B --value-size B --fill PCT --max-entries N
 *          --warmup S --duration S --interval-ms MS */
#include "common.h"
#include "core/bench.h"
#include "core/proginfo.h"
#include "core/testrun.h"
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include "mapops.skel.h"

#define OPS 256
static const char *MAPS[] = { "hash", "array", "percpu_array", "percpu_hash", "lru_hash" };
static const char *OPNAMES[] = { "lookup", "update", "delete" };

static struct bpf_map *map_of(struct mapops_bpf *s, int m)
{
	struct bpf_map *x[] = { s->maps.m_hash, s->maps.m_array, s->maps.m_percpu_array, s->maps.m_percpu_hash, s->maps.m_lru_hash };
	return x[m];
}

static struct bpf_program *prog_of(struct mapops_bpf *s, int m, int op)
{
	struct bpf_program *x[5][3] = {
		{ s->progs.hash_lookup, s->progs.hash_update, s->progs.hash_delete },
		{ s->progs.array_lookup, s->progs.array_update, s->progs.array_delete },
		{ s->progs.percpu_array_lookup, s->progs.percpu_array_update, s->progs.percpu_array_delete },
		{ s->progs.percpu_hash_lookup, s->progs.percpu_hash_update, s->progs.percpu_hash_delete },
		{ s->progs.lru_hash_lookup, s->progs.lru_hash_update, s->progs.lru_hash_delete },
	};
	return x[m][op];
}

static bool is_array(int m) { return m == 1 || m == 2; }
static bool is_percpu(int m) { return m == 2 || m == 3; }

static long key_size, value_size, nr_keys;
static unsigned char key[64];
static unsigned char *valbuf;

static void set_key(unsigned long idx) { memset(key, 0, sizeof(key)); *(unsigned int *)key = idx; }

/* one batch of OPS syscalls; returns the timed ns, counts successes in *ok */
static unsigned long long syscall_batch(int fd, int op, unsigned long start, unsigned long long *ok)
{
	unsigned long long t0 = now_ns(), n = 0;
	for (int i = 0; i < OPS; i++) {
		set_key((start + i) % nr_keys);
		int r = op == 0 ? bpf_map_lookup_elem(fd, key, valbuf)
		      : op == 1 ? bpf_map_update_elem(fd, key, valbuf, BPF_ANY)
		      : bpf_map_delete_elem(fd, key);
		if (r == 0) n++;
	}
	unsigned long long t = now_ns() - t0;
	if (op == 2)
		for (int i = 0; i < OPS; i++) { set_key((start + i) % nr_keys); bpf_map_update_elem(fd, key, valbuf, BPF_ANY); }
	*ok += n;
	return t;
}

/* one BPF_PROG_TEST_RUN of the (map, op) program; returns the in-kernel ns */
static unsigned long long kernel_batch(struct mapops_bpf *skel, int prog_fd, unsigned long start, unsigned long long *ok)
{
	unsigned long long e0 = skel->bss->elapsed_ns, h0 = skel->bss->hits;
	raw_tp_run(prog_fd, start);
	*ok += skel->bss->hits - h0;
	return skel->bss->elapsed_ns - e0;
}

/* One (map, op, variant) loop: batches of OPS ops on the producer thread; the core samples ns / ops. */
static struct op_loop {
	struct mapops_bpf *skel;
	int map_fd, prog_fd, op;
	bool in_kernel;
	volatile unsigned long long ns, ops;
	unsigned long long ok;
} cur;

static void *op_loop(long idx)
{
	unsigned long start = 0;
	while (!bench_producers_stop) {
		unsigned long long ns = cur.in_kernel ? kernel_batch(cur.skel, cur.prog_fd, start, &cur.ok)
						      : syscall_batch(cur.map_fd, cur.op, start, &cur.ok);
		cur.ns += ns;
		cur.ops += OPS;
		start = (start + OPS) % nr_keys;
	}
	return NULL;
}

static unsigned long long read_ns(void) { return cur.ns; }
static unsigned long long read_ops(void) { return cur.ops; }

int main(int argc, char **argv)
{
	opts_init(argc, argv);
	lab_bpf_init();
	key_size = opt_long("key-size", 4);
	value_size = opt_long("value-size", 8);
	struct bench_env env;
	bench_env_from_opts(&env);
	long fill = opt_long("fill", 100), max_entries = opt_long("max-entries", 65536);
	const char *maps = opt_str("maps", "hash,array,percpu_array,percpu_hash,lru_hash");
	const char *ops = opt_str("ops", "lookup,update,delete");
	if (key_size < 4 || key_size > 64) { fprintf(stderr, "--key-size must be 4..64\n"); return 2; }
	if (value_size < 4 || value_size > 256) { fprintf(stderr, "--value-size must be 4..256\n"); return 2; }
	nr_keys = max_entries * fill / 100;
	if (nr_keys < OPS) nr_keys = OPS;
	if (nr_keys > max_entries) nr_keys = max_entries;
	int ncpu = libbpf_num_possible_cpus();
	valbuf = calloc(ncpu, (value_size + 7) / 8 * 8);

	struct mapops_bpf *skel = mapops_bpf__open();
	if (!skel) die("open mapops.bpf.o", errno);
	skel->rodata->nr_keys = nr_keys;
	bool want[5];
	for (int m = 0; m < 5; m++) {
		want[m] = list_has(maps, MAPS[m]) && !(is_array(m) && key_size != 4);
		if (list_has(maps, MAPS[m]) && !want[m]) emit_log("%s: array keys are 4 bytes, skipped at --key-size %ld", MAPS[m], key_size);
		struct bpf_map *mp = map_of(skel, m);
		bpf_map__set_max_entries(mp, want[m] ? max_entries : 1);
		bpf_map__set_key_size(mp, is_array(m) ? 4 : key_size);
		bpf_map__set_value_size(mp, value_size);
		if (!want[m]) bpf_map__set_value_size(mp, value_size);
		for (int op = 0; op < 3; op++)
			bpf_program__set_autoload(prog_of(skel, m, op), want[m] && list_has(ops, OPNAMES[op]) && !(is_array(m) && op == 2));
	}
	prog_stats_before_load(skel->obj);
	int err = mapops_bpf__load(skel);
	if (err) die("load mapops.bpf.o", err);
	prog_stats_emit(skel->obj);
	emit_log("max_entries %ld, %ld keys used (fill %ld%%), key %ld B, value %ld B, %d possible CPUs", max_entries, nr_keys, fill, key_size, value_size, ncpu);

	for (int m = 0; m < 5; m++) {
		if (!want[m]) continue;
		int fd = bpf_map__fd(map_of(skel, m));
		if (!is_array(m)) /* fill the hash maps */
			for (long k = 0; k < nr_keys; k++) { set_key(k); if (bpf_map_update_elem(fd, key, valbuf, BPF_NOEXIST)) die("fill map", errno); }
		for (int op = 0; op < 3; op++) {
			if (!list_has(ops, OPNAMES[op])) continue;
			if (is_array(m) && op == 2) { emit_log("%s: delete is not supported by array maps", MAPS[m]); continue; }
			char labels[128];
			snprintf(labels, sizeof(labels), "{\"map\":\"%s\",\"op\":\"%s\"}", MAPS[m], OPNAMES[op]);
			for (int v = 0; v < 2; v++) {
				cur = (struct op_loop){ .skel = skel, .map_fd = fd, .prog_fd = bpf_program__fd(prog_of(skel, m, op)), .op = op, .in_kernel = v == 0 };
				struct bench_phase ph = {
					.variant = v == 0 ? "in-kernel" : "syscall", .labels = labels, .producers = 1, .producer = op_loop,
					.ncounters = 1, .counters = { { "ns_per_op", "ns", 0, read_ns, read_ops } },
				};
				bench_run(&env, &ph);
				if (cur.ok != cur.ops)
					emit_warn("%s %s %s: %llu of %llu ops succeeded", ph.variant, MAPS[m], OPNAMES[op], cur.ok, cur.ops);
			}
		}
	}
	mapops_bpf__destroy(skel);
	free(valbuf);
	return 0;
}
