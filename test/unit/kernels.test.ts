import test from 'ava';
import { gzipSync } from 'node:zlib';
import { parseKernelConfig, extractIkconfig, missingOptions, describeMissing, LAB_CONFIG_NEEDS } from '../../lab/kernels/kconfig.js';
import { tarballUrl } from '../../lab/kernels/kernel-org.js';
import { bzImageVersion } from '../../lab/kernels/local.js';
import { buildKey } from '../../lab/kernels/build.js';
import { registryBase } from '../../lab/kernels/oci.js';
import { parseCommand } from '../../lab/args.js';
import { UsageError } from '../../lab/errors.js';

test('kconfig: =m counts only with modules; alternatives; who needs what, in one line', (t) => {
  const config = parseKernelConfig('CONFIG_BPF_SYSCALL=y\nCONFIG_VETH=m\n# CONFIG_NET_PKTGEN is not set\nCONFIG_NET_9P=y\n');
  const needs = [
    { options: ['BPF_SYSCALL'], neededBy: 'the lab' }, { options: ['VETH'], neededBy: 'xdp' }, { options: ['NET_PKTGEN'], neededBy: 'xdp' },
    { options: ['NET_PKTGEN'], neededBy: 'tc-classification' }, { options: ['VIRTIO_FS', 'NET_9P'], neededBy: 'the lab' },
  ];
  t.deepEqual(missingOptions(config, needs, true).map((m) => m.option), ['CONFIG_NET_PKTGEN']);
  const without = missingOptions(config, needs, false);
  t.is(describeMissing(without), 'CONFIG_VETH=m without modules (xdp), CONFIG_NET_PKTGEN (xdp, tc-classification)');
  // options the guest needs before any module can load must be built in
  t.deepEqual(missingOptions(parseKernelConfig('CONFIG_DEVTMPFS=m\n'), [{ options: ['DEVTMPFS'], neededBy: 'the lab' }], true).map((m) => m.option), ['CONFIG_DEVTMPFS']);
  t.true(LAB_CONFIG_NEEDS.includes('VIRTIO_FS') && LAB_CONFIG_NEEDS.includes('DEBUG_INFO_BTF'));
});

test('kconfig: IKCONFIG is found between its markers in an uncompressed image', (t) => {
  const text = 'CONFIG_BPF=y\nCONFIG_IKCONFIG=y\n';
  const image = Buffer.concat([Buffer.alloc(1000, 7), Buffer.from('IKCFG_ST'), gzipSync(text), Buffer.from('IKCFG_ED'), Buffer.alloc(100)]);
  t.is(extractIkconfig(image), text);
  t.is(extractIkconfig(Buffer.alloc(100)), undefined);
});

test('kernel.org layout, bzImage version string, build key inputs, registry scheme', (t) => {
  t.is(tarballUrl('linux-6.6.119.tar.xz', 'https://cdn.kernel.org/pub/linux/kernel'), 'https://cdn.kernel.org/pub/linux/kernel/v6.x/linux-6.6.119.tar.xz');
  t.is(tarballUrl('linux-5.15.196.tar.xz', 'http://m/'), 'http://m//v5.x/linux-5.15.196.tar.xz');
  const img = Buffer.alloc(0x400);
  img.writeUInt32LE(0x53726448, 0x202);
  img.writeUInt16LE(0x100, 0x20e);
  img.write('6.12.117 (lab@build) #1 SMP\0', 0x300);
  t.is(bzImageVersion(img), '6.12.117');
  const k = buildKey('a'.repeat(64), 'b'.repeat(64), 'gcc 12');
  t.regex(k, /^[0-9a-f]{16}$/);
  t.not(k, buildKey('a'.repeat(64), 'b'.repeat(64), 'gcc 13'));
  t.not(k, buildKey('a'.repeat(64), 'c'.repeat(64), 'gcc 12'));
  t.is(registryBase('127.0.0.1:5000'), 'http://127.0.0.1:5000');
  t.is(registryBase('ghcr.io'), 'https://ghcr.io');
});

test('args: kernels build', (t) => {
  const d = { kernel: '6.1', suite: 'phase1' };
  t.like(parseCommand(['kernels', 'build', 'linux.tar.xz', '--name', '6.12-lab', '--jobs', '2'], d), { cmd: 'kernels-build', source: 'linux.tar.xz', name: '6.12-lab', jobs: 2 });
  t.like(parseCommand(['kernels'], d), { cmd: 'kernels' });
  t.throws(() => parseCommand(['kernels', 'build'], d), { instanceOf: UsageError, message: /kernels build SOURCE/ });
  t.throws(() => parseCommand(['kernels', 'build', 'x', '--name', 'a b'], d), { instanceOf: UsageError, message: /--name/ });
  t.throws(() => parseCommand(['kernels', 'frob'], d), { instanceOf: UsageError, message: /unknown kernels subcommand/ });
});
