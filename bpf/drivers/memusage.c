/* memory-usage driver: the kernel memory a BPF map or program costs, measured three ways for each one created.
 *   memlock_bytes     "memlock" of the map's / program's fdinfo (what bpftool map show prints): the kernel's own
 *                     estimate (6.1: from key/value sizes and max_entries; 6.4+: the map type's mem_usage callback).
 *   memcg_bytes       memory.current of a cgroup2 group this driver creates and moves into for the create call (BPF
 *                     memory is charged to the creator's memcg since 5.11; before, to RLIMIT_MEMLOCK, so memcg
 *                     sees little of it). The memcg's per-CPU charge caches are flushed on every CPU before each
 *                     reading (a page fault in a second group on each CPU), so the delta is exact to a page or so.
 *   meminfo_*_bytes   /proc/meminfo deltas of Slab, Percpu and VmallocUsed (after vm.stat_refresh): what the allocators
 *                     took from the page allocator, so a map that reuses slab pages or percpu chunks freed before shows
 *                     less, and pages vmap()ed by the ring buffer or perf buffers show in none of them.
 *   bytes_per_entry   memcg_bytes / max_entries (5.11+ only: before, memcg does not see BPF maps).
 * Maps: --maps TYPE:N/N/N,... (max_entries per size; ringbuf: bytes; perf_event_array: the number of possible CPUs),
 * created empty with default flags (hash maps preallocated), one at a time, freed before the next (the driver waits
 * until the memcg gave the memory back). Samples: variant = map type, labels {"max_entries": N}.
 * Programs (--programs 1): each program of memusage.bpf.c loaded alone (same body, one per program type): the
 * core's prog:<name> rows (memlock_bytes, xlated/jited bytes) plus memcg_bytes and meminfo deltas of the load.
 * Options: --maps ... --value-size B --programs 0|1 --cgroup-root DIR */
#include "common.h"
#include "core/proginfo.h"
#include "syscall_func.h"
#include <fcntl.h>
#include <malloc.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include "memusage.skel.h"

static char grp[512], flush_grp[512], root[256];
static bool have_memcg, memcg_charges_bpf, enabled_memory;
static int ncpus;

static bool write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) return false;
	bool ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok;
}

static long long read_ll(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) return -1;
	long long v = -1;
	if (fscanf(f, "%lld", &v) != 1) v = -1;
	fclose(f);
	return v;
}

static void join(const char *dir)
{
	char p[600], pid[32];
	snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
	snprintf(pid, sizeof(pid), "%d", getpid());
	if (!write_str(p, pid)) die(p, errno);
}

static void pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* From the flush group, one page fault on each CPU: a charge to another memcg drains the per-CPU stock that holds
 * pages precharged to the measured group, so memory.current counts only what is really allocated. */
static void flush_stocks(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	for (int c = 0; c < ncpus; c++) {
		pin(c);
		volatile char *p = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) die("mmap", errno);
		p[0] = 1;
		munmap((void *)p, pg);
	}
	pin(0);
}

struct snap { long long memcg, slab, percpu, vmalloc; };

static void take(struct snap *s)
{
	write_str("/proc/sys/vm/stat_refresh", "1"); /* fold the per-CPU vm counters into /proc/meminfo */
	s->slab = s->percpu = s->vmalloc = 0;
	FILE *f = fopen("/proc/meminfo", "r");
	if (!f) die("/proc/meminfo", errno);
	char key[64];
	long long kb;
	while (fscanf(f, "%63s %lld kB\n", key, &kb) == 2) {
		if (!strcmp(key, "Slab:")) s->slab = kb * 1024;
		else if (!strcmp(key, "Percpu:")) s->percpu = kb * 1024;
		else if (!strcmp(key, "VmallocUsed:")) s->vmalloc = kb * 1024;
	}
	fclose(f);
	s->memcg = -1;
	if (have_memcg) {
		flush_stocks();
		char p[600];
		snprintf(p, sizeof(p), "%s/memory.current", grp);
		s->memcg = read_ll(p);
	}
}

