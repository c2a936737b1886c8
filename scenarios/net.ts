/* The networking lab (suite "net"): XDP and TC on veth and virtio-net, socket filters, sock_ops. */
import type { ScenarioDefinition } from './define.js';
import xdp from './xdp.js';
import tcClassification from './tc-classification.js';
import socketFilter from './socket-filter.js';
import sockOps from './sock-ops.js';
import xdpVirtio from './xdp-virtio.js';

export const netScenarios: ScenarioDefinition[] = [xdp, xdpVirtio, tcClassification, socketFilter, sockOps];
export const NET_SUITE = netScenarios.map((s) => s.id);
