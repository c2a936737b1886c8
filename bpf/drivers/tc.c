/* cls_bpf driver for the tc-classification scenario, on the sampling core: pktgen (sender netns) → receiver with a
 * direct-action cls_bpf program on clsact ingress that looks the UDP destination port up in an array map of class ids.
 * Variants: baseline (no program: receiver rx_packets), tc_classify (verdict TC_ACT_OK: classified frames go on
 * to the stack), tc_classify_drop (TC_ACT_SHOT after classifying). Per variant: pps and softirq_ns_per_packet per
 * interval, then the phase's accounting (net_totals in net.h) and packets_classified (map hits). */
#include "net.h"
#include "tc_classify.skel.h"

enum { C_PKTS, C_MATCHED, C_BYTES };

static const char *tx_ns, *tx_dev, *rx_ns, *rx_dev, *rx_mac, *rx_ip;
static int pkt_size;
static struct bench_env env;

static void run(const char *variant, int verdict)
{
	struct tc_classify_bpf *skel = NULL;
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, topts, .handle = 1, .priority = 1);
	if (verdict >= 0) {
		skel = tc_classify_bpf__open();
		if (!skel) die("open tc_classify.bpf.o", errno);
		skel->rodata->verdict = verdict;
		prog_stats_before_load(skel->obj);
		int err = tc_classify_bpf__load(skel);
		if (err) die("load tc_classify.bpf.o", err);
		net_prog_stats(skel->obj, variant);
		/* class ids: UDP port p (mod 256) → 1:(p+1) for a few ports, like a small classification table */
		for (__u32 port = 1; port < 64; port++) {
			__u32 cls = 0x10000 | (port + 1);
			bpf_map_update_elem(bpf_map__fd(skel->maps.classes), &port, &cls, BPF_ANY);
		}
		enter_ns(rx_ns);
		hook.ifindex = if_nametoindex(rx_dev);
		err = bpf_tc_hook_create(&hook);
		if (err && err != -EEXIST) { enter_ns(NULL); die("create clsact qdisc", err); }
		topts.prog_fd = bpf_program__fd(skel->progs.classify);
		err = bpf_tc_attach(&hook, &topts);
		enter_ns(NULL);
		if (err) {
			emit_skip_variant(variant, "cls_bpf attach on %s ingress failed: %s %s", rx_dev, strerror(-err), lab_kernel_msg);
			enter_ns(rx_ns);
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
			enter_ns(NULL);
			tc_classify_bpf__destroy(skel);
			return;
		}
	}
	rx_counter = (struct net_rx){ skel ? bpf_map__fd(skel->maps.counters) : -1, C_PKTS, rx_ns, rx_dev };
	sender_pktgen(tx_ns, tx_dev, rx_ip, rx_mac, pkt_size, 9);
	struct net_mark m0 = net_mark(tx_ns, tx_dev);
	struct bench_phase ph = {
		.variant = variant, .producers = 1, .producer = sender_producer, .stop = sender_stop, .drain = net_settle,
		.ncounters = 2, .counters = { NET_PPS_COUNTERS },
	};
	bench_run(&env, &ph);
	net_totals(variant, &m0, tx_ns, tx_dev);
	if (skel) emit_sample(variant, "packets_classified", "packets", percpu_sum(rx_counter.cmap, C_MATCHED), 0);
	if (skel) {
		enter_ns(rx_ns);
		topts.prog_fd = topts.prog_id = 0; topts.flags = 0;
		bpf_tc_detach(&hook, &topts);
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS; /* removes the clsact qdisc */
		bpf_tc_hook_destroy(&hook);
		enter_ns(NULL);
		tc_classify_bpf__destroy(skel);
	}
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
	run("tc_classify", 0 /* TC_ACT_OK */);
	run("tc_classify_drop", 2 /* TC_ACT_SHOT */);
	return 0;
}
