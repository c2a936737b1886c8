import { AGENT_PORT_NAME } from '../agent/protocol.js';

export type Accel = 'kvm' | 'tcg';

export interface QemuConfig {
  accel: Accel;
  /** TCG only: one host thread per vCPU (multi) or all vCPUs on one thread (single); see tcg.ts */
  tcgThread?: 'multi' | 'single';
  cpus: number;
  memoryMb: number;
  /** firmware passed to -bios (e.g. qboot.rom); QEMU's default SeaBIOS when absent */
  bios?: string;
  kernel: string;
  initrd: string;
  append: string;
  /** vhost-user socket of virtiofsd; omitted for the accelerator probe */
  fsSocket?: string;
  /** unix socket the host listens on; QEMU connects to it as the agent's virtio-serial backend */
  agentSocket?: string;
  /** exec mode: files QEMU writes the guest's lab.stdout / lab.stderr / lab.status ports to */
  execPorts?: { stdout: string; stderr: string; status: string };
  /** extra guest NICs joined on a QEMU-internal hub (no host network) */
  hubNics?: number;
}

/** QEMU's command line for one guest. Pure: tests check it without starting anything. */
export function qemuArgs(c: QemuConfig): string[] {
  const mem = `${c.memoryMb}M`;
  const args = [
    '-nodefaults', '-no-user-config', '-display', 'none', '-no-reboot',
    ...(c.accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', `tcg,thread=${c.tcgThread ?? 'multi'}`, '-cpu', 'max']),
    ...(c.bios ? ['-bios', c.bios] : []),
    '-smp', String(c.cpus),
    '-m', mem,
    '-serial', 'stdio',
    '-kernel', c.kernel,
    '-initrd', c.initrd,
    '-append', c.append,
  ];
  if (c.fsSocket) {
    // vhost-user needs guest RAM shared with the daemon
    args.push('-object', `memory-backend-memfd,id=mem,size=${mem},share=on`, '-numa', 'node,memdev=mem',
      '-chardev', `socket,id=fs,path=${qemuOptValue(c.fsSocket)}`, '-device', 'vhost-user-fs-pci,chardev=fs,tag=hostroot');
  }
  if (c.agentSocket || c.execPorts) args.push('-device', 'virtio-serial-pci');
  if (c.agentSocket) {
    args.push('-chardev', `socket,id=agent,path=${qemuOptValue(c.agentSocket)}`, '-device', `virtserialport,chardev=agent,name=${AGENT_PORT_NAME}`);
  }
  for (const [name, path] of Object.entries(c.execPorts ?? {})) {
    args.push('-chardev', `file,id=${name},path=${qemuOptValue(path)}`, '-device', `virtserialport,chardev=${name},name=lab.${name}`);
  }
  for (let i = 0; i < (c.hubNics ?? 0); i++) {
    args.push('-netdev', `hubport,id=hn${i},hubid=0`, '-device', `virtio-net-pci,netdev=hn${i}`);
  }
  return args;
}

/** A value inside a QEMU `key=value,...` option: a comma is written twice. */
export function qemuOptValue(v: string): string {
  return v.replaceAll(',', ',,');
}

/**
 * Under TCG the kernel finds the vCPUs' TSCs unsynchronized and falls back to the HPET, where every clock read is an
 * emulated device access: clock_gettime took 1.9 us in a 6.1 guest here, against 0.1 us on the TSC (and a getpgid()
 * 0.7 us), so any mechanism that reads the clock or arms a timer per event was measured mostly as HPET emulation.
 * The TSC under TCG is the host's, so it is kept; a calibration gone wrong on a loaded host would make every rate
 * wrong, which the run checks against the host's clock at shutdown (clock-check.ts).
 */
const TCG_CLOCK = ['tsc=reliable'];

export function kernelCommandLine(accel: Accel, extra: Record<string, string> = {}): string {
  // no_timer_check: on a busy host the emulated IO-APIC timer check can fail and panic the boot ("IO-APIC + timer
  // doesn't work!"), as seen under TCG with the host's CPUs oversubscribed
  // cryptomgr.notests: Debian kernels self-test every crypto algorithm at boot; under TCG crypto_algapi_init alone took
  // 260-350 ms of a 6.1 boot here (70-80 ms without the tests), and no scenario uses the kernel's crypto
  const base = ['console=ttyS0', 'panic=-1', 'oops=panic', 'quiet', 'loglevel=4', 'rdinit=/init', 'i8042.noaux', 'i8042.nokbd', 'i8042.nopnp', 'no_timer_check', 'cryptomgr.notests'];
  return [...base, ...(accel === 'tcg' ? TCG_CLOCK : []), ...Object.entries(extra).map(([k, v]) => `${k}=${v}`)].join(' ');
}
