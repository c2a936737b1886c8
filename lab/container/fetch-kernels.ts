/**
 * Image build step: fetch every Debian-packaged catalog kernel (the lines `--kernel all` means) and the pinned
 * virtiofsd into LAB_CACHE with the lab's own download-and-verify code, so a containerized run needs no download.
 * Tarball lines (5.15, 6.6) are built from source on first use, not bundled. Imports only the fetch modules, because
 * the Dockerfile compiles this before the rest of the sources are copied (see images/container/Dockerfile).
 */
import { loadCatalog } from '../kernels/catalog.js';
import { ensureKernel } from '../kernels/kernel.js';
import { ensureVirtiofsd } from '../vm/virtiofsd.js';

const say = (m: string) => process.stderr.write(`bpf-lab image: ${m}\n`);
for (const k of loadCatalog().kernels.filter((c) => c.kind === 'debian')) {
  const a = await ensureKernel(k, (m) => say(`${k.line}: ${m}`));
  say(`${k.line}: ${a.vmlinux ?? a.vmlinuz}`);
}
await ensureVirtiofsd((m) => say(`virtiofsd: ${m}`));
