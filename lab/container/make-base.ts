#!/usr/bin/env node
/**
 * Make the lab image's base without a registry: `node dist/lab/container/make-base.js [ROOTFS_TAR]`.
 * Without an argument (root only): debootstrap a minimal bookworm root into the user cache as a tar. Then import
 * the tar into the engine DOCKER_HOST (or the default socket) names. The last line printed is the base's tag,
 * for LAB_CONTAINER_BASE. An ordinary user with rootless Podman imports a tar made once by root.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { connectEngine } from './engine.js';
import { debootstrapTar, importBase, defaultRootfsTar } from './base.js';
import { cacheRoot } from '../host/paths.js';
import { errorMessage } from '../errors.js';

const say = (m: string) => process.stderr.write(`bpf-lab: ${m}\n`);

async function main(args: string[]): Promise<void> {
  if (args.length > 1 || args[0]?.startsWith('-')) throw new Error('usage: node dist/lab/container/make-base.js [ROOTFS_TAR]');
  const tarPath = resolve(args[0] ?? defaultRootfsTar(cacheRoot()));
  const engine = await connectEngine();
  if (!existsSync(tarPath)) {
    if (args[0]) throw new Error(`${tarPath} does not exist`);
    await mkdir(dirname(tarPath), { recursive: true });
    await debootstrapTar(tarPath, say);
  }
  say(`importing ${tarPath} into ${engine.name}${engine.rootless ? ' (rootless)' : ''}`);
  process.stdout.write(`${await importBase(engine.docker, tarPath)}\n`);
}

main(process.argv.slice(2)).catch((e) => {
  process.stderr.write(`bpf-lab: error: ${errorMessage(e)}\n`);
  process.exitCode = 1;
});
