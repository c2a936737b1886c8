/* XDP driver for the xdp and xdp-virtio scenarios. The topology (netns, links, addresses) is built by the scenario;
 * this driver attaches programs, drives traffic and counts.
 *   --mode native:   traffic from pktgen (in-kernel, in the sender's netns) into the receiver with xdp_main attached in
 *                    driver mode; variants baseline (no program: receiver rx_packets), xdp_drop, xdp_pass, xdp_tx
 *                    (xdp_sink on the sender counts the bounced frames), xdp_redirect (devmap to --fwd-dev, xdp_sink
 *                    on its peer --sink-dev counts), xdp_drop_ringbuf (one ring-buffer event every --sample-every frames).
 *   --mode generic:  the same actions in skb (generic) mode, driven by a native AF_PACKET sender loop, never by pktgen
 *                    (pktgen into xdpgeneric crashes 6.1: docs/measurements.md).
 *   --mode test_run: BPF_PROG_TEST_RUN with --repeat on a --pkt-size frame: per-packet program cost.
 * Per variant: pps, ns_per_packet and softirq_ns_per_packet per interval, then totals packets_sent / packets_seen /
 * packets_dropped (lost_in_transit: frames the sender's device sent that the receiver's never got), the raw device
 * counters, and packets_forwarded for TX/REDIRECT. */
#include "net.h"
#include <linux/if_link.h>
#include "xdp_bench.skel.h"

enum { C_PKTS, C_BYTES, C_SINK, C_EV_DROPS, C_EV };

static const char *tx_ns, *tx_dev, *tx_mac, *tx_ip, *rx_ns, *rx_dev, *rx_mac, *rx_ip, *fwd_ns, *fwd_dev, *sink_ns, *sink_dev;
static int pkt_size;
static double warmup, duration;
static long interval_ms;
static volatile unsigned long long events_seen;
static volatile int stop_consumer;

static int on_event(void *ctx, void *data, size_t len) { events_seen++; return 0; }
static void *consumer(void *arg)
{
	struct ring_buffer *rb = arg;
	while (!stop_consumer) ring_buffer__poll(rb, 100);
	ring_buffer__consume(rb);
	return NULL;
}

static int xdp_attach_in(const char *ns, const char *dev, int prog_fd, __u32 flags)
{
	enter_ns(ns);
	int idx = if_nametoindex(dev);
	lab_kernel_msg[0] = 0;
	int err = bpf_xdp_attach(idx, prog_fd, flags, NULL);
	enter_ns(NULL);
	return err;
}

static void xdp_detach_in(const char *ns, const char *dev, __u32 flags)
{
	enter_ns(ns);
	bpf_xdp_detach(if_nametoindex(dev), flags, NULL);
	enter_ns(NULL);
}

static const char *action_name(int a)
{
	return a == XDP_DROP ? "drop" : a == XDP_PASS ? "pass" : a == XDP_TX ? "tx" : a == XDP_REDIRECT ? "redirect" : "none";
}

static struct xdp_bench_bpf *load(int action, int sample_every)
{
	struct xdp_bench_bpf *skel = xdp_bench_bpf__open();
	if (!skel) die("open xdp_bench.bpf.o", errno);
	skel->rodata->action = action;
	skel->rodata->sample_every = sample_every;
	int err = xdp_bench_bpf__load(skel);
	if (err) die("load xdp_bench.bpf.o", err);
	if (action == XDP_REDIRECT) {
		/* devmap entries are resolved in the updater's netns */
		enter_ns(fwd_ns);
		__u32 k = 0, ifi = if_nametoindex(fwd_dev);
		err = bpf_map_update_elem(bpf_map__fd(skel->maps.tx_port), &k, &ifi, BPF_ANY);
		enter_ns(NULL);
		if (err) die("devmap update", errno);
	}
	return skel;
}

