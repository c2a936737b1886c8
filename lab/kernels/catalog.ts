import { readFileSync, existsSync } from 'node:fs';
import { readBuiltNames } from './names.js';
import { join, basename, resolve as resolvePath } from 'node:path';
import { z } from 'zod';
import { repoRoot } from '../host/paths.js';
import { UsageError } from '../errors.js';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'sha256 must be 64 hex digits');
export const PinnedPackage = z.object({
  name: z.string().min(1),
  version: z.string().min(1),
  suite: z.string().min(1),
  size: z.number().int().positive(),
  sha256: Sha256,
});
export type PinnedPackage = z.infer<typeof PinnedPackage>;

/** A kernel line Debian packages: prebuilt image + modules from pinned .debs (apt, else snapshot.debian.org). */
const DebianKernel = z.object({
  line: z.string().regex(/^\d+\.\d+$/),
  release: z.string().min(1),
  packages: z.array(PinnedPackage).min(1),
  vmlinuz: z.string(),
  config: z.string(),
  modules: z.string(),
  /** the same version's Debian kernel source package (a .tar.xz inside), for building the selftests bench */
  source: PinnedPackage.extend({ tarball: z.string() }).optional(),
}).strict();

/** A kernel line Debian lacks: a kernel.org release tarball pinned by name + sha256, built with the lab's fragment. */
const TarballKernel = z.object({
  line: z.string().regex(/^\d+\.\d+$/),
  release: z.string().min(1),
  tarball: z.object({
    name: z.string().regex(/^linux-\d+\.\d+(\.\d+)?\.tar\.(xz|gz)$/, 'tarball name must look like linux-6.6.119.tar.xz'),
    sha256: Sha256,
    /** where the pin was established */
    pinSource: z.string().min(1),
  }).strict(),
}).strict();

type DebianKernel = z.infer<typeof DebianKernel>;
type TarballKernel = z.infer<typeof TarballKernel>;

/**
 * A kernel a run can boot. Catalog lines are `debian` or `tarball`; the others come from the command line:
 * a name given to `kernels build`, an OCI image by digest, a path to an image or a built tree.
 * `line` is the label runs and reports use; `packages` is empty unless Debian packages are the source.
 */
export type KernelEntry =
  | ({ kind: 'debian' } & DebianKernel)
  | ({ kind: 'tarball'; packages: [] } & TarballKernel)
  | { kind: 'built'; line: string; release: string; packages: []; key: string }
  | { kind: 'oci'; line: string; release: string; packages: []; ref: OciRef }
  | { kind: 'path'; line: string; release: string; packages: []; path: string };

export interface OciRef { registry: string; repository: string; digest: string }

const CatalogKernel = z.union([DebianKernel, TarballKernel]).transform((k): KernelEntry =>
  'packages' in k ? { kind: 'debian', ...k } : { kind: 'tarball', packages: [], ...k });

const ToolEntry = z.object({
  packages: z.array(PinnedPackage).min(1),
  binary: z.string(),
  loader: z.string(),
  libdir: z.string(),
});
export type ToolEntry = z.infer<typeof ToolEntry>;

const Catalog = z.object({
  default: z.string(),
  suites: z.array(z.string()).min(1),
  kernels: z.array(CatalogKernel).min(1),
  tools: z.object({ virtiofsd: ToolEntry }),
});
export type Catalog = z.infer<typeof Catalog>;

let cached: Catalog | undefined;
export function loadCatalog(): Catalog {
  if (cached) return cached;
  const file = join(repoRoot, 'kernels', 'catalog.json');
  const parsed = Catalog.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`kernels/catalog.json is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  cached = parsed.data;
  return cached;
}

/**
 * "6.1", "6.1,6.12", "all" (every Debian-packaged line), a name registered by `kernels build`,
 * an OCI image by digest ("oci:REGISTRY/REPO@sha256:…"), or a path to a kernel image or built tree.
 */
export function resolveKernels(spec: string, catalog = loadCatalog()): KernelEntry[] {
  const lines = catalog.kernels.map((k) => k.line);
  const wanted = spec === 'all' ? catalog.kernels.filter((k) => k.kind === 'debian').map((k) => k.line) : spec.split(',').map((s) => s.trim()).filter(Boolean);
  const valid = () => {
    const names = Object.keys(readBuiltNames());
    return `valid kernel lines: ${lines.join(', ')}, all${names.length ? `; built kernels ${names.join(', ')}` : ''}; or a path to a bzImage or built kernel tree, or oci:REGISTRY/REPO@sha256:DIGEST`;
  };
  if (wanted.length === 0) throw new UsageError(`--kernel is empty; ${valid()}`);
  return wanted.map((w) => {
    const entry = catalog.kernels.find((k) => k.line === w);
    if (entry) return entry;
    const built = readBuiltNames()[w];
    if (built) return { kind: 'built', line: w, release: built.release, packages: [], key: built.key };
    if (w.startsWith('oci:')) return { kind: 'oci', line: ociLabel(w), release: 'unknown until boot', packages: [], ref: parseOciRef(w.slice(4)) };
    if (w.includes('/') || existsSync(w)) {
      if (!existsSync(w)) throw new UsageError(`--kernel ${w}: no such file or directory; ${valid()}`);
      return { kind: 'path', line: pathLabel(w), release: 'unknown until boot', packages: [], path: resolvePath(w) };
    }
    throw new UsageError(`unknown kernel '${w}'; ${valid()}`);
  });
}

/** "ghcr.io/cilium/ci-kernels@sha256:…" → registry, repository, digest. A tag is refused: tags move. */
export function parseOciRef(ref: string): OciRef {
  const m = /^([a-z0-9.-]+(?::\d+)?)\/([a-z0-9._/-]+?)(?::[\w.-]+)?@(sha256:[0-9a-f]{64})$/.exec(ref);
  if (!m) throw new UsageError(`OCI kernel '${ref}' must be REGISTRY/REPOSITORY@sha256:<64 hex digits> (pinned by digest; tags move)`);
  return { registry: m[1], repository: m[2], digest: m[3] };
}

const safeLabel = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'kernel';
const ociLabel = (w: string) => safeLabel(`oci-${w.split('/').pop()!.split('@')[0]}-${w.split('sha256:')[1]?.slice(0, 8) ?? ''}`);
function pathLabel(p: string): string {
  const abs = resolvePath(p);
  const base = basename(abs);
  // a tree, or an image inside a tree (arch/x86/boot/bzImage): name it after the tree
  const tree = /^(bzImage|vmlinux)$/.test(base) && abs.endsWith('/arch/x86/boot/bzImage') ? basename(resolvePath(abs, '../../../..')) : base;
  return safeLabel(`path-${tree}`);
}

/** Parse "6.1.0-56-cloud-amd64" or "6.1" into a comparable [major, minor]. */
export function kernelVersion(release: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(release);
  if (!m) throw new Error(`cannot read a kernel version from '${release}'`);
  return [Number(m[1]), Number(m[2])];
}

export function versionAtLeast(release: string, minimum: string): boolean {
  const [a, b] = kernelVersion(release);
  const [x, y] = kernelVersion(minimum);
  return a > x || (a === x && b >= y);
}
