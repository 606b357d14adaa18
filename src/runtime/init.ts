// `--init`: Docker's init (tini, statically linked, from Debian's tini) bind-mounted read-only as the container's pid 1.
import * as fs from 'node:fs';
import type { RuntimeMount } from '../wire/oci';

/** Where the init appears inside the container, as in Docker. */
export const INIT_PATH = '/sbin/docker-init';

/** Static builds first: the container's root may have no libc (busybox). */
const CANDIDATES = ['/usr/bin/tini-static', '/usr/bin/docker-init', '/usr/libexec/podman/catatonit', '/usr/bin/catatonit', '/usr/bin/tini'];

let found: string | null | undefined;

export function initBinary(): string | null {
  if (found === undefined) found = CANDIDATES.find((p) => fs.existsSync(p)) ?? null;
  return found;
}

/** The container's argv with the init in front (tini reaps zombies and forwards signals to the command). */
export function withInit(enabled: boolean | null | undefined, argv: string[]): string[] {
  if (!enabled) return argv;
  if (!initBinary()) throw new Error('--init: no init binary found (install Debian\'s tini: make deps)');
  return [INIT_PATH, '--', ...argv];
}

export function initMounts(enabled: boolean | null | undefined): RuntimeMount[] {
  if (!enabled) return [];
  const bin = initBinary();
  if (!bin) return [];
  return [{ destination: INIT_PATH, type: 'bind', source: bin, options: ['rbind', 'ro', 'nosuid', 'nodev'] }];
}
