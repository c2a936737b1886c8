import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { parseParamFlags, type ParamFilter } from './param-filter.js';

export type Command =
  | { cmd: 'run'; kernel: string; scenario?: string; suite?: string; quick: boolean; out: string; accel: 'auto' | 'kvm' | 'tcg'; cpus: number; memoryMb: number; json: boolean; verbose: boolean; params: ParamFilter; rounds: number }
  | { cmd: 'kernels'; json: boolean }
  | { cmd: 'kernels-build'; source: string; name?: string; jobs?: number; json: boolean }
  | { cmd: 'scenarios'; json: boolean }
  /** accel only when given: reproduce uses the recorded accelerator unless told otherwise */
  | { cmd: 'reproduce'; runDir: string; out: string; accel?: 'auto' | 'kvm' | 'tcg'; threshold: number; params: ParamFilter; json: boolean; verbose: boolean }
  | { cmd: 'compare'; a: string; b: string; threshold: number; json: boolean }
  | { cmd: 'report'; runDir: string }
  | { cmd: 'exec'; kernel: string; argv: string[]; accel: 'auto' | 'kvm' | 'tcg'; cpus: number; memoryMb: number; json: boolean; verbose: boolean }
  | { cmd: 'plan'; kernel: string; scenario?: string; suite?: string; quick: boolean; shards: number; params: ParamFilter; out?: string; accel?: 'auto' | 'kvm' | 'tcg'; cpus?: number; memory?: string }
  | { cmd: 'merge'; dirs: string[]; out: string; allowMixed: boolean; json: boolean }
  | { cmd: 'help' };

const OPTIONS = {
  kernel: { type: 'string' }, scenario: { type: 'string' }, suite: { type: 'string' }, quick: { type: 'boolean' },
  full: { type: 'boolean' }, out: { type: 'string' }, accel: { type: 'string' }, cpus: { type: 'string' }, memory: { type: 'string' },
  json: { type: 'boolean' }, name: { type: 'string' }, jobs: { type: 'string' }, verbose: { type: 'boolean', short: 'v' }, threshold: { type: 'string' }, help: { type: 'boolean', short: 'h' },
  param: { type: 'string', multiple: true }, shards: { type: 'string' }, 'allow-mixed': { type: 'boolean' },
  container: { type: 'boolean' }, rounds: { type: 'string' },
} as const;

/** `--container` (before any `--`): run the same command inside the lab image (see lab/container). */
export function wantsContainer(argv: string[]): boolean {
  const sep = argv.indexOf('--');
  return (sep < 0 ? argv : argv.slice(0, sep)).includes('--container');
}

export const USAGE = `usage: npm run lab -- [--kernel LINE|NAME|PATH|oci:REF@sha256:D[,...]|all] [--scenario ID[,ID...] | --suite NAME] [--quick|--full]
                      [--out DIR] [--accel auto|kvm|tcg] [--cpus N] [--memory SIZE] [--rounds N] [--json] [--verbose]
                      [--param KEY=VALUE[,VALUE...]]...   (a subset of the scenarios' parameter matrix)
       npm run lab -- exec [--kernel LINE] -- COMMAND [ARG...]   (boot, run one command as guest root, power off)
       npm run lab -- reproduce RUN_DIR [--param KEY=VALUE...] [--threshold PCT] [--accel A] [--out DIR]
       npm run lab -- compare RUN_DIR RUN_DIR [--threshold PCT] [--json]   (exit 1 on a significant regression)
       npm run lab -- report RUN_DIR   (write the run's report, charts and benchmark.json again from its CSV)
       npm run lab -- plan [--kernel ...] [--scenario ...|--suite NAME] [--quick] [--param ...] --shards N   (a CI job matrix, JSON)
       npm run lab -- merge RUN_DIR... [--out DIR] [--allow-mixed]   (shards' run directories into one run)
       npm run lab -- kernels build SOURCE [--name NAME] [--jobs N]   (SOURCE: kernel tarball or source tree)
       npm run lab -- kernels | scenarios
       npm run lab -- --container ...   (the same command inside the lab image, on Docker or rootless Podman)
With no arguments: the default suite in quick mode on the default kernel.`;

