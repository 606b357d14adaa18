// Network use-cases: the predefined networks (bridge, host, none) and user networks, and each container's
// endpoints on them — addresses, interfaces, published ports, DNS names — made when it starts and gone when it stops.
import { randomBytes, randomInt } from 'node:crypto';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import type { ContainerConfig, EndpointConfigBody, HostConfig, IPAMConfig, NetworkCreateBody } from '../wire/docker';
import type { ContainerNetwork, ContainerRecord, EndpointRecord } from './container-record';
import { ConflictError, ForbiddenError, InvalidParameterError, NotFoundError, NotImplementedError, SystemError, errorMessage } from '../errdefs';
import type { EventBus } from './events';
import { KeyedMutex } from '../util/mutex';
import { failpoint } from '../store/failpoint';
import {
  bigToIp6, contains, contains6, firstHost, freeSubnets, freeSubnets6, hostRange, hostRange6, intToIp, ip6ToBig, ipToInt, nextFreeAddress,
  nextFreeAddress6, overlaps, overlaps6, parseSubnet, parseSubnet6, subnet6String, subnetString, ulaPrefix, type Subnet4, type Subnet6,
} from '../network/addresses';
import { probeHostRoutes6, type HostRouteProbe, type HostRouteProbe6 } from '../network/host-routes';
import type { NetavarkNetwork, NetavarkOptions, NetworkDriver } from '../network/netavark';
import type { NetnsManager } from '../network/netns';
import type { Attachment, NetworkRecord, NetworkStore, SandboxRecord } from '../network/network-store';
import type { HostPorts, Protocol, PublishedPort } from '../network/ports';
import { parsePortKey, portRequests } from './published-ports';

/** Where subnets for the default bridge and user networks come from, in /24s, away from Docker's and podman's. */
export const DEFAULT_POOL = '10.210.0.0/16';
const POOL_PREFIX = 24;
const MAX_IFNAME = 15;

/** What the network service needs of the containers. */
export interface ContainerDirectory {
  find(ref: string): ContainerRecord | undefined;
  all(): ContainerRecord[];
  saveRecord(c: ContainerRecord): Promise<void>;
}

export interface NetworkServiceOptions {
  store: NetworkStore;
  driver: NetworkDriver;
  netns: NetnsManager;
  ports: HostPorts;
  routes: HostRouteProbe;
  /** The host's IPv6 routes (default: read from /proc). */
  routes6?: HostRouteProbe6;
  events: EventBus;
  /** The default bridge's interface name (daemon flag --bridge; unique per daemon on one host). */
  bridgeName: string;
  pool?: string;
  log: { info(msg: string): void; error(msg: string): void };
}

type Mode = { kind: 'host' } | { kind: 'none' } | { kind: 'container'; ref: string } | { kind: 'network'; ref: string };

export function networkModeOf(mode: string | undefined): Mode {
  if (!mode || mode === 'default') return { kind: 'network', ref: 'bridge' };
  if (mode === 'host') return { kind: 'host' };
  if (mode === 'none') return { kind: 'none' };
  if (mode.startsWith('container:')) return { kind: 'container', ref: mode.slice('container:'.length) };
  return { kind: 'network', ref: mode };
}

export class NetworkService {
  private readonly networks = new Map<string, NetworkRecord>();
  private readonly sandboxes = new Map<string, SandboxRecord>();
  private readonly lastIp = new Map<string, number>();
  private readonly lastIp6 = new Map<string, bigint>();
  private readonly lock = new KeyedMutex();
  private readonly pool: Subnet4;
  private containers?: ContainerDirectory;

  constructor(private readonly o: NetworkServiceOptions) {
    if (o.bridgeName.length > MAX_IFNAME || !/^[A-Za-z0-9_.-]+$/.test(o.bridgeName)) {
      throw new InvalidParameterError(`invalid bridge name ${JSON.stringify(o.bridgeName)}: at most ${MAX_IFNAME} letters, digits, '_', '.' or '-'`);
    }
    this.pool = parseSubnet(o.pool ?? DEFAULT_POOL);
    this.routes6 = o.routes6 ?? probeHostRoutes6;
  }

  private readonly routes6: HostRouteProbe6;

  setContainers(d: ContainerDirectory): void { this.containers = d; }

  // ---------- start-up ----------

  /** Loads networks and sandboxes, makes the predefined networks, and holds the host ports of sandboxes again. */
  async init(): Promise<void> {
    await this.o.store.init();
    for (const n of await this.o.store.loadNetworks()) this.networks.set(n.id, n);
    for (const s of await this.o.store.loadSandboxes()) this.sandboxes.set(s.containerId, s);
    await this.ensureDefaultBridge();
    for (const [name, driver] of [['host', 'host'], ['none', 'null']] as const) {
      if (!this.byName(name)) await this.save(this.newRecord({ name, driver, builtin: true }));
    }
    for (const s of this.sandboxes.values()) {
      if (!s.ports.length) continue;
      await this.o.ports.reserve(s.containerId, s.ports.map((p) => ({ hostIp: p.hostIp, hostPortLow: p.hostPort, hostPortHigh: p.hostPort, containerPort: p.containerPort, proto: p.proto })))
        .catch((e) => this.o.log.error(`container ${s.containerId.slice(0, 12)}: cannot hold its host ports again: ${errorMessage(e)}`));
    }
  }

  /**
   * After the containers are loaded: sandboxes of containers that are gone or not running (they died while berthd
   * was down, or berthd died half-way through a start) are torn down, and namespace files nobody owns removed.
   */
  async reconcile(isRunning: (containerId: string) => boolean): Promise<void> {
    for (const s of [...this.sandboxes.values()]) {
      if (isRunning(s.containerId)) continue;
      this.o.log.info(`network: tearing down the sandbox of ${s.containerId.slice(0, 12)} (not running)`);
      await this.lock.run('net', () => this.teardownSandbox(s));
    }
    for (const id of await this.o.netns.list()) {
      if (!this.sandboxes.has(id)) await this.o.netns.remove(id).catch(() => undefined);
    }
  }

