// The persisted record of one container, and the store that keeps those records crash-safe on disk.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { ContainerConfig, HostConfig } from '../wire/docker';
import { readJsonIfExists, removeStaleTemps, writeJsonAtomic } from '../store/atomic';
import { humanDuration } from '../util/units';
import { NotFoundError } from '../errdefs';
import type { ContainerMount } from './container-mounts';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerStateRecord {
  status: ContainerStatus;
  pid: number;
  conmonPid: number;
  exitCode: number;
  error: string;
  oomKilled: boolean;
  startedAt: string;
  finishedAt: string;
  /** Set when the user stopped it (for unless-stopped and for not restarting). */
  stoppedByUser: boolean;
  health?: { status: string; failingStreak: number; log: { Start: string; End: string; ExitCode: number; Output: string }[] };
}

export interface ContainerRecord {
  id: string;
  name: string;
  created: string;
  /** The image ID (sha256:...) the container was created from. */
  imageId: string;
  config: ContainerConfig;
  hostConfig: HostConfig;
  path: string;
  args: string[];
  runtime: string;
  state: ContainerStateRecord;
  restartCount: number;
  /** The image's layer directories, top-most first, fixed at create time. */
  lowerDirs: string[];
  /** Binds, volumes and tmpfs mounts, resolved at create (absent on records made before volumes). */
  mounts?: ContainerMount[];
  /** Networks asked for at create/connect and what the running container got (engine/network-endpoints.ts). */
  network?: ContainerNetwork;
}

/** A container's network endpoints (in attach order; the first is NetworkMode's) and its sandbox while it runs. */
export interface ContainerNetwork {
  endpoints: EndpointRecord[];
  /** The network namespace file while running ('' otherwise): Docker's SandboxKey. */
  sandboxKey: string;
  sandboxId: string;
  /** Host ports held for the running container. */
  ports: { hostIp: string; hostPort: number; containerPort: number; proto: 'tcp' | 'udp' | 'sctp' }[];
}

export interface EndpointRecord {
  network: string;
  networkId: string;
  /** Asked for: --network-alias, --ip, --mac-address, --link (user networks), driver options. */
  aliases: string[];
  ipv4Address: string;
  /** --ip6 (absent on records made before IPv6). */
  ipv6Address?: string;
  /** --link-local-ip: extra addresses on the container's interface. */
  linkLocalIPs?: string[];
  macAddress: string;
  links: string[];
  driverOpts: Record<string, string> | null;
  /** What the running container got; empty when it is not running. */
  endpointId: string;
  ip: string;
  prefixLen: number;
  gateway: string;
  /** On a network with IPv6: GlobalIPv6Address, GlobalIPv6PrefixLen, IPv6Gateway. */
  ip6?: string;
  prefixLen6?: number;
  gateway6?: string;
  mac: string;
  dnsNames: string[];
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

/** The STATUS column of `docker ps`, worded as moby's State.String(): "Up 2 seconds", "Exited (0) 3 minutes ago". */
export function statusString(s: ContainerStateRecord, now = Date.now()): string {
  const since = (t: string) => humanDuration(Math.max(0, now - Date.parse(t)));
  switch (s.status) {
    case 'running': {
      const h = s.health?.status;
      return `Up ${since(s.startedAt)}${!h || h === 'none' ? '' : h === 'starting' ? ' (health: starting)' : ` (${h})`}`;
    }
    case 'paused': return `Up ${since(s.startedAt)} (Paused)`;
    case 'restarting': return `Restarting (${s.exitCode}) ${since(s.finishedAt)} ago`;
    case 'removing': return 'Removal In Progress';
    case 'dead': return 'Dead';
    default:
      if (s.startedAt === ZERO_TIME) return 'Created';
      if (s.finishedAt === ZERO_TIME) return '';
      return `Exited (${s.exitCode}) ${since(s.finishedAt)} ago`;
  }
}

export class ContainerRecordStore {
  constructor(readonly root: string) {}

  dir(id: string): string { return path.join(this.root, id); }
  file(id: string): string { return path.join(this.root, id, 'container.json'); }

  async init(): Promise<void> {
    await fsp.mkdir(this.root, { recursive: true, mode: 0o710 });
  }

  /**
   * Not fsynced: the rename keeps the record whole if berthd is killed, and the state it holds is reconciled at
   * start-up with what conmon recorded; an fsync on every start and exit would cost more than the container run.
   */
  async save(c: ContainerRecord): Promise<void> {
    await writeJsonAtomic(this.file(c.id), c, { durable: false }).catch((err: unknown) => {
      // Its directory gone: the container was removed meanwhile (never a reason to recreate the directory).
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !fs.existsSync(this.dir(c.id))) throw new NotFoundError(`No such container: ${c.id}`);
      throw err;
    });
  }

  /** Loads every container; a directory without a complete record (a crash during create) is removed. */
  async loadAll(): Promise<ContainerRecord[]> {
    const out: ContainerRecord[] = [];
    for (const id of await fsp.readdir(this.root)) {
      if (!/^[0-9a-f]{64}$/.test(id)) continue;
      await removeStaleTemps(this.dir(id));
      let rec: ContainerRecord | undefined;
      try {
        rec = await readJsonIfExists<ContainerRecord>(this.file(id));
      } catch {
        rec = undefined;
      }
      if (rec) out.push(rec);
      else await fsp.rm(this.dir(id), { recursive: true, force: true }).catch(() => undefined);
    }
    return out;
  }

  async remove(id: string): Promise<void> {
    // Rename first so a crash mid-removal never leaves a half-deleted container that still loads.
    const doomed = path.join(this.root, `.removing-${id}`);
    await fsp.rename(this.dir(id), doomed).catch(() => undefined);
    await fsp.rm(doomed, { recursive: true, force: true });
  }

  async removeLeftovers(): Promise<void> {
    for (const name of await fsp.readdir(this.root)) {
      if (name.startsWith('.removing-') || name.startsWith('.tmp-')) await fsp.rm(path.join(this.root, name), { recursive: true, force: true });
    }
  }
}

/** Running as far as stop, kill and removal go: paused and restarting count. */
/** The container's cgroup, as its runtime spec names it (relative to berthd's cgroup root). */
export function cgroupPathOf(c: Pick<ContainerRecord, 'id'>): string {
  return `/berth/${c.id}`;
}

export function isRunning(s: ContainerStatus): boolean {
  return s === 'running' || s === 'paused' || s === 'restarting';
}

/** Whether a container in status `s` has its process (running or paused; not one waiting to restart). */
export function hasProcess(s: ContainerStatus): boolean {
  return s === 'running' || s === 'paused';
}
