// What /info tells of the host and of this daemon's process, read from Linux (the engine asks through HostFacts).
import { randomUUID } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

export interface HostFacts {
  /** The daemon's ID: kept in the data root, made once. */
  daemonId(): Promise<string>;
  /** PRETTY_NAME of /etc/os-release. */
  operatingSystem(): Promise<string>;
  /** Open file descriptors of this process. */
  openFds(): Promise<number>;
  kernelVersion(): string;
  /** uname -m (x86_64), as dockerd's Architecture. */
  machine(): string;
  hostname(): string;
  cpus(): number;
  memTotal(): number;
}

export function linuxHostFacts(dataRoot: string): HostFacts {
  return {
    async daemonId() {
      const file = path.join(dataRoot, 'engine-id');
      try {
        return (await fsp.readFile(file, 'utf8')).trim();
      } catch {
        const id = randomUUID();
        await fsp.writeFile(file, id).catch(() => undefined);
        return id;
      }
    },
    async operatingSystem() {
      const text = await fsp.readFile('/etc/os-release', 'utf8').catch(() => '');
      return /^PRETTY_NAME="?([^"\n]*)"?/m.exec(text)?.[1] ?? 'Linux';
    },
    async openFds() {
      return (await fsp.readdir('/proc/self/fd').catch(() => [])).length;
    },
    kernelVersion: () => os.release(),
    machine: () => os.machine(),
    hostname: () => os.hostname(),
    cpus: () => os.cpus().length,
    memTotal: () => os.totalmem(),
  };
}
