// Networks: the predefined ones (bridge, host, none) and user networks — create, list, inspect, remove, prune —
// and the subnets they take; and, while the node is in a swarm, the swarm's overlay networks as the cluster shows
// them (looked up, never stored here). Containers' endpoints on them are network-endpoints.ts's.
import { randomBytes, randomInt } from 'node:crypto';
import type { NetworkCreateBody, IPAMConfig } from '../wire/docker';
import type { ContainerRecord } from './container-record';
import { ConflictError, ForbiddenError, InvalidParameterError, NotFoundError, NotImplementedError, UnavailableError, errorMessage } from '../errdefs';
import type { EventBus } from './events';
import { KeyedMutex } from '../util/mutex';
import {
  bigToIp6, contains, firstHost, freeSubnets, freeSubnets6, intToIp, overlaps, overlaps6, parseSubnet, parseSubnet6, subnet6String, subnetString, ulaPrefix,
  type Subnet4, type Subnet6,
} from '../network/addresses';
import { DEFAULT_ADDRESS_POOLS, bridgePrefixIn, type AddressPool, type BridgeIp } from '../network/address-pools';
import { probeHostRoutes6, type HostRouteProbe, type HostRouteProbe6 } from '../network/host-routes';
import { POOL_OVERLAPS, checkedIpam, isV6Config, type AddressAllocator } from '../network/ipam';
import type { Attachment, NetworkRecord, NetworkStore } from '../network/network-store';
import type { SandboxTable } from './network-sandboxes';
import type { NetworkDriver } from '../network/netavark';
import { bridgeNetworkInfo } from '../network/bridge/driver';
import type { OverlayAttachments, OverlayNetworkInfo } from './overlay-port';

const MAX_IFNAME = 15;

/** What the network side needs of the containers (their service, passed in by daemon.ts). */
export interface ContainerDirectory {
  find(ref: string): ContainerRecord | undefined;
  saveRecord(c: ContainerRecord): Promise<void>;
}

export interface NetworkServiceOptions {
  store: NetworkStore;
  sandboxes: SandboxTable;
  addresses: AddressAllocator;
  containers: ContainerDirectory;
  routes: HostRouteProbe;
  /** The host's IPv6 routes (default: read from /proc). */
  routes6?: HostRouteProbe6;
  events: EventBus;
  /** The default bridge's interface name (daemon flag --bridge; unique per daemon on one host). */
  bridgeName: string;
  /** Removes a removed bridge network's bridge and rules from the host. */
  driver?: Pick<NetworkDriver, 'removeNetwork'>;
  /** Where the default bridge (without bridgeIp) and user networks get subnets (default DEFAULT_ADDRESS_POOLS). */
  pools?: readonly AddressPool[];
  /** daemon.json "bip": the default bridge's address and subnet. */
  bridgeIp?: BridgeIp;
  /** daemon.json "fixed-cidr": the default bridge's container addresses (its subnet too, without bridgeIp). */
  fixedCidr?: Subnet4;
  log: { info(msg: string): void; error(msg: string): void };
}

export class NetworkService {
  private readonly networks = new Map<string, NetworkRecord>();
  private readonly lock = new KeyedMutex();
  private readonly pools: readonly AddressPool[];

  constructor(private readonly o: NetworkServiceOptions) {
    if (o.bridgeName.length > MAX_IFNAME || !/^[A-Za-z0-9_.-]+$/.test(o.bridgeName)) {
      throw new InvalidParameterError(`invalid bridge name ${JSON.stringify(o.bridgeName)}: at most ${MAX_IFNAME} letters, digits, '_', '.' or '-'`);
    }
    this.pools = o.pools?.length ? o.pools : DEFAULT_ADDRESS_POOLS;
    this.routes6 = o.routes6 ?? probeHostRoutes6;
  }

  private readonly routes6: HostRouteProbe6;
  private overlay: OverlayAttachments | undefined;
  private readonly overlayListeners = new Set<(port: OverlayAttachments | undefined) => void>();

