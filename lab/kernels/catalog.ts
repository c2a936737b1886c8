import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

const KernelEntry = z.object({
  line: z.string().regex(/^\d+\.\d+$/),
  release: z.string().min(1),
  packages: z.array(PinnedPackage).min(1),
  vmlinuz: z.string(),
  config: z.string(),
  modules: z.string(),
  /** the same version's Debian kernel source package (a .tar.xz inside), for building the selftests bench */
  source: PinnedPackage.extend({ tarball: z.string() }).optional(),
});
export type KernelEntry = z.infer<typeof KernelEntry>;

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
  kernels: z.array(KernelEntry).min(1),
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

/** "6.1", "6.1,6.12" or "all" → catalog entries, in the order given. */
export function resolveKernels(spec: string, catalog = loadCatalog()): KernelEntry[] {
  const lines = catalog.kernels.map((k) => k.line);
  const wanted = spec === 'all' ? lines : spec.split(',').map((s) => s.trim()).filter(Boolean);
  if (wanted.length === 0) throw new UsageError(`--kernel is empty; valid kernel lines: ${lines.join(', ')}, all`);
  return wanted.map((w) => {
    const entry = catalog.kernels.find((k) => k.line === w);
    if (!entry) throw new UsageError(`unknown kernel line '${w}'; valid kernel lines: ${lines.join(', ')}, all`);
    return entry;
  });
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
