import { createReadStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { runChecked } from '../host/spawn.js';
import { sha256File } from '../host/hash.js';
import { findMirrors } from '../kernels/apt.js';
import { LabError } from '../errors.js';

export const BASE_REPO = 'bpf-lab-base';

/**
 * A minimal Debian bookworm root as a tar, made without any container registry: debootstrap (root only) into a
 * temporary directory, then one tar with numeric owners.
 */
export async function debootstrapTar(tarPath: string, say: (m: string) => void): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new LabError('debootstrap needs root; make the tar as root once (it can be imported by any engine), or use a registry base: LAB_CONTAINER_BASE=debian:bookworm-slim@sha256:DIGEST');
  }
  const mirror = (await findMirrors()).archive;
  const dir = `${tarPath}.root`;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  try {
    say(`debootstrap --variant=minbase bookworm from ${mirror} (about a minute)…`);
    await runChecked('debootstrap', ['--variant=minbase', 'bookworm', dir, mirror]);
    await runChecked('tar', ['-C', dir, '--numeric-owner', '-cf', `${tarPath}.tmp`, '.']);
    await rename(`${tarPath}.tmp`, tarPath);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Import a root tar as the base image, tagged by the tar's sha256 (an existing tag is reused). */
export async function importBase(docker: Docker, tarPath: string): Promise<string> {
  const tag = `bookworm-${(await sha256File(tarPath)).slice(0, 12)}`;
  const ref = `${BASE_REPO}:${tag}`;
  try {
    await docker.getImage(ref).inspect();
    return ref;
  } catch { /* import below */ }
  const stream = await docker.importImage(createReadStream(tarPath));
  const events = await new Promise<{ status?: string; id?: string }[]>((resolve, reject) =>
    docker.modem.followProgress(stream, (err, out) => (err ? reject(err) : resolve(out ?? []))));
  // tag by the id the import reports (Podman 4.3's compat import ignores the tag parameter)
  const id = events.map((e) => /sha256:[0-9a-f]{64}/.exec(`${e.id ?? ''} ${e.status ?? ''}`)?.[0]).filter(Boolean).pop();
  if (!id) throw new LabError(`importing ${tarPath} reported no image id`);
  await docker.getImage(id).tag({ repo: BASE_REPO, tag });
  return ref;
}

export const defaultRootfsTar = (cacheDir: string) => join(cacheDir, 'container', 'debian-bookworm-minbase.tar');