  /**
   * The swarm's side of overlay networks: set by the cluster when the node becomes active in a swarm, undefined
   * when it leaves (or before it is up at start-up).
   */
  useOverlay(port: OverlayAttachments | undefined): void {
    this.overlay = port;
    for (const l of this.overlayListeners) l(port);
  }

  overlayPort(): OverlayAttachments | undefined {
    return this.overlay;
  }

  /** Calls `listener` whenever useOverlay changes the port (the endpoints settle what they owe the swarm). */
  onOverlay(listener: (port: OverlayAttachments | undefined) => void): void {
    this.overlayListeners.add(listener);
  }

  /** Runs `fn` alone among changes to networks and their endpoints (create, remove, attach, connect...). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.lock.run('net', fn);
  }

  // ---------- start-up ----------

  /** Loads networks and sandboxes, and makes the predefined networks. */
  async init(): Promise<void> {
    await this.o.store.init();
    for (const n of await this.o.store.loadNetworks()) this.networks.set(n.id, n);
    await this.o.sandboxes.load();
    await this.ensureDefaultBridge();
    for (const [name, driver] of [['host', 'host'], ['none', 'null']] as const) {
      if (!this.byName(name)) await this.save(this.newRecord({ name, driver, builtin: true }));
    }
  }

  private async ensureDefaultBridge(): Promise<void> {
    const bridge = this.byName('bridge');
    if (bridge) {
      const misfit = await this.defaultBridgeMisfit(bridge);
      if (!misfit && bridge.bridge === this.o.bridgeName && bridge.ipRange === this.fixedRange()) return;
      if (this.o.sandboxes.uses(bridge.id)) {
        // Its containers hold addresses of the old subnet on a live bridge: moving it would cut them off.
        if (misfit) this.o.log.info(`network: the default bridge stays on ${bridge.subnet} although ${misfit}: running containers are attached to it (it moves at a start with none)`);
        return;
      }
      bridge.bridge = this.o.bridgeName;
      bridge.options['com.docker.network.bridge.name'] = this.o.bridgeName;
      if (misfit) {
        const old = bridge.subnet;
        await this.placeDefaultBridge(bridge);
        this.o.log.info(`network: the default bridge moves from ${old} to ${bridge.subnet}: ${misfit}`);
      }
      bridge.ipRange = this.fixedRange();
      await this.save(bridge);
      return;
    }
    const rec = this.newRecord({
      name: 'bridge', driver: 'bridge', builtin: true, bridge: this.o.bridgeName,
      options: {
        'com.docker.network.bridge.default_bridge': 'true',
        'com.docker.network.bridge.enable_icc': 'true',
        'com.docker.network.bridge.enable_ip_masquerade': 'true',
        'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
        'com.docker.network.bridge.name': this.o.bridgeName,
        'com.docker.network.driver.mtu': '1500',
      },
    });
    await this.placeDefaultBridge(rec);
    rec.ipRange = this.fixedRange();
    await this.save(rec);
    this.o.log.info(`network: default bridge ${rec.bridge} on ${rec.subnet}`);
  }

  /** The default bridge's container addresses as fixed-cidr limits them ('' for its whole subnet). */
  private fixedRange(): string {
    return this.o.fixedCidr ? subnetString(this.o.fixedCidr) : '';
  }

  /** Why the stored default bridge's subnet no longer fits this start's settings and host, or undefined when it does. */
  private async defaultBridgeMisfit(bridge: NetworkRecord): Promise<string | undefined> {
    const subnet = parseSubnet(bridge.subnet);
    // Another daemon (or docker0, a VPN) may have come to route the subnet since last time.
    const clash = (await this.o.routes()).find((r) => r.dev !== bridge.bridge && r.dev !== this.o.bridgeName && overlaps(r.dst, subnet));
    if (clash) return `the host routes ${subnetString(clash.dst)} via ${clash.dev}`;
    const want = this.wantedBridgeSubnet();
    if (want) {
      const same = subnetString(want.subnet) === bridge.subnet && intToIp(want.gateway) === bridge.gateway;
      return same ? undefined : `the daemon's ${this.o.bridgeIp ? 'bip' : 'fixed-cidr'} asks for ${intToIp(want.gateway)}/${want.subnet.prefix}`;
    }
    const pool = this.pools.find((p) => p.base.prefix <= subnet.prefix && contains(p.base, subnet.base));
    if (!pool) return `${bridge.subnet} is outside the address pools`;
    if (subnet.prefix > bridgePrefixIn(pool)) return `a /${subnet.prefix} is smaller than the default bridge's /${bridgePrefixIn(pool)}`;
    return undefined;
  }

