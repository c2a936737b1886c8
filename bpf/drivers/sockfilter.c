/* socket-filter driver: pktgen (sender netns) sends 60-byte UDP frames to port 9 of the receiver; a UDP socket
 * bound there in the receiver's netns reads them with recvmmsg, with a BPF_PROG_TYPE_SOCKET_FILTER attached
 * (SO_ATTACH_BPF) or not. Variants: sf_baseline (no filter), sf_accept_all, sf_drop_half (every second packet),
 * sf_drop_all. Per interval: pps_received (socket), pps_accepted / pps_dropped (filter verdicts).
 * Totals: packets_sent (pktgen), packets_seen (filter runs), packets_accepted, packets_filtered, packets_received,
 * socket_drops (Udp RcvbufErrors of the receiver netns: accepted but the socket buffer was full), packets_dropped (lost_in_transit: sent by va, never received by vb). */
#include "net.h"
#include <sys/uio.h>
#include "sockfilter.skel.h"

enum { C_SEEN, C_ACCEPTED, C_DROPPED };

static const char *tx_ns, *tx_dev, *rx_ns, *rx_dev, *rx_mac, *rx_ip;
static int pkt_size;
static double warmup, duration;
static long interval_ms;
static volatile int stop_rx;
static volatile unsigned long long received;

static unsigned long long udp_errors(void)
{
	enter_ns(rx_ns);
	FILE *f = fopen("/proc/thread-self/net/snmp", "r");
	enter_ns(NULL);
	if (!f) return 0;
	char hdr[1024], val[1024];
	unsigned long long total = 0;
	while (fgets(hdr, sizeof(hdr), f) && fgets(val, sizeof(val), f)) {
		if (strncmp(hdr, "Udp:", 4)) continue;
		char *hs, *vs, *h = strtok_r(hdr, " \n", &hs), *v = strtok_r(val, " \n", &vs);
		while (h && v) {
			if (!strcmp(h, "RcvbufErrors")) total += strtoull(v, NULL, 10);
			h = strtok_r(NULL, " \n", &hs); v = strtok_r(NULL, " \n", &vs);
		}
	}
	fclose(f);
	return total;
}

static void *receiver(void *arg)
{
	int fd = *(int *)arg;
	enum { B = 64 };
	static char bufs[B][256];
	struct mmsghdr msgs[B];
	struct iovec iov[B];
	for (int i = 0; i < B; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	while (!stop_rx) {
		int n = recvmmsg(fd, msgs, B, 0, NULL);
		if (n > 0) received += n;
	}
	return NULL;
}

static void run(const char *variant, int policy)
{
	struct sockfilter_bpf *skel = NULL;
	enter_ns(rx_ns);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	enter_ns(NULL);
	if (fd < 0) die("socket", errno);
	int rcvbuf = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	struct timeval tv = { 0, 100000 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(9) };
	inet_pton(AF_INET, rx_ip, &sa.sin_addr);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) die("bind udp :9", errno);
	if (policy >= 0) {
		skel = sockfilter_bpf__open();
		if (!skel) die("open sockfilter.bpf.o", errno);
		skel->rodata->policy = policy;
		int err = sockfilter_bpf__load(skel);
		if (err) die("load sockfilter.bpf.o", err);
		int pfd = bpf_program__fd(skel->progs.filter);
		if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &pfd, sizeof(pfd))) {
			char why[256];
			snprintf(why, sizeof(why), "SO_ATTACH_BPF failed: %s", strerror(errno));
			emit_skip_variant(variant, "%s", why);
			close(fd);
			sockfilter_bpf__destroy(skel);
			return;
		}
	}
	int cmap = skel ? bpf_map__fd(skel->maps.counters) : -1;
	received = 0; stop_rx = 0;
	pthread_t rth;
	pthread_create(&rth, NULL, receiver, &fd);
	struct dev_stats tx0 = dev_stats_in(tx_ns, tx_dev), rx0 = dev_stats_in(rx_ns, rx_dev);
	unsigned long long ue0 = udp_errors();
	struct pktgen pg = {0};
	pktgen_setup(&pg, tx_ns, tx_dev, rx_ip, rx_mac, pkt_size, 9);
	pktgen_start(&pg);
	sleep_ns((unsigned long long)(warmup * 1e9));
	int samples = (int)(duration * 1000 / interval_ms);
	if (samples < 1) samples = 1;
	unsigned long long t0 = now_ns(), r0 = received, a0 = skel ? percpu_sum(cmap, C_ACCEPTED) : 0, d0 = skel ? percpu_sum(cmap, C_DROPPED) : 0;
	for (int rep = 0; rep < samples; rep++) {
		sleep_ns(interval_ms * 1000000ULL);
		unsigned long long t1 = now_ns(), r1 = received;
		double dt = (t1 - t0) / 1e9;
		emit_sample(variant, "pps_received", "packets/s", (r1 - r0) / dt, rep);
		if (skel) {
			unsigned long long a1 = percpu_sum(cmap, C_ACCEPTED), d1 = percpu_sum(cmap, C_DROPPED);
			emit_sample(variant, "pps_accepted", "packets/s", (a1 - a0) / dt, rep);
			emit_sample(variant, "pps_dropped", "packets/s", (d1 - d0) / dt, rep);
			a0 = a1; d0 = d1;
		}
		t0 = t1; r0 = r1;
	}
	unsigned long long errors = 0, sent = pktgen_stop(&pg, &errors);
	sleep_ns(500000000ULL); /* let the receiver drain its queue */
	stop_rx = 1;
	pthread_join(rth, NULL);
	struct dev_stats tx1 = dev_stats_in(tx_ns, tx_dev), rx1 = dev_stats_in(rx_ns, rx_dev);
	unsigned long long dropped = lost_in_transit(&tx0, &tx1, &rx0, &rx1);
	emit_sample(variant, "packets_sent", "packets", sent, 0);
	emit_sample(variant, "packets_received", "packets", received, 0);
	emit_sample(variant, "socket_drops", "packets", udp_errors() - ue0, 0);
	emit_sample(variant, "packets_dropped", "packets", dropped, 0);
	if (skel) {
		emit_sample(variant, "packets_seen", "packets", percpu_sum(cmap, C_SEEN), 0);
		emit_sample(variant, "packets_accepted", "packets", percpu_sum(cmap, C_ACCEPTED), 0);
		emit_sample(variant, "packets_filtered", "packets", percpu_sum(cmap, C_DROPPED), 0);
	}
	emit_log("%s: sent %llu received %llu seen %llu veth-dropped %llu", variant, sent, received, skel ? percpu_sum(cmap, C_SEEN) : 0, dropped);
	close(fd);
	if (skel) sockfilter_bpf__destroy(skel);
}

int main(int argc, char **argv)
{
	opts_init(argc, argv);
	net_init();
	tx_ns = opt_str("tx-ns", "laba"); tx_dev = opt_str("tx-dev", "va");
	rx_ns = opt_str("rx-ns", "labb"); rx_dev = opt_str("rx-dev", "vb"); rx_mac = opt_str("rx-mac", "02:00:00:00:00:02");
	rx_ip = opt_str("rx-ip", "10.201.0.2");
	pkt_size = opt_long("pkt-size", 60);
	warmup = opt_double("warmup", 1); duration = opt_double("duration", 5); interval_ms = opt_long("interval-ms", 1000);
	run("sf_baseline", -1);
	run("sf_accept_all", 0);
	run("sf_drop_half", 2);
	run("sf_drop_all", 1);
	return 0;
}
