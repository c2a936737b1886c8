/* Networking helpers for the net drivers: network namespaces, /proc/net/dev counters, pktgen control,
 * an AF_PACKET sender, per-CPU counter sums and libbpf's netlink error text. */
#ifndef LAB_NET_H
#define LAB_NET_H
#include "common.h"
#include <fcntl.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <linux/if_packet.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf.h>

static int root_ns_fd = -1;
static char lab_kernel_msg[512];

/* libbpf prints the kernel's extack text ("Kernel error message: ...") at warning level: keep it for skip reasons */
static int net_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG) return 0;
	char buf[512];
	va_list ap;
	va_copy(ap, args);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	char *m = strstr(buf, "Kernel error message:");
	if (m) {
		snprintf(lab_kernel_msg, sizeof(lab_kernel_msg), "%s", m + 22);
		for (char *p = lab_kernel_msg; *p; p++) if (*p == '\n' || *p == '"' || *p == '\\') *p = ' ';
	}
	return vfprintf(stderr, fmt, args);
}

static inline void net_init(void)
{
	lab_bpf_init();
	libbpf_set_print(net_libbpf_print);
	root_ns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (root_ns_fd < 0) die("open /proc/self/ns/net", errno);
}

/* Switch the calling thread into netns NAME (/run/netns/NAME), or back to the initial one with NULL. */
static inline void enter_ns(const char *name)
{
	int fd = root_ns_fd;
	if (name) {
		char p[256];
		snprintf(p, sizeof(p), "/run/netns/%s", name);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0) { fprintf(stderr, "open %s: %s\n", p, strerror(errno)); exit(1); }
	}
	if (setns(fd, CLONE_NEWNET)) die("setns", errno);
	if (name) close(fd);
}

static inline int ifindex_in(const char *ns, const char *ifname)
{
	enter_ns(ns);
	int idx = if_nametoindex(ifname);
	enter_ns(NULL);
	if (!idx) { fprintf(stderr, "no interface %s in netns %s\n", ifname, ns ? ns : "root"); exit(1); }
	return idx;
}

struct dev_stats { unsigned long long rx_pkts, rx_drop, tx_pkts, tx_drop; };

/* /proc/net/dev of the calling thread's netns */
static inline struct dev_stats dev_stats_in(const char *ns, const char *ifname)
{
	struct dev_stats s = {0};
	enter_ns(ns);
	FILE *f = fopen("/proc/thread-self/net/dev", "r");
	enter_ns(NULL);
	if (!f) die("open /proc/thread-self/net/dev", errno);
	char line[512];
	size_t n = strlen(ifname);
	while (fgets(line, sizeof(line), f)) {
		char *p = line;
		while (*p == ' ') p++;
		if (strncmp(p, ifname, n) || p[n] != ':') continue;
		unsigned long long v[16] = {0};
		sscanf(p + n + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
		       &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11]);
		s.rx_pkts = v[1]; s.rx_drop = v[3]; s.tx_pkts = v[9]; s.tx_drop = v[11];
	}
	fclose(f);
	return s;
}

/* Frames the sender's device transmitted that the receiver's device never received: lost on the way (a full veth
 * ring or backlog, the QEMU hub, a full virtio ring). Frames the sender's device refused (tx_dropped) are not in
 * the generators' sent counts: pktgen and send() see them as errors. The receiver's rx_dropped is not added either:
 * virtio_net counts XDP_DROP verdicts there, and veth reports its peer's drops there. */
static inline unsigned long long lost_in_transit(const struct dev_stats *tx0, const struct dev_stats *tx1,
						 const struct dev_stats *rx0, const struct dev_stats *rx1)
{
	long long d = (long long)(tx1->tx_pkts - tx0->tx_pkts) - (long long)(rx1->rx_pkts - rx0->rx_pkts);
	return d > 0 ? d : 0;
}

/* ---- pktgen (module pktgen; one kernel thread, kpktgend_0, per netns) ---- */
static inline void pg_write_path(const char *path, const char *cmd)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) { fprintf(stderr, "open %s: %s\n", path, strerror(errno)); exit(1); }
	if (write(fd, cmd, strlen(cmd)) < 0) { fprintf(stderr, "pktgen %s <- '%s': %s\n", path, cmd, strerror(errno)); exit(1); }
	close(fd);
}

struct pktgen {
	char ns[64], dev[32];
	int ctrl_fd;
	pthread_t th;
	volatile int running;
};

