import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lab, readCsv } from './helpers.js';

/**
 * Build a kernel from real sources with the lab's fragment, then boot it by name and by path and run a BPF and a
 * network scenario on it. A first build takes tens of minutes on 2 cores, so this runs only when
 * LAB_TEST_KERNEL_SOURCE names a tarball or tree (e.g. usr/src/linux-source-6.12.tar.xz from Debian's
 * linux-source-6.12 package); a second run finds the build in the cache.
 */
const source = process.env.LAB_TEST_KERNEL_SOURCE;
const maybe = source ? test : test.skip;

maybe('kernels build SOURCE --name N, then --kernel N and --kernel TREE run ringbuf-throughput and xdp', async (t) => {
  t.timeout(4 * 3600 * 1000);
  const built = await lab(['kernels', 'build', source!, '--name', 'e2e-lab', '--json']);
  t.is(built.code, 0, built.stderr);
  const info = JSON.parse(built.stdout) as { name: string; dir: string; meta: { release: string; bzImageBytes: number; key: string } };
  t.is(info.name, 'e2e-lab');
  t.true(info.meta.bzImageBytes > 1e6);

  const run = await lab(['--kernel', 'e2e-lab', '--scenario', 'ringbuf-throughput,xdp', '--quick']);
  t.is(run.code, 0, run.stderr);
  const manifest = JSON.parse(readFileSync(join(run.lastLine, 'manifest.json'), 'utf8'));
  t.is(manifest.kernels[0].unameR, info.meta.release);
  t.regex(manifest.kernels[0].source, /^local build of /);
  t.regex(manifest.kernels[0].imageSha256, /^[0-9a-f]{64}$/);
  const rows = readCsv(join(run.lastLine, 'results.csv'));
  for (const s of ['ringbuf-throughput', 'xdp']) t.true(rows.some((r) => r.scenario === s && Number(r.value) > 0), `${s} measured`);

  // the object directory is a built tree: arch/x86/boot/bzImage, .config, vmlinux
  const tree = join(info.dir, '..', '..', 'build', info.meta.key, 'obj');
  const byPath = await lab(['exec', '--kernel', tree, '--', 'uname', '-r']);
  t.is(byPath.code, 0, byPath.stderr);
  t.is(byPath.stdout.trim(), info.meta.release);
});
