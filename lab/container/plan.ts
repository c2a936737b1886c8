import { resolve } from 'node:path';
import type { Command } from '../args.js';
import { UsageError } from '../errors.js';

/** Paths the image itself uses: a host directory bind-mounted on one of them (or above one) would hide it. */
export const IMAGE_PATHS = ['/opt/bpf-lab', '/var/cache/bpf-lab', '/usr', '/etc', '/tmp', '/proc', '/sys', '/dev'];
/** Paths nothing may be bound inside. */
const SEALED_PATHS = ['/opt/bpf-lab', '/var/cache/bpf-lab', '/proc', '/sys', '/dev'];

const within = (p: string, dir: string) => dir === '/' || p === dir || p.startsWith(`${dir}/`);

export interface Bind { host: string; readOnly: boolean }
export interface ContainerPlan { argv: string[]; binds: Bind[]; outDir?: string }

/**
 * The command to run inside the container for a `--container` invocation: the same arguments without
 * --container, host directories made absolute and bind-mounted at the same path, so every path the lab prints
 * (the run directory on the last line) is valid on the host too.
 */
export function containerPlan(c: Command, argv: string[], cwd: string): ContainerPlan {
  const sep = argv.indexOf('--');
  const head = (sep < 0 ? argv : argv.slice(0, sep)).filter((a) => a !== '--container');
  const tail = sep < 0 ? [] : argv.slice(sep);
  const binds: Bind[] = [];
  const abs = (p: string, readOnly: boolean) => {
    const a = resolve(cwd, p);
    if (IMAGE_PATHS.some((x) => within(x, a)) || SEALED_PATHS.some((x) => within(a, x))) {
      throw new UsageError(`with --container, '${p}' cannot be used: ${a} is a path of the lab image; pick a directory elsewhere`);
    }
    if (!binds.some((b) => b.host === a)) binds.push({ host: a, readOnly });
    return a;
  };
  const swap = (from: string, to: string) => {
    const i = head.indexOf(from);
    if (i >= 0) head[i] = to;
  };
  let outDir: string | undefined;
  switch (c.cmd) {
    case 'run':
      outDir = abs(c.out, false);
      head.push('--out', outDir);
      break;
    case 'reproduce':
      swap(c.runDir, abs(c.runDir, true));
      outDir = abs(c.out, false);
      head.push('--out', outDir);
      break;
    case 'compare':
      swap(c.a, abs(c.a, true));
      swap(c.b, abs(c.b, true));
      break;
    default:
      break;
  }
  return { argv: [...head, ...tail], binds, outDir };
}

export const bindSpec = (b: Bind) => `${b.host}:${b.host}${b.readOnly ? ':ro' : ''}`;
