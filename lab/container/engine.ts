import Docker from 'dockerode';
import { LabError, errorMessage } from '../errors.js';

export const DEFAULT_SOCKET = '/var/run/docker.sock';

/** Where dockerode will connect: DOCKER_HOST when set, else the default Docker socket. */
export function engineEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_HOST ? `DOCKER_HOST=${env.DOCKER_HOST}` : `unix://${DEFAULT_SOCKET} (DOCKER_HOST is not set)`;
}

export function unreachableMessage(endpoint: string, why: string): string {
  return `no container engine answers at ${endpoint}: ${why}; start one: dockerd (as root), or as a user ` +
    '`podman system service --time=0 unix://$XDG_RUNTIME_DIR/podman/podman.sock &` and ' +
    'export DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock';
}

export interface Engine {
  docker: Docker;
  endpoint: string;
  /** the engine runs without root (rootless Podman or Docker): container uid 0 is the invoking user on the host */
  rootless: boolean;
  name: string;
}

/** Connect to the engine DOCKER_HOST (or the default socket) names; one clear line when none answers. */
export async function connectEngine(): Promise<Engine> {
  const endpoint = engineEndpoint();
  const docker = new Docker();
  try {
    await docker.ping();
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such socket' : err.code === 'EACCES' ? 'permission denied on the socket' : errorMessage(e).split('\n')[0];
    throw new LabError(unreachableMessage(endpoint, why));
  }
  const [info, version] = await Promise.all([docker.info(), docker.version()]);
  const podman = !!version.Components?.some((c) => /podman/i.test(c.Name));
  // Docker lists rootless mode in SecurityOptions; Podman's compat /info does not, its own /libpod/info does
  const rootless = podman ? await podmanRootless(docker, version.Version) : (info.SecurityOptions ?? []).some((s: string) => s.includes('name=rootless'));
  return { docker, endpoint, rootless, name: `${podman ? 'Podman' : 'Docker'} ${version.Version}` };
}

function podmanRootless(docker: Docker, apiVersion: string): Promise<boolean> {
  return new Promise((resolve) => {
    // Podman 4 serves its own API only under a version prefix
    docker.modem.dial({ path: `/v${apiVersion}/libpod/info`, method: 'GET', statusCodes: { 200: true } }, (err: unknown, data: unknown) => {
      resolve(!err && (data as { host?: { security?: { rootless?: boolean } } })?.host?.security?.rootless === true);
    });
  });
}