  private async ensureDefaultBridge(): Promise<void> {
    const bridge = this.byName('bridge');
    const inUse = (n: NetworkRecord) => [...this.sandboxes.values()].some((s) => s.attachments.some((a) => a.networkId === n.id));
    if (bridge && !inUse(bridge)) {
      // Another daemon (or docker0) may have taken the subnet, or the daemon's --bridge changed, since last time.
      const routes = await this.o.routes();
      const clash = routes.find((r) => r.dev !== bridge.bridge && overlaps(r.dst, parseSubnet(bridge.subnet)));
      if (clash || bridge.bridge !== this.o.bridgeName) {
        if (clash) this.o.log.info(`network: the default bridge's subnet ${bridge.subnet} is now routed by ${clash.dev}; choosing another`);
        bridge.bridge = this.o.bridgeName;
        bridge.options['com.docker.network.bridge.name'] = this.o.bridgeName;
        if (clash) this.setSubnet(bridge, await this.chooseSubnet(bridge.id));
        await this.save(bridge);
      }
      return;
    }
    if (bridge) return;
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
    this.setSubnet(rec, await this.chooseSubnet(rec.id));
    await this.save(rec);
    this.o.log.info(`network: default bridge ${rec.bridge} on ${rec.subnet}`);
  }

  private setSubnet(n: NetworkRecord, s: Subnet4): void {
    n.subnet = subnetString(s);
    n.gateway = intToIp(firstHost(s));
  }

