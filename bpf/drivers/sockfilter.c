/* socket-filter driver, on the sampling core: pktgen (sender netns, the phase's producer) sends 60-byte UDP frames
 * to port 9 of the receiver; a UDP socket bound there in the receiver's netns is read with recvmmsg by the phase's
 * consumer, with a BPF_PROG_TYPE_SOCKET_FILTER attached (SO_ATTACH_BPF) or not. Variants: baseline (no filter),
 * sf_accept_all, sf_drop_half (every second packet), sf_drop_all. Per interval: pps_received (socket),
 * pps_accepted / pps_dropped (filter verdicts). Totals: the phase's accounting (net_totals in net.h; packets_seen =
 * filter runs, or the receiving device's rx_packets without a filter), packets_accepted, packets_filtered,
 * packets_received, socket_drops (Udp RcvbufErrors of the receiver netns: accepted but the socket buffer was full). */
#include "net.h"
#include <sys/uio.h>
#include "sockfilter.skel.h"

enum { C_SEEN, C_ACCEPTED, C_DROPPED };

static const char *tx_ns, *tx_dev, *rx_ns, *rx_dev, *rx_mac, *rx_ip;
static int pkt_size;
static struct bench_env env;
static int sock_fd;
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

/* bench consumer: drains the socket (SO_RCVTIMEO wakes it up to see the stop) */
static void *receiver(long idx)
{
	int fd = sock_fd;
	enum { B = 64 };
	static char bufs[B][256];
	struct mmsghdr msgs[B];
	struct iovec iov[B];
	for (int i = 0; i < B; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
	}
	while (!bench_consumers_stop) {
		int n = recvmmsg(fd, msgs, B, 0, NULL);
		if (n > 0) received += n;
	}
	return NULL;
}

static unsigned long long read_received(void) { return received; }
static unsigned long long read_accepted(void) { return percpu_sum(rx_counter.cmap, C_ACCEPTED); }
static unsigned long long read_dropped(void) { return percpu_sum(rx_counter.cmap, C_DROPPED); }
static void let_socket_drain(void) { sleep_ns(500000000ULL); }

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
		prog_stats_before_load(skel->obj);
		int err = sockfilter_bpf__load(skel);
		if (err) die("load sockfilter.bpf.o", err);
		net_prog_stats(skel->obj, variant);
		int pfd = bpf_program__fd(skel->progs.filter);
		if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_BPF, &pfd, sizeof(pfd))) {
			emit_skip_variant(variant, "SO_ATTACH_BPF failed: %s", strerror(errno));
			close(fd);
			sockfilter_bpf__destroy(skel);
			return;
		}
	}
	int cmap = skel ? bpf_map__fd(skel->maps.counters) : -1;
	rx_counter = (struct net_rx){ cmap, C_SEEN, rx_ns, rx_dev };
	received = 0;
	sock_fd = fd;
	unsigned long long ue0 = udp_errors();
	sender_pktgen(tx_ns, tx_dev, rx_ip, rx_mac, pkt_size, 9);
	struct net_mark m0 = net_mark(tx_ns, tx_dev);
	struct bench_phase ph = {
		.variant = variant, .producers = 1, .producer = sender_producer, .stop = sender_stop, .drain = let_socket_drain,
		.consumers = 1, .consumer = receiver, .ncounters = skel ? 3 : 1,
		.counters = {
			{ "pps_received", "packets/s", 0, read_received },
			{ "pps_accepted", "packets/s", 0, read_accepted },
			{ "pps_dropped", "packets/s", 0, read_dropped },
		},
	};
	bench_run(&env, &ph);
	net_totals(variant, &m0, tx_ns, tx_dev);
	emit_sample(variant, "packets_received", "packets", received, 0);
	emit_sample(variant, "socket_drops", "packets", udp_errors() - ue0, 0);
	if (skel) {
		emit_sample(variant, "packets_accepted", "packets", percpu_sum(cmap, C_ACCEPTED), 0);
		emit_sample(variant, "packets_filtered", "packets", percpu_sum(cmap, C_DROPPED), 0);
	}
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
	bench_env_from_opts(&env);
	run("baseline", -1);
	run("sf_accept_all", 0);
	run("sf_drop_half", 2);
	run("sf_drop_all", 1);
	return 0;
}
