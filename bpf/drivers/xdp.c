/* XDP driver for the xdp and xdp-virtio scenarios, on the sampling core (core/bench.h). The topology (netns, links,
 * addresses) is built by the scenario; this driver attaches programs, drives traffic and counts.
 *   --mode native:   traffic from pktgen (in-kernel, in the sender's netns) into the receiver with xdp_main attached in
 *                    driver mode; variants baseline (no program: receiver rx_packets), xdp_drop, xdp_pass, xdp_tx
 *                    (xdp_sink on the sender counts the bounced frames), xdp_redirect (devmap to --fwd-dev, xdp_sink
 *                    on its peer --sink-dev counts), xdp_drop_ringbuf (one ring-buffer event every --sample-every frames).
 *   --mode generic:  baseline and the same actions in skb (generic) mode (variants generic_ACTION), driven by a native
 *                    AF_PACKET sender loop, never by pktgen (pktgen into xdpgeneric crashes 6.1: docs/measurements.md).
 *   --mode test_run: BPF_PROG_TEST_RUN of xdp_main with --repeat on a --pkt-size frame, in a loop as the phase's
 *                    producer: prog_ns_per_packet = the kernel's run time per repetition (duration / repeat), per
 *                    interval. The action itself (transmit, redirect) is not executed, only the program.
 *                    test_run_drop_ringbuf: XDP_DROP emitting one ring-buffer event per packet, drained by a consumer.
 * Live variants: pps and softirq_ns_per_packet per interval, then the phase's accounting (net_totals in net.h) and
 * packets_forwarded for TX/REDIRECT, events_* for the ring-buffer variant. */
#include "net.h"
#include <linux/if_link.h>
#include "xdp_bench.skel.h"

enum { C_PKTS, C_BYTES, C_SINK, C_EV_DROPS, C_EV };

static const char *tx_ns, *tx_dev, *tx_mac, *tx_ip, *rx_ns, *rx_dev, *rx_mac, *rx_ip, *fwd_ns, *fwd_dev, *sink_ns, *sink_dev;
static int pkt_size;
static struct bench_env env;
static struct ring_buffer *events_rb;
static volatile unsigned long long events_seen;

