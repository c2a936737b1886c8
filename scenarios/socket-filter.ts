import { defineScenario, durations, higher, none } from './define.js';
import { VETH_ARGS, withTopology, TOPOLOGY_METRICS } from './net-topology.js';
import { PACKET_METRICS } from './xdp.js';
import { PROG_METRICS, PROG_METRICS_NOTE } from './prog-metrics.js';

export default defineScenario({
  id: 'socket-filter',
  title: 'Socket filter (BPF_PROG_TYPE_SOCKET_FILTER) on a receiving UDP socket: pps accepted/dropped',
  description:
    'pktgen in laba sends 60-byte UDP frames over veth to port 9 in labb, where a native receiver drains a UDP socket with ' +
    'recvmmsg. The socket has no filter (baseline) or a SO_ATTACH_BPF socket filter that accepts all, drops every second ' +
    'packet or drops all, counting its verdicts in a per-CPU array. pps_received is what the application read; pps_accepted / ' +
    'pps_dropped are the filter\'s verdicts. Packet accounting as in the xdp scenario, with packets_seen = filter runs ' +
    '(baseline: vb rx_packets); packets_received + socket_drops (Udp RcvbufErrors) = packets accepted by the filter.' + PROG_METRICS_NOTE,
  requires: { kernel: '5.10', maps: ['percpu_array'], programs: ['socket_filter'], config: ['VETH', 'NET_NS'] },
  covers: [{ entry: 'socket-filter' }],
  params: { pktSize: [60] },
  metrics: {
    pps_received: higher('packets/s'), pps_accepted: higher('packets/s'), pps_dropped: higher('packets/s'), packets_received: none('packets'),
    packets_accepted: none('packets'), packets_filtered: none('packets'), socket_drops: none('packets'),
    ...Object.fromEntries(Object.entries(PACKET_METRICS).filter(([m]) => m !== 'pps' && m !== 'softirq_ns_per_packet')),
    ...TOPOLOGY_METRICS, ...PROG_METRICS,
  },
  baseline: 'baseline',
  estimateS: (_p, quick) => { const d = durations(quick); return 4 * (d.warmup + d.duration + 1.5) + 10; },
  async run(ctx, p) {
    const d = durations(ctx.quick);
    await ctx.loadModule('pktgen');
    await withTopology(ctx, () => ctx.runDriver('sockfilter', [
      ...VETH_ARGS, '--pkt-size', p.pktSize as number, '--warmup', d.warmup, '--duration', d.duration, '--interval-ms', d.intervalMs,
    ]));
  },
  references: [],
});
