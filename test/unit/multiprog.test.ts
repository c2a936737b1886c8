import test from 'ava';
import multiProgram from '../../scenarios/multi-program-attachment.js';
import { ScenarioSkip, type ScenarioContext } from '../../scenarios/define.js';
import type { Features } from '../../lab/agent/protocol.js';

const features = (programs: Record<string, boolean>): Features => ({ maps: {}, programs, helpers: {}, btf: true });

function context(release: string, f: Features | null) {
  const runs: (string | number)[][] = [];
  const ctx = { quick: true, release, features: f, runDriver: async (name: string, args: (string | number)[]) => { runs.push([name, ...args]); } } as unknown as ScenarioContext;
  return { ctx, runs };
}

test('multi-program-attachment: a hook the kernel cannot have is a skipped run naming the hook and the reason; the others run the driver', async (t) => {
  const old = context('5.10.0-32-cloud-amd64', features({ kprobe: true, tracepoint: true, tracing: false, xdp: true }));
  await t.throwsAsync(multiProgram.run(old.ctx, { hook: 'kprobe_multi', programs: 4 }), { instanceOf: ScenarioSkip, message: /hook kprobe_multi: needs kernel 5\.18\+/ });
  await t.throwsAsync(multiProgram.run(old.ctx, { hook: 'fentry', programs: 4 }), { instanceOf: ScenarioSkip, message: /hook fentry: program type tracing not supported/ });
  await multiProgram.run(old.ctx, { hook: 'xdp', programs: 16 });
  t.deepEqual(old.runs, [['multiprog', '--hook', 'xdp', '--programs', 16, '--repeat', 10000, '--warmup', 0.5, '--duration', 2, '--interval-ms', 500]]);

  const now = context('6.12.117+deb13-cloud-amd64', features({ kprobe: true, tracepoint: true, tracing: true, xdp: true }));
  for (const hook of ['kprobe', 'kprobe_multi', 'tracepoint', 'fentry']) await multiProgram.run(now.ctx, { hook, programs: 1 });
  t.deepEqual(now.runs.map((r) => r[2]), ['kprobe', 'kprobe_multi', 'tracepoint', 'fentry']);
  await t.throwsAsync(multiProgram.run(now.ctx, { hook: 'uprobe', programs: 1 }), { message: /unknown hook 'uprobe'/ });
});