/* Configure kpktgend_0 in netns NS to send UDP/IPv4 frames of pkt_size bytes out of DEV, endlessly. */
static inline void pktgen_setup(struct pktgen *pg, const char *ns, const char *dev, const char *dst_ip, const char *dst_mac,
				int pkt_size, int udp_dst)
{
	char p[256], c[128];
	snprintf(pg->ns, sizeof(pg->ns), "%s", ns);
	snprintf(pg->dev, sizeof(pg->dev), "%s", dev);
	enter_ns(ns);
	pg_write_path("/proc/thread-self/net/pktgen/kpktgend_0", "rem_device_all");
	snprintf(c, sizeof(c), "add_device %s", dev);
	pg_write_path("/proc/thread-self/net/pktgen/kpktgend_0", c);
	snprintf(p, sizeof(p), "/proc/thread-self/net/pktgen/%s", dev);
	const char *cmds[] = { "count 0", "clone_skb 0", "delay 0", "burst 1", NULL };
	for (int i = 0; cmds[i]; i++) pg_write_path(p, cmds[i]);
	snprintf(c, sizeof(c), "pkt_size %d", pkt_size); pg_write_path(p, c);
	snprintf(c, sizeof(c), "dst %s", dst_ip); pg_write_path(p, c);
	snprintf(c, sizeof(c), "dst_mac %s", dst_mac); pg_write_path(p, c);
	snprintf(c, sizeof(c), "udp_dst_min %d", udp_dst); pg_write_path(p, c);
	snprintf(c, sizeof(c), "udp_dst_max %d", udp_dst); pg_write_path(p, c);
	pg->ctrl_fd = open("/proc/thread-self/net/pktgen/pgctrl", O_WRONLY | O_CLOEXEC);
	if (pg->ctrl_fd < 0) die("open pgctrl", errno);
	enter_ns(NULL);
}

static void *pktgen_thread(void *arg)
{
	struct pktgen *pg = arg;
	/* pgctrl acts on the writer's netns, not the file's: this thread lives in the sender's namespace */
	enter_ns(pg->ns);
	/* blocks until "stop" */
	if (write(pg->ctrl_fd, "start\n", 6) < 0 && errno != EINTR)
		fprintf(stderr, "pktgen start: %s\n", strerror(errno));
	pg->running = 0;
	return NULL;
}

static inline void pktgen_start(struct pktgen *pg)
{
	pg->running = 1;
	pthread_create(&pg->th, NULL, pktgen_thread, pg);
}

/* Stop, wait for the start thread, and return the packets pktgen sent (pkts-sofar) and its errors. */
static inline unsigned long long pktgen_stop(struct pktgen *pg, unsigned long long *errors)
{
	enter_ns(pg->ns);
	int fd = open("/proc/thread-self/net/pktgen/pgctrl", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "stop\n", 5) < 0) die("pktgen stop", errno);
	close(fd);
	enter_ns(NULL);
	pthread_join(pg->th, NULL);
	char p[256], buf[4096] = {0};
	snprintf(p, sizeof(p), "/proc/thread-self/net/pktgen/%s", pg->dev);
	enter_ns(pg->ns);
	FILE *f = fopen(p, "r");
	enter_ns(NULL);
	if (!f) die("open pktgen device file", errno);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	unsigned long long sofar = 0, errs = 0;
	char *s = strstr(buf, "pkts-sofar:");
	if (s) sscanf(s, "pkts-sofar: %llu errors: %llu", &sofar, &errs);
	if (errors) *errors = errs;
	enter_ns(pg->ns);
	pg_write_path("/proc/thread-self/net/pktgen/kpktgend_0", "rem_device_all");
	enter_ns(NULL);
	close(pg->ctrl_fd);
	return sofar;
}

/* ---- AF_PACKET sender: a native loop of send() on a raw socket (safe with generic-mode XDP, unlike pktgen) ---- */
struct rawsender {
	char ns[64], dev[32];
	unsigned char frame[1600];
	int len;
	pthread_t th;
	volatile int stop;
	volatile unsigned long long sent, errors;
};

