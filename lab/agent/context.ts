import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { release, cpus } from 'node:os';
import { Sample, type Features, type GuestMessage } from './protocol.js';
import { ScenarioSkip, type ScenarioContext } from '../../scenarios/define.js';
import { execCommand, howItEnded } from './command.js';

const MODULE_DIR = '/run/lab/modules';
const loaded = new Set<string>();

/** The ScenarioContext a scenario's run() sees inside the guest. */
export function makeContext(o: { id: number; quick: boolean; buildDir: string; features: Features | null; tools?: Record<string, string>; send: (m: GuestMessage) => void }): ScenarioContext {
  const { id, send } = o;
  const ctx: ScenarioContext = {
    quick: o.quick,
    release: release(),
    vcpus: cpus().length,
    features: o.features,
    buildDir: o.buildDir,
    bin: (name) => join(o.buildDir, 'bin', name),
    tool(name) {
      const path = o.tools?.[name];
      if (!path) throw new Error(`the host did not build ${name} for this kernel (declare it in the scenario's hostTools)`);
      return path;
    },
    sample: (s) => send({ id, type: 'sample', sample: s }),
    log: (msg) => send({ id, type: 'log', msg }),
    warn: (msg) => send({ id, type: 'warning', msg }),
    skipVariant: (variant, reason) => send({ id, type: 'skipped', variant, reason }),
    progress: (label, done, total) => send({ id, type: 'progress', label, done, total }),
    async runDriver(name, args) {
      let skip: string | undefined;
      let samples = 0;
      const argv = [ctx.bin(name), ...args.map(String)];
      const r = await execCommand(argv, 3600_000, (line) => {
        let m: { type?: string; [k: string]: unknown };
        try { m = JSON.parse(line); } catch { ctx.log(`${name}: ${line}`); return; }
        if (m.type === 'sample') {
          const { type: _t, ...rest } = m;
          const s = Sample.safeParse(rest);
          if (s.success) { samples++; ctx.sample(s.data); }
          else ctx.warn(`${name}: malformed sample line dropped: ${line}`);
        } else if (m.type === 'log') ctx.log(`${name}: ${m.msg}`);
        else if (m.type === 'warn') ctx.warn(`${name}: ${m.msg}`);
        else if (m.type === 'skip') {
          // a skip that names its variant, or comes after samples, ends only that part: what was measured stays
          if (typeof m.variant === 'string' && m.variant) ctx.skipVariant(m.variant, String(m.reason));
          else if (samples > 0) ctx.skipVariant('(variants after the last measured one)', String(m.reason));
          else skip = String(m.reason);
        } else ctx.warn(`${name}: unknown message type '${String(m.type)}': ${line}`);
      });
      if (skip) throw new ScenarioSkip(skip);
      if (r.code !== 0) {
        const tail = r.stderr.trim().split('\n').slice(-4).join(' | ');
        throw new Error(`${name} ${howItEnded(r)}: ${tail || 'no error output'}`);
      }
    },
    async loadModule(name) {
      if (loaded.has(name)) return;
      const plan: Record<string, string[]> = JSON.parse(readFileSync(join(MODULE_DIR, 'plan.json'), 'utf8'));
      if (!plan[name]) {
        // built into this kernel, or not shipped: nothing to insmod
        loaded.add(name);
        return;
      }
      for (const m of plan[name]) {
        if (loaded.has(m)) continue;
        const r = await execCommand(['/bin/busybox', 'insmod', join(MODULE_DIR, `${m}.ko`)], 30000);
        if (r.code !== 0 && !/File exists/.test(r.stderr)) throw new Error(`insmod ${m} failed: ${r.stderr.trim()}`);
        loaded.add(m);
      }
      loaded.add(name);
    },
    async exec(argv, opts) {
      const r = await execCommand(argv, 120000);
      if (r.code !== 0 && !opts?.allowFail) throw new Error(`${argv.join(' ')} ${howItEnded(r)}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      return r;
    },
  };
  return ctx;
}
