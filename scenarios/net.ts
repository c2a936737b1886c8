/* The networking lab (suite "net"): XDP and TC on veth and virtio-net, socket filters, sock_ops. */
import type { ScenarioDefinition } from './define.js';
import xdp from './xdp.js';

export const netScenarios: ScenarioDefinition[] = [xdp];
export const NET_SUITE = netScenarios.map((s) => s.id);