/* Run create() inside the measured group; the deltas of everything it allocated. Returns its result (an fd or < 0). */
static int measured(int (*create)(void *), void *arg, struct snap *d)
{
	struct snap a, b;
	take(&a);
	if (have_memcg) join(grp);
	int fd = create(arg);
	int err = errno;
	if (have_memcg) join(flush_grp);
	take(&b);
	*d = (struct snap){ b.memcg - a.memcg, b.slab - a.slab, b.percpu - a.percpu, b.vmalloc - a.vmalloc };
	if (a.memcg < 0) d->memcg = -1;
	/* deltas may be negative: something freed meanwhile (an earlier map's slab pages, a percpu chunk depopulated) */
	errno = err;
	return fd;
}

/* After close: BPF frees maps from a workqueue; wait until the memory is back where it was before the create (the
 * memcg where it is charged for BPF memory, and VmallocUsed, which every kernel gives back at once on vfree). */
static void settle(const struct snap *before)
{
	unsigned long long t0 = now_ns();
	struct snap now;
	while (now_ns() - t0 < 5000000000ULL) {
		take(&now);
		bool memcg_back = !memcg_charges_bpf || now.memcg < 0 || now.memcg <= before->memcg + 8 * 4096;
		if (memcg_back && now.vmalloc <= before->vmalloc + 16 * 4096) return;
		sleep_ns(20000000ULL);
	}
	emit_log("5 s after the last free: memcg %lld, VmallocUsed %lld bytes above their levels before", now.memcg - before->memcg,
		 now.vmalloc - before->vmalloc);
}

static void emit_deltas(const char *variant, const struct snap *d, long long entries, const char *labels)
{
	if (d->memcg >= 0) {
		emit_sample_labels(variant, "memcg_bytes", "bytes", d->memcg, 0, labels);
		if (memcg_charges_bpf && entries > 0)
			emit_sample_labels(variant, "bytes_per_entry", "bytes", (double)d->memcg / entries, 0, labels);
	}
	emit_sample_labels(variant, "meminfo_slab_bytes", "bytes", d->slab, 0, labels);
	emit_sample_labels(variant, "meminfo_percpu_bytes", "bytes", d->percpu, 0, labels);
	emit_sample_labels(variant, "meminfo_vmalloc_bytes", "bytes", d->vmalloc, 0, labels);
	emit_sample_labels(variant, "meminfo_bytes", "bytes", d->slab + d->percpu + d->vmalloc, 0, labels);
}

/* ---- maps ---- */
struct map_kind { const char *name; enum bpf_map_type type; int key; bool value; };
static const struct map_kind KINDS[] = {
	{ "hash", BPF_MAP_TYPE_HASH, 4, true }, { "percpu_hash", BPF_MAP_TYPE_PERCPU_HASH, 4, true },
	{ "lru_hash", BPF_MAP_TYPE_LRU_HASH, 4, true }, { "array", BPF_MAP_TYPE_ARRAY, 4, true },
	{ "percpu_array", BPF_MAP_TYPE_PERCPU_ARRAY, 4, true }, { "queue", BPF_MAP_TYPE_QUEUE, 0, true },
	{ "bloom_filter", BPF_MAP_TYPE_BLOOM_FILTER, 0, true }, { "stack_trace", BPF_MAP_TYPE_STACK_TRACE, 4, false },
	{ "ringbuf", BPF_MAP_TYPE_RINGBUF, 0, false }, { "perf_event_array", BPF_MAP_TYPE_PERF_EVENT_ARRAY, 4, false },
};

static struct { const struct map_kind *k; long long entries; int value_size; } cur_map;
static bool kind_skipped[16];

static int create_map(void *unused)
{
	const struct map_kind *k = cur_map.k;
	int vs = k->value ? cur_map.value_size : 0;
	if (k->type == BPF_MAP_TYPE_STACK_TRACE) vs = 127 * 8; /* PERF_MAX_STACK_DEPTH frames */
	if (k->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY) vs = 4;
	return bpf_map_create(k->type, "labmem", k->key, vs, cur_map.entries, NULL);
}

