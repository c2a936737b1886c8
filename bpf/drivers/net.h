/* What the net drivers share beyond the sampling core (core/bench.h): network namespaces, /proc/net/dev counters,
 * the traffic source as a bench producer (pktgen control or an AF_PACKET loop), the receive-side counters a packet
 * phase samples, its packet accounting, per-CPU counter sums and libbpf's netlink error text. */
#ifndef LAB_NET_H
#define LAB_NET_H
#include "common.h"
#include "core/bench.h"
#include "core/proginfo.h"
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

/* Program metrics of an object a net driver loads once per phase (other constants each time): labelled {"for": phase}. */
static inline void net_prog_stats(struct bpf_object *obj, const char *phase)
{
	char labels[160];
	snprintf(labels, sizeof(labels), "{\"for\":\"%s\"}", phase);
	prog_stats_emit_labels(obj, labels);
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

/* ---- the traffic source of a packet phase, run as the phase's one bench producer ----
 * pktgen (module pktgen; kernel threads kpktgend_N per CPU and netns): the producer's "start" write to pgctrl blocks
 * until the phase's stop hook writes "stop". Or an AF_PACKET socket in a native send() loop (safe with generic-mode
 * XDP, unlike pktgen). Either way: sent = frames the sending device accepted, errors = frames it refused (veth returns
 * NET_XMIT_DROP when the peer's ring or backlog is full; pktgen counts those as errors, send() fails with ENOBUFS). */
static inline void pg_write_path(const char *path, const char *cmd)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) { fprintf(stderr, "open %s: %s\n", path, strerror(errno)); exit(1); }
	if (write(fd, cmd, strlen(cmd)) < 0) { fprintf(stderr, "pktgen %s <- '%s': %s\n", path, cmd, strerror(errno)); exit(1); }
	close(fd);
}

struct net_sender {
	bool raw;
	char ns[64], dev[32];
	char pg_thread[96];        /* pktgen: /proc/thread-self/net/pktgen/kpktgend_N */
	unsigned char frame[1600]; /* raw: the frame sent */
	int len;
	volatile unsigned long long sent, errors; /* raw: counted by the loop; pktgen: read back after the stop */
	volatile int started;                     /* pktgen: the producer is about to write "start" */
};
static struct net_sender sender;

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

/* Configure pktgen in netns NS to send UDP/IPv4 frames of pkt_size bytes out of DEV, endlessly, from the kernel
 * thread of the last CPU: the core pins consumers from CPU 0 up, so a receiving consumer does not share its CPU. */
static inline void sender_pktgen(const char *ns, const char *dev, const char *dst_ip, const char *dst_mac, int pkt_size, int udp_dst)
{
	char p[256], c[128];
	memset(&sender, 0, sizeof(sender));
	snprintf(sender.ns, sizeof(sender.ns), "%s", ns);
	snprintf(sender.dev, sizeof(sender.dev), "%s", dev);
	snprintf(sender.pg_thread, sizeof(sender.pg_thread), "/proc/thread-self/net/pktgen/kpktgend_%ld", sysconf(_SC_NPROCESSORS_ONLN) - 1);
	enter_ns(ns);
	pg_write_path(sender.pg_thread, "rem_device_all");
	snprintf(c, sizeof(c), "add_device %s", dev);
	pg_write_path(sender.pg_thread, c);
	snprintf(p, sizeof(p), "/proc/thread-self/net/pktgen/%s", dev);
	const char *cmds[] = { "count 0", "clone_skb 0", "delay 0", "burst 1", NULL };
	for (int i = 0; cmds[i]; i++) pg_write_path(p, cmds[i]);
	snprintf(c, sizeof(c), "pkt_size %d", pkt_size); pg_write_path(p, c);
	snprintf(c, sizeof(c), "dst %s", dst_ip); pg_write_path(p, c);
	snprintf(c, sizeof(c), "dst_mac %s", dst_mac); pg_write_path(p, c);
	snprintf(c, sizeof(c), "udp_dst_min %d", udp_dst); pg_write_path(p, c);
	snprintf(c, sizeof(c), "udp_dst_max %d", udp_dst); pg_write_path(p, c);
	enter_ns(NULL);
}

/* An AF_PACKET sender in netns NS on DEV, sending one UDP frame of pkt_size bytes over and over. */
static inline void sender_raw(const char *ns, const char *dev, int pkt_size, const char *src_mac, const char *dst_mac,
			      const char *src_ip, const char *dst_ip, int udp_dst)
{
	memset(&sender, 0, sizeof(sender));
	sender.raw = true;
	snprintf(sender.ns, sizeof(sender.ns), "%s", ns);
	snprintf(sender.dev, sizeof(sender.dev), "%s", dev);
	sender.len = build_frame(sender.frame, pkt_size, src_mac, dst_mac, src_ip, dst_ip, udp_dst);
}

/* bench producer: runs in the sender's netns (pgctrl acts on the writer's netns, not the file's) */
static void *sender_producer(long idx)
{
	enter_ns(sender.ns);
	if (!sender.raw) {
		int fd = open("/proc/thread-self/net/pktgen/pgctrl", O_WRONLY | O_CLOEXEC);
		if (fd < 0) die("open pgctrl", errno);
		sender.started = 1;
		if (write(fd, "start\n", 6) < 0 && errno != EINTR) fprintf(stderr, "pktgen start: %s\n", strerror(errno));
		close(fd);
		return NULL;
	}
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) die("socket AF_PACKET", errno);
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = if_nametoindex(sender.dev), .sll_halen = 6 };
	memcpy(sll.sll_addr, sender.frame, 6);
	if (!sll.sll_ifindex) die("if_nametoindex sender", errno);
	while (!bench_producers_stop) {
		if (sendto(fd, sender.frame, sender.len, 0, (struct sockaddr *)&sll, sizeof(sll)) == sender.len) sender.sent++;
		else { sender.errors++; if (errno == ENOBUFS || errno == EAGAIN) sched_yield(); }
	}
	close(fd);
	return NULL;
}

