import test from 'ava';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

// A private cache for this file (set before the lab modules read it).
process.env.LAB_CACHE = mkdtempSync(join(tmpdir(), 'bpf-lab-cache-test-'));
const { ensurePackages } = await import('../lab/kernels/packages.js');
const { loadCatalog } = await import('../lab/kernels/catalog.js');
const { LabError } = await import('../lab/errors.js');

test.serial('two fetches of the same pins at once share one verified, complete extraction', async (t) => {
  const c = loadCatalog();
  const tool = c.tools.virtiofsd;
  const [a, b] = await Promise.all([ensurePackages('virtiofsd', tool.packages, c.suites), ensurePackages('virtiofsd', tool.packages, c.suites)]);
  t.is(a, b);
  const dir = join(a, '..');
  t.deepEqual(readdirSync(dir).filter((f) => f.startsWith('tmp-')), [], 'no half-extracted leftovers');
  const v = spawnSync(join(a, tool.loader), ['--library-path', join(a, tool.libdir), join(a, tool.binary), '--version'], { encoding: 'utf8' });
  t.regex(v.stdout, /virtiofsd 1\./);
});

test.serial('a pin the archive does not serve is an error naming the package and version', async (t) => {
  const c = loadCatalog();
  const bogus = { ...c.tools.virtiofsd.packages[0], version: '0.0.1-bpflab-test' };
  const e = await t.throwsAsync(ensurePackages('bogus', [bogus], c.suites));
  t.true(e instanceof LabError);
  t.regex(e!.message, /no longer serves virtiofsd 0\.0\.1-bpflab-test/);
});

test.serial('a sha256 mismatch is an error, never a warning', async (t) => {
  const c = loadCatalog();
  const wrong = { ...c.tools.virtiofsd.packages[2], sha256: '0'.repeat(64) };
  const e = await t.throwsAsync(ensurePackages('mismatch', [wrong], c.suites));
  t.regex(e!.message, /checksum mismatch for libcap-ng0/);
});
