import { join } from 'node:path';
import { loadCatalog } from '../kernels/catalog.js';
import { ensurePackages } from '../kernels/packages.js';

/** How to start the pinned Rust virtiofsd: trixie's loader runs it against trixie's libc, nothing installed. */
export interface VirtiofsdCommand { cmd: string; prefixArgs: string[]; version: string }

export async function ensureVirtiofsd(onStep?: (msg: string) => void): Promise<VirtiofsdCommand> {
  const catalog = loadCatalog();
  const tool = catalog.tools.virtiofsd;
  const root = await ensurePackages('virtiofsd', tool.packages, catalog.suites, onStep);
  return {
    cmd: join(root, tool.loader),
    prefixArgs: ['--library-path', join(root, tool.libdir), join(root, tool.binary)],
    version: tool.packages[0].version,
  };
}

/** The daemon's arguments. --readonly is the host-side boundary: the guest's root cannot make it write. */
export function virtiofsdArgs(socketPath: string, sharedDir = '/'): string[] {
  return [
    `--socket-path=${socketPath}`,
    `--shared-dir=${sharedDir}`,
    '--readonly',
    '--sandbox=none', // an ordinary user cannot create the namespace sandbox; the daemon runs with the user's rights
    '--cache=always',
    '--announce-submounts',
    '--log-level=error',
  ];
}
