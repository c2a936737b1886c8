import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import tar from 'tar-fs';
import { sha256 } from '../host/hash.js';

/** What goes into the image build context: what the Dockerfile copies, nothing generated (no dist/, node_modules). */
export const CONTEXT_ENTRIES = ['package.json', 'package-lock.json', 'tsconfig.json', 'kernels', 'lab', 'scenarios', 'bpf', 'images'];
export const DOCKERFILE = 'images/container/Dockerfile';
/** Directory in the context for extra CA certificates (see extraCaCerts); always present, maybe empty. */
export const CA_DIR = '.ca';

/** A file made for the build rather than taken from the repository. */
export interface ExtraFile { name: string; data: Buffer }

/** The context's files, relative to the repository root, sorted. */
export function contextFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const st = statSync(join(root, rel), { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) for (const e of readdirSync(join(root, rel)).sort()) walk(join(rel, e));
    else if (st.isFile()) out.push(rel);
  };
  for (const e of CONTEXT_ENTRIES) walk(e);
  return out.sort();
}

/**
 * CA certificates the build must trust besides Debian's, for a network behind a TLS-inspecting proxy: the PEM
 * bundle named by LAB_CONTAINER_CA_CERTS, else the one node itself was told to trust (NODE_EXTRA_CA_CERTS).
 */
export function extraCaCerts(env: NodeJS.ProcessEnv = process.env): ExtraFile[] {
  const file = env.LAB_CONTAINER_CA_CERTS || env.NODE_EXTRA_CA_CERTS;
  if (!file) return [];
  return [{ name: `${CA_DIR}/extra.crt`, data: readFileSync(file) }];
}

/**
 * The image tag: a hash of every context file (path, executable bit, content), the extra files and the build
 * arguments, so a change to the recipe, the lab's sources or the catalog makes a new image and anything else
 * reuses the one built.
 */
export function imageTag(root: string, files: string[], extras: ExtraFile[], buildArgs: Record<string, string>): string {
  const parts: string[] = Object.entries(buildArgs).sort().map(([k, v]) => `arg ${k}=${v}\n`);
  for (const f of files) {
    const exec = (statSync(join(root, f)).mode & 0o111) !== 0;
    parts.push(`file ${f} ${exec ? 'x' : '-'} ${sha256(readFileSync(join(root, f)))}\n`);
  }
  for (const e of extras) parts.push(`extra ${e.name} ${sha256(e.data)}\n`);
  return `bpf-lab:${sha256(parts.join('')).slice(0, 16)}`;
}

/** The build context as a tar stream: the repository files plus the extra files, and the CA directory. */
export function contextTar(root: string, files: string[], extras: ExtraFile[]): NodeJS.ReadableStream {
  return tar.pack(root, {
    entries: files,
    finalize: false,
    finish(pack) {
      pack.entry({ name: CA_DIR, type: 'directory', mode: 0o755 });
      for (const e of extras) pack.entry({ name: e.name, mode: 0o644 }, e.data);
      pack.finalize();
    },
  });
}
