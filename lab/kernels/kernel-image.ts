import { readFile, rename } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { spawn } from 'node:child_process';

/**
 * Extract the uncompressed vmlinux ELF from an x86 bzImage. Booting it directly (PVH) skips the in-guest
 * decompression, which is slow under TCG, and the ELF carries the kernel's BTF for vmlinux.h.
 * The payload's compression is read from its magic; the matching host tool decompresses it.
 */
const DECOMPRESSORS: { magic: number[]; cmd: string; args: string[] }[] = [
  { magic: [0x1f, 0x8b], cmd: 'gzip', args: ['-dc'] },
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], cmd: 'xz', args: ['-dc'] },
  { magic: [0x28, 0xb5, 0x2f, 0xfd], cmd: 'zstd', args: ['-dc'] },
  { magic: [0x02, 0x21, 0x4c, 0x18], cmd: 'lz4', args: ['-dc'] },
];

export function bzImagePayload(image: Buffer): Buffer {
  if (image.readUInt32LE(0x202) !== 0x53726448) throw new Error('not a bzImage (no HdrS header)');
  const setupSects = image[0x1f1] || 4;
  const start = (setupSects + 1) * 512 + image.readUInt32LE(0x248);
  return image.subarray(start, start + image.readUInt32LE(0x24c));
}

/** Size an ELF64 file must have: its section header table is last. */
export function elfExpectedSize(elf: Buffer): number {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46) throw new Error('not an ELF file');
  return Number(elf.readBigUInt64LE(0x28)) + elf.readUInt16LE(0x3a) * elf.readUInt16LE(0x3c);
}

export async function extractVmlinux(bzImagePath: string, outPath: string): Promise<void> {
  const payload = bzImagePayload(await readFile(bzImagePath));
  const d = DECOMPRESSORS.find((x) => x.magic.every((b, i) => payload[i] === b));
  if (!d) throw new Error(`unknown kernel payload compression (magic ${payload.subarray(0, 4).toString('hex')})`);
  const tmp = `${outPath}.tmp-${process.pid}`;
  // The payload carries trailing bytes (the decompressed size), so the tools may exit non-zero after
  // writing the whole image; the ELF's own layout tells whether the output is complete.
  await new Promise<void>((resolve, reject) => {
    const child = spawn(d.cmd, d.args, { stdio: ['pipe', 'pipe', 'ignore'] });
    child.on('error', (e) => reject(new Error(`${d.cmd} is needed to unpack the kernel: ${e.message}`)));
    child.stdout.pipe(createWriteStream(tmp)).on('finish', resolve).on('error', reject);
    child.stdin.on('error', () => { /* the tool may stop reading at the trailer */ });
    child.stdin.end(payload);
  });
  const elf = await readFile(tmp);
  if (elf.length < elfExpectedSize(elf)) throw new Error(`${d.cmd} produced a truncated vmlinux (${elf.length} B)`);
  await rename(tmp, outPath);
}
