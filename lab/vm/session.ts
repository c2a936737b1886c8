import { join } from 'node:path';
import { loadCatalog, type KernelEntry } from '../kernels/catalog.js';
import { ensureKernel, kernelConfig, type KernelArtifacts } from '../kernels/kernel.js';
import { LAB_CONFIG_NEEDS, describeMissing, missingOptions, type ConfigNeed } from '../kernels/kconfig.js';
import { ensureVirtiofsd, type VirtiofsdCommand } from './virtiofsd.js';
import { ensureBuild, type BuildResult } from '../host/build.js';
import { ensureInitramfs, type InitramfsResult } from './initramfs.js';
import { chooseAccel, type AccelChoice, type AccelVerdict } from './accel.js';
import { Vm, type VmOptions } from './vm.js';
import { tcgThreading, type TcgThreading } from './tcg.js';
import { pickFirmware } from './firmware.js';
import { featureCacheKey, readCachedFeatures, writeCachedFeatures } from './feature-cache.js';
import { repoRoot } from '../host/paths.js';
import { ensureKernelBench, type KernelBench } from '../host/kernel-bench.js';
import { LabError } from '../errors.js';
import { clockDrift } from './clock-check.js';
import type { HostTool } from '../../scenarios/define.js';
import type { LabEvents } from '../events.js';

/** What any boot needs: the fetched kernels and the share daemon (all `exec` needs). */
export interface BootSetup {
  kernels: Map<string, KernelArtifacts>;
  virtiofsd: VirtiofsdCommand;
  /** per kernel line: scenario-needed config options the kernel lacks (those scenarios are skipped) */
  configMissing: Map<string, ReturnType<typeof missingOptions>>;
}

/** What every guest of a run shares: the boot setup, plus the compiled BPF tree and host-built tools. */
export interface HostSetup extends BootSetup {
  build: BuildResult;
  btfFrom: string;
  /** per kernel line: host-built tools the selected scenarios run in the guest (name → path) */
  tools: Map<string, Partial<Record<HostTool, string>>>;
  /** per kernel line: the selftests bench build, when a scenario needs it */
  kernelBench: Map<string, KernelBench>;
}

/** Fetch (or find in the cache) the kernels and virtiofsd, and check each kernel's config before any boot. */
export async function prepareBoot(kernels: KernelEntry[], ev: LabEvents, scenarioNeeds: ConfigNeed[] = []): Promise<BootSetup> {
  const artifacts = new Map<string, KernelArtifacts>();
  const configMissing = new Map<string, ReturnType<typeof missingOptions>>();
  // fetch every kernel first, so a bad pin fails before any VM time is spent
  const virtiofsd = await ev.phase('fetch', undefined, `fetching pinned kernels (${kernels.map((k) => k.line).join(', ')}) and virtiofsd`, async () => {
    for (const k of kernels) {
      const art = await ensureKernel(k, (m) => ev.step(m, k.line));
      artifacts.set(k.line, art);
      configMissing.set(k.line, await checkKernelConfig(art, scenarioNeeds, ev));
    }
    return ensureVirtiofsd((m) => ev.step(`virtiofsd: ${m}`));
  });
  return { kernels: artifacts, virtiofsd, configMissing };
}

export async function prepareHost(kernels: KernelEntry[], ev: LabEvents, hostTools: HostTool[] = [], scenarioNeeds: ConfigNeed[] = []): Promise<HostSetup> {
  const catalog = loadCatalog();
  const boot = await prepareBoot(kernels, ev, scenarioNeeds);
  const artifacts = boot.kernels;
  // vmlinux.h comes from the default kernel's BTF, so the build does not depend on which kernels a run boots
  const def = catalog.kernels.find((k) => k.line === catalog.default)!;
  const btfKernel = artifacts.get(def.line) ?? (await ensureKernel(def, (m) => ev.step(m, def.line)));
  const btfSource = btfKernel.vmlinux ?? '/sys/kernel/btf/vmlinux';
  const build = await ev.phase('build', undefined, 'building BPF objects and native drivers', () => ensureBuild(btfSource, (m) => ev.step(m)));
  const btfFrom = btfKernel.vmlinux ? `vmlinux of kernel ${def.line} (${def.release})` : 'host /sys/kernel/btf/vmlinux';
  const tools = new Map<string, Partial<Record<HostTool, string>>>(kernels.map((k) => [k.line, {}]));
  const kernelBench = new Map<string, KernelBench>();
  if (hostTools.includes('kernel-bench')) {
    await ev.phase('kernel_bench', undefined, `kernel selftests bench for ${kernels.map((k) => k.line).join(', ')}`, async () => {
      for (const k of kernels) {
        // the bench's BPF objects are CO-RE against the guest kernel's own BTF
        const btf = artifacts.get(k.line)!.vmlinux;
        if (!btf) throw new LabError(`${k.line}: no vmlinux (with BTF) could be unpacked from the kernel image, so the kernel bench cannot be built`);
        const kb = await ensureKernelBench(k, btf, (m) => ev.step(m, k.line));
        kernelBench.set(k.line, kb);
        tools.get(k.line)!['kernel-bench'] = kb.bench;
      }
    });
  }
  return { ...boot, build, btfFrom, tools, kernelBench };
}

/**
 * Before any boot: every option the lab (to boot and reach the agent) or the selected scenarios need that this
 * kernel's config lacks, in one message. Lab needs missing → the run stops; scenario needs → those scenarios skip.
 */
