import { existsSync } from 'node:fs';
import { defineScenario, durations, higher, none } from './define.js';
import { withTopology, TOPOLOGY_METRICS } from './net-topology.js';
import { PROG_METRICS, PROG_METRICS_NOTE } from './prog-metrics.js';

const CGROUP = '/sys/fs/cgroup/labsockops';

export default defineScenario({
  id: 'sock-ops',
  title: 'sock_ops program on a cgroup: TCP connections/s and bytes/s over veth, with and without',
  description:
    'TCP between laba (client) and labb (server, 10.201.0.2) over the veth pair, both sides in the driver process, which ' +
    'moves itself into the cgroup2 group /sys/fs/cgroup/labsockops. baseline runs with nothing attached; sockops ' +
    'attaches a BPF_PROG_TYPE_SOCK_OPS program (BPF_CGROUP_SOCK_OPS) that counts callbacks by op and enables state ' +
    'callbacks on established connections. connections_per_s: connect/accept/close loop (RST close, no TIME_WAIT); mb_per_s: ' +
    'one connection streaming 64 KiB writes. The program must see one active and one passive established callback per connection.' + PROG_METRICS_NOTE,
  requires: { kernel: '5.10', maps: ['percpu_array'], programs: ['sock_ops'], config: ['CGROUP_BPF', 'VETH', 'NET_NS'] },
  covers: [{ entry: 'sock-ops' }],
  params: { phase: ['all'] },
  metrics: {
    connections_per_s: higher('conn/s'), mb_per_s: higher('MB/s'), connections: none('connections'), connections_accepted: none('connections'), bytes_streamed: none('bytes'),
    ops_active_established: none('callbacks'), ops_passive_established: none('callbacks'), ops_total: none('callbacks'),
    ...TOPOLOGY_METRICS, ...PROG_METRICS,
  },
  baseline: 'baseline',
  estimateS: (_p, quick) => { const d = durations(quick); return 4 * (d.warmup + d.duration + 1) + 10; },
  async run(ctx) {
    const d = durations(ctx.quick);
    await withTopology(ctx, () => ctx.runDriver('sockops', [
      '--tx-ns', 'laba', '--rx-ns', 'labb', '--rx-ip', '10.201.0.2', '--cgroup', CGROUP,
      '--warmup', d.warmup, '--duration', d.duration, '--interval-ms', d.intervalMs,
    ]), {
      teardownExtra: async () => {
        // a driver that died inside the cgroup leaves it behind (empty, since the process is gone)
        if (existsSync(CGROUP)) await ctx.exec(['/bin/busybox', 'rmdir', CGROUP], { allowFail: true });
      },
    });
  },
  references: [],
});