/* bench stop hook: pktgen's start write returns once "stop" is written */
static void sender_stop(void)
{
	if (sender.raw) return;
	while (!sender.started) sleep_ns(1000000); /* a stop before the start would leave the start blocked */
	sleep_ns(10000000);
	enter_ns(sender.ns);
	int fd = open("/proc/thread-self/net/pktgen/pgctrl", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "stop\n", 5) < 0) die("pktgen stop", errno);
	close(fd);
	enter_ns(NULL);
}

/* After the phase: pktgen's pkts-sofar and errors into sender.sent / sender.errors, and its device released. */
static inline void sender_collect(void)
{
	if (sender.raw) return;
	char p[256], buf[4096] = {0};
	snprintf(p, sizeof(p), "/proc/thread-self/net/pktgen/%s", sender.dev);
	enter_ns(sender.ns);
	FILE *f = fopen(p, "r");
	enter_ns(NULL);
	if (!f) die("open pktgen device file", errno);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	unsigned long long sofar = 0, errs = 0;
	char *s = strstr(buf, "pkts-sofar:");
	if (!s || sscanf(s, "pkts-sofar: %llu errors: %llu", &sofar, &errs) != 2) emit_warn("pktgen %s: no pkts-sofar/errors in its status", sender.dev);
	sender.sent = sofar;
	sender.errors = errs;
	enter_ns(sender.ns);
	pg_write_path(sender.pg_thread, "rem_device_all");
	enter_ns(NULL);
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

/* ---- the receive side of a packet phase: what the core samples, and the run's own packet accounting ---- */
struct net_rx {
	int cmap;      /* the program's per-CPU counter map, or -1: no program, count the device's rx_packets */
	__u32 key;
	const char *ns, *dev;
};
static struct net_rx rx_counter;

/* Packets seen at the receiver: the program's per-CPU counter when a program is attached, else the device's rx counter. */
static unsigned long long net_read_seen(void)
{
	return rx_counter.cmap >= 0 ? percpu_sum(rx_counter.cmap, rx_counter.key) : dev_stats_in(rx_counter.ns, rx_counter.dev).rx_pkts;
}

static unsigned long long net_read_softirq(void) { return softirq_ns(); }

/* The counters of a packet phase: pps of what the receiver counted, and the softirq CPU time of all CPUs (tick
 * resolution) per counted packet: the receive-side cost including the program. */
#define NET_PPS_COUNTERS { "pps", "packets/s", 0, net_read_seen }, { "softirq_ns_per_packet", "ns", 0, net_read_softirq, net_read_seen }

/* drain hook: let frames already queued on the way reach the receiver before it is read for the totals */
static void net_settle(void) { sleep_ns(300000000ULL); }

/* Device and receiver counters at the start of a phase, for its totals. */
struct net_mark { struct dev_stats tx, rx; unsigned long long seen; };

static inline struct net_mark net_mark(const char *tx_ns, const char *tx_dev)
{
	return (struct net_mark){ dev_stats_in(tx_ns, tx_dev), dev_stats_in(rx_counter.ns, rx_counter.dev), net_read_seen() };
}

/* The phase's accounting: packets_sent / send_errors (the generator), packets_seen (receiver), packets_lost = frames
 * offered to the sending device that the receiver never counted (sent + send_errors − seen, after a drain), and the
 * devices' own counters. On veth a lost frame is one the sender's device dropped (peer ring or backlog full), so
 * packets_lost there must equal sender_tx_dropped: two independent counts of the same loss. Returns packets_seen. */
static inline unsigned long long net_totals(const char *variant, const struct net_mark *m0, const char *tx_ns, const char *tx_dev)
{
	sender_collect();
	unsigned long long seen = net_read_seen() - m0->seen;
	struct dev_stats tx1 = dev_stats_in(tx_ns, tx_dev), rx1 = dev_stats_in(rx_counter.ns, rx_counter.dev);
	long long lost = (long long)(sender.sent + sender.errors) - (long long)seen;
	emit_sample(variant, "packets_sent", "packets", sender.sent, 0);
	emit_sample(variant, "send_errors", "packets", sender.errors, 0);
	emit_sample(variant, "packets_seen", "packets", seen, 0);
	emit_sample(variant, "packets_lost", "packets", lost, 0);
	emit_sample(variant, "sender_tx_packets", "packets", tx1.tx_pkts - m0->tx.tx_pkts, 0);
	emit_sample(variant, "sender_tx_dropped", "packets", tx1.tx_drop - m0->tx.tx_drop, 0);
	emit_sample(variant, "receiver_rx_packets", "packets", rx1.rx_pkts - m0->rx.rx_pkts, 0);
	emit_sample(variant, "receiver_rx_dropped", "packets", rx1.rx_drop - m0->rx.rx_drop, 0);
	emit_log("%s: sent %llu send errors %llu seen %llu lost %lld", variant, sender.sent, sender.errors, seen, lost);
	return seen;
}
#endif