static void measure_map(const struct map_kind *k, long long entries, int value_size)
{
	if (kind_skipped[k - KINDS]) return;
	char labels[64];
	snprintf(labels, sizeof(labels), "{\"max_entries\":%lld}", entries);
	cur_map.k = k; cur_map.entries = entries; cur_map.value_size = value_size;
	struct snap d, before;
	take(&before);
	int fd = measured(create_map, NULL, &d);
	if (fd < 0) {
		int err = errno;
		if (err == EINVAL || err == EOPNOTSUPP) {
			kind_skipped[k - KINDS] = true;
			emit_skip_variant(k->name, "BPF_MAP_CREATE of a %s map failed (%s): not supported by this kernel", k->name, strerror(err));
		} else emit_warn("%s max_entries %lld: BPF_MAP_CREATE failed (%s)", k->name, entries, strerror(err));
		return;
	}
	emit_sample_labels(k->name, "memlock_bytes", "bytes", fdinfo_value(fd, "memlock"), 0, labels);
	emit_deltas(k->name, &d, entries, labels);
	emit_log("%s max_entries %lld: memlock %lld, memcg %lld, slab %lld, percpu %lld, vmalloc %lld", k->name, entries,
		 fdinfo_value(fd, "memlock"), d.memcg, d.slab, d.percpu, d.vmalloc);
	close(fd);
	settle(&before);
}

/* ---- programs ---- */
static struct memusage_bpf *cur_skel;

static int load_prog(void *unused)
{
	int err = memusage_bpf__load(cur_skel);
	return err ? (errno = -err, -1) : 0;
}

/* Program i of memusage.bpf.c alone; measured: the load's deltas and the core's prog rows, else just load and free. */
static void load_one(const char *name, bool measure)
{
	struct memusage_bpf *s = memusage_bpf__open();
	if (!s) die("open memusage.bpf.o", errno);
	struct bpf_program *p, *only = NULL;
	bpf_object__for_each_program(p, s->obj) {
		bool me = !strcmp(bpf_program__name(p), name);
		bpf_program__set_autoload(p, me);
		if (me) only = p;
	}
	if (bpf_program__type(only) == BPF_PROG_TYPE_TRACING) bpf_program__set_attach_target(only, 0, syscall_func("getpgid"));
	char variant[160], labels[64];
	snprintf(variant, sizeof(variant), "prog:%s", name);
	snprintf(labels, sizeof(labels), "{\"type\":\"%s\"}", name + 2);
	cur_skel = s;
	struct snap d, before;
	if (measure) {
		prog_stats_before_load(s->obj);
		take(&before);
		if (measured(load_prog, NULL, &d) < 0) {
			emit_skip_variant(variant, "%s does not load on this kernel (%s)", name, strerror(errno));
		} else {
			prog_stats_emit_labels(s->obj, labels);
			emit_deltas(variant, &d, 0, labels);
		}
	} else {
		memusage_bpf__load(s);
	}
	memusage_bpf__destroy(s);
	if (measure) settle(&before);
	else sleep_ns(100000000ULL); /* freed from a workqueue, outside the measured group */
}

static void measure_programs(void)
{
	/* libbpf's own memory (vmlinux BTF for fentry, ELF and relocation buffers) is user memory that would be charged
	 * to the measured group if it faulted in there: big buffers are always mmap()ed (freed before the reading) and
	 * each program is loaded once unmeasured first, so the heap it reuses was charged elsewhere; the first load also
	 * runs libbpf's kernel feature probes */
	mallopt(M_MMAP_THRESHOLD, 64 * 1024);
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	struct memusage_bpf *probe = memusage_bpf__open();
	if (!probe) die("open memusage.bpf.o", errno);
	int n = 0;
	const char *names[16];
	struct bpf_program *p;
	bpf_object__for_each_program(p, probe->obj) if (n < 16) names[n++] = strdup(bpf_program__name(p));
	memusage_bpf__destroy(probe);
	for (int i = 0; i < n; i++) {
		load_one(names[i], false);
		load_one(names[i], true);
	}
}

