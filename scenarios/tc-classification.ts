import { defineScenario, durations, none } from './define.js';
import { VETH_ARGS, withTopology, TOPOLOGY_METRICS } from './net-topology.js';
import { PACKET_METRICS } from './xdp.js';
import { PROG_METRICS, PROG_METRICS_NOTE } from './prog-metrics.js';

export default defineScenario({
  id: 'tc-classification',
  title: 'cls_bpf classification on clsact ingress vs XDP, on veth',
  description:
    'Same veth topology and pktgen traffic as the xdp scenario (laba/va → labb/vb, 60-byte UDP to port 9). A direct-action ' +
    'cls_bpf program on vb\'s clsact ingress parses Ethernet/IPv4/UDP, looks the destination port up in an array map of ' +
    'class ids, sets skb->tc_classid and returns TC_ACT_OK (tc_classify) or TC_ACT_SHOT (tc_classify_drop); baseline is ' +
    'the same traffic with no program. In the same run and topology the XDP driver measures xdp_drop and xdp_pass in native ' +
    'mode, so TC and XDP rows sit side by side. pps, softirq_ns_per_packet and the packet accounting (packets_sent, ' +
    'send_errors, packets_seen, packets_lost = sent + send_errors − seen, equal to sender_tx_dropped on veth) as in the xdp scenario.' + PROG_METRICS_NOTE,
  requires: { kernel: '5.10', maps: ['percpu_array', 'array'], programs: ['sched_cls', 'xdp'], config: ['VETH', 'NET_NS', 'NET_PKTGEN', 'NET_SCH_INGRESS', 'NET_CLS_BPF', 'NET_CLS_ACT'] },
  covers: [{ entry: 'tc' }],
  params: { pktSize: [60] },
  metrics: {
    ...PACKET_METRICS, packets_classified: none('packets'),
    ...TOPOLOGY_METRICS, ...PROG_METRICS,
  },
  baseline: 'baseline',
  estimateS: (_p, quick) => { const d = durations(quick); return 5 * (d.warmup + d.duration + 1) + 10; },
  async run(ctx, p) {
    const d = durations(ctx.quick);
    await ctx.loadModule('pktgen');
    await ctx.loadModule('sch_ingress');
    await ctx.loadModule('cls_bpf');
    const timing = ['--pkt-size', p.pktSize as number, '--warmup', d.warmup, '--duration', d.duration, '--interval-ms', d.intervalMs];
    await withTopology(ctx, async () => {
      await ctx.runDriver('tc', [...VETH_ARGS, ...timing]);
      await ctx.runDriver('xdp', ['--mode', 'native', ...VETH_ARGS, '--actions', 'drop,pass', '--baseline', 0, '--ringbuf', 0, ...timing]);
    });
  },
  references: [],
});
