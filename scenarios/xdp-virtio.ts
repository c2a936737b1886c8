import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { defineScenario, durations, none, ScenarioSkip, type ScenarioContext } from './define.js';
import { IP, NS, MAC, quietNamespaces, withTopology, TOPOLOGY_METRICS } from './net-topology.js';
import { xdpPaperRefs, PACKET_METRICS } from './xdp.js';
import { PROG_METRICS, PROG_METRICS_NOTE } from './prog-metrics.js';

const VMAC = { tx: '02:00:00:00:01:01', rx: '02:00:00:00:01:02' };
const VADDR = { tx: '10.202.0.1', rx: '10.202.0.2' };

/** The hub NICs, as the guest kernel names them (no udev in the guest: eth0, eth1, ...), in the root netns. */
function hubNics(): string[] {
  try { return readdirSync('/sys/class/net').filter((n) => /^eth\d+$/.test(n)).sort(); } catch { return []; }
}

/** virtio feature bits that are guest receive offloads (GRO_HW/CSUM): virtio_net refuses XDP while the host implements them */
const GUEST_OFFLOAD_BITS: Record<number, string> = { 1: 'GUEST_CSUM', 7: 'GUEST_TSO4', 8: 'GUEST_TSO6', 9: 'GUEST_ECN', 10: 'GUEST_UFO' };

/** Guest offloads the device negotiated (/sys/class/net/DEV/device/features: one '0'/'1' per feature bit). */
function guestOffloads(dev: string): string[] {
  try {
    const bits = readFileSync(`/sys/class/net/${dev}/device/features`, 'utf8').trim();
    return Object.entries(GUEST_OFFLOAD_BITS).filter(([b]) => bits[Number(b)] === '1').map(([, n]) => n);
  } catch { return ['(features unreadable)']; }
}

/** Turn receive offloads off with ethtool when there is one; the host has none today, so this is usually a no-op. */
async function ethtoolOffloadsOff(ctx: ScenarioContext, ns: string, dev: string): Promise<void> {
  for (const tool of ['/usr/sbin/ethtool', '/sbin/ethtool']) {
    if (!existsSync(tool)) continue;
    const r = await ctx.exec(['/usr/bin/nsenter', `--net=/run/netns/${ns}`, tool, '-K', dev, 'gro', 'off', 'lro', 'off', 'rx-gro-hw', 'off'], { allowFail: true });
    ctx.log(`${tool} -K ${dev} gro/lro/rx-gro-hw off: exit ${r.code}`);
    return;
  }
}