/* ---- the cgroups ---- */
static void setup_memcg(void)
{
	snprintf(grp, sizeof(grp), "%s/labmem", root);
	snprintf(flush_grp, sizeof(flush_grp), "%s/labmem-flush", root);
	char p[600], ctl[256] = "";
	snprintf(p, sizeof(p), "%s/cgroup.subtree_control", root);
	FILE *f = fopen(p, "r");
	if (f) { if (!fgets(ctl, sizeof(ctl), f)) ctl[0] = 0; fclose(f); }
	if (!strstr(ctl, "memory")) {
		if (!write_str(p, "+memory")) { emit_warn("cannot enable the memory controller in %s (%s): no memcg numbers", root, strerror(errno)); return; }
		enabled_memory = true;
	}
	if ((mkdir(grp, 0755) && errno != EEXIST) || (mkdir(flush_grp, 0755) && errno != EEXIST)) {
		emit_warn("cannot create cgroups under %s (%s): no memcg numbers", root, strerror(errno));
		return;
	}
	snprintf(p, sizeof(p), "%s/memory.current", grp);
	if (read_ll(p) < 0) { emit_warn("%s has no memory.current: no memcg numbers", grp); return; }
	have_memcg = true;
	join(flush_grp);
}

static void teardown_memcg(void)
{
	char p[600];
	snprintf(p, sizeof(p), "%s", root);
	join(p);
	if (have_memcg || enabled_memory) {
		rmdir(grp);
		rmdir(flush_grp);
	}
	snprintf(p, sizeof(p), "%s/cgroup.subtree_control", root);
	if (enabled_memory) write_str(p, "-memory");
}

int main(int argc, char **argv)
{
	opts_init(argc, argv);
	lab_bpf_init();
	ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	snprintf(root, sizeof(root), "%s", opt_str("cgroup-root", "/sys/fs/cgroup"));
	int value_size = opt_long("value-size", 8);
	char maps[1024];
	snprintf(maps, sizeof(maps), "%s", opt_str("maps", "hash:1024/65536"));
	bool programs = opt_long("programs", 1);

	struct utsname u;
	uname(&u);
	int major = 0, minor = 0;
	sscanf(u.release, "%d.%d", &major, &minor);
	memcg_charges_bpf = major > 5 || (major == 5 && minor >= 11);
	setup_memcg();
	if (!memcg_charges_bpf)
		emit_warn("kernel %s: BPF memory is charged to RLIMIT_MEMLOCK before 5.11, not to the memory cgroup: memcg_bytes shows little of it and bytes_per_entry is not reported", u.release);
	pin(0);

	char *save;
	for (char *spec = strtok_r(maps, ",", &save); spec; spec = strtok_r(NULL, ",", &save)) {
		char *sizes = strchr(spec, ':');
		if (sizes) *sizes++ = 0;
		const struct map_kind *k = NULL;
		for (size_t i = 0; i < sizeof(KINDS) / sizeof(KINDS[0]); i++) if (!strcmp(KINDS[i].name, spec)) k = &KINDS[i];
		if (!k) { fprintf(stderr, "unknown map type %s\n", spec); return 2; }
		if (k->type == BPF_MAP_TYPE_PERF_EVENT_ARRAY) { measure_map(k, libbpf_num_possible_cpus(), value_size); continue; }
		if (!sizes) { fprintf(stderr, "--maps %s: no sizes (TYPE:N/N/...)\n", spec); return 2; }
		char *s2;
		for (char *n = strtok_r(sizes, "/", &s2); n; n = strtok_r(NULL, "/", &s2)) measure_map(k, strtoll(n, NULL, 0), value_size);
	}
	if (programs) measure_programs();
	teardown_memcg();
	return 0;
}