  /** The default bridge's subnet as bip (or else fixed-cidr, as dockerd takes it) sets it; undefined to pick from the pools. */
  private wantedBridgeSubnet(): BridgeIp | undefined {
    if (this.o.bridgeIp) return this.o.bridgeIp;
    if (this.o.fixedCidr) return { subnet: this.o.fixedCidr, gateway: firstHost(this.o.fixedCidr) };
    return undefined;
  }

  /** Gives the default bridge its subnet: bip's (refused when the host routes it elsewhere), or a free one of the pools. */
  private async placeDefaultBridge(n: NetworkRecord): Promise<void> {
    const want = this.wantedBridgeSubnet();
    if (!want) {
      this.setSubnet(n, await this.chooseSubnet(bridgePrefixIn, n.id));
      return;
    }
    const clash = (await this.o.routes()).find((r) => r.dst.prefix > 0 && r.dev !== this.o.bridgeName && overlaps(r.dst, want.subnet));
    if (clash) throw new InvalidParameterError(`${this.o.bridgeIp ? 'bip' : 'fixed-cidr'}: ${subnetString(want.subnet)} overlaps ${subnetString(clash.dst)}, which the host routes via ${clash.dev}`);
    const mine = this.ownSubnets(n.id).find((s) => overlaps(s, want.subnet));
    if (mine) throw new InvalidParameterError(`${this.o.bridgeIp ? 'bip' : 'fixed-cidr'}: ${subnetString(want.subnet)} overlaps network subnet ${subnetString(mine)}`);
    n.subnet = subnetString(want.subnet);
    n.gateway = intToIp(want.gateway);
  }

  private setSubnet(n: NetworkRecord, s: Subnet4): void {
    n.subnet = subnetString(s);
    n.gateway = intToIp(firstHost(s));
  }

  /**
   * A free subnet of the pools, in their order, of the size `prefixIn` gives each (a user network's: the pool's size):
   * not routed on the host, not used by another of our networks; the start in each pool is random, so daemons on one
   * host spread over it.
   */
  private async chooseSubnet(prefixIn: (p: AddressPool) => number = (p) => p.size, exceptId = ''): Promise<Subnet4> {
    const used = [...(await this.o.routes()).map((r) => r.dst), ...this.ownSubnets(exceptId)];
    for (const pool of this.pools) {
      const prefix = prefixIn(pool);
      for (const s of freeSubnets(pool.base, prefix, used, randomInt(2 ** (prefix - pool.base.prefix)))) return s;
    }
    const pools = this.pools.map((p) => subnetString(p.base)).join(', ');
    throw new ForbiddenError(`could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network (${pools} used up)`);
  }

  private ownSubnets(exceptId = ''): Subnet4[] {
    return [...this.networks.values()].filter((n) => n.subnet && n.id !== exceptId).map((n) => parseSubnet(n.subnet));
  }

  private ownSubnets6(): Subnet6[] {
    return [...this.networks.values()].filter((n) => n.subnet6).map((n) => parseSubnet6(n.subnet6!));
  }

  /**
   * A free /64 of this daemon's unique local /48 (derived from the default bridge's ID, as dockerd derives its own
   * from the engine's ID: stable across restarts, different for each daemon), not routed on the host, not ours yet.
   */
  private async chooseSubnet6(): Promise<Subnet6> {
    const pool = ulaPrefix(this.byName('bridge')?.id ?? '');
    const used = [...(await this.routes6()).map((r) => r.dst), ...this.ownSubnets6()];
    for (const s of freeSubnets6(pool, 64, used)) return s;
    throw new ForbiddenError(`could not find an available, non-overlapping IPv6 address pool among the defaults to assign to the network (${subnet6String(pool)} is used up)`);
  }

