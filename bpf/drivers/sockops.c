/* sock-ops driver, on the sampling core: TCP over veth between two netns (client in the sender's, server in the
 * receiver's), the whole process in a cgroup (--cgroup, cgroup2). Variants: baseline (nothing attached) and sockops (a
 * BPF_PROG_TYPE_SOCK_OPS program attached to the cgroup with BPF_CGROUP_SOCK_OPS, counting callbacks and enabling
 * state callbacks on established connections). Two bench phases per variant, the client as producer and the server
 * as consumer:
 *   connections: the client connects, the server accepts and closes, the client closes with an RST (SO_LINGER 0, so
 *                no TIME_WAIT build-up): connections_per_s;
 *   stream:      one connection, the client writes 64 KiB buffers, the server reads: bytes_per_s (MB/s).
 * Totals: connections (client), connections_accepted (server), ops_active_established / ops_passive_established
 * (program callbacks: one each per connection when the program is attached), ops_total. */
#include "net.h"
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/stat.h>
#include <linux/bpf.h>
#include "sockops.skel.h"

static const char *tx_ns, *rx_ns, *rx_ip, *cg_path;
static struct bench_env env;
static volatile unsigned long long conns, accepted, bytes;
static int port = 5001;

static void write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, s, strlen(s)) < 0) { fprintf(stderr, "write %s: %s\n", path, strerror(errno)); exit(1); }
	close(fd);
}

static int listen_fd;
static void *server_conns(long idx)
{
	while (!bench_consumers_stop) {
		int c = accept(listen_fd, NULL, NULL);
		if (c < 0) continue;
		accepted++;
		close(c);
	}
	return NULL;
}

/* reads until the client closes after its stop */
static void *server_stream(long idx)
{
	static char buf[1 << 16];
	int c = -1;
	while (c < 0 && !bench_consumers_stop) c = accept(listen_fd, NULL, NULL);
	if (c < 0) return NULL;
	accepted++;
	for (;;) {
		ssize_t n = read(c, buf, sizeof(buf));
		if (n > 0) bytes += n;
		else if (n < 0 && (errno == EAGAIN || errno == EINTR) && !bench_consumers_stop) continue; /* SO_RCVTIMEO, inherited from the listener */
		else break;
	}
	close(c);
	return NULL;
}

static int mk_listener(void)
{
	enter_ns(rx_ns);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	enter_ns(NULL);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct timeval tv = { 0, 100000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)); /* accept() wakes up to see `stop` */
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, rx_ip, &sa.sin_addr);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) die("bind tcp", errno);
	if (listen(fd, 1024)) die("listen", errno);
	return fd;
}

static int client_socket(void)
{
	enter_ns(tx_ns);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	enter_ns(NULL);
	return fd;
}

static void *client_conns(long idx)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, rx_ip, &sa.sin_addr);
	struct linger lg = { 1, 0 };
	while (!bench_producers_stop) {
		int fd = client_socket();
		if (fd < 0) die("socket", errno);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			conns++;
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
		close(fd);
	}
	return NULL;
}

static void *client_stream(long idx)
{
	static char buf[1 << 16];
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	inet_pton(AF_INET, rx_ip, &sa.sin_addr);
	int fd = client_socket();
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) die("connect (stream)", errno);
	conns++;
	while (!bench_producers_stop)
		if (write(fd, buf, sizeof(buf)) < 0) {
			emit_warn("stream: the client's write failed before the end of the phase: %s", strerror(errno));
			break;
		}
	close(fd);
	return NULL;
}

static unsigned long long read_conns(void) { return conns; }
static unsigned long long read_bytes(void) { return bytes; }

static void phase(const char *variant, bool stream)
{
	conns = accepted = bytes = 0;
	listen_fd = mk_listener();
	struct bench_phase ph = {
		.variant = variant, .producers = 1, .consumers = 1,
		.producer = stream ? client_stream : client_conns, .consumer = stream ? server_stream : server_conns,
		.ncounters = 1,
		.counters = { stream ? (struct bench_counter){ "mb_per_s", "MB/s", 1e-6, read_bytes }
				     : (struct bench_counter){ "connections_per_s", "conn/s", 0, read_conns } },
	};
	bench_run(&env, &ph);
	close(listen_fd);
	if (stream) emit_sample(variant, "bytes_streamed", "bytes", bytes, 0);
	else {
		emit_sample(variant, "connections", "connections", conns, 0);
		emit_sample(variant, "connections_accepted", "connections", accepted, 0);
	}
	port++;
}

int main(int argc, char **argv)
{
	opts_init(argc, argv);
	net_init();
	tx_ns = opt_str("tx-ns", "laba"); rx_ns = opt_str("rx-ns", "labb"); rx_ip = opt_str("rx-ip", "10.201.0.2");
	cg_path = opt_str("cgroup", "/sys/fs/cgroup/labsockops");
	bench_env_from_opts(&env);
	signal(SIGPIPE, SIG_IGN); /* a peer that went away is a failed write (warned), not a killed driver */

	if (mkdir(cg_path, 0755) && errno != EEXIST) {
		char why[256];
		snprintf(why, sizeof(why), "cannot create cgroup %s: %s", cg_path, strerror(errno));
		emit_skip(why);
		return 0;
	}
	char procs[512], pid[32];
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", cg_path);
	snprintf(pid, sizeof(pid), "%d", getpid());
	write_file(procs, pid);
	int cg_fd = open(cg_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg_fd < 0) die("open cgroup", errno);

	phase("baseline", false);
	phase("baseline", true);

	struct sockops_bpf *skel = sockops_bpf__open();
	if (!skel) die("open sockops.bpf.o", errno);
	prog_stats_before_load(skel->obj);
	int err = sockops_bpf__load(skel);
	if (err) die("load sockops.bpf.o", err);
	prog_stats_emit(skel->obj);
	err = bpf_prog_attach(bpf_program__fd(skel->progs.count_ops), cg_fd, BPF_CGROUP_SOCK_OPS, 0);
	if (err) {
		emit_skip_variant("sockops", "attach sock_ops to cgroup failed: %s", strerror(errno));
	} else {
		phase("sockops", false);
		unsigned long long conns_phase = conns, acc_phase = accepted;
		unsigned long long act = percpu_sum(bpf_map__fd(skel->maps.ops), BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB);
		unsigned long long pas = percpu_sum(bpf_map__fd(skel->maps.ops), BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB);
		emit_sample("sockops", "ops_active_established", "callbacks", act, 0);
		emit_sample("sockops", "ops_passive_established", "callbacks", pas, 0);
		emit_log("sockops: %llu connections, %llu accepted, %llu active / %llu passive established callbacks", conns_phase, acc_phase, act, pas);
		phase("sockops", true);
		unsigned long long total = 0;
		for (__u32 op = 0; op < 32; op++) total += percpu_sum(bpf_map__fd(skel->maps.ops), op);
		emit_sample("sockops", "ops_total", "callbacks", total, 0);
		bpf_prog_detach2(bpf_program__fd(skel->progs.count_ops), cg_fd, BPF_CGROUP_SOCK_OPS);
	}
	sockops_bpf__destroy(skel);
	close(cg_fd);
	/* leave the cgroup so it can be removed */
	write_file("/sys/fs/cgroup/cgroup.procs", pid);
	if (rmdir(cg_path)) emit_warn("could not remove the cgroup %s: %s", cg_path, strerror(errno));
	return 0;
}