async function checkKernelConfig(art: KernelArtifacts, scenarioNeeds: ConfigNeed[], ev: LabEvents): Promise<ReturnType<typeof missingOptions>> {
  const k = art.entry;
  const config = await kernelConfig(art);
  if (!config) {
    ev.warn(`${k.line}: no kernel config found (no .config beside the image, no CONFIG_IKCONFIG in it): options not checked before boot`);
    return [];
  }
  const labNeeds = LAB_CONFIG_NEEDS.map((o) => ({ options: [o], neededBy: 'the lab' }));
  const missing = missingOptions(config, [...labNeeds, ...scenarioNeeds], !!art.modulesDir);
  if (missing.some((m) => m.neededBy.includes('the lab'))) {
    throw new LabError(`kernel ${k.line} (${art.source}) lacks config options: ${describeMissing(missing)}; rebuild it with them (kernels/config/lab.config has them all: npm run lab -- kernels build SOURCE)`);
  }
  if (missing.length) ev.step(`kernel config lacks ${describeMissing(missing)}: those scenarios will be skipped`, k.line);
  return missing;
}

export interface GuestSpec { accel: AccelChoice; cpus: number; memoryMb: number; consolePath: string; hubNics?: number }

export interface Guest { vm: Vm; initramfs: InitramfsResult; image: string; imageKind: string; accel: AccelVerdict }

export interface GuestPlan { options: VmOptions; initramfs: InitramfsResult; image: string; imageKind: string; accel: AccelVerdict; tcg?: TcgThreading; featureKey: string }

/** Build the initramfs and pick the accelerator (once per run: pass the verdict back in): everything a boot needs. */
export async function planGuest(host: BootSetup & { build?: BuildResult }, k: KernelEntry, spec: GuestSpec, ev: LabEvents, qemuVersion: string, verdict?: AccelVerdict): Promise<GuestPlan> {
  const art = host.kernels.get(k.line)!;
  const initramfs = await ev.phase('initramfs', k.line, `${k.line}: initramfs`, () => ensureInitramfs(art.key, art.modulesDir));
  const image = art.vmlinux && art.pvh ? art.vmlinux : art.vmlinuz;
  const imageKind = image === art.vmlinux ? 'vmlinux (uncompressed, PVH boot)' : 'bzImage';
  let accel = verdict;
  if (!accel) {
    accel = await ev.phase('accel', undefined, `choosing the accelerator (--accel ${spec.accel})`, () => chooseAccel(spec.accel, image, initramfs.path, qemuVersion));
    ev.emit({ type: 'accel', accel: accel.accel, reason: accel.reason, cached: accel.cached });
  }
  const tcg = accel.accel === 'tcg' ? tcgThreading(qemuVersion) : undefined;
  const options: VmOptions = {
    accel: accel.accel, tcgThread: tcg?.mode, bios: pickFirmware(), cpus: spec.cpus, memoryMb: spec.memoryMb, kernelImage: image, initrd: initramfs.path, virtiofsd: host.virtiofsd,
    node: process.execPath, agentScript: join(repoRoot, 'dist', 'lab', 'agent', 'main.js'), cwd: repoRoot, buildDir: host.build?.dir ?? '',
    consolePath: spec.consolePath, bootTimeoutMs: accel.accel === 'kvm' ? 60000 : 300000, hubNics: spec.hubNics,
  };
  // (TCG on an oversubscribed host: a 7.3 guest under single-threaded TCG took over 120 s to reach the agent here)
  // the agent's feature probe runs the built BPF objects; exec boots without them (and without the agent)
  const featureKey = host.build ? await featureCacheKey(art.key, host.build.dir) : '';
  const cached = featureKey ? await readCachedFeatures(featureKey) : undefined;
  if (cached) options.features = JSON.stringify(cached);
  return { options, initramfs, image, imageKind, accel, tcg, featureKey };
}

/** Boot a planned guest to agent-ready. */
export async function bootGuest(plan: GuestPlan, k: KernelEntry, ev: LabEvents): Promise<Vm> {
  const o = plan.options;
  const vm = await ev.phase('boot', k.line, `${k.line}: booting ${k.release} (${o.accel}, ${o.cpus} vCPUs)`, () => Vm.start(o));
  ev.emit({ type: 'hello', kernel: k.line, release: vm.hello.release, bootMs: vm.bootMs, vcpus: vm.hello.vcpus, featuresCached: !!o.features });
  if (!o.features && vm.hello.features) {
    await writeCachedFeatures(plan.featureKey, vm.hello.features);
    plan.options.features = JSON.stringify(vm.hello.features);
  }
  return vm;
}

/** Power a guest off through its agent (the `shutdown` phase); warnIfUnclean: say so when QEMU had to be stopped. */
export async function shutdownGuest(vm: Vm, k: KernelEntry, ev: LabEvents, warnIfUnclean = false): Promise<void> {
  const clean = await ev.phase('shutdown', k.line, `${k.line}: powering off`, () => vm.shutdown());
  const drift = vm.clockSpan && clockDrift(vm.clockSpan.guestS, vm.clockSpan.hostS, k.line);
  if (drift) ev.warn(drift);
  if (warnIfUnclean && !clean && !vm.crashLine) ev.warn(`${k.line}: the guest did not power off by itself; QEMU was stopped`);
}
