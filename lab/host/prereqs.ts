import { access, constants } from 'node:fs/promises';
import { which, run } from './spawn.js';
import { LabError } from '../errors.js';

/** Host tools the lab runs, and the Debian package that provides each. */
export const HOST_TOOLS: { cmd: string; pkg: string; path?: string }[] = [
  { cmd: 'qemu-system-x86_64', pkg: 'qemu-system-x86' },
  { cmd: 'clang', pkg: 'clang' },
  { cmd: 'llvm-strip', pkg: 'llvm' },
  { cmd: 'bpftool', pkg: 'bpftool' },
  { cmd: 'cc', pkg: 'gcc' },
  { cmd: 'make', pkg: 'make' },
  { cmd: 'pkg-config', pkg: 'pkg-config' },
  { cmd: 'busybox', pkg: 'busybox-static', path: '/bin/busybox' },
  { cmd: 'cpio', pkg: 'cpio' },
  { cmd: 'apt-get', pkg: 'apt' },
  { cmd: 'dpkg-deb', pkg: 'dpkg' },
  { cmd: 'setpriv', pkg: 'util-linux' },
  { cmd: 'xz', pkg: 'xz-utils' },
  { cmd: 'zstd', pkg: 'zstd' },
  { cmd: 'lz4', pkg: 'lz4' },
  { cmd: 'gzip', pkg: 'gzip' },
  // guest-side tools, used from the shared host root
  { cmd: 'ip', pkg: 'iproute2' },
  { cmd: 'nsenter', pkg: 'util-linux' },
];
/** Headers/libraries the native drivers link against. */
export const HOST_FILES: { path: string; pkg: string }[] = [
  { path: '/usr/include/bpf/libbpf.h', pkg: 'libbpf-dev' },
  { path: '/usr/include/gelf.h', pkg: 'libelf-dev' },
  { path: '/usr/include/zlib.h', pkg: 'zlib1g-dev' },
  // sys/sdt.h (USDT probes in the uprobe driver), in Debian's multiarch include dir
  { path: '/usr/include/x86_64-linux-gnu/sys/sdt.h', pkg: 'systemtap-sdt-dev' },
];

export async function missingPackages(): Promise<string[]> {
  const missing = new Set<string>();
  for (const t of HOST_TOOLS) {
    if (t.path) {
      try { await access(t.path, constants.X_OK); continue; } catch { missing.add(t.pkg); continue; }
    }
    if (!(await which(t.cmd))) missing.add(t.pkg);
  }
  for (const f of HOST_FILES) {
    try { await access(f.path); } catch { missing.add(f.pkg); }
  }
  return [...missing].sort();
}

/** As root: install what is missing and say so. As a user: stop with the command that installs it. */
export async function ensurePrerequisites(say: (msg: string) => void): Promise<void> {
  const missing = await missingPackages();
  if (missing.length === 0) return;
  const cmd = `apt-get install -y ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new LabError(`missing host packages: ${missing.join(', ')}; install them with: sudo ${cmd}`);
  }
  say(`installing missing host packages as root: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = await run('apt-get', ['install', '-y', '-q', ...missing], { env });
  if (r.code !== 0) {
    await run('apt-get', ['update', '-q'], { env });
    r = await run('apt-get', ['install', '-y', '-q', ...missing], { env });
  }
  if (r.code !== 0) throw new LabError(`apt-get install ${missing.join(' ')} failed: ${r.stderr.trim().split('\n').pop()}`);
  const still = await missingPackages();
  if (still.length) throw new LabError(`still missing after apt-get install: ${still.join(', ')}`);
}
