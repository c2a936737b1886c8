import { constants, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { access, mkdir } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { connectEngine, type Engine } from './engine.js';
import { ensureImage } from './image.js';
import { bindSpec, type ContainerPlan } from './plan.js';
import { addPasswdEntry } from './passwd.js';
import { LabError, errorMessage } from '../errors.js';

export interface ContainerRunOptions { verbose: boolean; base?: string }

const say = (m: string) => process.stderr.write(`bpf-lab: ${m}\n`);

/** /dev/kvm when this user can open it; the lab's accel probe inside the container decides whether it is usable. */
async function kvmDevice(engine: Engine): Promise<Pick<Docker.HostConfig, 'Devices' | 'GroupAdd'>> {
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
  } catch {
    return {};
  }
  const Devices = [{ PathOnHost: '/dev/kvm', PathInContainer: '/dev/kvm', CgroupPermissions: 'rwm' }];
  // rootful: the process runs as the user's uid, so give it the device's group; rootless Podman: keep the
  // user's own supplementary groups (they are what opens the device on the host)
  if (!engine.rootless) return { Devices, GroupAdd: [String(statSync('/dev/kvm').gid)] };
  return { Devices, GroupAdd: engine.name.startsWith('Podman') ? ['keep-groups'] : [] };
}

/**
 * Run the lab inside its image: build or reuse the image, bind the host directories, stream the output live,
 * and return the lab's exit status. The container has no network, its files on the host belong to the invoking
 * user, and it is removed afterwards, also after Ctrl-C.
 */
export async function runInContainer(plan: ContainerPlan, o: ContainerRunOptions): Promise<number> {
  const engine = await connectEngine();
  const image = await ensureImage(engine, { base: o.base, verbose: o.verbose, say });
  say(`container image ${image.tag} (${image.built ? `built in ${(image.ms / 1000).toFixed(0)} s` : 'cached'}) on ${engine.name}${engine.rootless ? ', rootless' : ''}`);
  // the invoking user creates the directories, so a rootful engine does not create them as root
  for (const b of plan.binds) if (!b.readOnly) await mkdir(b.host, { recursive: true });
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const podman = engine.name.startsWith('Podman');
  const kvm = await kvmDevice(engine);
  const spec = (hostExtra: Partial<Docker.HostConfig>): Docker.ContainerCreateOptions => ({
    Image: image.tag,
    Cmd: plan.argv,
    // The lab runs as the invoking user. Rootless Podman maps that uid to itself with keep-id (as container root,
    // virtiofsd cannot apply its capabilities there); rootless Docker has no such mode: its root is the user.
    User: engine.rootless && !podman ? '0:0' : `${uid}:${gid}`,
    Env: ['LAB_IN_CONTAINER=1', ...(process.env.LAB_DEBUG ? [`LAB_DEBUG=${process.env.LAB_DEBUG}`] : [])],
    Labels: { 'bpf-lab': image.tag },
    Tty: false,
    AttachStdout: true,
    AttachStderr: true,
    HostConfig: {
      NetworkMode: 'none',
      Binds: plan.binds.map(bindSpec),
      ...(engine.rootless && podman ? { UsernsMode: 'keep-id' } : {}),
      ...kvm,
      ...hostExtra,
    },
  });
  let container: Docker.Container;
  try {
    container = await engine.docker.createContainer(spec({}));
  } catch (e) {
    // keep-groups (the user's kvm group inside a rootless container) needs crun; without it, go on without KVM
    if (!kvm.GroupAdd?.includes('keep-groups')) throw e;
    say(`/dev/kvm not passed in (${errorMessage(e).split('\n')[0]}); Podman needs crun for that`);
    container = await engine.docker.createContainer(spec({ Devices: [], GroupAdd: [] }));
  }
  // a rootful engine runs the lab as a uid the image has never heard of (keep-id adds it on Podman)
  if (!engine.rootless && uid !== 0) {
    try {
      await addPasswdEntry(container, uid, gid, userInfo().username);
    } catch (e) {
      await container.remove({ force: true }).catch(() => undefined);
      throw new LabError(`could not add uid ${uid} to the container's /etc/passwd: ${errorMessage(e).split('\n')[0]}`);
    }
  }
  let interrupted: NodeJS.Signals | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = sig;
    say(`interrupted (${sig}); stopping the container`);
    container.kill({ signal: 'SIGINT' }).catch(() => undefined);
    // node as the container's first process ignores a signal it has no handler for yet: then force it
    killTimer = setTimeout(() => container.kill({ signal: 'SIGKILL' }).catch(() => undefined), 5000);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  try {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    const [out, err] = [new PassThrough(), new PassThrough()];
    out.pipe(process.stdout, { end: false });
    err.pipe(process.stderr, { end: false });
    engine.docker.modem.demuxStream(stream, out, err);
    const ended = new Promise<void>((resolve) => { stream.on('end', resolve); stream.on('close', resolve); stream.on('error', () => resolve()); });
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    await Promise.race([ended, new Promise((r) => setTimeout(r, 2000))]);
    return interrupted ? 130 : StatusCode;
  } catch (e) {
    throw new LabError(`container run failed: ${errorMessage(e).split('\n')[0]}`);
  } finally {
    clearTimeout(killTimer);
    for (const s of signals) process.off(s, onSignal);
    await container.remove({ force: true }).catch(() => undefined);
  }
}