/** Memory sizes like 2G, 1536M, 2048 (MiB). */
export function parseMemory(s: string): number {
  const m = /^(\d+)([MG]i?B?)?$/i.exec(s.trim());
  if (!m) throw new UsageError(`--memory '${s}' is not a size; use e.g. 2G or 1536M`);
  const n = Number(m[1]) * (m[2] && /^g/i.test(m[2]) ? 1024 : 1);
  if (n < 256) throw new UsageError(`--memory must be at least 256M, got ${s}`);
  return n;
}

export function parseCommand(argv: string[], defaults: { kernel: string; suite: string }): Command {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0].replace(/\. To specify a positional.*$/, '');
    throw new UsageError(`${msg}; valid flags: ${Object.keys(OPTIONS).map((k) => `--${k}`).join(' ')}`);
  }
  const { values: v, positionals: pos } = parsed;
  if (v.help) return { cmd: 'help' };
  const accel = (v.accel ?? 'auto') as string;
  if (!['auto', 'kvm', 'tcg'].includes(accel)) throw new UsageError(`--accel '${accel}' is not valid; use auto, kvm or tcg`);
  const sub = pos[0];
  const params = parseParamFlags(v.param ?? []);
  if (v.param?.length && !(sub === undefined || sub === 'run' || sub === 'reproduce' || sub === 'plan')) {
    throw new UsageError('--param applies to a run, plan or reproduce only');
  }
  if (v.shards !== undefined && sub !== 'plan') throw new UsageError('--shards applies to plan only');
  if (v['allow-mixed'] && sub !== 'merge') throw new UsageError('--allow-mixed applies to merge only');
  const threshold = v.threshold === undefined ? 5 : Number(v.threshold);
  if (v.threshold !== undefined && (v.threshold.trim() === '' || !Number.isFinite(threshold) || threshold < 0)) {
    throw new UsageError(`--threshold '${v.threshold}' must be a percentage (a number ≥ 0, e.g. 5)`);
  }
  switch (sub) {
    case undefined:
    case 'run': {
      if (pos.length > (sub ? 1 : 0)) throw new UsageError(`unexpected argument '${pos[sub ? 1 : 0]}'; commands: run, exec, kernels, scenarios, reproduce, compare, report, plan, merge`);
      if (v.scenario && v.suite) throw new UsageError('give --scenario or --suite, not both');
      if (v.quick && v.full) throw new UsageError('give --quick or --full, not both');
      const cpus = v.cpus === undefined ? 2 : Number(v.cpus);
      if (!Number.isInteger(cpus) || cpus < 1 || cpus > 64) throw new UsageError(`--cpus '${v.cpus}' must be an integer 1..64`);
      const noSelection = !v.scenario && !v.suite;
      const rounds = v.rounds === undefined ? 1 : Number(v.rounds);
      if (!Number.isInteger(rounds) || rounds < 1 || rounds > 50) throw new UsageError(`--rounds '${v.rounds}' must be an integer 1..50`);
      return {
        cmd: 'run', kernel: v.kernel ?? defaults.kernel, scenario: v.scenario, suite: v.suite ?? (v.scenario ? undefined : defaults.suite),
        // `npm run lab` alone is the quick smoke run; an explicit selection runs full durations unless --quick
        quick: v.quick ?? (v.full ? false : noSelection),
        out: v.out ?? 'results', accel: accel as 'auto', cpus, memoryMb: v.memory ? parseMemory(v.memory) : 2048,
        json: !!v.json, verbose: !!v.verbose, params, rounds,
      };
    }
    case 'exec': {
      if (pos.length < 2) throw new UsageError('usage: npm run lab -- exec [--kernel LINE] -- COMMAND [ARG...]');
      const cpus = v.cpus === undefined ? 2 : Number(v.cpus);
      if (!Number.isInteger(cpus) || cpus < 1 || cpus > 64) throw new UsageError(`--cpus '${v.cpus}' must be an integer 1..64`);
      return { cmd: 'exec', kernel: v.kernel ?? defaults.kernel, argv: pos.slice(1), accel: accel as 'auto', cpus, memoryMb: v.memory ? parseMemory(v.memory) : 2048, json: !!v.json, verbose: !!v.verbose };
    }
    case 'kernels': {
      if (pos[1] === 'build') {
        if (pos.length !== 3) throw new UsageError('usage: npm run lab -- kernels build SOURCE [--name NAME] [--jobs N]  (SOURCE: a linux-*.tar.xz or a kernel source tree)');
        if (v.name !== undefined && !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(v.name)) throw new UsageError(`--name '${v.name}' must be letters, digits, '.', '_' or '-' (at most 64)`);
        const jobs = v.jobs === undefined ? undefined : Number(v.jobs);
        if (jobs !== undefined && (!Number.isInteger(jobs) || jobs < 1 || jobs > 256)) throw new UsageError(`--jobs '${v.jobs}' must be an integer 1..256`);
        return { cmd: 'kernels-build', source: pos[2], name: v.name, jobs, json: !!v.json };
      }
      if (pos.length > 1) throw new UsageError(`unknown kernels subcommand '${pos[1]}'; use: kernels, kernels build SOURCE [--name NAME]`);
      return { cmd: 'kernels', json: !!v.json };
    }
    case 'scenarios':
      return { cmd: sub, json: !!v.json };
    case 'reproduce':
      if (pos.length !== 2) throw new UsageError('usage: npm run lab -- reproduce RUN_DIR [--param KEY=VALUE...] [--threshold PCT]');
      for (const f of ['kernel', 'scenario', 'suite', 'quick', 'full', 'cpus', 'memory', 'rounds'] as const) {
        if (v[f] !== undefined) throw new UsageError(`reproduce takes --${f} from the run's manifest; narrow it with --param`);
      }
      return { cmd: 'reproduce', runDir: pos[1], out: v.out ?? 'results', accel: v.accel === undefined ? undefined : accel as 'auto', threshold, params, json: !!v.json, verbose: !!v.verbose };
    case 'compare': {
      if (pos.length !== 3) throw new UsageError('usage: npm run lab -- compare RUN_DIR RUN_DIR [--threshold PCT]');
      return { cmd: 'compare', a: pos[1], b: pos[2], threshold, json: !!v.json };
    }
    case 'report':
      if (pos.length !== 2) throw new UsageError('usage: npm run lab -- report RUN_DIR');
      return { cmd: 'report', runDir: pos[1] };
    case 'plan': {
      if (pos.length !== 1) throw new UsageError(`unexpected argument '${pos[1]}'; usage: npm run lab -- plan [--kernel ...] [--scenario ...|--suite NAME] [--quick] --shards N`);
      if (v.scenario && v.suite) throw new UsageError('give --scenario or --suite, not both');
      if (v.quick && v.full) throw new UsageError('give --quick or --full, not both');
      if (v.shards === undefined) throw new UsageError('plan needs --shards N (shards per kernel line)');
      const shards = Number(v.shards);
      if (!Number.isInteger(shards) || shards < 1 || shards > 256) throw new UsageError(`--shards '${v.shards}' must be an integer 1..256`);
      const cpus = v.cpus === undefined ? undefined : Number(v.cpus);
      if (cpus !== undefined && (!Number.isInteger(cpus) || cpus < 1 || cpus > 64)) throw new UsageError(`--cpus '${v.cpus}' must be an integer 1..64`);
      if (v.memory) parseMemory(v.memory);
      const noSelection = !v.scenario && !v.suite;
      return {
        cmd: 'plan', kernel: v.kernel ?? defaults.kernel, scenario: v.scenario, suite: v.suite ?? (v.scenario ? undefined : defaults.suite),
        quick: v.quick ?? (v.full ? false : noSelection), shards, params, out: v.out,
        accel: v.accel === undefined ? undefined : accel as 'auto', cpus, memory: v.memory,
      };
    }
    case 'merge': {
      if (pos.length < 2) throw new UsageError('usage: npm run lab -- merge RUN_DIR... [--out DIR] [--allow-mixed]');
      for (const f of ['kernel', 'scenario', 'suite', 'quick', 'full', 'cpus', 'memory', 'accel', 'threshold'] as const) {
        if (v[f] !== undefined) throw new UsageError(`merge takes --${f} from the runs' manifests; it accepts --out, --allow-mixed and --json`);
      }
      return { cmd: 'merge', dirs: pos.slice(1), out: v.out ?? 'results', allowMixed: !!v['allow-mixed'], json: !!v.json };
    }
    default:
      throw new UsageError(`unknown command '${sub}'; commands: run, exec, kernels, scenarios, reproduce, compare, report, plan, merge`);
  }
}
