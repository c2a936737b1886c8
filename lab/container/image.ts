import type { Engine } from './engine.js';
import { contextFiles, contextTar, extraCaCerts, imageTag, DOCKERFILE } from './context.js';
import { repoRoot } from '../host/paths.js';
import { LabError, errorMessage } from '../errors.js';

export interface ImageOptions {
  /** the FROM image: a tag made by make-base.js, or a registry reference pinned by digest */
  base?: string;
  verbose: boolean;
  say: (msg: string) => void;
}

/** Build arguments from the environment: LAB_CONTAINER_BASE picks the base image; the rest keep the recipe's pins. */
export function buildArgs(base?: string): Record<string, string> {
  return base ? { BASE: base } : {};
}

/** Reuse the image tagged with the content hash, or build it (layer cache makes a rebuild after a source edit fast). */
export async function ensureImage(engine: Engine, o: ImageOptions): Promise<{ tag: string; built: boolean; ms: number }> {
  const t0 = Date.now();
  const files = contextFiles(repoRoot);
  const args = buildArgs(o.base);
  const extras = extraCaCerts();
  const tag = imageTag(repoRoot, files, extras, args);
  try {
    await engine.docker.getImage(tag).inspect();
    return { tag, built: false, ms: Date.now() - t0 };
  } catch { /* not built yet */ }
  o.say(`building the lab image ${tag} with ${engine.name}${o.base ? ` from ${o.base}` : ''} (first time: several minutes)…`);
  let stream: NodeJS.ReadableStream;
  try {
    stream = await engine.docker.buildImage(contextTar(repoRoot, files, extras), {
      t: tag, dockerfile: DOCKERFILE, buildargs: args, rm: true, forcerm: true,
      // RUN steps fetch packages; the host network keeps that working where the engine's own network cannot
      // be set up (rootless Podman with an unusable /dev/net/tun). The lab's runs get no network at all.
      networkmode: 'host',
    });
  } catch (e) {
    throw new LabError(`image build could not start: ${errorMessage(e).split('\n')[0]}`);
  }
  await new Promise<void>((resolve, reject) => {
    let failure: string | undefined;
    engine.docker.modem.followProgress(stream, (err) => {
      const why = failure ?? errorMessage(err);
      // the default base comes from Docker Hub; without a registry, make one (make-base.js) and name it
      const hint = !o.base && /registry|docker\.io|pull/i.test(why) ? '; no registry? make a base with `node dist/lab/container/make-base.js` and set LAB_CONTAINER_BASE to the tag it prints' : '';
      if (err || failure) reject(new LabError(`image build failed: ${why}${hint}`));
      else resolve();
    }, (ev: { stream?: string; error?: string; errorDetail?: { message?: string } }) => {
      if (ev.error || ev.errorDetail) failure = (ev.errorDetail?.message ?? ev.error ?? '').trim().split('\n').pop();
      for (const line of (ev.stream ?? '').split('\n')) {
        if (!line.trim()) continue;
        if (o.verbose) process.stderr.write(`${line}\n`);
        else if (/^STEP \d+|^Step \d+\/\d+/.test(line)) o.say(`  ${line.slice(0, 140)}`);
      }
    });
  });
  // Podman's compat build reports some failures only by not tagging
  try {
    await engine.docker.getImage(tag).inspect();
  } catch {
    throw new LabError(`image build finished but ${tag} does not exist; run again with --verbose to see the build log`);
  }
  return { tag, built: true, ms: Date.now() - t0 };
}