static inline unsigned short ip_csum(void *hdr, int len)
{
	unsigned int sum = 0;
	unsigned short *p = hdr;
	for (int i = 0; i < len / 2; i++) sum += p[i];
	while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

static inline void parse_mac(const char *s, unsigned char *m)
{
	unsigned int v[6];
	if (sscanf(s, "%x:%x:%x:%x:%x:%x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6) { fprintf(stderr, "bad MAC %s\n", s); exit(2); }
	for (int i = 0; i < 6; i++) m[i] = v[i];
}

/* A UDP/IPv4 frame of `len` bytes (without FCS) from src to dst. */
static inline int build_frame(unsigned char *f, int len, const char *src_mac, const char *dst_mac, const char *src_ip,
			      const char *dst_ip, int udp_dst)
{
	if (len < 42) len = 42;
	if (len > 1514) len = 1514;
	memset(f, 0, len);
	parse_mac(dst_mac, f);
	parse_mac(src_mac, f + 6);
	f[12] = 0x08; f[13] = 0x00;
	struct iphdr *ip = (struct iphdr *)(f + 14);
	ip->version = 4; ip->ihl = 5; ip->ttl = 64; ip->protocol = 17;
	ip->tot_len = htons(len - 14);
	inet_pton(AF_INET, src_ip, &ip->saddr);
	inet_pton(AF_INET, dst_ip, &ip->daddr);
	ip->check = ip_csum(ip, 20);
	struct udphdr *udp = (struct udphdr *)(ip + 1);
	udp->source = htons(9999); udp->dest = htons(udp_dst); udp->len = htons(len - 34);
	return len;
}

static void *rawsender_thread(void *arg)
{
	struct rawsender *r = arg;
	enter_ns(r->ns);
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) die("socket AF_PACKET", errno);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = if_nametoindex(r->dev), .sll_halen = 6 };
	memcpy(sll.sll_addr, r->frame, 6);
	if (!sll.sll_ifindex) die("if_nametoindex sender", errno);
	while (!r->stop) {
		if (sendto(fd, r->frame, r->len, 0, (struct sockaddr *)&sll, sizeof(sll)) == r->len) r->sent++;
		else { r->errors++; if (errno == ENOBUFS || errno == EAGAIN) sched_yield(); }
	}
	close(fd);
	return NULL;
}

static inline void rawsender_start(struct rawsender *r)
{
	r->stop = 0; r->sent = r->errors = 0;
	pthread_create(&r->th, NULL, rawsender_thread, r);
}

static inline void rawsender_stop(struct rawsender *r)
{
	r->stop = 1;
	pthread_join(r->th, NULL);
}

/* Softirq time of all CPUs so far (/proc/stat "cpu" line, 7th field), in ns. Receive processing (veth/virtio NAPI,
 * the XDP or tc program, the stack) runs there; pktgen itself runs in a kernel thread (system time). */
static inline unsigned long long softirq_ns(void)
{
	FILE *f = fopen("/proc/stat", "r");
	if (!f) return 0;
	unsigned long long v[7] = {0};
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]) != 7) v[6] = 0;
	fclose(f);
	return v[6] * (1000000000ULL / sysconf(_SC_CLK_TCK));
}

/* Sum of one slot of a per-CPU array map over all possible CPUs. */
static inline unsigned long long percpu_sum(int map_fd, __u32 key)
{
	static unsigned long long *vals;
	static int ncpu;
	if (!vals) { ncpu = libbpf_num_possible_cpus(); vals = calloc(ncpu, sizeof(*vals)); }
	if (bpf_map_lookup_elem(map_fd, &key, vals)) return 0;
	unsigned long long s = 0;
	for (int i = 0; i < ncpu; i++) s += vals[i];
	return s;
}

static inline void percpu_zero(int map_fd, int nkeys)
{
	int ncpu = libbpf_num_possible_cpus();
	unsigned long long *z = calloc(ncpu, sizeof(*z));
	for (__u32 k = 0; k < (__u32)nkeys; k++) bpf_map_update_elem(map_fd, &k, z, BPF_ANY);
	free(z);
}

#endif

/* Packets seen at the receiver: the program's per-CPU counter `key` when a program is attached (cmap >= 0),
 * else the device's rx counter. */
static inline unsigned long long rx_seen(int cmap, __u32 key, const char *ns, const char *dev)
{
	return cmap >= 0 ? percpu_sum(cmap, key) : dev_stats_in(ns, dev).rx_pkts;
}

/* Warm up, then one sample per interval: pps, ns per packet (1e9/pps) and receive-side softirq time per counted
 * packet. Shared by the packet drivers (xdp, tc). */
static inline void measure_pps(const char *variant, int cmap, __u32 key, const char *ns, const char *dev,
			       double warmup, double duration, long interval_ms)
{
	sleep_ns((unsigned long long)(warmup * 1e9));
	int samples = (int)(duration * 1000 / interval_ms);
	if (samples < 1) samples = 1;
	unsigned long long t0 = now_ns(), c0 = rx_seen(cmap, key, ns, dev), s0 = softirq_ns();
	for (int rep = 0; rep < samples; rep++) {
		sleep_ns(interval_ms * 1000000ULL);
		unsigned long long t1 = now_ns(), c1 = rx_seen(cmap, key, ns, dev), s1 = softirq_ns();
		double pps = (c1 - c0) / ((t1 - t0) / 1e9);
		emit_sample(variant, "pps", "packets/s", pps, rep);
		if (pps > 0) emit_sample(variant, "ns_per_packet", "ns", 1e9 / pps, rep);
		if (c1 > c0) emit_sample(variant, "softirq_ns_per_packet", "ns", (double)(s1 - s0) / (c1 - c0), rep);
		t0 = t1; c0 = c1; s0 = s1;
	}
}