  private newRecord(p: Partial<NetworkRecord> & Pick<NetworkRecord, 'name' | 'driver'>): NetworkRecord {
    return {
      id: randomBytes(32).toString('hex'), created: new Date().toISOString(), builtin: false, bridge: '', subnet: '', gateway: '',
      ipRange: '', internal: false, attachable: false, labels: {}, options: {}, ipamOptions: {}, ...p,
    };
  }

  private async save(n: NetworkRecord): Promise<void> {
    await this.o.store.saveNetwork(n);
    this.networks.set(n.id, n);
  }

  // ---------- lookup ----------

  /** By full ID, exact name, or unique ID prefix, as Docker looks networks up. */
  get(ref: string): NetworkRecord {
    const n = this.find(ref);
    if (!n) throw new NotFoundError(`network ${ref} not found`);
    return n;
  }

  /**
   * Local networks and, in a swarm, the swarm's: full ID, then full name, then unique ID prefix (moby's FindNetwork
   * order), a local network first at each step, as moby's network inspect prefers the local one.
   */
  find(ref: string): NetworkRecord | undefined {
    if (!ref) return undefined;
    const swarm = this.swarmNetworks();
    const direct = this.networks.get(ref) ?? swarm.find((n) => n.id === ref) ?? this.byName(ref) ?? swarm.find((n) => n.name === ref);
    if (direct) return direct;
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    const matches = [...this.networks.values(), ...swarm].filter((n) => n.id.startsWith(ref));
    if (matches.length > 1) throw new InvalidParameterError(`network ${ref} is ambiguous (${matches.length} matches found based on ID prefix)`);
    return matches[0];
  }

  /** A local network by exact name (the predefined ones, name clashes at create). */
  byName(name: string): NetworkRecord | undefined {
    for (const n of this.networks.values()) if (n.name === name) return n;
    return undefined;
  }

  /** By full ID only, local or swarm. */
  byId(id: string): NetworkRecord | undefined {
    return this.networks.get(id) ?? this.swarmNetworks().find((n) => n.id === id);
  }

  /**
   * The networks of this node as dockerd's own list shows them: the local ones, and the swarm networks realized
   * here — in use by a container on this node, and `ingress`, which every swarm node has (a worker's dockerd lists
   * no other; on a manager the API merges in the cluster's list).
   */
  all(): NetworkRecord[] {
    const realized = this.swarmNetworks().filter((n) => n.ingress || this.o.sandboxes.uses(n.id));
    return [...[...this.networks.values()].sort((a, b) => (a.created < b.created ? -1 : 1)), ...realized];
  }

  /** The swarm's networks as records (not stored: the cluster's copy is the truth); none outside a swarm. */
  private swarmNetworks(): NetworkRecord[] {
    return this.overlay?.list().map(overlayRecord) ?? [];
  }

  /** The running containers on a network, with what they got there. */
  endpointsOn(n: NetworkRecord): { containerId: string; name: string; attachment: Attachment }[] {
    return this.o.sandboxes.readyOn(n.id).map(({ containerId, attachment }) => ({
      containerId, name: this.o.containers.find(containerId)?.name ?? attachment.opts.container_name, attachment,
    }));
  }

  /**
   * The containers that keep `n` from going: every sandbox with an endpoint on it, set up or being set up (an attach
   * makes its interfaces outside the lock, decision 30: the network must outlive it).
   */
  private inUseBy(n: NetworkRecord): { containerId: string; name: string }[] {
    return this.o.sandboxes.all().flatMap((s) => {
      const a = s.attachments.find((x) => x.networkId === n.id);
      return a ? [{ containerId: s.containerId, name: this.o.containers.find(s.containerId)?.name ?? a.opts.container_name }] : [];
    });
  }