/* One measured variant with a traffic source; action < 0: no program (baseline). */
static void run_live(const char *variant, int action, bool generic, int sample_every)
{
	__u32 flags = generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	struct xdp_bench_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	pthread_t cons;
	bool attached_sink_tx = false, attached_sink_fwd = false;
	if (action >= 0) {
		skel = load(action, sample_every);
		int err = xdp_attach_in(rx_ns, rx_dev, bpf_program__fd(skel->progs.xdp_main), flags);
		if (err) {
			char why[768];
			snprintf(why, sizeof(why), "%s XDP attach on %s failed: %s%s%s", generic ? "generic" : "native", rx_dev, strerror(-err),
				 lab_kernel_msg[0] ? " - kernel says:" : "", lab_kernel_msg);
			emit_skip_variant(variant, "%s", why);
			xdp_bench_bpf__destroy(skel);
			return;
		}
		if (action == XDP_TX) {
			if (xdp_attach_in(tx_ns, tx_dev, bpf_program__fd(skel->progs.xdp_sink), flags)) emit_warn("%s: could not attach the XDP_TX sink on %s (returned frames are not counted): %s", variant, tx_dev, lab_kernel_msg);
			else attached_sink_tx = true;
		}
		if (action == XDP_REDIRECT) {
			if (xdp_attach_in(sink_ns, sink_dev, bpf_program__fd(skel->progs.xdp_sink), flags)) emit_warn("%s: could not attach the redirect sink on %s (redirected frames are not counted): %s", variant, sink_dev, lab_kernel_msg);
			else attached_sink_fwd = true;
		}
		if (sample_every) {
			rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, NULL, NULL);
			if (!rb) die("ring_buffer__new", errno);
			events_seen = 0; stop_consumer = 0;
			pthread_create(&cons, NULL, consumer, rb);
		}
	}
	int cmap = skel ? bpf_map__fd(skel->maps.counters) : -1;
#define SEEN() rx_seen(skel ? cmap : -1, C_PKTS, rx_ns, rx_dev)
	struct dev_stats tx0 = dev_stats_in(tx_ns, tx_dev), rx0 = dev_stats_in(rx_ns, rx_dev);
	unsigned long long seen0 = SEEN();

	struct pktgen pg = {0};
	struct rawsender rs = {0};
	if (generic) {
		snprintf(rs.ns, sizeof(rs.ns), "%s", tx_ns);
		snprintf(rs.dev, sizeof(rs.dev), "%s", tx_dev);
		rs.len = build_frame(rs.frame, pkt_size, tx_mac, rx_mac, tx_ip, rx_ip, 9);
		rawsender_start(&rs);
	} else {
		pktgen_setup(&pg, tx_ns, tx_dev, rx_ip, rx_mac, pkt_size, 9);
		pktgen_start(&pg);
	}
	measure_pps(variant, skel ? cmap : -1, C_PKTS, rx_ns, rx_dev, warmup, duration, interval_ms);
	unsigned long long sent, errors = 0;
	if (generic) { rawsender_stop(&rs); sent = rs.sent; errors = rs.errors; }
	else sent = pktgen_stop(&pg, &errors);
	sleep_ns(300000000ULL); /* let queued frames drain */
	unsigned long long seen = SEEN() - seen0;
	struct dev_stats tx1 = dev_stats_in(tx_ns, tx_dev), rx1 = dev_stats_in(rx_ns, rx_dev);
	unsigned long long dropped = lost_in_transit(&tx0, &tx1, &rx0, &rx1);
	emit_sample(variant, "sender_tx_packets", "packets", tx1.tx_pkts - tx0.tx_pkts, 0);
	emit_sample(variant, "sender_tx_dropped", "packets", tx1.tx_drop - tx0.tx_drop, 0);
	emit_sample(variant, "receiver_rx_packets", "packets", rx1.rx_pkts - rx0.rx_pkts, 0);
	emit_sample(variant, "receiver_rx_dropped", "packets", rx1.rx_drop - rx0.rx_drop, 0);
	emit_sample(variant, "packets_sent", "packets", sent, 0);
	emit_sample(variant, "packets_seen", "packets", seen, 0);
	emit_sample(variant, "packets_dropped", "packets", dropped, 0);
	emit_sample(variant, "send_errors", "packets", errors, 0);
	if (attached_sink_tx || attached_sink_fwd) emit_sample(variant, "packets_forwarded", "packets", percpu_sum(cmap, C_SINK), 0);
	if (rb) {
		stop_consumer = 1;
		pthread_join(cons, NULL);
		emit_sample(variant, "events_received", "events", events_seen, 0);
		emit_sample(variant, "events_dropped", "events", percpu_sum(cmap, C_EV_DROPS), 0);
		emit_sample(variant, "events_expected", "events", percpu_sum(cmap, C_EV) + percpu_sum(cmap, C_EV_DROPS), 0);
		ring_buffer__free(rb);
	}
	emit_log("%s: sent %llu seen %llu dropped %llu errors %llu", variant, sent, seen, dropped, errors);
	if (skel) {
		xdp_detach_in(rx_ns, rx_dev, flags);
		if (attached_sink_tx) xdp_detach_in(tx_ns, tx_dev, flags);
		if (attached_sink_fwd) xdp_detach_in(sink_ns, sink_dev, flags);
		xdp_bench_bpf__destroy(skel);
	}
}

