import { createHash } from 'node:crypto';

/**
 * Push an image to a registry through the OCI distribution API (what `docker push` does, without Docker):
 * monolithic blob uploads (POST then PUT ?digest=), then the manifest. Test helper: plain HTTP, no auth.
 */
const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function pushBlob(base: string, repo: string, bytes: Buffer): Promise<string> {
  const digest = sha(bytes);
  const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  if (start.status !== 202) throw new Error(`blob upload start: HTTP ${start.status} ${await start.text()}`);
  const location = new URL(start.headers.get('location')!, base);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', body: new Uint8Array(bytes), headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.length) } });
  if (put.status !== 201) throw new Error(`blob upload: HTTP ${put.status} ${await put.text()}`);
  return digest;
}

/** One-layer image (a gzip'ed tar) → its manifest digest. */
export async function pushImage(base: string, repo: string, tag: string, layerTgz: Buffer, diffId: string): Promise<{ digest: string; layerDigest: string; manifest: Buffer }> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] }, config: {} }));
  const configDigest = await pushBlob(base, repo, config);
  const layerDigest = await pushBlob(base, repo, layerTgz);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layerTgz.length }],
  }));
  const res = await fetch(`${base}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: new Uint8Array(manifest), headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
  if (res.status !== 201) throw new Error(`manifest upload: HTTP ${res.status} ${await res.text()}`);
  return { digest: sha(manifest), layerDigest, manifest };
}