static int on_event(void *ctx, void *data, size_t len) { events_seen++; return 0; }
static void *events_consumer(long idx)
{
	while (!bench_consumers_stop) ring_buffer__poll(events_rb, BENCH_POLL_FOREVER);
	ring_buffer__consume(events_rb);
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

static struct xdp_bench_bpf *load(const char *variant, int action, int sample_every)
{
	struct xdp_bench_bpf *skel = xdp_bench_bpf__open();
	if (!skel) die("open xdp_bench.bpf.o", errno);
	skel->rodata->action = action;
	skel->rodata->sample_every = sample_every;
	prog_stats_before_load(skel->obj);
	int err = xdp_bench_bpf__load(skel);
	if (err) die("load xdp_bench.bpf.o", err);
	net_prog_stats(skel->obj, variant);
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

/* xdp_sink on the device that receives XDP_TX / XDP_REDIRECT output; without it packets_forwarded is not measured */
static bool attach_sink(struct xdp_bench_bpf *skel, const char *variant, const char *ns, const char *dev, __u32 flags)
{
	if (!xdp_attach_in(ns, dev, bpf_program__fd(skel->progs.xdp_sink), flags)) return true;
	emit_warn("%s: could not attach the counting sink on %s (%s), packets_forwarded is not measured", variant, dev,
		  lab_kernel_msg[0] ? lab_kernel_msg : "no kernel message");
	return false;
}

/* One measured variant with a traffic source; action < 0: no program (baseline). */
static void run_live(const char *variant, int action, bool generic, int sample_every)
{
	__u32 flags = generic ? XDP_FLAGS_SKB_MODE : XDP_FLAGS_DRV_MODE;
	struct xdp_bench_bpf *skel = NULL;
	const char *sink_on_ns = NULL, *sink_on_dev = NULL;
	events_rb = NULL;
	if (action >= 0) {
		skel = load(variant, action, sample_every);
		int err = xdp_attach_in(rx_ns, rx_dev, bpf_program__fd(skel->progs.xdp_main), flags);
		if (err) {
			emit_skip_variant(variant, "%s XDP attach on %s failed: %s%s%s", generic ? "generic" : "native", rx_dev, strerror(-err),
					  lab_kernel_msg[0] ? " - kernel says:" : "", lab_kernel_msg);
			xdp_bench_bpf__destroy(skel);
			return;
		}
		if (action == XDP_TX && attach_sink(skel, variant, tx_ns, tx_dev, flags)) sink_on_ns = tx_ns, sink_on_dev = tx_dev;
		if (action == XDP_REDIRECT && attach_sink(skel, variant, sink_ns, sink_dev, flags)) sink_on_ns = sink_ns, sink_on_dev = sink_dev;
		if (sample_every) {
			events_rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, NULL, NULL);
			if (!events_rb) die("ring_buffer__new", errno);
			events_seen = 0;
		}
	}
	rx_counter = (struct net_rx){ skel ? bpf_map__fd(skel->maps.counters) : -1, C_PKTS, rx_ns, rx_dev };
	if (generic) sender_raw(tx_ns, tx_dev, pkt_size, tx_mac, rx_mac, tx_ip, rx_ip, 9);
	else sender_pktgen(tx_ns, tx_dev, rx_ip, rx_mac, pkt_size, 9);
	struct net_mark m0 = net_mark(tx_ns, tx_dev);
	struct bench_phase ph = {
		.variant = variant, .producers = 1, .producer = sender_producer, .stop = sender_stop, .drain = net_settle,
		.consumers = events_rb ? 1 : 0, .consumer = events_consumer,
		.ncounters = 2, .counters = { NET_PPS_COUNTERS },
	};
	bench_run(&env, &ph);
	net_totals(variant, &m0, tx_ns, tx_dev);
	if (sink_on_dev) emit_sample(variant, "packets_forwarded", "packets", percpu_sum(rx_counter.cmap, C_SINK), 0);
	if (events_rb) {
		emit_sample(variant, "events_received", "events", events_seen, 0);
		emit_sample(variant, "events_dropped", "events", percpu_sum(rx_counter.cmap, C_EV_DROPS), 0);
		emit_sample(variant, "events_expected", "events", percpu_sum(rx_counter.cmap, C_EV) + percpu_sum(rx_counter.cmap, C_EV_DROPS), 0);
		ring_buffer__free(events_rb);
	}
	if (skel) {
		xdp_detach_in(rx_ns, rx_dev, flags);
		if (sink_on_dev) xdp_detach_in(sink_on_ns, sink_on_dev, flags);
		xdp_bench_bpf__destroy(skel);
	}
}

/* ---- test_run: the program's own cost per packet ---- */
static struct {
	int prog_fd, action;
	long repeat;
	unsigned char frame[1600], out[1600];
	int len;
	volatile unsigned long long runs, ns, wrong_retval;
} tr;

static int test_run_once(long repeat, __u32 *duration, __u32 *retval)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = tr.frame, .data_size_in = tr.len, .data_out = tr.out,
		    .data_size_out = sizeof(tr.out), .repeat = repeat);
	int err = bpf_prog_test_run_opts(tr.prog_fd, &o);
	*duration = o.duration;
	*retval = o.retval;
	return err;
}

/* bench producer: back-to-back test runs; the kernel reports the mean run time of each call's `repeat` runs */
static void *test_run_producer(long idx)
{
	while (!bench_producers_stop) {
		__u32 d, ret;
		if (test_run_once(tr.repeat, &d, &ret)) break;
		if (ret != (__u32)tr.action) tr.wrong_retval++;
		tr.ns += (unsigned long long)d * tr.repeat;
		tr.runs += tr.repeat;
	}
	return NULL;
}

static unsigned long long read_tr_ns(void) { return tr.ns; }
static unsigned long long read_tr_runs(void) { return tr.runs; }

