import test from 'ava';
import { spawnSync } from 'node:child_process';
import { pathWithSbin } from '../../lab/host/spawn.js';
import { mkdtempSync, writeFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newcArchive, bootConfigEntries } from '../../lab/vm/boot-config.js';
import { qemuArgs, qemuOptValue } from '../../lab/vm/qemu.js';
import { tcgThreading } from '../../lab/vm/tcg.js';
import { parseQemuVersion } from '../../lab/vm/qemu-version.js';
import { readHeadCommit } from '../../lab/host/git.js';
import { SIGNAL_EXIT } from '../../lab/vm/children.js';

test('boot config: the cpio tool extracts every value byte for byte (spaces, quotes, newlines)', (t) => {
  const values = { node: '/opt/my node/bin/node', agent: "/home/o'brien/lab $(x)/agent.js", cwd: '/a b/c', build: '/b\nc' };
  const argv = ['sh', '-c', 'echo "$1"', 'x', "it's a \"test\" ", '', 'trailing newline\n'];
  const dir = mkdtempSync(join(tmpdir(), 'bpf-lab-cpio-'));
  try {
    const r = spawnSync('cpio', ['-i', '-d', '--quiet'], { cwd: dir, input: newcArchive(bootConfigEntries({ ...values, execArgv: argv })) });
    t.is(r.status, 0, r.stderr?.toString());
    for (const [k, v] of Object.entries(values)) t.is(readFileSync(join(dir, 'lab', k), 'utf8'), v);
    const names = spawnSync('ls', [join(dir, 'lab/exec/argv')], { encoding: 'utf8' }).stdout.trim().split('\n');
    t.deepEqual(names.map((n) => readFileSync(join(dir, 'lab/exec/argv', n), 'utf8')), argv);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('qemu: exec ports are file chardevs; commas in paths are escaped', (t) => {
  const a = qemuArgs({ accel: 'tcg', cpus: 1, memoryMb: 256, kernel: 'k', initrd: 'i', append: '', execPorts: { stdout: '/t/o,1', stderr: '/t/e', status: '/t/s' } });
  t.true(a.includes('file,id=stdout,path=/t/o,,1'));
  t.true(a.includes('virtserialport,chardev=status,name=lab.status'));
  t.is(a.filter((x) => x === 'virtio-serial-pci').length, 1);
  t.is(qemuOptValue('a,b'), 'a,,b');
  const single = qemuArgs({ accel: 'tcg', tcgThread: 'single', bios: 'qboot.rom', cpus: 2, memoryMb: 256, kernel: 'k', initrd: 'i', append: '' });
  t.true(single.includes('tcg,thread=single'));
  t.is(single[single.indexOf('-bios') + 1], 'qboot.rom');
  t.false(a.includes('-bios'));
});

test('tcg threading: single-threaded below QEMU 10, multi from 10, overridable', (t) => {
  t.is(parseQemuVersion('QEMU emulator version 7.2.19 (Debian 1:7.2+dfsg-7+deb12u18+b3)')?.join('.'), '7.2');
  t.is(tcgThreading('QEMU emulator version 7.2.19 (Debian)', {}).mode, 'single');
  t.is(tcgThreading('QEMU emulator version 10.0.2 (Debian 1:10.0.2+ds-2)', {}).mode, 'multi');
  t.is(tcgThreading('QEMU emulator version 7.2.19', { LAB_TCG_THREAD: 'multi' }).mode, 'multi');
});

test('git: the commit is read from .git files (branch ref, packed ref, detached, worktree) without running git', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bpf-lab-git-'));
  const a = 'a'.repeat(40);
  const b = 'b'.repeat(40);
  try {
    mkdirSync(join(dir, 'repo/.git/refs/heads'), { recursive: true });
    writeFileSync(join(dir, 'repo/.git/HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(dir, 'repo/.git/refs/heads/main'), `${a}\n`);
    t.is(await readHeadCommit(join(dir, 'repo')), a);
    writeFileSync(join(dir, 'repo/.git/HEAD'), 'ref: refs/heads/packed\n');
    writeFileSync(join(dir, 'repo/.git/packed-refs'), `# pack-refs with: peeled\n${b} refs/heads/packed\n`);
    t.is(await readHeadCommit(join(dir, 'repo')), b);
    // a worktree: .git is a file, HEAD in its own dir, refs in the common dir
    mkdirSync(join(dir, 'repo/.git/worktrees/wt'), { recursive: true });
    writeFileSync(join(dir, 'repo/.git/worktrees/wt/HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(dir, 'repo/.git/worktrees/wt/commondir'), '../..\n');
    mkdirSync(join(dir, 'wt'));
    writeFileSync(join(dir, 'wt/.git'), `gitdir: ${join(dir, 'repo/.git/worktrees/wt')}\n`);
    t.is(await readHeadCommit(join(dir, 'wt')), a);
    writeFileSync(join(dir, 'repo/.git/worktrees/wt/HEAD'), `${b}\n`);
    t.is(await readHeadCommit(join(dir, 'wt')), b);
    writeFileSync(join(dir, 'repo/.git/HEAD'), 'ref: refs/heads/../../../etc/passwd\n');
    t.is(await readHeadCommit(join(dir, 'repo')), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('interrupt exit statuses are 128 + signal number', (t) => {
  t.deepEqual(SIGNAL_EXIT, { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 });
});

// as root, a checkout owned by someone else: the commit is still recorded, git is not run on it
(process.getuid?.() === 0 ? test : test.skip)('git: another user\'s checkout gets its commit without git running there', async (t) => {
  const { gitCommit } = await import('../../lab/host/git.js');
  const dir = mkdtempSync(join(tmpdir(), 'bpf-lab-git-other-'));
  try {
    mkdirSync(join(dir, '.git/refs/heads'), { recursive: true });
    writeFileSync(join(dir, '.git/HEAD'), 'ref: refs/heads/main\n');
    writeFileSync(join(dir, '.git/refs/heads/main'), `${'c'.repeat(40)}\n`);
    // a config that would run a command if git read it (core.fsmonitor)
    writeFileSync(join(dir, '.git/config'), `[core]\n\tfsmonitor = touch ${join(dir, 'pwned')}\n`);
    spawnSync('chown', ['-R', '65534:65534', dir]);
    t.is(await gitCommit(dir), `${'c'.repeat(40)} (working tree state not checked: the checkout belongs to uid 65534)`);
    t.false(spawnSync('test', ['-e', join(dir, 'pwned')]).status === 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('sha256FileMemo: the remembered digest follows the file (a rewrite gives the new digest)', async (t) => {
  const { sha256FileMemo, sha256File } = await import('../../lab/host/hash.js');
  const dir = mkdtempSync(join(tmpdir(), 'bpf-lab-memo-'));
  try {
    const f = join(dir, 'big');
    const memo = join(dir, 'memo', 'digests.json');
    writeFileSync(f, 'one');
    t.is(await sha256FileMemo(f, memo), await sha256File(f));
    t.is(await sha256FileMemo(f, memo), await sha256File(f));
    writeFileSync(f, 'two, longer');
    t.is(await sha256FileMemo(f, memo), await sha256File(f));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('PATH gets the sbin directories an ordinary user\'s login PATH lacks (bpftool is in /usr/sbin on Debian), once', (t) => {
  t.is(pathWithSbin('/usr/local/bin:/usr/bin:/bin'), '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin');
  t.is(pathWithSbin('/usr/sbin:/usr/bin:/sbin'), '/usr/sbin:/usr/bin:/sbin');
  t.is(pathWithSbin(undefined), '/usr/sbin:/sbin');
});
