import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { LabError } from '../errors.js';

/** Why a URL could not be fetched, in a few words ("ENOTFOUND cdn.kernel.org", "HTTP 404"). */
export class FetchFailure extends Error {
  constructor(readonly url: string, readonly reason: string, readonly status?: number) {
    super(`${url}: ${reason}`);
  }
}

function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  return cause?.message ?? cause?.code ?? (e as Error).message;
}

/** GET with a timeout on connecting and headers; the body streams afterwards. */
export async function httpGet(url: string, headers: Record<string, string> = {}, timeoutMs = 20000): Promise<Response> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeoutMs);
  try {
    return await fetch(url, { headers, signal: ctl.signal, redirect: 'follow' });
  } catch (e) {
    throw new FetchFailure(url, ctl.signal.aborted ? `no answer in ${timeoutMs / 1000} s` : networkReason(e));
  } finally {
    clearTimeout(timer);
  }
}

export interface VerifiedDownload { url: string; dest: string; sha256: string; headers?: Record<string, string>; onProgress?: (bytes: number, total?: number) => void }

/**
 * Stream url to dest, hashing on the way; the file appears at dest only when its sha256 equals the pin.
 * A mismatch is refused (LabError), never downgraded to a warning.
 */
export async function downloadVerified(d: VerifiedDownload): Promise<void> {
  const res = await httpGet(d.url, d.headers);
  if (!res.ok || !res.body) throw new FetchFailure(d.url, `HTTP ${res.status}`, res.status);
  const total = Number(res.headers.get('content-length')) || undefined;
  await mkdir(dirname(d.dest), { recursive: true });
  const tmp = `${d.dest}.part-${process.pid}`;
  const hash = createHash('sha256');
  let bytes = 0;
  let lastReport = 0;
  const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
  body.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
    if (d.onProgress && Date.now() - lastReport > 2000) { lastReport = Date.now(); d.onProgress(bytes, total); }
  });
  try {
    await pipeline(body, createWriteStream(tmp));
  } catch (e) {
    await rm(tmp, { force: true });
    throw new FetchFailure(d.url, `transfer broke after ${bytes} B: ${networkReason(e)}`);
  }
  const got = hash.digest('hex');
  if (got !== d.sha256) {
    await rm(tmp, { force: true });
    throw new LabError(`sha256 mismatch for ${d.url}: got ${got}, pinned ${d.sha256}; refusing it`);
  }
  await rename(tmp, d.dest);
}
