// Networks and the sandboxes attached to them, kept crash-safe in the data root.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { readJsonIfExists, removeStaleTemps, writeJsonAtomic } from '../store/atomic';
import type { NetavarkOptions } from './netavark';
import type { PublishedPort } from './ports';

/** 'overlay': a swarm network, seen through the cluster (never stored here). */
export type NetworkDriverName = 'bridge' | 'host' | 'null' | 'overlay';

export interface NetworkRecord {
  id: string;
  name: string;
  created: string;
  driver: NetworkDriverName;
  /** Predefined networks (bridge, host, none) cannot be removed. */
  builtin: boolean;
  /** The Linux bridge's name (bridge driver only). */
  bridge: string;
  subnet: string;
  gateway: string;
  /** --ip-range: the part of the subnet addresses are handed out from ('' = all of it). */
  ipRange: string;
  /** IPAM.Config's AuxiliaryAddresses of the IPv4 subnet: kept and shown, never handed out. */
  auxAddresses?: Record<string, string>;
  /** EnableIPv6 (absent on records made before IPv6). */
  ipv6?: boolean;
  /** The IPv6 subnet, its gateway, ip-range and auxiliary addresses, when ipv6 is on. */
  subnet6?: string;
  gateway6?: string;
  ipRange6?: string;
  auxAddresses6?: Record<string, string>;
  internal: boolean;
  attachable: boolean;
  labels: Record<string, string>;
  options: Record<string, string>;
  ipamOptions: Record<string, string>;
  /** 'swarm' for a swarm network (driver overlay); absent for local ones. */
  scope?: 'swarm';
  /** The swarm's routing-mesh network. */
  ingress?: boolean;
}

/** One network a running container is attached to: the options netavark set it up with, and what it got. */
export interface Attachment {
  networkId: string;
  networkName: string;
  endpointId: string;
  interfaceName: string;
  ip: string;
  prefixLen: number;
  gateway: string;
  /** The IPv6 address, prefix length and gateway on a network with IPv6. */
  ip6?: string;
  prefixLen6?: number;
  gateway6?: string;
  /** --link-local-ip addresses added to the interface after setup (netavark only sets addresses of its subnets). */
  linkLocalIPs?: string[];
  mac: string;
  dnsNames: string[];
  /** The endpoint's legacy links ("name:alias") on a user network: the aliases its targets there get in DNS. */
  links?: string[];
  /** The exact document given to `netavark setup`, replayed for `teardown`. */
  opts: NetavarkOptions;
  /** Whether setup finished (false: written ahead of setup, so a crash in between still gets torn down). */
  ready: boolean;
  /**
   * On a swarm overlay: the swarm holds the address and the endpoint, so a teardown must also leave and free them
   * (OverlayAttachments.leave/left). Written ahead of the join: `ip` is '' until the join answered, and then netavark
   * has nothing to tear down.
   */
  overlay?: boolean;
}

/** A running container's network sandbox: its namespace, attachments and held host ports. */
export interface SandboxRecord {
  containerId: string;
  sandboxId: string;
  netns: string;
  attachments: Attachment[];
  ports: PublishedPort[];
}

/** An overlay endpoint whose address the swarm still holds: left() is owed for it. */
export interface OverlayRelease { networkId: string; containerId: string }

export class NetworkStore {
  private readonly sandboxDir: string;

  constructor(private readonly root: string) {
    this.sandboxDir = path.join(root, 'sandboxes');
  }

  async init(): Promise<void> {
    await fsp.mkdir(this.sandboxDir, { recursive: true, mode: 0o700 });
    await removeStaleTemps(this.root);
    await removeStaleTemps(this.sandboxDir);
  }

  private networkFile(id: string): string { return path.join(this.root, `${id}.json`); }
  private sandboxFile(id: string): string { return path.join(this.sandboxDir, `${id}.json`); }

  async loadNetworks(): Promise<NetworkRecord[]> {
    return this.loadDir<NetworkRecord>(this.root);
  }

  /** Durable: a network that was announced as created must still be there after a power loss. */
  async saveNetwork(n: NetworkRecord): Promise<void> {
    await writeJsonAtomic(this.networkFile(n.id), n);
  }

  async removeNetwork(id: string): Promise<void> {
    await fsp.rm(this.networkFile(id), { force: true });
  }

  /** Overlay endpoints torn down while the node had no swarm to free their addresses with (see NetworkEndpoints); a
   * file not named .json, which loadNetworks would read as a network. Durable: the swarm's leases outlive a power loss. */
  async loadOverlayReleases(): Promise<OverlayRelease[]> {
    return (await readJsonIfExists<OverlayRelease[]>(path.join(this.root, 'overlay-releases.list')).catch(() => undefined)) ?? [];
  }

  async saveOverlayReleases(list: OverlayRelease[]): Promise<void> {
    const file = path.join(this.root, 'overlay-releases.list');
    if (list.length) await writeJsonAtomic(file, list);
    else await fsp.rm(file, { force: true });
  }

  async loadSandboxes(): Promise<SandboxRecord[]> {
    return this.loadDir<SandboxRecord>(this.sandboxDir);
  }

  /** Not fsynced: what it records lives in /run and the kernel, which a power loss clears as well. */
  async saveSandbox(s: SandboxRecord): Promise<void> {
    await writeJsonAtomic(this.sandboxFile(s.containerId), s, { durable: false });
  }

  async removeSandbox(containerId: string): Promise<void> {
    await fsp.rm(this.sandboxFile(containerId), { force: true });
  }

  private async loadDir<T>(dir: string): Promise<T[]> {
    const out: T[] = [];
    for (const name of await fsp.readdir(dir).catch(() => [] as string[])) {
      if (!name.endsWith('.json') || name.startsWith('.')) continue;
      const rec = await readJsonIfExists<T>(path.join(dir, name)).catch(() => undefined);
      if (rec) out.push(rec);
    }
    return out;
  }
}
