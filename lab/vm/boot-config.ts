import { readFile, writeFile } from 'node:fs/promises';

/**
 * What one boot is told (paths of node, the agent, the working directory, the build dir; for `exec` the command's
 * argv) travels as files in a small uncompressed cpio appended to the cached initramfs, one value per file.
 * The kernel command line would split values on spaces, and a shell string built from them would break on
 * (or run) a quote in a checkout path; files carry any byte except NUL, which argv and paths cannot hold anyway.
 */
export interface BootConfig {
  node: string;
  agent: string;
  cwd: string;
  build: string;
  /** exec mode: init runs this command directly (no agent) and powers off */
  execArgv?: string[];
  /** the kernel's cached BPF feature probe answer (JSON): the agent says hello without probing */
  features?: string;
}

export interface CpioEntry { path: string; data?: string | Buffer; dir?: boolean }

export function bootConfigEntries(c: BootConfig): CpioEntry[] {
  const entries: CpioEntry[] = [
    { path: 'lab', dir: true },
    { path: 'lab/node', data: c.node },
    { path: 'lab/agent', data: c.agent },
    { path: 'lab/cwd', data: c.cwd },
    { path: 'lab/build', data: c.build },
  ];
  if (c.features) entries.push({ path: 'lab/features.json', data: c.features });
  if (c.execArgv) {
    entries.push({ path: 'lab/exec', dir: true }, { path: 'lab/exec/argv', dir: true });
    // zero-padded indices so the shell's glob order is argv order
    c.execArgv.forEach((a, i) => entries.push({ path: `lab/exec/argv/${String(i).padStart(4, '0')}`, data: a }));
  }
  return entries;
}

/** An uncompressed newc ("070701") cpio archive, owned by root, with its trailer. */
export function newcArchive(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  const pad4 = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  let ino = 1;
  const add = (name: string, mode: number, data: Buffer) => {
    const fields = [ino++, mode, 0, 0, mode & 0o040000 ? 2 : 1, 0, data.length, 0, 0, 0, 0, Buffer.byteLength(name) + 1, 0];
    const header = Buffer.from('070701' + fields.map((f) => f.toString(16).padStart(8, '0')).join(''), 'latin1');
    const nameBuf = Buffer.concat([Buffer.from(name), Buffer.alloc(1)]);
    parts.push(header, nameBuf, pad4(header.length + nameBuf.length), data, pad4(data.length));
  };
  for (const e of entries) {
    if (e.dir) add(e.path, 0o040755, Buffer.alloc(0));
    else add(e.path, 0o100644, Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data ?? ''));
  }
  add('TRAILER!!!', 0, Buffer.alloc(0));
  return Buffer.concat(parts);
}

/** Write `base` (the cached initramfs) with the boot's config appended, 4-byte aligned as the kernel requires. */
export async function writeBootInitrd(base: string, c: BootConfig, out: string): Promise<void> {
  const head = await readFile(base);
  await writeFile(out, Buffer.concat([head, Buffer.alloc((4 - (head.length % 4)) % 4), newcArchive(bootConfigEntries(c))]));
}
