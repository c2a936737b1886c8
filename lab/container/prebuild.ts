/**
 * Image build step after the sources: build the BPF objects, native drivers and each kernel's initramfs into
 * LAB_CACHE, so a containerized run starts booting at once instead of compiling in every fresh container.
 * Same kernels as fetch-kernels.ts: the Debian-packaged lines (tarball lines are built from source on first use).
 */
import { loadCatalog } from '../kernels/catalog.js';
import { prepareHost } from '../vm/session.js';
import { ensureInitramfs } from '../vm/initramfs.js';
import { LabEvents } from '../events.js';
import { progressDisplay } from '../ui.js';

const host = await prepareHost(loadCatalog().kernels.filter((c) => c.kind === 'debian'), new LabEvents([progressDisplay({ verbose: false, tty: false })]));
for (const [line, k] of host.kernels) {
  const r = await ensureInitramfs(k.key, k.modulesDir);
  process.stderr.write(`bpf-lab image: ${line}: initramfs ${r.path}\n`);
}
