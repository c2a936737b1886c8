import type Docker from 'dockerode';
import tar from 'tar-stream';

/** The passwd line for a uid the image does not know (home /tmp, like the image's HOME). */
export function passwdWithUser(passwd: string, uid: number, gid: number, name: string): string | undefined {
  if (passwd.split('\n').some((l) => l.split(':')[2] === String(uid))) return undefined;
  const safe = /^[a-z_][a-z0-9_-]*$/i.test(name) && !passwd.split('\n').some((l) => l.split(':')[0] === name) ? name : `lab${uid}`;
  return `${passwd.replace(/\n*$/, '\n')}${safe}:x:${uid}:${gid}:bpf-lab user:/tmp:/bin/sh\n`;
}

/**
 * Give the invoking uid a name in a created (not yet started) container, so user lookups in the lab (the manifest
 * records the user) work: read the image's /etc/passwd and put it back with one more line.
 */
export async function addPasswdEntry(container: Docker.Container, uid: number, gid: number, name: string): Promise<void> {
  const archive = await container.getArchive({ path: '/etc/passwd' });
  const text = await new Promise<string>((resolve, reject) => {
    const extract = tar.extract();
    let body = '';
    extract.on('entry', (_h, stream, next) => { stream.on('data', (d: Buffer) => (body += d)); stream.on('end', next); stream.resume(); });
    extract.on('finish', () => resolve(body));
    extract.on('error', reject);
    archive.pipe(extract);
  });
  const updated = passwdWithUser(text, uid, gid, name);
  if (!updated) return;
  const pack = tar.pack();
  pack.entry({ name: 'passwd', mode: 0o644, uid: 0, gid: 0 }, updated);
  pack.finalize();
  await container.putArchive(pack as unknown as NodeJS.ReadableStream, { path: '/etc' });
}