static void run_test_run(int action, long repeat)
{
	char variant[64];
	snprintf(variant, sizeof(variant), "test_run_%s", action_name(action));
	struct xdp_bench_bpf *skel = load(action, 0);
	unsigned char frame[1600];
	int len = build_frame(frame, pkt_size, tx_mac, rx_mac, tx_ip, rx_ip, 9);
	unsigned char out[1600];
	int samples = (int)(duration * 1000 / interval_ms);
	if (samples < 1) samples = 1;
	unsigned long long runs = 0;
	for (int rep = -1; rep < samples; rep++) { /* rep -1: warm-up */
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len, .data_out = out, .data_size_out = sizeof(out), .repeat = repeat);
		int err = bpf_prog_test_run_opts(bpf_program__fd(skel->progs.xdp_main), &o);
		if (err) {
			char why[256];
			snprintf(why, sizeof(why), "BPF_PROG_TEST_RUN of an XDP program (%s) failed: %s", action_name(action), strerror(errno));
			emit_skip_variant(variant, "%s", why);
			xdp_bench_bpf__destroy(skel);
			return;
		}
		runs += repeat;
		if (rep < 0) continue;
		if (o.retval != (__u32)action) emit_warn("%s: retval %u, expected %d", variant, o.retval, action);
		emit_sample(variant, "ns_per_packet", "ns", o.duration, rep);
		if (o.duration) emit_sample(variant, "pps", "packets/s", 1e9 / o.duration, rep);
	}
	emit_sample(variant, "packets_sent", "packets", runs, 0);
	emit_sample(variant, "packets_seen", "packets", percpu_sum(bpf_map__fd(skel->maps.counters), C_PKTS), 0);
	emit_sample(variant, "packets_dropped", "packets", 0, 0);
	xdp_bench_bpf__destroy(skel);
}

static int parse_action(const char *s)
{
	if (!strcmp(s, "drop")) return XDP_DROP;
	if (!strcmp(s, "pass")) return XDP_PASS;
	if (!strcmp(s, "tx")) return XDP_TX;
	if (!strcmp(s, "redirect")) return XDP_REDIRECT;
	fprintf(stderr, "unknown action %s\n", s);
	exit(2);
}

int main(int argc, char **argv)
{
	opts_init(argc, argv);
	net_init();
	const char *mode = opt_str("mode", "native");
	tx_ns = opt_str("tx-ns", "laba"); tx_dev = opt_str("tx-dev", "va"); tx_mac = opt_str("tx-mac", "02:00:00:00:00:01");
	tx_ip = opt_str("tx-ip", "10.201.0.1");
	rx_ns = opt_str("rx-ns", "labb"); rx_dev = opt_str("rx-dev", "vb"); rx_mac = opt_str("rx-mac", "02:00:00:00:00:02");
	rx_ip = opt_str("rx-ip", "10.201.0.2");
	fwd_ns = opt_str("fwd-ns", rx_ns); fwd_dev = opt_str("fwd-dev", "vc");
	sink_ns = opt_str("sink-ns", "labc"); sink_dev = opt_str("sink-dev", "vd");
	pkt_size = opt_long("pkt-size", 60);
	warmup = opt_double("warmup", 1); duration = opt_double("duration", 5); interval_ms = opt_long("interval-ms", 1000);
	long repeat = opt_long("repeat", 1000000), sample_every = opt_long("sample-every", 64);
	char actions[128];
	snprintf(actions, sizeof(actions), "%s", opt_str("actions", "drop,pass,tx,redirect"));
	bool baseline = opt_long("baseline", 1), ringbuf = opt_long("ringbuf", 1);
	bool generic = !strcmp(mode, "generic");

	if (!strcmp(mode, "test_run")) {
		for (char *a = strtok(actions, ","); a; a = strtok(NULL, ",")) run_test_run(parse_action(a), repeat);
		return 0;
	}
	if (strcmp(mode, "native") && !generic) { fprintf(stderr, "--mode native|generic|test_run\n"); return 2; }
	if (baseline) run_live(generic ? "generic_baseline" : "baseline", -1, generic, 0);
	for (char *a = strtok(actions, ","); a; a = strtok(NULL, ",")) {
		char variant[64];
		int act = parse_action(a);
		snprintf(variant, sizeof(variant), "%s_%s", generic ? "generic" : "xdp", action_name(act));
		run_live(variant, act, generic, 0);
	}
	if (ringbuf && !generic) {
		char variant[64];
		snprintf(variant, sizeof(variant), "xdp_drop_ringbuf");
		run_live(variant, XDP_DROP, false, sample_every);
	}
	return 0;
}