static void run_test_run(int action, int sample_every)
{
	char variant[64];
	snprintf(variant, sizeof(variant), "test_run_%s%s", action_name(action), sample_every ? "_ringbuf" : "");
	struct xdp_bench_bpf *skel = load(variant, action, sample_every);
	tr.prog_fd = bpf_program__fd(skel->progs.xdp_main);
	tr.action = action;
	tr.len = build_frame(tr.frame, pkt_size, tx_mac, rx_mac, tx_ip, rx_ip, 9);
	tr.runs = tr.ns = tr.wrong_retval = 0;
	__u32 d, ret;
	if (test_run_once(1, &d, &ret)) {
		emit_skip_variant(variant, "BPF_PROG_TEST_RUN of an XDP program (%s) failed: %s", action_name(action), strerror(errno));
		xdp_bench_bpf__destroy(skel);
		return;
	}
	tr.runs = 1;
	events_rb = NULL;
	if (sample_every) {
		events_rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_event, NULL, NULL);
		if (!events_rb) die("ring_buffer__new", errno);
		events_seen = 0;
	}
	struct bench_phase ph = {
		.variant = variant, .producers = 1, .producer = test_run_producer, .ncounters = 1,
		.consumers = events_rb ? 1 : 0, .consumer = events_consumer,
		.counters = { { "prog_ns_per_packet", "ns", 0, read_tr_ns, read_tr_runs } },
	};
	bench_run(&env, &ph);
	if (tr.wrong_retval) emit_warn("%s: %llu test runs returned another action than XDP_%s", variant, tr.wrong_retval, action_name(action));
	/* every repetition ran the program: the kernel's repetitions against the program's own counter */
	emit_sample(variant, "packets_sent", "packets", tr.runs, 0);
	int cmap = bpf_map__fd(skel->maps.counters);
	emit_sample(variant, "packets_seen", "packets", percpu_sum(cmap, C_PKTS), 0);
	if (events_rb) {
		emit_sample(variant, "events_received", "events", events_seen, 0);
		emit_sample(variant, "events_dropped", "events", percpu_sum(cmap, C_EV_DROPS), 0);
		emit_sample(variant, "events_expected", "events", percpu_sum(cmap, C_EV) + percpu_sum(cmap, C_EV_DROPS), 0);
		ring_buffer__free(events_rb);
	}
	xdp_bench_bpf__destroy(skel);
}

static int parse_action(const char *s)
{
	if (!strcmp(s, "drop")) return XDP_DROP;
	if (!strcmp(s, "pass")) return XDP_PASS;
	if (!strcmp(s, "tx")) return XDP_TX;
	if (!strcmp(s, "redirect")) return XDP_REDIRECT;
	fprintf(stderr, "unknown action %s (drop, pass, tx, redirect)\n", s);
	exit(2);
}

int main(int argc, char **argv)
{
	opts_init(argc, argv);
	net_init();
	bench_env_from_opts(&env);
	const char *mode = opt_str("mode", "native");
	tx_ns = opt_str("tx-ns", "laba"); tx_dev = opt_str("tx-dev", "va"); tx_mac = opt_str("tx-mac", "02:00:00:00:00:01");
	tx_ip = opt_str("tx-ip", "10.201.0.1");
	rx_ns = opt_str("rx-ns", "labb"); rx_dev = opt_str("rx-dev", "vb"); rx_mac = opt_str("rx-mac", "02:00:00:00:00:02");
	rx_ip = opt_str("rx-ip", "10.201.0.2");
	fwd_ns = opt_str("fwd-ns", rx_ns); fwd_dev = opt_str("fwd-dev", "vc");
	sink_ns = opt_str("sink-ns", "labc"); sink_dev = opt_str("sink-dev", "vd");
	pkt_size = opt_long("pkt-size", 60);
	long sample_every = opt_long("sample-every", 64);
	tr.repeat = opt_long("repeat", 100000);
	if (tr.repeat < 1) { fprintf(stderr, "--repeat must be >= 1\n"); return 2; }
	char actions[128];
	snprintf(actions, sizeof(actions), "%s", opt_str("actions", "drop,pass,tx,redirect"));
	bool baseline = opt_long("baseline", 1), ringbuf = opt_long("ringbuf", 1);
	bool generic = !strcmp(mode, "generic"), test_run = !strcmp(mode, "test_run");
	if (strcmp(mode, "native") && !generic && !test_run) { fprintf(stderr, "--mode native|generic|test_run\n"); return 2; }

	if (test_run) {
		for (char *a = strtok(actions, ","); a; a = strtok(NULL, ",")) run_test_run(parse_action(a), 0);
		if (ringbuf) run_test_run(XDP_DROP, 1);
		return 0;
	}
	if (baseline) run_live("baseline", -1, generic, 0);
	for (char *a = strtok(actions, ","); a; a = strtok(NULL, ",")) {
		char variant[64];
		int act = parse_action(a);
		snprintf(variant, sizeof(variant), "%s_%s", generic ? "generic" : "xdp", action_name(act));
		run_live(variant, act, generic, 0);
	}
	if (ringbuf && !generic) run_live("xdp_drop_ringbuf", XDP_DROP, false, sample_every);
	return 0;
}