  // ---------- network create, remove, prune ----------

  async create(body: NetworkCreateBody): Promise<{ Id: string; Warning: string }> {
    const name = body.Name ?? '';
    // moby refuses only blank names and the predefined ones: spaces and any other character are fine, as nothing
    // on the host is named after a network (netavark gets its ID, the bridge is br-<ID>).
    if (!name.trim()) throw new InvalidParameterError('network name must not be empty');
    if (isPredefinedName(name)) throw new ForbiddenError(`operation is not permitted on predefined ${name} network`);
    const driver = body.Driver || 'bridge';
    if (driver === 'host' || driver === 'null') throw new ForbiddenError(`only one instance of "${driver}" network is allowed`);
    if (driver !== 'bridge') throw new NotFoundError(`could not find plugin ${driver} in v1 plugin registry: plugin not found`);
    const ipamDriver = body.IPAM?.Driver || 'default';
    if (ipamDriver !== 'default') throw new NotFoundError(`could not find plugin ${ipamDriver} in v1 plugin registry: plugin not found`);
    if (body.EnableIPv4 === false) throw new NotImplementedError('IPv6-only networks (EnableIPv4 false) are not supported by Berth yet');
    if (body.ConfigOnly || body.ConfigFrom?.Network) throw new NotImplementedError('config-only networks are not supported by Berth');
    if (body.Ingress) throw new ForbiddenError('ingress networks belong to swarm mode, which Berth does not run');
    const configs = (body.IPAM?.Config ?? []).filter((c): c is IPAMConfig => !!c && !!(c.Subnet || c.Gateway || c.IPRange || Object.keys(c.AuxiliaryAddresses ?? {}).length));
    const v4 = configs.filter((c) => !isV6Config(c));
    const v6 = configs.filter(isV6Config);
    if (v6.length && !body.EnableIPv6) throw new InvalidParameterError(`invalid network config: IPv6 subnet ${v6[0]!.Subnet || v6[0]!.Gateway || v6[0]!.IPRange} given to a network without IPv6; enable it (--ipv6)`);
    const options = { ...(body.Options ?? {}) };
    const bridge = options['com.docker.network.bridge.name'];
    if (bridge !== undefined && (bridge.length > MAX_IFNAME || !/^[A-Za-z0-9_.-]+$/.test(bridge))) {
      throw new InvalidParameterError(`invalid bridge name ${JSON.stringify(bridge)}: at most ${MAX_IFNAME} letters, digits, '_', '.' or '-'`);
    }
    const ipam4 = checkedIpam(v4, 4);
    const ipam6 = checkedIpam(v6, 6);
    return this.exclusive(async () => {
      if (this.byName(name)) throw new ConflictError(`network with name ${name} already exists`);
      const rec = this.newRecord({
        name, driver: 'bridge', internal: !!body.Internal, attachable: !!body.Attachable, labels: { ...(body.Labels ?? {}) }, options,
        ipamOptions: { ...(body.IPAM?.Options ?? {}) },
      });
      rec.bridge = bridge ?? `br-${rec.id.slice(0, 12)}`;
      if (bridge && [...this.networks.values()].some((n) => n.bridge === bridge)) throw new ConflictError(`bridge name ${bridge} is already used by another network`);
      if (ipam4?.subnet) {
        const subnet = parseSubnet(ipam4.subnet);
        if (this.ownSubnets().some((s) => overlaps(s, subnet))) throw new ForbiddenError(POOL_OVERLAPS);
        const clash = (await this.o.routes()).find((r) => overlaps(r.dst, subnet));
        if (clash) throw new ForbiddenError(`${POOL_OVERLAPS} (the host routes ${subnetString(clash.dst)} via ${clash.dev})`);
        Object.assign(rec, { subnet: ipam4.subnet, gateway: ipam4.gateway, ipRange: ipam4.ipRange });
        if (ipam4.aux) rec.auxAddresses = ipam4.aux;
      } else {
        this.setSubnet(rec, await this.chooseSubnet());
      }
      if (body.EnableIPv6) {
        rec.ipv6 = true;
        if (ipam6?.subnet) {
          const subnet = parseSubnet6(ipam6.subnet);
          if (this.ownSubnets6().some((s) => overlaps6(s, subnet))) throw new ForbiddenError(POOL_OVERLAPS);
          const clash = (await this.routes6()).find((r) => overlaps6(r.dst, subnet));
          if (clash) throw new ForbiddenError(`${POOL_OVERLAPS} (the host routes ${subnet6String(clash.dst)} via ${clash.dev})`);
          Object.assign(rec, { subnet6: ipam6.subnet, gateway6: ipam6.gateway, ipRange6: ipam6.ipRange });
          if (ipam6.aux) rec.auxAddresses6 = ipam6.aux;
        } else {
          const subnet = await this.chooseSubnet6();
          Object.assign(rec, { subnet6: subnet6String(subnet), gateway6: bigToIp6(subnet.base + 1n), ipRange6: '' });
        }
      }
      await this.save(rec);
      this.o.events.publish('network', 'create', rec.id, { name: rec.name, type: rec.driver });
      return { Id: rec.id, Warning: '' };
    });
  }

