import { existsSync } from 'node:fs';

/** Where Debian's qemu-system-data puts QEMU's firmware images. */
const QEMU_DATA_DIRS = ['/usr/share/qemu'];

/**
 * qboot (shipped with QEMU) instead of SeaBIOS: it only sets up what a direct kernel boot needs, and reaches the
 * kernel about a second sooner under TCG. Used when it is installed; LAB_BIOS=seabios keeps QEMU's default.
 */
export function pickFirmware(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.LAB_BIOS === 'seabios') return undefined;
  return QEMU_DATA_DIRS.some((d) => existsSync(`${d}/qboot.rom`)) ? 'qboot.rom' : undefined;
}