export default defineScenario({
  id: 'xdp-virtio',
  title: 'XDP actions on virtio-net (two guest NICs on a QEMU hub)',
  description:
    'Two virtio-net NICs on a QEMU-internal hub (no host network): eth0 moved into laba (sender), eth1 into labb (receiver), ' +
    'plus a veth pair labb/vc → labc/vd as the XDP_REDIRECT target. pktgen on eth0 sends 60-byte UDP frames through the hub ' +
    'into eth1, where xdp_main runs in native (driver) mode: baseline, xdp_drop, xdp_pass, xdp_tx (MACs swapped, back through ' +
    'the hub to eth0 where xdp_sink counts), xdp_redirect (devmap to vc, counted on vd), xdp_drop_ringbuf. Offloads: no ethtool ' +
    'on the host (used when present); the hub backend offers no guest TSO/CSUM (guest_offloads_negotiated records the ' +
    'negotiated bits) and virtio_net drops guest offloads itself on XDP attach. XDP_TX needs TX queues: with one queue ' +
    'pair and 2 vCPUs the driver shares them (worked on 5.10, 6.1, 6.12, 7.3); if the attach fails the run is skipped with ' +
    'the kernel\'s extack message. The NICs are moved back to the root namespace afterwards. Metrics as in the xdp scenario; ' +
    'packets_lost (sent + send_errors − seen) also counts frames lost inside QEMU\'s hub, which the guest cannot see, so here it ' +
    'is at least sender_tx_dropped rather than equal to it.' + PROG_METRICS_NOTE,
  requires: { kernel: '5.10', maps: ['percpu_array', 'devmap', 'ringbuf'], programs: ['xdp'], config: ['VIRTIO_NET', 'NET_NS', 'NET_PKTGEN'] },
  covers: [{ entry: 'xdp' }, { entry: 'map:devmap', variants: ['xdp_redirect'] }],
  params: { mode: ['native'], pktSize: [60] },
  metrics: {
    ...PACKET_METRICS, packets_forwarded: none('packets'), events_received: none('events'), events_dropped: none('events'), events_expected: none('events'),
    hub_nics_missing_after: none('count'), guest_offloads_negotiated: none('count'),
    ...TOPOLOGY_METRICS, ...PROG_METRICS,
  },
  baseline: 'baseline',
  vm: { hubNics: 2 },
  estimateS: (_p, quick) => { const d = durations(quick); return 6 * (d.warmup + d.duration + 1) + 15; },
  async run(ctx, p) {
    const d = durations(ctx.quick);
    await ctx.loadModule('virtio_net');
    await ctx.loadModule('pktgen');
    await ctx.loadModule('veth');
    let nics: string[] = [];
    for (let i = 0; i < 50 && (nics = hubNics()).length < 2; i++) await new Promise((r) => setTimeout(r, 100));
    if (nics.length < 2) throw new ScenarioSkip(`needs 2 hub NICs (virtio-net), the guest has ${nics.length}: [${nics.join(' ')}]`);
    const [txDev, rxDev] = nics;
    // offloads: no ethtool on the host; the hub backend has no vnet header, so QEMU offers no guest offloads, and with
    // VIRTIO_NET_F_CTRL_GUEST_OFFLOADS virtio_net would clear them itself on XDP attach. Record what was negotiated.
    const offl = [...guestOffloads(txDev), ...guestOffloads(rxDev)];
    ctx.log(`guest receive offloads negotiated on ${txDev}/${rxDev}: ${offl.length ? offl.join(' ') : 'none'}`);
    ctx.sample({ variant: 'topology', metric: 'guest_offloads_negotiated', unit: 'count', value: offl.length, repetition: 0 });
    const moveBack = async () => {
      for (const [ns, dev] of [[NS.a, txDev], [NS.b, rxDev]]) {
        await ctx.exec([IP, '-n', ns, 'link', 'set', dev, 'xdp', 'off'], { allowFail: true });
        await ctx.exec([IP, '-n', ns, 'link', 'set', dev, 'down'], { allowFail: true });
        await ctx.exec([IP, '-n', ns, 'link', 'set', dev, 'netns', '1'], { allowFail: true });
      }
    };
    try {
      await withTopology(ctx, () => ctx.runDriver('xdp', [
        '--mode', 'native', '--pkt-size', p.pktSize as number,
        '--tx-ns', NS.a, '--tx-dev', txDev, '--tx-mac', VMAC.tx, '--tx-ip', VADDR.tx,
        '--rx-ns', NS.b, '--rx-dev', rxDev, '--rx-mac', VMAC.rx, '--rx-ip', VADDR.rx,
        '--fwd-ns', NS.b, '--fwd-dev', 'vc', '--sink-ns', NS.c, '--sink-dev', 'vd', '--sample-every', 64,
        '--warmup', d.warmup, '--duration', d.duration, '--interval-ms', d.intervalMs,
      ]), {
        teardownExtra: moveBack,
        build: async () => {
          for (const ns of [NS.a, NS.b, NS.c]) await ctx.exec([IP, 'netns', 'add', ns]);
          await quietNamespaces(ctx, [NS.a, NS.b, NS.c]);
          const cmds: string[][] = [
            ['link', 'set', txDev, 'down'], ['link', 'set', rxDev, 'down'],
            ['link', 'set', txDev, 'address', VMAC.tx], ['link', 'set', rxDev, 'address', VMAC.rx],
            ['link', 'set', txDev, 'netns', NS.a], ['link', 'set', rxDev, 'netns', NS.b],
            ['-n', NS.a, 'addr', 'add', `${VADDR.tx}/24`, 'dev', txDev], ['-n', NS.b, 'addr', 'add', `${VADDR.rx}/24`, 'dev', rxDev],
            ['-n', NS.a, 'link', 'set', txDev, 'up'], ['-n', NS.b, 'link', 'set', rxDev, 'up'],
            ['link', 'add', 'vc', 'netns', NS.b, 'address', MAC.vc, 'type', 'veth', 'peer', 'name', 'vd', 'netns', NS.c, 'address', MAC.vd],
            ['-n', NS.b, 'link', 'set', 'vc', 'up'], ['-n', NS.c, 'link', 'set', 'vd', 'up'],
          ];
          for (const c of cmds) await ctx.exec([IP, ...c]);
          await ethtoolOffloadsOff(ctx, NS.a, txDev);
          await ethtoolOffloadsOff(ctx, NS.b, rxDev);
        },
      });
    } finally {
      // the hub NICs must be back in the root namespace for the next scenario
      const missing = nics.filter((n) => !hubNics().includes(n)).length;
      if (missing) ctx.warn(`hub NICs missing from the root netns after teardown: ${nics.filter((n) => !hubNics().includes(n)).join(' ')}`);
      ctx.sample({ variant: 'topology', metric: 'hub_nics_missing_after', unit: 'count', value: missing, repetition: 0 });
    }
  },
  references: xdpPaperRefs({ mode: 'native', pktSize: 60 }, 'virtio-net through a QEMU hub'),
});
