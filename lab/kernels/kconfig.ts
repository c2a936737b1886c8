import { gunzipSync } from 'node:zlib';

/** CONFIG_FOO=y / =m / ="str" lines of a kernel .config → map (only set options). */
export function parseKernelConfig(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const x = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (x) m.set(x[1], x[2]);
  }
  return m;
}

/**
 * The config a kernel carries in itself with CONFIG_IKCONFIG (what scripts/extract-ikconfig finds):
 * gzip data between the "IKCFG_ST" and "IKCFG_ED" markers of the uncompressed image.
 */
export function extractIkconfig(vmlinux: Buffer): string | undefined {
  const start = vmlinux.indexOf(Buffer.concat([Buffer.from('IKCFG_ST'), Buffer.from([0x1f, 0x8b, 0x08])]));
  if (start < 0) return undefined;
  const end = vmlinux.indexOf('IKCFG_ED', start);
  if (end < 0) return undefined;
  return gunzipSync(vmlinux.subarray(start + 8, end)).toString();
}

/** One option (or a set of alternatives) the lab needs, and who needs it. */
export interface ConfigNeed { options: string[]; neededBy: string }

/**
 * What every guest needs, whatever it runs: boot from the lab's initramfs, reach the agent over virtio-serial,
 * mount the host root over virtiofs, and load CO-RE BPF objects (BTF). Built in, or modules the lab can load.
 */
export const LAB_CONFIG_NEEDS: string[] = [
  'BLK_DEV_INITRD', 'RD_GZIP', 'DEVTMPFS', 'BINFMT_ELF', 'BINFMT_SCRIPT', 'PROC_FS', 'SYSFS', 'TMPFS', 'UNIX98_PTYS',
  'FUTEX', 'EPOLL', 'SERIAL_8250_CONSOLE',
  'PCI', 'VIRTIO_PCI', 'VIRTIO_CONSOLE', 'FUSE_FS', 'VIRTIO_FS',
  'BPF_SYSCALL', 'BPF_JIT', 'DEBUG_INFO_BTF',
];

/** Options that only work built in (the guest needs them before any module can be loaded, or they are not tristate). */
const BUILT_IN_ONLY = new Set(['BLK_DEV_INITRD', 'RD_GZIP', 'DEVTMPFS', 'BINFMT_ELF', 'PROC_FS', 'SYSFS', 'TMPFS', 'UNIX98_PTYS', 'FUTEX', 'EPOLL', 'PCI', 'BPF_SYSCALL', 'BPF_JIT', 'DEBUG_INFO_BTF']);

/**
 * Every needed option the config lacks, each with who needs it. `=m` counts only when the kernel comes with its
 * modules (the lab packs them into the initramfs); an unset option or `=m` without modules is missing.
 */
export function missingOptions(config: Map<string, string>, needs: ConfigNeed[], hasModules: boolean): { option: string; value?: string; neededBy: string[] }[] {
  const out = new Map<string, { option: string; value?: string; neededBy: string[] }>();
  for (const need of needs) {
    const ok = need.options.some((o) => {
      const v = config.get(`CONFIG_${o}`);
      return v === 'y' || (v === 'm' && hasModules && !BUILT_IN_ONLY.has(o));
    });
    if (ok) continue;
    const key = need.options.join('|');
    const value = need.options.map((o) => config.get(`CONFIG_${o}`)).find(Boolean);
    const row = out.get(key) ?? { option: need.options.map((o) => `CONFIG_${o}`).join(' or '), value, neededBy: [] };
    if (!row.neededBy.includes(need.neededBy)) row.neededBy.push(need.neededBy);
    out.set(key, row);
  }
  return [...out.values()];
}

/** One line: "CONFIG_VETH (xdp, tc-classification), CONFIG_VIRTIO_FS=m without modules (the lab)". */
export function describeMissing(rows: ReturnType<typeof missingOptions>): string {
  return rows.map((r) => `${r.option}${r.value ? `=${r.value}${r.value === 'm' ? ' without modules' : ''}` : ''} (${r.neededBy.join(', ')})`).join(', ');
}