  async remove(ref: string): Promise<void> {
    const n = this.get(ref);
    await this.exclusive(() => this.removeLocked(n));
  }

  private async removeLocked(n: NetworkRecord): Promise<void> {
    if (n.builtin) throw new ForbiddenError(`${n.name} is a pre-defined network and cannot be removed`);
    if (n.scope === 'swarm') throw new UnavailableError(WORKER_NOT_MANAGER);
    if (!this.networks.has(n.id)) return;
    const active = this.inUseBy(n);
    if (active.length) {
      const list = active.map((e) => `name:"${e.name}" id:"${e.containerId.slice(0, 12)}"`).join(', ');
      throw new ForbiddenError(`error while removing network: network ${n.name} has active endpoints (${list})`);
    }
    if (n.driver === 'bridge') {
      // The record goes even if the host refuses: a leftover rule is reconciled at the next start, a network that
      // cannot be removed would stay forever.
      await this.o.driver?.removeNetwork(bridgeNetworkInfo(n)).catch((e) => this.o.log.error(`network ${n.name}: removing its bridge and rules: ${errorMessage(e)}`));
    }
    await this.o.store.removeNetwork(n.id);
    this.networks.delete(n.id);
    this.o.addresses.forget(n.id);
    this.o.events.publish('network', 'destroy', n.id, { name: n.name, type: n.driver });
  }

  async prune(filter: (n: NetworkRecord) => boolean): Promise<{ NetworksDeleted: string[] }> {
    const deleted: string[] = [];
    for (const n of this.all()) {
      if (n.builtin || n.scope === 'swarm' || !filter(n) || this.o.sandboxes.uses(n.id)) continue;
      try {
        await this.exclusive(() => this.removeLocked(n));
        deleted.push(n.name);
      } catch (e) {
        this.o.log.error(`network prune ${n.name}: ${errorMessage(e)}`);
      }
    }
    return { NetworksDeleted: deleted };
  }
}

/** moby's answer to a change of cluster state on a node that is not a manager. */
const WORKER_NOT_MANAGER = "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.";

/** A swarm network as the engine's record: a bridge on this node (bo-…) that the swarm makes and spans. */
export function overlayRecord(i: OverlayNetworkInfo): NetworkRecord {
  return {
    id: i.id, name: i.name, created: i.created ?? '', driver: 'overlay', builtin: false, bridge: i.bridge, subnet: i.subnet, gateway: i.gateway,
    ipRange: '', internal: i.internal, attachable: i.attachable, labels: i.labels, options: i.options, ipamOptions: {}, scope: 'swarm',
    ingress: i.ingress,
  };
}

/** moby's predefined network names: a user network cannot take them (NetworkMode's meanings). */
function isPredefinedName(name: string): boolean {
  return ['bridge', 'host', 'none', 'default'].includes(name) || name.startsWith('container:');
}