  /** A free /24 of the pool: not routed on the host, not used by another of our networks; the start is random. */
  private async chooseSubnet(exceptId = ''): Promise<Subnet4> {
    const used = [...(await this.o.routes()).map((r) => r.dst), ...this.ownSubnets(exceptId)];
    const count = 2 ** (POOL_PREFIX - this.pool.prefix);
    for (const s of freeSubnets(this.pool, POOL_PREFIX, used, randomInt(count))) return s;
    throw new ForbiddenError(`could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network (${subnetString(this.pool)} is used up)`);
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

  find(ref: string): NetworkRecord | undefined {
    if (!ref) return undefined;
    const direct = this.networks.get(ref) ?? this.byName(ref);
    if (direct) return direct;
    if (!/^[0-9a-f]+$/.test(ref)) return undefined;
    const matches = [...this.networks.values()].filter((n) => n.id.startsWith(ref));
    if (matches.length > 1) throw new InvalidParameterError(`network ${ref} is ambiguous (${matches.length} matches found based on ID prefix)`);
    return matches[0];
  }

  private byName(name: string): NetworkRecord | undefined {
    for (const n of this.networks.values()) if (n.name === name) return n;
    return undefined;
  }

  all(): NetworkRecord[] {
    return [...this.networks.values()].sort((a, b) => (a.created < b.created ? -1 : 1));
  }

  /** The running containers on a network, with what they got there. */
  endpointsOn(n: NetworkRecord): { containerId: string; name: string; attachment: Attachment }[] {
    const out: { containerId: string; name: string; attachment: Attachment }[] = [];
    for (const s of this.sandboxes.values()) {
      for (const a of s.attachments) {
        if (a.networkId !== n.id || !a.ready) continue;
        out.push({ containerId: s.containerId, name: this.containers?.find(s.containerId)?.name ?? a.opts.container_name, attachment: a });
      }
    }
    return out;
  }

  // ---------- network create, remove, prune ----------

  async create(body: NetworkCreateBody): Promise<{ Id: string; Warning: string }> {
    if (!body || typeof body !== 'object') throw new InvalidParameterError('invalid JSON: the network config must be an object');
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
    return this.lock.run('net', async () => {
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
    await this.lock.run('net', () => this.removeLocked(n));
  }

  private async removeLocked(n: NetworkRecord): Promise<void> {
    if (n.builtin) throw new ForbiddenError(`${n.name} is a pre-defined network and cannot be removed`);
    if (!this.networks.has(n.id)) return;
    const active = this.endpointsOn(n);
    if (active.length) {
      const list = active.map((e) => `name:"${e.name}" id:"${e.containerId.slice(0, 12)}"`).join(', ');
      throw new ForbiddenError(`error while removing network: network ${n.name} has active endpoints (${list})`);
    }
    await this.o.store.removeNetwork(n.id);
    this.networks.delete(n.id);
    this.lastIp.delete(n.id);
    this.lastIp6.delete(n.id);
    this.o.events.publish('network', 'destroy', n.id, { name: n.name, type: n.driver });
  }

  async prune(filter: (n: NetworkRecord) => boolean): Promise<{ NetworksDeleted: string[] }> {
    const deleted: string[] = [];
    for (const n of this.all()) {
      if (n.builtin || !filter(n) || this.endpointsOn(n).length) continue;
      try {
        await this.lock.run('net', () => this.removeLocked(n));
        deleted.push(n.name);
      } catch (e) {
        this.o.log.error(`network prune ${n.name}: ${errorMessage(e)}`);
      }
    }
    return { NetworksDeleted: deleted };
  }

  // ---------- container create: which networks, validated ----------

  /**
   * Checks a create request's network settings (Docker's errors) and returns the endpoints to record. What it names
   * and cannot find is a 400, not a 404: the docker CLI takes any 404 from create for a missing image and pulls.
   */
  prepare(name: string, hc: HostConfig, config: ContainerConfig & { MacAddress?: string }, endpointsConfig: Record<string, EndpointConfigBody | undefined> = {}): ContainerNetwork {
    try {
      return this.prepareChecked(name, hc, config, endpointsConfig);
    } catch (err) {
      if (err instanceof NotFoundError) throw new InvalidParameterError(err.message);
      throw err;
    }
  }

  private prepareChecked(name: string, hc: HostConfig, config: ContainerConfig & { MacAddress?: string }, endpointsConfig: Record<string, EndpointConfigBody | undefined>): ContainerNetwork {
    const mode = networkModeOf(hc.NetworkMode);
    const out: ContainerNetwork = { endpoints: [], sandboxKey: '', sandboxId: '', ports: [] };
    const published = Object.keys(hc.PortBindings ?? {}).length > 0 || !!hc.PublishAllPorts;
    if (mode.kind === 'container') {
      if (!mode.ref) throw new InvalidParameterError('--network container:<name|id> needs a container');
      const target = this.containers?.find(mode.ref);
      if (!target) throw new NotFoundError(`No such container: ${mode.ref}`);
      if (target.name === name) throw new InvalidParameterError('cannot join own network');
      if (published) throw new InvalidParameterError('conflicting options: port publishing and the container type network mode');
      if (hc.Dns?.length || hc.DnsSearch?.length || hc.DnsOptions?.length) throw new InvalidParameterError('conflicting options: dns and the network mode');
      if (hc.ExtraHosts?.length) throw new InvalidParameterError('conflicting options: custom host-to-IP mapping and the network mode');
      if (config.MacAddress || Object.values(endpointsConfig).some((e) => e?.MacAddress)) throw new InvalidParameterError('conflicting options: mac-address and the network mode');
      if (hc.Links?.length) throw new InvalidParameterError('conflicting options: container type network can\'t be used with links. This would result in undefined behavior');
      return out;
    }
    if (mode.kind === 'host' || mode.kind === 'none') {
      const n = this.byName(mode.kind);
      if (mode.kind === 'none' && published) throw new InvalidParameterError('conflicting options: port publishing and the container type network mode');
      if (hc.Links?.length) throw new InvalidParameterError(`conflicting options: ${mode.kind} type networking can't be used with links. This would result in undefined behavior`);
      out.endpoints.push(newEndpoint(mode.kind, n?.id ?? '', {}));
      return out;
    }
    const primary = this.get(mode.ref);
    if (primary.driver !== 'bridge') throw new NotFoundError(`network ${mode.ref} not found`);
    // The docker CLI files --ip, --alias and --mac-address of the default network under "default".
    const asked = endpointsConfig[hc.NetworkMode || 'default'] ?? endpointsConfig[mode.ref] ?? endpointsConfig[primary.name] ?? endpointsConfig[primary.id] ?? {};
    const first = { ...asked, MacAddress: asked.MacAddress || config.MacAddress || '' };
    out.endpoints.push(this.checkedEndpoint(primary, first));
    for (const [ref, ep] of Object.entries(endpointsConfig)) {
      const n = this.get(ref === 'default' ? 'bridge' : ref);
      if (n.id === primary.id) continue;
      if (n.driver !== 'bridge') throw new InvalidParameterError(`container cannot be connected to network ${n.name} and ${primary.name} at once`);
      if (out.endpoints.some((e) => e.networkId === n.id)) continue;
      out.endpoints.push(this.checkedEndpoint(n, ep ?? {}));
    }
    // As moby registers links: on the default bridge only; on a user network they are resolved by DNS when the
    // target runs, and may name a container that does not exist yet.
    for (const link of primary.id === this.byName('bridge')?.id ? hc.Links ?? [] : []) {
      const target = parseLink(link).name;
      if (!this.containers?.find(target)) throw new NotFoundError(`could not get container for ${target}: No such container: ${target}`);
    }
    return out;
  }

  private checkedEndpoint(n: NetworkRecord, ep: EndpointConfigBody): EndpointRecord {
    const ip = ep.IPAMConfig?.IPv4Address ?? '';
    const ip6 = ep.IPAMConfig?.IPv6Address ?? '';
    const userNet = !n.builtin;
    if ((ip || ip6) && !userNet) throw new InvalidParameterError('user specified IP address is supported on user defined networks only');
    if (ip) {
      if (!isIPv4(ip)) throw new InvalidParameterError(`invalid IPv4 address: ${ip}`);
      if (!contains(parseSubnet(n.subnet), ipToInt(ip))) throw new InvalidParameterError(`no configured subnet or ip-range contain the IP address ${ip}`);
      if (ip === n.gateway) throw new InvalidParameterError(`Invalid address ${ip}: it is the gateway of network ${n.name}`);
    }
    if (ip6) {
      if (!isIPv6(ip6) || ip6ToBig(ip6) === 0n) throw new InvalidParameterError(`invalid IPv6 address: ${ip6}`);
      if (!n.ipv6 || !n.subnet6) throw new InvalidParameterError(`user specified IP address is supported only when connecting to networks with user configured subnets (network ${n.name} has no IPv6 subnet)`);
      if (!contains6(parseSubnet6(n.subnet6), ip6ToBig(ip6))) throw new InvalidParameterError(`no configured subnet or ip-range contain the IP address ${ip6}`);
      if (ip6ToBig(ip6) === ip6ToBig(n.gateway6!)) throw new InvalidParameterError(`Invalid address ${ip6}: it is the gateway of network ${n.name}`);
    }
    for (const a of ep.IPAMConfig?.LinkLocalIPs ?? []) {
      if (!isIP(a) || /^(0\.0\.0\.0|::)$/.test(a)) throw new InvalidParameterError(`invalid link-local IP address: ${a}`);
    }
    if (ep.Aliases?.length && !userNet) throw new InvalidParameterError('network-scoped alias is supported only for containers in user defined networks');
    if (ep.MacAddress && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(ep.MacAddress)) throw new InvalidParameterError(`invalid MAC address: ${ep.MacAddress}`);
    return newEndpoint(n.name, n.id, ep);
  }

  // ---------- container start and stop ----------

  /**
   * Everything a starting container needs on its networks: namespace, interfaces, addresses, published ports,
   * DNS entries. All or nothing: on failure whatever was made is undone before the error is thrown.
   */
  async attach(c: ContainerRecord): Promise<void> {
    const net = this.recordOf(c);
    const mode = networkModeOf(c.hostConfig.NetworkMode);
    if (mode.kind === 'container') {
      const target = this.containers?.find(mode.ref);
      if (!target) throw new NotFoundError(`No such container: ${mode.ref}`);
      if (target.state.status !== 'running' && target.state.status !== 'paused') {
        throw new ConflictError(`cannot join network of a non running container: ${target.id}`);
      }
      return;
    }
    if (mode.kind !== 'network') return;
    await this.lock.run('net', () => this.attachLocked(c, net));
  }

  private async attachLocked(c: ContainerRecord, net: ContainerNetwork): Promise<void> {
    if (this.sandboxes.has(c.id)) await this.teardownSandbox(this.sandboxes.get(c.id)!);
    const networks = net.endpoints.map((ep) => {
      const n = this.networks.get(ep.networkId) ?? this.byName(ep.network);
      if (!n || n.driver !== 'bridge') throw new NotFoundError(`network ${ep.network} not found`);
      return n;
    });
    await this.checkRoutes(networks);
    const sandbox: SandboxRecord = { containerId: c.id, sandboxId: randomBytes(32).toString('hex'), netns: this.o.netns.pathOf(c.id), attachments: [], ports: [] };
    const endpointId = randomBytes(32).toString('hex');
    try {
      sandbox.ports = await this.o.ports.reserve(c.id, portRequests(c)).catch((e) => {
        throw new SystemError(`driver failed programming external connectivity on endpoint ${c.name} (${endpointId}): ${errorMessage(e)}`);
      });
      networks.forEach((n, i) => {
        sandbox.attachments.push(this.plan(c, n, net.endpoints[i]!, `eth${i}`, i === 0 ? sandbox.ports : [], i === 0 ? endpointId : undefined, sandbox));
      });
      // Written ahead: a crash from here on leaves a record that start-up reconciliation tears down.
      this.sandboxes.set(c.id, sandbox);
      await this.o.store.saveSandbox(sandbox);
      await this.o.netns.create(c.id);
      for (const a of sandbox.attachments) await this.setup(sandbox, a);
      failpoint('network-attached');
      await this.o.store.saveSandbox(sandbox);
    } catch (err) {
      await this.teardownSandbox(sandbox);
      throw err;
    }
    await this.refreshLinkAliases(NetworkService.linkedNetworks(sandbox.attachments));
    net.sandboxKey = sandbox.netns;
    net.sandboxId = sandbox.sandboxId;
    net.ports = sandbox.ports;
    for (const a of sandbox.attachments) this.showLive(net, a);
    for (const a of sandbox.attachments) this.o.events.publish('network', 'connect', a.networkId, { container: c.id, name: a.networkName, type: 'bridge' });
  }

  /** Fails clearly when another interface on the host routes a network's subnet (another daemon, docker0, a VPN). */
  private async checkRoutes(networks: NetworkRecord[]): Promise<void> {
    const routes = await this.o.routes();
    const routes6 = networks.some((n) => n.subnet6) ? await this.routes6() : [];
    const refuse = (n: NetworkRecord, subnet: string, dev: string) => {
      throw new ConflictError(`network ${n.name}'s subnet ${subnet} is routed by ${dev} on the host; remove that network or the other one`);
    };
    for (const n of networks) {
      const clash = routes.find((r) => r.dev !== n.bridge && overlaps(r.dst, parseSubnet(n.subnet)));
      if (clash) refuse(n, n.subnet, clash.dev);
      const clash6 = n.subnet6 ? routes6.find((r) => r.dev !== n.bridge && overlaps6(r.dst, parseSubnet6(n.subnet6!))) : undefined;
      if (clash6) refuse(n, n.subnet6!, clash6.dev);
    }
  }

  /** Chooses the address and builds netavark's options for one endpoint. */
  private plan(c: ContainerRecord, n: NetworkRecord, ep: EndpointRecord, ifname: string, ports: PublishedPort[], endpointId: string | undefined, sandbox: SandboxRecord): Attachment {
    const subnet = parseSubnet(n.subnet);
    const ip = this.allocate(n, ep.ipv4Address, sandbox);
    const subnet6 = n.ipv6 && n.subnet6 ? parseSubnet6(n.subnet6) : undefined;
    const ip6 = subnet6 ? this.allocate6(n, subnet6, ep.ipv6Address ?? '', sandbox) : '';
    const shortId = c.id.slice(0, 12);
    const dns = !n.builtin;
    const dnsNames = dns ? [c.name, ...ep.aliases, shortId] : [];
    const dnsAliases = ep.aliases.filter(isDnsFileName);
    // Aliases that running containers' links on this network give this one (see linkAliasesOn).
    const linkAliases = dns ? this.linkAliasesOn(n.id, c.id).filter((a) => !dnsNames.includes(a)) : [];
    const info: NetavarkNetwork = {
      // netavark names its iptables chains after a hash of this name: the ID keeps two daemons' "bridge" apart.
      name: n.id, id: n.id, driver: 'bridge', network_interface: n.bridge,
      subnets: [{ subnet: n.subnet, gateway: n.gateway }, ...(subnet6 ? [{ subnet: n.subnet6!, gateway: n.gateway6! }] : [])],
      ipv6_enabled: !!subnet6, internal: n.internal, dns_enabled: dns, options: { isolate: 'true' }, ipam_options: { driver: 'host-local' },
    };
    const opts: NetavarkOptions = {
      container_id: c.id,
      container_name: c.name,
      networks: { [n.id]: { interface_name: ifname, static_ips: ip6 ? [ip, ip6] : [ip], ...(ep.macAddress ? { static_mac: ep.macAddress } : {}), ...(dns ? { aliases: [...dnsAliases, shortId, ...linkAliases] } : {}) } },
      network_info: { [n.id]: info },
      ...(ports.length ? { port_mappings: ports.map((p) => ({ host_ip: p.hostIp, container_port: p.containerPort, host_port: p.hostPort, range: 1, protocol: p.proto })) } : {}),
      ...(dns && c.hostConfig.Dns?.length ? { dns_servers: c.hostConfig.Dns.filter((s) => isIPv4(s)) } : {}),
    };
    return {
      networkId: n.id, networkName: n.name, endpointId: endpointId ?? randomBytes(32).toString('hex'), interfaceName: ifname,
      ip, prefixLen: subnet.prefix, gateway: n.internal ? '' : n.gateway, mac: '', dnsNames, opts, ready: false,
      ...(subnet6 ? { ip6, prefixLen6: subnet6.prefix, gateway6: n.internal ? '' : n.gateway6! } : {}),
      ...(ep.linkLocalIPs?.length ? { linkLocalIPs: ep.linkLocalIPs } : {}),
      ...(dns && ep.links.length ? { links: [...ep.links] } : {}),
    };
  }

  /**
   * The aliases a container gets on a user network from the legacy links of the containers running there (moby's
   * EndpointConfig.Links). moby's embedded DNS answers a link alias to the linking container only; aardvark-dns has
   * one set of names per network, so Berth gives the alias to the target as a name on the network while a linker
   * is there: every container on the network resolves it (decision 13).
   */
  private linkAliasesOn(networkId: string, targetId: string): string[] {
    const out: string[] = [];
    for (const s of this.sandboxes.values()) {
      for (const a of s.attachments) {
        if (a.networkId !== networkId || !a.ready || !a.links) continue;
        for (const link of a.links) {
          const { name, alias } = parseLink(link);
          if (!out.includes(alias) && isDnsFileName(alias) && this.findContainer(name)?.id === targetId) out.push(alias);
        }
      }
    }
    return out;
  }

  /** A container by name or ID; an ambiguous ID prefix finds none. */
  private findContainer(ref: string): ContainerRecord | undefined {
    try {
      return this.containers?.find(ref);
    } catch {
      return undefined;
    }
  }

  /**
   * After a container with legacy links joins or leaves these networks: each container's DNS names there become its
   * own plus the link aliases it gets now (a target started before its linker gains them, one whose last linker left
   * loses them). DNS is not worth failing a start or stop for: a failure is logged.
   */
  private async refreshLinkAliases(networkIds: Iterable<string>): Promise<void> {
    for (const id of new Set(networkIds)) {
      const n = this.networks.get(id);
      if (!n || n.builtin) continue;
      const names: Record<string, string[]> = {};
      for (const s of this.sandboxes.values()) {
        const a = s.attachments.find((x) => x.networkId === id && x.ready);
        if (!a) continue;
        const own = a.dnsNames.filter(isDnsFileName);
        names[s.containerId] = [...own, ...this.linkAliasesOn(id, s.containerId).filter((x) => !own.includes(x))];
      }
      await this.o.driver.setDnsNames(n.id, names).catch((e) => this.o.log.error(`network ${n.name}: cannot update the names of linked containers: ${errorMessage(e)}`));
    }
  }

  /** The user networks on which some of these attachments have legacy links. */
  private static linkedNetworks(attachments: Attachment[]): string[] {
    return attachments.filter((a) => a.links?.length).map((a) => a.networkId);
  }

  /** The asked address if free, else the next free one after the last handed out (Docker's sequential IPAM). */
  private allocate(n: NetworkRecord, asked: string, pending: SandboxRecord): string {
    const subnet = parseSubnet(n.subnet);
    const taken = new Set<number>([ipToInt(n.gateway), ...Object.values(n.auxAddresses ?? {}).map(ipToInt)]);
    for (const s of [...this.sandboxes.values(), pending]) for (const a of s.attachments) if (a.networkId === n.id) taken.add(ipToInt(a.ip));
    if (asked) {
      if (taken.has(ipToInt(asked))) throw new ConflictError(`Address already in use: ${asked} is taken on network ${n.name}`);
      return asked;
    }
    const range = hostRange(n.ipRange ? parseSubnet(n.ipRange) : subnet);
    const ip = nextFreeAddress(range, taken, this.lastIp.get(n.id));
    if (ip === undefined) throw new ConflictError(`no available IPv4 addresses on network ${n.name} (${n.subnet})`);
    this.lastIp.set(n.id, ip);
    return intToIp(ip);
  }

  /** allocate for the network's IPv6 subnet: the asked address if free, else the next after the last handed out. */
  private allocate6(n: NetworkRecord, subnet: Subnet6, asked: string, pending: SandboxRecord): string {
    const taken = new Set<bigint>([ip6ToBig(n.gateway6!), ...Object.values(n.auxAddresses6 ?? {}).map(ip6ToBig)]);
    for (const s of [...this.sandboxes.values(), pending]) for (const a of s.attachments) if (a.networkId === n.id && a.ip6) taken.add(ip6ToBig(a.ip6));
    if (asked) {
      if (taken.has(ip6ToBig(asked))) throw new ConflictError(`Address already in use: ${asked} is taken on network ${n.name}`);
      return bigToIp6(ip6ToBig(asked));
    }
    const ip = nextFreeAddress6(hostRange6(n.ipRange6 ? parseSubnet6(n.ipRange6) : subnet), taken, this.lastIp6.get(n.id));
    if (ip === undefined) throw new ConflictError(`no available IPv6 addresses on network ${n.name} (${n.subnet6})`);
    this.lastIp6.set(n.id, ip);
    return bigToIp6(ip);
  }

  private async setup(s: SandboxRecord, a: Attachment): Promise<void> {
    const status = await this.o.driver.setup(s.netns, a.opts);
    a.mac = status[a.networkId]?.interfaces?.[a.interfaceName]?.mac_address ?? '';
    // As moby's sandbox adds them: IPv4 link-local in 169.254.0.0/16, IPv6 in fe80::/64.
    if (a.linkLocalIPs?.length) await this.o.driver.addAddresses(s.netns, a.interfaceName, a.linkLocalIPs.map((ip) => `${ip}/${isIPv4(ip) ? 16 : 64}`));
    a.ready = true;
  }

  private showLive(net: ContainerNetwork, a: Attachment): void {
    const ep = net.endpoints.find((e) => e.networkId === a.networkId);
    if (!ep) return;
    Object.assign(ep, liveFields(a));
  }

  /** Undoes attach: interfaces, rules, DNS entries, addresses, namespace, host ports. Safe to call twice. */
  async detach(c: ContainerRecord): Promise<void> {
    const net = c.network;
    if (this.sandboxes.has(c.id)) await this.lock.run('net', async () => { const s = this.sandboxes.get(c.id); if (s) await this.teardownSandbox(s); });
    if (!net) return;
    net.sandboxKey = '';
    net.sandboxId = '';
    net.ports = [];
    for (const ep of net.endpoints) Object.assign(ep, liveFields());
  }

  private async teardownSandbox(s: SandboxRecord): Promise<void> {
    const live = await this.o.netns.exists(s.containerId);
    for (const a of [...s.attachments].reverse()) {
      await this.teardownAttachment(s, a, live);
      if (a.ready) this.o.events.publish('network', 'disconnect', a.networkId, { container: s.containerId, name: a.networkName, type: 'bridge' });
    }
    await this.o.netns.remove(s.containerId).catch((e) => this.o.log.error(`remove netns of ${s.containerId.slice(0, 12)}: ${errorMessage(e)}`));
    await this.o.ports.release(s.containerId);
    await this.o.store.removeSandbox(s.containerId);
    if (this.sandboxes.get(s.containerId) === s) this.sandboxes.delete(s.containerId);
    await this.refreshLinkAliases(NetworkService.linkedNetworks(s.attachments));
  }

  private async teardownAttachment(s: SandboxRecord, a: Attachment, netnsLive: boolean): Promise<void> {
    if (netnsLive) {
      await this.o.driver.teardown(s.netns, a.opts, this.lastOn(a.networkId, s)).catch((e) => {
        if (a.ready) this.o.log.error(`network teardown of ${s.containerId.slice(0, 12)} on ${a.networkName}: ${errorMessage(e)}`);
      });
      return;
    }
    // The namespace is gone (its veth with it): netavark cannot find the interface and stops short of the
    // network's rules. Replay the endpoint in a scratch namespace and tear that down, which removes them all.
    const scratch = `${s.containerId}.reap`;
    try {
      const path = await this.o.netns.create(scratch);
      const { port_mappings: _ignored, ...bare } = a.opts;
      await this.o.driver.setup(path, bare).catch(() => undefined);
      await this.o.driver.teardown(path, a.opts, this.lastOn(a.networkId, s));
    } catch (e) {
      this.o.log.error(`network cleanup of ${s.containerId.slice(0, 12)} on ${a.networkName}: ${errorMessage(e)}`);
    } finally {
      await this.o.netns.remove(scratch).catch(() => undefined);
    }
  }

  /**
   * Whether no sandbox but `s` has a set-up endpoint on the network: netavark then removes the network's rules,
   * and Berth mends what it gets wrong doing so. When unsure (an endpoint half set up) it answers yes: mending is
   * harmless.
   */
  private lastOn(networkId: string, s: SandboxRecord): boolean {
    return ![...this.sandboxes.values()].some((o) => o !== s && o.containerId !== s.containerId && o.attachments.some((x) => x.networkId === networkId && x.ready));
  }

  // ---------- network connect and disconnect ----------

  async connect(netRef: string, containerRef: string, ep: EndpointConfigBody = {}): Promise<void> {
    const n = this.get(netRef);
    const c = this.container(containerRef);
    const mode = networkModeOf(c.hostConfig.NetworkMode);
    if (n.driver === 'host' || mode.kind === 'host') throw new ForbiddenError('container cannot be disconnected from host network or connected to host network');
    if (n.driver === 'null' || mode.kind === 'none' || mode.kind === 'container') {
      throw new ForbiddenError('container sharing network namespace with another container or host cannot be connected to any other network');
    }
    const net = this.recordOf(c);
    if (net.endpoints.some((e) => e.networkId === n.id)) throw new ForbiddenError(`endpoint with name ${c.name} already exists in network ${n.name}`);
    const endpoint = this.checkedEndpoint(n, ep ?? {});
    const running = c.state.status === 'running' || c.state.status === 'paused';
    if (running) {
      await this.lock.run('net', async () => {
        const s = this.sandboxes.get(c.id);
        if (!s) throw new ConflictError(`container ${c.id} has no network sandbox: restart it to connect it to ${n.name}`);
        await this.checkRoutes([n]);
        const used = new Set(s.attachments.map((a) => a.interfaceName));
        let i = 0;
        while (used.has(`eth${i}`)) i++;
        const a = this.plan(c, n, endpoint, `eth${i}`, [], undefined, s);
        s.attachments.push(a);
        await this.o.store.saveSandbox(s);
        try {
          await this.setup(s, a);
        } catch (err) {
          await this.teardownAttachment(s, a, true);
          s.attachments = s.attachments.filter((x) => x !== a);
          await this.o.store.saveSandbox(s);
          throw err;
        }
        await this.o.store.saveSandbox(s);
        net.endpoints.push(endpoint);
        this.showLive(net, a);
        await this.refreshLinkAliases(NetworkService.linkedNetworks([a]));
      });
    } else {
      net.endpoints.push(endpoint);
    }
    await this.containers!.saveRecord(c);
    this.o.events.publish('network', 'connect', n.id, { container: c.id, name: n.name, type: n.driver });
  }

  async disconnect(netRef: string, containerRef: string, force = false): Promise<void> {
    const n = force ? this.find(netRef) : this.get(netRef);
    const c = this.container(containerRef);
    const mode = networkModeOf(c.hostConfig.NetworkMode);
    if (n?.driver === 'host' || mode.kind === 'host') throw new ForbiddenError('container cannot be disconnected from host network or connected to host network');
    const net = this.recordOf(c);
    const ep = net.endpoints.find((e) => (n ? e.networkId === n.id : e.network === netRef));
    if (!ep) throw new ForbiddenError(`container ${c.id} is not connected to network ${n?.name ?? netRef}`);
    await this.lock.run('net', async () => {
      const s = this.sandboxes.get(c.id);
      const a = s?.attachments.find((x) => x.networkId === ep.networkId);
      if (s && a) {
        await this.teardownAttachment(s, a, await this.o.netns.exists(c.id));
        s.attachments = s.attachments.filter((x) => x !== a);
        await this.o.store.saveSandbox(s);
        await this.refreshLinkAliases(NetworkService.linkedNetworks([a]));
      }
    });
    net.endpoints = net.endpoints.filter((e) => e !== ep);
    await this.containers!.saveRecord(c);
    this.o.events.publish('network', 'disconnect', ep.networkId, { container: c.id, name: ep.network, type: n?.driver ?? 'bridge' });
  }

  private container(ref: string): ContainerRecord {
    const c = this.containers?.find(ref);
    if (!c) throw new NotFoundError(`No such container: ${ref}`);
    return c;
  }

  /** A container's network record; records made before bridge networking get one from their NetworkMode. */
  private recordOf(c: ContainerRecord): ContainerNetwork {
    if (!c.network) {
      const mode = networkModeOf(c.hostConfig.NetworkMode);
      const name = mode.kind === 'network' ? mode.ref : mode.kind === 'container' ? '' : mode.kind;
      const n = name ? this.find(name) : undefined;
      c.network = { endpoints: name ? [newEndpoint(n?.name ?? name, n?.id ?? '', {})] : [], sandboxKey: '', sandboxId: '', ports: [] };
    }
    return c.network;
  }

  // ---------- what the runtime spec and /etc files need ----------

  /** The network namespace for the OCI spec: the host's, a new empty one, or one to join. */
  specNetwork(c: ContainerRecord): 'host' | 'private' | { joinPath: string } {
    const mode = networkModeOf(c.hostConfig.NetworkMode);
    if (mode.kind === 'host') return 'host';
    if (mode.kind === 'container') {
      const target = this.container(mode.ref);
      if (networkModeOf(target.hostConfig.NetworkMode).kind === 'host') return 'host';
      if (!target.state.pid) throw new ConflictError(`cannot join network of a non running container: ${target.id}`);
      return { joinPath: `/proc/${target.state.pid}/ns/net` };
    }
    return c.network?.sandboxKey ? { joinPath: c.network.sandboxKey } : 'private';
  }

  /** The container whose network (and /etc/hosts, resolv.conf) a container:<name> container shares. */
  joinedContainer(c: ContainerRecord): ContainerRecord | undefined {
    const mode = networkModeOf(c.hostConfig.NetworkMode);
    return mode.kind === 'container' ? this.containers?.find(mode.ref) : undefined;
  }

  /** Lines for /etc/hosts after localhost and --add-host: legacy links, then the container's own address. */
  hostsEntries(c: ContainerRecord): string {
    let out = '';
    for (const l of this.liveLinks(c)) out += `${l.ip}\t${[l.alias, l.target.config.Hostname, l.target.name].filter((v, i, a) => v && a.indexOf(v) === i).join(' ')}\n`;
    const own = c.network?.endpoints.find((e) => e.ip);
    if (own) out += `${own.ip}\t${c.config.Hostname ?? c.id.slice(0, 12)}\n`;
    const own6 = c.network?.endpoints.find((e) => e.ip6);
    if (own6) out += `${own6.ip6}\t${c.config.Hostname ?? c.id.slice(0, 12)}\n`;
    return out;
  }

  /** aardvark-dns's addresses for a container on user networks (Docker's 127.0.0.11); empty on the default bridge. */
  dnsServers(c: ContainerRecord): string[] {
    const out: string[] = [];
    for (const ep of c.network?.endpoints ?? []) {
      const n = this.networks.get(ep.networkId);
      if (ep.ip && n && !n.builtin && n.driver === 'bridge' && !out.includes(n.gateway)) out.push(n.gateway);
    }
    return out;
  }

  /** The default bridge's gateway, for --add-host NAME:host-gateway. */
  hostGateway(): string {
    return this.byName('bridge')?.gateway ?? '';
  }

  /** Legacy link environment variables (ALIAS_PORT_80_TCP=tcp://ip:80, ALIAS_NAME, ALIAS_ENV_x), as moby makes them. */
  linkEnv(c: ContainerRecord): string[] {
    const env: string[] = [];
    for (const { target, alias, ip } of this.liveLinks(c)) {
      const prefix = alias.toUpperCase().replace(/-/g, '_');
      env.push(`${prefix}_NAME=/${c.name}/${alias}`);
      const ports = Object.keys(target.config.ExposedPorts ?? {}).map(parsePortKey).filter((p): p is { port: number; proto: Protocol } => !!p)
        .sort((a, b) => a.port - b.port || a.proto.localeCompare(b.proto));
      if (ports[0]) env.push(`${prefix}_PORT=${ports[0].proto}://${ip}:${ports[0].port}`);
      for (const p of ports) {
        const k = `${prefix}_PORT_${p.port}_${p.proto.toUpperCase()}`;
        env.push(`${k}=${p.proto}://${ip}:${p.port}`, `${k}_ADDR=${ip}`, `${k}_PORT=${p.port}`, `${k}_PROTO=${p.proto}`);
      }
      for (const e of target.config.Env ?? []) {
        const i = e.indexOf('=');
        if (i < 0) continue;
        const k = e.slice(0, i);
        if (k === 'HOME' || k === 'PATH') continue;
        env.push(`${prefix}_ENV_${k}=${e.slice(i + 1)}`);
      }
    }
    return env;
  }

  /** --link targets on the default bridge that run, with their address there; a stopped target is an error. */
  private liveLinks(c: ContainerRecord): { target: ContainerRecord; alias: string; ip: string }[] {
    const out: { target: ContainerRecord; alias: string; ip: string }[] = [];
    const bridge = this.byName('bridge');
    const own = c.network?.endpoints.find((e) => e.networkId === bridge?.id);
    if (!own) return out;
    for (const link of c.hostConfig.Links ?? []) {
      const { name, alias } = parseLink(link);
      const target = this.containers?.find(name);
      if (!target || (target.state.status !== 'running' && target.state.status !== 'paused')) {
        throw new ConflictError(`Cannot link to a non running container: /${name} AS /${c.name}/${alias}`);
      }
      const ep = target.network?.endpoints.find((e) => e.networkId === bridge?.id && e.ip);
      if (!ep) throw new ConflictError(`Cannot link to /${target.name}, as it does not belong to the default network`);
      out.push({ target, alias, ip: ep.ip });
    }
    return out;
  }
}

// ---------- helpers ----------

function newEndpoint(network: string, networkId: string, ep: EndpointConfigBody): EndpointRecord {
  return {
    network, networkId, aliases: [...(ep.Aliases ?? [])], ipv4Address: ep.IPAMConfig?.IPv4Address ?? '',
    ipv6Address: ep.IPAMConfig?.IPv6Address ? bigToIp6(ip6ToBig(ep.IPAMConfig.IPv6Address)) : '', macAddress: ep.MacAddress ?? '',
    ...(ep.IPAMConfig?.LinkLocalIPs?.length ? { linkLocalIPs: [...ep.IPAMConfig.LinkLocalIPs] } : {}),
    links: [...(ep.Links ?? [])], driverOpts: ep.DriverOpts ?? null,
    ...liveFields(),
  };
}

/** What an endpoint shows of its attachment while the container runs; blank when it does not. */
function liveFields(a?: Attachment): Pick<EndpointRecord, 'endpointId' | 'ip' | 'prefixLen' | 'gateway' | 'ip6' | 'prefixLen6' | 'gateway6' | 'mac' | 'dnsNames'> {
  return a
    ? {
      endpointId: a.endpointId, ip: a.ip, prefixLen: a.prefixLen, gateway: a.gateway, ip6: a.ip6 ?? '', prefixLen6: a.prefixLen6 ?? 0,
      gateway6: a.gateway6 ?? '', mac: a.mac, dnsNames: a.dnsNames,
    }
    : { endpointId: '', ip: '', prefixLen: 0, gateway: '', ip6: '', prefixLen6: 0, gateway6: '', mac: '', dnsNames: [] };
}

const POOL_OVERLAPS = 'invalid pool request: Pool overlaps with other one on this address space';

/** moby's predefined network names: a user network cannot take them (NetworkMode's meanings). */
function isPredefinedName(name: string): boolean {
  return ['bridge', 'host', 'none', 'default'].includes(name) || name.startsWith('container:');
}

/** Which family an IPAM.Config entry is for: its subnet's, else its gateway's or ip-range's. */
function isV6Config(c: IPAMConfig): boolean {
  return (c.Subnet || c.Gateway || c.IPRange || '').includes(':');
}

interface CheckedIpam { subnet: string; gateway: string; ipRange: string; aux?: Record<string, string> }

/**
 * One family's IPAM.Config entries, checked as moby checks them (subnet, gateway and ip-range inside it, auxiliary
 * addresses inside it), in canonical form; undefined when there are none. Overlapping entries are moby's pool error;
 * Berth networks have one subnet per family.
 */
function checkedIpam(configs: IPAMConfig[], family: 4 | 6): CheckedIpam | undefined {
  const c = configs[0];
  if (!c) return undefined;
  const parse = (cidr: string) => (family === 4 ? parseSubnet(cidr) : parseSubnet6(cidr));
  const subnets = configs.filter((x) => x.Subnet).map((x) => ({ cidr: x.Subnet!, s: parse(x.Subnet!) }));
  for (const [i, a] of subnets.entries()) {
    for (const b of subnets.slice(i + 1)) {
      const hit = family === 4 ? overlaps(a.s as Subnet4, b.s as Subnet4) : overlaps6(a.s as Subnet6, b.s as Subnet6);
      if (hit) throw new ForbiddenError(POOL_OVERLAPS);
    }
  }
  if (configs.length > 1) throw new NotImplementedError(`Berth networks have one IPv${family} subnet; give one --subnet of that family`);
  if (!c.Subnet) throw new InvalidParameterError('a gateway, ip-range or auxiliary address needs a subnet (--subnet)');
  const sub = subnets[0]!.s;
  const range = family === 4 ? hostRange(sub as Subnet4).map(BigInt) as [bigint, bigint] : hostRange6(sub as Subnet6);
  const value = (ip: string) => (family === 4 ? (isIPv4(ip) ? BigInt(ipToInt(ip)) : undefined) : (isIPv6(ip) ? ip6ToBig(ip) : undefined));
  const text = (n: bigint) => (family === 4 ? intToIp(Number(n)) : bigToIp6(n));
  const cidr = family === 4 ? subnetString(sub as Subnet4) : subnet6String(sub as Subnet6);
  /** An address of the subnet's hosts, canonical; `what` names it in the error. */
  const host = (ip: string, what: string) => {
    const n = value(ip);
    if (n === undefined) throw new InvalidParameterError(`invalid ${what}: not an IPv${family} address`);
    if (n < range[0] || n > range[1]) throw new InvalidParameterError(`invalid ${what}: it is not a host address of subnet ${cidr}`);
    return text(n);
  };
  const out: CheckedIpam = { subnet: cidr, gateway: c.Gateway ? host(c.Gateway, `gateway ${c.Gateway}`) : text(range[0]), ipRange: '' };
  if (c.IPRange) {
    const r = parse(c.IPRange);
    const inside = family === 4 ? contains(sub as Subnet4, (r as Subnet4).base) : contains6(sub as Subnet6, (r as Subnet6).base);
    if (!inside || r.prefix < sub.prefix) throw new InvalidParameterError(`invalid ip-range ${c.IPRange}: it is not inside subnet ${cidr}`);
    out.ipRange = family === 4 ? subnetString(r as Subnet4) : subnet6String(r as Subnet6);
  }
  const aux = Object.entries(c.AuxiliaryAddresses ?? {});
  if (aux.length) out.aux = Object.fromEntries(aux.map(([k, ip]) => [k, host(ip, `auxiliary address ${k}`)]));
  return out;
}

/**
 * Whether aardvark-dns can hold a name: it keeps a network's names in one file of space- and comma-separated
 * fields, so a name with either would break every name on the network (and no resolver asks for one anyway).
 */
function isDnsFileName(name: string): boolean {
  return /^[^\s,]+$/.test(name);
}

/** "name:alias", "/name:/me/alias" or "name" → the target and the alias it gets. */
export function parseLink(link: string): { name: string; alias: string } {
  const [rawName, rawAlias] = link.split(':') as [string, string | undefined];
  const name = rawName.replace(/^\//, '');
  const alias = (rawAlias ?? name).split('/').filter(Boolean).pop() ?? name;
  return { name, alias };
}
