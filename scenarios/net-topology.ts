/* Shared topology code for the net suite: veth pairs across network namespaces, built by each scenario and
 * torn down afterwards even on failure, plus a leftover check so a run proves scenarios do not leak state. */
import { readdirSync } from 'node:fs';
import { none, type MetricSpec, type ScenarioContext } from './define.js';

export const IP = '/usr/sbin/ip';
/** every namespace the net scenarios create starts with this */
export const NS_PREFIX = 'lab';
export const NS = { a: 'laba', b: 'labb', c: 'labc' };
export const MAC = { va: '02:00:00:00:00:01', vb: '02:00:00:00:00:02', vc: '02:00:00:00:00:03', vd: '02:00:00:00:00:04' };
export const ADDR = { va: '10.201.0.1', vb: '10.201.0.2', vc: '10.201.1.1', vd: '10.201.1.2' };

/** Driver arguments naming the veth topology (va in laba → vb in labb; vc in labb → vd in labc). */
export const VETH_ARGS = [
  '--tx-ns', NS.a, '--tx-dev', 'va', '--tx-mac', MAC.va, '--tx-ip', ADDR.va,
  '--rx-ns', NS.b, '--rx-dev', 'vb', '--rx-mac', MAC.vb, '--rx-ip', ADDR.vb,
  '--fwd-ns', NS.b, '--fwd-dev', 'vc', '--sink-ns', NS.c, '--sink-dev', 'vd',
];

/** The samples checkClean() emits (variant "topology"), for the scenarios' metric tables. */
export const TOPOLOGY_METRICS: Record<string, MetricSpec> = {
  leftover_netns_before: none('count'), leftover_links_before: none('count'), leftover_netns_after: none('count'), leftover_links_after: none('count'),
};

export function labNamespaces(): string[] {
  try { return readdirSync('/run/netns').filter((n) => n.startsWith(NS_PREFIX)); } catch { return []; }
}

/** Root-namespace links that a net scenario could have leaked: our veth names, or anything with XDP attached. */
export async function leakedLinks(ctx: ScenarioContext): Promise<string[]> {
  const r = await ctx.exec([IP, '-d', '-o', 'link', 'show'], { allowFail: true });
  const out: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^\d+: ([^:@]+)[@:]/.exec(line);
    if (!m) continue;
    const name = m[1];
    if (/^v[abcd]$/.test(name) || /\sxdp(generic|drv|offload)?\s/.test(line) || /prog\/xdp/.test(line)) out.push(name);
  }
  return out;
}

/** Delete our namespaces (which destroys their veths) and wait until they are gone. */
export async function teardown(ctx: ScenarioContext, extra?: () => Promise<void>): Promise<void> {
  if (extra) await extra().catch((e) => ctx.warn(`teardown: ${String(e)}`));
  for (const ns of labNamespaces()) await ctx.exec([IP, 'netns', 'del', ns], { allowFail: true });
  // namespace destruction is asynchronous: wait for the veth ends to disappear from the kernel
  for (let i = 0; i < 50; i++) {
    const r = await ctx.exec(['/bin/busybox', 'cat', '/proc/net/dev'], { allowFail: true });
    if (!/\bv[abcd]:/.test(r.stdout)) break;
    await new Promise((res) => setTimeout(res, 100));
  }
}

/**
 * Emit the topology check samples (variant "topology"): namespaces/links found before this scenario built anything
 * (left over by an earlier scenario) and after its own teardown. A clean run has all of them 0.
 */
export async function checkClean(ctx: ScenarioContext, when: 'before' | 'after'): Promise<void> {
  const ns = labNamespaces();
  const links = await leakedLinks(ctx);
  if (ns.length || links.length) ctx.warn(`topology ${when}: leftover netns [${ns.join(' ')}] links [${links.join(' ')}]`);
  ctx.sample({ variant: 'topology', metric: `leftover_netns_${when}`, unit: 'count', value: ns.length, repetition: 0 });
  ctx.sample({ variant: 'topology', metric: `leftover_links_${when}`, unit: 'count', value: links.length, repetition: 0 });
}

/** No IPv6 on links created in these namespaces: no router/neighbour solicitations mixed into the counted traffic. */
export async function quietNamespaces(ctx: ScenarioContext, names: string[]): Promise<void> {
  for (const n of names) {
    await ctx.exec(['/usr/bin/nsenter', `--net=/run/netns/${n}`, '/bin/busybox', 'sh', '-c',
      'echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6'], { allowFail: true });
  }
}

async function ipAll(ctx: ScenarioContext, cmds: string[][]): Promise<void> {
  for (const c of cmds) await ctx.exec([IP, ...c]);
}

/** Build the veth topology: laba/va ↔ labb/vb, labb/vc ↔ labc/vd, addresses and fixed MACs, all up. */
export async function buildVeth(ctx: ScenarioContext): Promise<void> {
  await ctx.loadModule('veth');
  await ipAll(ctx, [
    ['netns', 'add', NS.a], ['netns', 'add', NS.b], ['netns', 'add', NS.c],
  ]);
  await quietNamespaces(ctx, [NS.a, NS.b, NS.c]);
  await ipAll(ctx, [
    ['link', 'add', 'va', 'netns', NS.a, 'address', MAC.va, 'type', 'veth', 'peer', 'name', 'vb', 'netns', NS.b, 'address', MAC.vb],
    ['link', 'add', 'vc', 'netns', NS.b, 'address', MAC.vc, 'type', 'veth', 'peer', 'name', 'vd', 'netns', NS.c, 'address', MAC.vd],
    ['-n', NS.a, 'addr', 'add', `${ADDR.va}/24`, 'dev', 'va'],
    ['-n', NS.b, 'addr', 'add', `${ADDR.vb}/24`, 'dev', 'vb'],
    ['-n', NS.b, 'addr', 'add', `${ADDR.vc}/24`, 'dev', 'vc'],
    ['-n', NS.c, 'addr', 'add', `${ADDR.vd}/24`, 'dev', 'vd'],
    ...[[NS.a, 'va'], [NS.b, 'vb'], [NS.b, 'vc'], [NS.c, 'vd'], [NS.a, 'lo'], [NS.b, 'lo'], [NS.c, 'lo']].map(([n, d]) => ['-n', n, 'link', 'set', d, 'up']),
  ]);
}

/**
 * Run `body` on a freshly built topology: check for leftovers, clean them, build, run, always tear down, and check
 * again. `build` defaults to the veth topology.
 */
export async function withTopology(ctx: ScenarioContext, body: () => Promise<void>,
  o: { build?: () => Promise<void>; teardownExtra?: () => Promise<void> } = {}): Promise<void> {
  await checkClean(ctx, 'before');
  await teardown(ctx, o.teardownExtra);
  try {
    await (o.build ?? (() => buildVeth(ctx)))();
    await body();
  } finally {
    await teardown(ctx, o.teardownExtra);
    await checkClean(ctx, 'after');
  }
}
