import { defineScenario, durations, higher, lower, none, type Reference } from './define.js';
import { VETH_ARGS, withTopology, TOPOLOGY_METRICS } from './net-topology.js';

export const XDP_PAPER = 'Høiland-Jørgensen et al., "The eXpress Data Path: Fast Programmable Packet Processing in the Operating System Kernel", CoNEXT 2018 (doi 10.1145/3281411.3281443)';
const XDP_SETUP = 'Xeon E5-1650 v4 @ 3.6 GHz, Mellanox ConnectX-5 (mlx5), Linux 4.18-pre, 64-byte packets, single core, native (driver) mode';

/** The paper's single-core numbers, for the native-mode rows. */
export function xdpPaperRefs(params: Record<string, string | number>): Reference[] {
  return [
    { metric: 'pps', variant: 'xdp_drop', params, value: 24e6, unit: 'packets/s', source: XDP_PAPER, setup: `${XDP_SETUP}; XDP_DROP (41.6 ns/packet)` },
    { metric: 'ns_per_packet', variant: 'xdp_drop', params, value: 41.6, unit: 'ns', source: XDP_PAPER, setup: `${XDP_SETUP}; XDP_DROP` },
    { metric: 'pps', variant: 'xdp_tx', params, value: 16.23e6, unit: 'packets/s', source: XDP_PAPER, setup: `${XDP_SETUP}; XDP_TX (paper repo lab notes)` },
    { metric: 'pps', variant: 'xdp_redirect', params, value: 8.65e6, unit: 'packets/s', source: XDP_PAPER, setup: `${XDP_SETUP}; XDP_REDIRECT (paper repo lab notes)` },
  ];
}

export default defineScenario({
  id: 'xdp',
  title: 'XDP actions on veth: pps and ns/packet',
  description:
    'veth pair across two network namespaces (laba/va → labb/vb; a second pair labb/vc → labc/vd as the redirect target). ' +
    'mode=native: pktgen in laba sends 60-byte UDP frames into vb where the program runs in driver mode and counts in a per-CPU ' +
    'array before returning XDP_DROP/PASS/TX/REDIRECT (devmap); baseline is the same traffic with no program (vb rx_packets); ' +
    'xdp_drop_ringbuf also emits one ring-buffer event every 64 frames. mode=generic: the same actions in skb (xdpgeneric) mode, ' +
    'driven by a native AF_PACKET sender loop, never pktgen (pktgen into xdpgeneric crashes 6.1). mode=test_run: BPF_PROG_TEST_RUN ' +
    'with repeat gives the per-packet program cost. ns_per_packet of live modes is 1e9/pps (wall time per received packet, bounded by the sender under TCG); softirq_ns_per_packet is the softirq CPU time of all CPUs (/proc/stat, tick resolution) per counted packet: the receive-side cost including the program. ' +
    'Each run reports packets_sent (pktgen pkts-sofar / sender count), packets_seen (BPF counter) and packets_dropped (frames the sending device sent that the receiving device never got; frames the sending device refused are send_errors and not in packets_sent).',
  requires: { kernel: '5.10', maps: ['percpu_array', 'devmap', 'ringbuf'], programs: ['xdp'] },
  params: { mode: ['native', 'generic', 'test_run'], pktSize: [60, 1500] },
  quickParams: { mode: ['native', 'generic', 'test_run'], pktSize: [60] },
  metrics: {
    pps: higher('packets/s'), ns_per_packet: lower('ns'), softirq_ns_per_packet: lower('ns'), packets_sent: none('packets'), packets_seen: none('packets'), packets_dropped: none('packets'),
    packets_forwarded: none('packets'), send_errors: none('packets'), sender_tx_packets: none('packets'), sender_tx_dropped: none('packets'),
    receiver_rx_packets: none('packets'), receiver_rx_dropped: none('packets'), events_received: none('events'), events_dropped: none('events'), events_expected: none('events'),
    ...TOPOLOGY_METRICS,
  },
  baseline: 'baseline',
  estimateS: (p, quick) => { const d = durations(quick); return p.mode === 'test_run' ? 20 : 6 * (d.warmup + d.duration + 1) + 10; },
  async run(ctx, p) {
    const d = durations(ctx.quick);
    await ctx.loadModule('pktgen');
    await withTopology(ctx, () => ctx.runDriver('xdp', [
      '--mode', p.mode as string, '--pkt-size', p.pktSize as number, ...VETH_ARGS,
      '--repeat', ctx.quick ? 100000 : 1000000, '--sample-every', 64,
      '--warmup', d.warmup, '--duration', d.duration, '--interval-ms', d.intervalMs,
    ]));
  },
  references: xdpPaperRefs({ mode: 'native', pktSize: 60 }),
});
