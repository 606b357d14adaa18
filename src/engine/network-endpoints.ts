// Containers' endpoints on networks: the namespace, interfaces, addresses and published ports made when a container
// starts and undone when it stops, and network connect and disconnect. What a container asks for is read and checked
// by network-endpoint-requests.ts (at create, and at connect); an endpoint's interface is made by
// network-endpoint-netavark.ts; on a swarm overlay the swarm's side (join/joined, leave/left, owed releases, serving)
// is network-overlay-endpoints.ts's. The networks themselves are networks.ts's; names and links network-dns.ts's.
import { randomBytes } from 'node:crypto';
import { isIPv4 } from 'node:net';
import type { ContainerConfig, EndpointConfigBody, HostConfig } from '../wire/docker';
import { cgroupPathOf, hasProcess, type ContainerNetwork, type ContainerRecord, type EndpointRecord } from './container-record';
import { ConflictError, ForbiddenError, InvalidParameterError, NotFoundError, SystemError, errorMessage } from '../errdefs';
import type { EventBus } from './events';
import { failpoint } from '../store/failpoint';
import { overlaps, overlaps6, parseSubnet, parseSubnet6 } from '../network/addresses';
import { probeHostRoutes6, type HostRouteProbe, type HostRouteProbe6 } from '../network/host-routes';
import type { AddressAllocator } from '../network/ipam';
import type { NetavarkOptions, NetworkDriver } from '../network/netavark';
import { bridgeNetworkInfo } from '../network/bridge/driver';
import type { NetnsManager } from '../network/netns';
import type { Attachment, NetworkRecord, NetworkStore, SandboxRecord } from '../network/network-store';
import type { HostPorts, PublishedPort } from '../network/ports';
import { isDnsFileName, linkedNetworks, type NetworkDns } from './network-dns';
import { checkAttachable, checkedEndpoint, isEndpointDriver, isTaskContainer, liveFields, networkModeOf, newEndpoint, requestedEndpoints } from './network-endpoint-requests';
import type { ContainerDirectory, NetworkService } from './networks';
import { NetavarkEndpoints } from './network-endpoint-netavark';
import { OverlayEndpoints } from './network-overlay-endpoints';
import type { SandboxTable } from './network-sandboxes';
import { portRequests } from './published-ports';

export { networkModeOf } from './network-endpoint-requests';

export interface NetworkEndpointsOptions {
  networks: NetworkService;
  /** Where overlay endpoints whose addresses are still owed to the swarm are kept across restarts. */
  store: NetworkStore;
  sandboxes: SandboxTable;
  addresses: AddressAllocator;
  dns: NetworkDns;
  containers: ContainerDirectory;
  driver: NetworkDriver;
  netns: NetnsManager;
  ports: HostPorts;
  routes: HostRouteProbe;
  /** The host's IPv6 routes (default: read from /proc). */
  routes6?: HostRouteProbe6;
  events: EventBus;
  log: { info(msg: string): void; error(msg: string): void };
}

export class NetworkEndpoints {
  private readonly routes6: HostRouteProbe6;
  private readonly netavark: NetavarkEndpoints;
  private readonly overlays: OverlayEndpoints;
  /**
   * Attaches under way, by container, settled either way: their interfaces are made outside the networks' lock, so a
   * detach, connect or disconnect of the same container waits for its attach first, as it waited for the lock before.
   */
  private readonly attaching = new Map<string, Promise<void>>();

  constructor(private readonly o: NetworkEndpointsOptions) {
    this.routes6 = o.routes6 ?? probeHostRoutes6;
    this.netavark = new NetavarkEndpoints(o);
    this.overlays = new OverlayEndpoints({ ...o, netavark: this.netavark });
  }

  // ---------- start-up ----------

  /** Holds the host ports of the sandboxes read back at start-up again (after NetworkService.init). */
  async init(): Promise<void> {
    await this.overlays.init();
    for (const s of this.o.sandboxes.all()) {
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
    // The running ones' namespaces are held again, together: their bind mounts (left by a berthd killed within a
    // second of a start, or by an older build) go in one umount(8).
    const holds: Promise<void>[] = [];
    for (const s of this.o.sandboxes.all()) {
      if (isRunning(s.containerId)) {
        const c = this.o.containers.find(s.containerId);
        if (c) holds.push(this.hold(c));
        continue;
      }
      this.o.log.info(`network: tearing down the sandbox of ${s.containerId.slice(0, 12)} (not running)`);
      await this.o.networks.exclusive(() => this.teardownSandbox(s));
    }
    await Promise.all(holds);
    for (const id of await this.o.netns.list()) {
      if (!this.o.sandboxes.has(id)) await this.o.netns.remove(id).catch(() => undefined);
    }
  }

  // ---------- container create: which networks, validated ----------

  /**
   * Checks a create request's network settings (Docker's errors) and returns the endpoints to record. What it names
   * and cannot find is a 400, not a 404: the docker CLI takes any 404 from create for a missing image and pulls.
   */
  prepare(name: string, hc: HostConfig, config: ContainerConfig & { MacAddress?: string }, endpointsConfig: Record<string, EndpointConfigBody | undefined> = {}): ContainerNetwork {
    try {
      return requestedEndpoints(this.o, name, hc, config, endpointsConfig);
    } catch (err) {
      if (err instanceof NotFoundError) throw new InvalidParameterError(err.message);
      throw err;
    }
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
      const target = this.o.containers.find(mode.ref);
      if (!target) throw new NotFoundError(`No such container: ${mode.ref}`);
      if (target.state.status !== 'running' && target.state.status !== 'paused') {
        throw new ConflictError(`cannot join network of a non running container: ${target.id}`);
      }
      return;
    }
    if (mode.kind !== 'network') return;
    const attaching = this.attachInSteps(c, net);
    const settled = attaching.then(() => undefined, () => undefined);
    this.attaching.set(c.id, settled);
    try {
      await attaching;
    } finally {
      if (this.attaching.get(c.id) === settled) this.attaching.delete(c.id);
    }
  }

  /**
   * The attach in three steps. Under the networks' lock, the plan: addresses, host ports, the record written ahead
   * and the namespace's file reserved. Outside it, the interfaces: one `ip` process per network (10 ms and more
   * each), which containers starting together (`compose up`, `run -d` from several clients) run side by side rather
   * than one after the other; a network's first endpoint makes the bridge and its rules once (the driver's single
   * flights). Under the lock again, the record saved and the link aliases refreshed. On a swarm overlay the whole
   * attach stays under the lock, as the swarm's side (joins, owed releases) expects.
   */
  private async attachInSteps(c: ContainerRecord, net: ContainerNetwork): Promise<void> {
    const exclusive = <T>(fn: () => Promise<T>) => this.o.networks.exclusive(fn);
    const planned = await exclusive(async () => {
      const p = await this.planSandbox(c, net);
      if (!p.sandbox.attachments.some((a) => a.overlay)) return p;
      // An overlay's endpoints come up under this same hold of the lock, and the rest of the attach with them.
      await this.bringUpAll(c, net, p);
      await this.finishAttach(c, net, p.sandbox);
      return undefined;
    });
    if (!planned) return;
    await this.bringUpAll(c, net, planned, exclusive);
    await exclusive(() => this.finishAttach(c, net, planned.sandbox));
  }

  /**
   * The sandbox of `c` planned and written ahead (under the networks' lock): a crash from here on leaves a record
   * that start-up reconciliation tears down. A failure undoes what it made.
   */
  private async planSandbox(c: ContainerRecord, net: ContainerNetwork): Promise<{ sandbox: SandboxRecord; networks: NetworkRecord[] }> {
    if (this.o.sandboxes.has(c.id)) await this.teardownSandbox(this.o.sandboxes.get(c.id)!);
    const networks = net.endpoints.map((ep) => {
      const n = this.o.networks.byId(ep.networkId) ?? this.o.networks.byName(ep.network);
      if (!n || !isEndpointDriver(n)) throw new NotFoundError(`network ${ep.network} not found`);
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
      // Beside the record the namespace's file only (a crash leaves a file nobody owns, which reconciliation removes
      // too): the first endpoint's setup makes the namespace on it as it configures it (one process).
      await Promise.all([this.o.sandboxes.put(sandbox), this.o.netns.reserve(c.id)]);
    } catch (err) {
      await this.teardownSandbox(sandbox);
      throw err;
    }
    return { sandbox, networks };
  }

  /**
   * Every planned endpoint's interface, in order (the first makes the namespace), and the record saved. A failure
   * tears the sandbox down (under the networks' lock, through `locked`, when the caller does not hold it).
   */
  private async bringUpAll(c: ContainerRecord, net: ContainerNetwork, p: { sandbox: SandboxRecord; networks: NetworkRecord[] }, locked = <T>(fn: () => Promise<T>) => fn()): Promise<void> {
    try {
      for (const [i, a] of p.sandbox.attachments.entries()) await this.bringUp(c, p.networks[i]!, net.endpoints[i]!, p.sandbox, a);
      failpoint('network-attached');
      await this.o.sandboxes.save(p.sandbox);
    } catch (err) {
      await locked(() => this.teardownSandbox(p.sandbox));
      throw err;
    }
  }

  /** The set-up sandbox's link aliases refreshed, and the sandbox shown on the container (under the networks' lock). */
  private async finishAttach(c: ContainerRecord, net: ContainerNetwork, sandbox: SandboxRecord): Promise<void> {
    await this.o.dns.refreshLinkAliases(linkedNetworks(sandbox.attachments));
    net.sandboxKey = sandbox.netns;
    net.sandboxId = sandbox.sandboxId;
    net.ports = sandbox.ports;
    for (const a of sandbox.attachments) this.showLive(net, a);
    for (const a of sandbox.attachments) this.o.events.publish('network', 'connect', a.networkId, { container: c.id, name: a.networkName, type: driverOf(a) });
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

  /**
   * Chooses the address and builds netavark's options for one endpoint. On an overlay the swarm chooses the address
   * at the join (bringUp): the attachment is a placeholder until then, written ahead so a crash still owes the leave.
   */
  private plan(c: ContainerRecord, n: NetworkRecord, ep: EndpointRecord, ifname: string, ports: PublishedPort[], endpointId: string | undefined, sandbox: SandboxRecord): Attachment {
    if (n.driver === 'overlay') return this.overlays.plan(c, n, ep, ifname, ports, endpointId);
    const subnet = parseSubnet(n.subnet);
    const held = [...this.o.sandboxes.all(), sandbox].flatMap((s) => s.attachments);
    const ip = this.o.addresses.allocate(n, ep.ipv4Address, held);
    const subnet6 = n.ipv6 && n.subnet6 ? parseSubnet6(n.subnet6) : undefined;
    const ip6 = subnet6 ? this.o.addresses.allocate6(n, subnet6, ep.ipv6Address ?? '', held) : '';
    const shortId = c.id.slice(0, 12);
    const dns = !n.builtin;
    const dnsNames = dns ? [c.name, ...ep.aliases, shortId] : [];
    const dnsAliases = ep.aliases.filter(isDnsFileName);
    // Aliases that running containers' links on this network give this one (see NetworkDns.linkAliasesOn).
    const linkAliases = dns ? this.o.dns.linkAliasesOn(n.id, c.id).filter((a) => !dnsNames.includes(a)) : [];
    const info = bridgeNetworkInfo(n);
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

  /** Sets one planned attachment up; an overlay's with the swarm around netavark (network-overlay-endpoints.ts). */
  private async bringUp(c: ContainerRecord, n: NetworkRecord, ep: EndpointRecord, s: SandboxRecord, a: Attachment): Promise<void> {
    if (!a.overlay) return this.netavark.setup(s, a);
    return this.overlays.bringUp(c, n, ep, s, a);
  }

  private showLive(net: ContainerNetwork, a: Attachment): void {
    const ep = net.endpoints.find((e) => e.networkId === a.networkId);
    if (!ep) return;
    Object.assign(ep, liveFields(a));
  }

  /**
   * berthd holds the running `c`'s namespace by a descriptor, and the file's bind mount leaves the host's mount table
   * (netns.ts). A failure is logged: the mount then stays until the stop, as it did before.
   */
  async hold(c: ContainerRecord): Promise<void> {
    if (!this.o.sandboxes.has(c.id)) return;
    await this.o.netns.hold(c.id, c.state.pid, cgroupPathOf(c))
      .catch((e) => this.o.log.error(`hold the network namespace of ${c.id.slice(0, 12)}: ${errorMessage(e)}`));
  }

  /** Undoes attach: interfaces, rules, DNS entries, addresses, namespace, host ports. Safe to call twice. */
  async detach(c: ContainerRecord): Promise<void> {
    await this.attaching.get(c.id);
    const net = c.network;
    if (this.o.sandboxes.has(c.id)) await this.o.networks.exclusive(async () => { const s = this.o.sandboxes.get(c.id); if (s) await this.teardownSandbox(s); });
    if (!net) return;
    net.sandboxKey = '';
    net.sandboxId = '';
    net.ports = [];
    for (const ep of net.endpoints) Object.assign(ep, liveFields());
  }

  private async teardownSandbox(s: SandboxRecord): Promise<void> {
    const live = await this.o.netns.exists(s.containerId);
    for (const a of [...s.attachments].reverse()) {
      await this.teardownAttachment(s, a, live, true);
      if (a.ready) this.o.events.publish('network', 'disconnect', a.networkId, { container: s.containerId, name: a.networkName, type: driverOf(a) });
    }
    // Awaited: the stop answers with the namespace let go, and the kernel deletes its veth a few milliseconds later
    // (a held namespace costs the close of a descriptor; one stopped within its first second, one umount(8)).
    await this.o.netns.remove(s.containerId).catch((e) => this.o.log.error(`remove netns of ${s.containerId.slice(0, 12)}: ${errorMessage(e)}`));
    await this.o.ports.release(s.containerId);
    await this.o.sandboxes.remove(s);
    await this.o.dns.refreshLinkAliases(linkedNetworks(s.attachments));
  }

  /** `namespaceGoes`: the sandbox's namespace is removed next (stop, not disconnect), its interfaces with it. */
  private async teardownAttachment(s: SandboxRecord, a: Attachment, netnsLive: boolean, namespaceGoes = false): Promise<void> {
    if (!a.overlay) return this.netavark.teardown(s, a, netnsLive, namespaceGoes);
    return this.overlays.teardown(s, a, netnsLive, namespaceGoes);
  }

  // ---------- network connect and disconnect ----------

  async connect(netRef: string, containerRef: string, ep: EndpointConfigBody = {}): Promise<void> {
    const n = this.o.networks.get(netRef);
    const c = this.container(containerRef);
    const mode = networkModeOf(c.hostConfig.NetworkMode);
    if (n.driver === 'host' || mode.kind === 'host') throw new ForbiddenError('container cannot be disconnected from host network or connected to host network');
    if (n.driver === 'null' || mode.kind === 'none' || mode.kind === 'container') {
      throw new ForbiddenError('container sharing network namespace with another container or host cannot be connected to any other network');
    }
    checkAttachable(n, netRef, isTaskContainer(c.config.Labels));
    const net = this.recordOf(c);
    if (net.endpoints.some((e) => e.networkId === n.id)) throw new ForbiddenError(`endpoint with name ${c.name} already exists in network ${n.name}`);
    const endpoint = checkedEndpoint(n, ep ?? {});
    await this.attaching.get(c.id);
    const running = hasProcess(c.state.status);
    if (running) {
      await this.o.networks.exclusive(async () => {
        const s = this.o.sandboxes.get(c.id);
        if (!s) throw new ConflictError(`container ${c.id} has no network sandbox: restart it to connect it to ${n.name}`);
        await this.checkRoutes([n]);
        const used = new Set(s.attachments.map((a) => a.interfaceName));
        let i = 0;
        while (used.has(`eth${i}`)) i++;
        const a = this.plan(c, n, endpoint, `eth${i}`, [], undefined, s);
        s.attachments.push(a);
        await this.o.sandboxes.save(s);
        try {
          await this.bringUp(c, n, endpoint, s, a);
        } catch (err) {
          await this.teardownAttachment(s, a, true);
          s.attachments = s.attachments.filter((x) => x !== a);
          await this.o.sandboxes.save(s);
          throw err;
        }
        await this.o.sandboxes.save(s);
        net.endpoints.push(endpoint);
        this.showLive(net, a);
        await this.o.dns.refreshLinkAliases(linkedNetworks([a]));
      });
    } else {
      net.endpoints.push(endpoint);
    }
    await this.o.containers.saveRecord(c);
    this.o.events.publish('network', 'connect', n.id, { container: c.id, name: n.name, type: n.driver });
  }

  async disconnect(netRef: string, containerRef: string, force = false): Promise<void> {
    const n = force ? this.o.networks.find(netRef) : this.o.networks.get(netRef);
    const c = this.container(containerRef);
    const mode = networkModeOf(c.hostConfig.NetworkMode);
    if (n?.driver === 'host' || mode.kind === 'host') throw new ForbiddenError('container cannot be disconnected from host network or connected to host network');
    const net = this.recordOf(c);
    const ep = net.endpoints.find((e) => (n ? e.networkId === n.id : e.network === netRef));
    if (!ep) throw new ForbiddenError(`container ${c.id} is not connected to network ${n?.name ?? netRef}`);
    await this.attaching.get(c.id);
    await this.o.networks.exclusive(async () => {
      const s = this.o.sandboxes.get(c.id);
      const a = s?.attachments.find((x) => x.networkId === ep.networkId);
      if (s && a) {
        await this.teardownAttachment(s, a, await this.o.netns.exists(c.id));
        s.attachments = s.attachments.filter((x) => x !== a);
        await this.o.sandboxes.save(s);
        await this.o.dns.refreshLinkAliases(linkedNetworks([a]));
      }
    });
    net.endpoints = net.endpoints.filter((e) => e !== ep);
    await this.o.containers.saveRecord(c);
    this.o.events.publish('network', 'disconnect', ep.networkId, { container: c.id, name: ep.network, type: n?.driver ?? 'bridge' });
  }

  private container(ref: string): ContainerRecord {
    const c = this.o.containers.find(ref);
    if (!c) throw new NotFoundError(`No such container: ${ref}`);
    return c;
  }

  /** A container's network record; records made before bridge networking get one from their NetworkMode. */
  private recordOf(c: ContainerRecord): ContainerNetwork {
    if (!c.network) {
      const mode = networkModeOf(c.hostConfig.NetworkMode);
      const name = mode.kind === 'network' ? mode.ref : mode.kind === 'container' ? '' : mode.kind;
      const n = name ? this.o.networks.find(name) : undefined;
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
    return mode.kind === 'container' ? this.o.containers.find(mode.ref) : undefined;
  }

}

// ---------- helpers ----------

function driverOf(a: Attachment): string {
  return a.overlay ? 'overlay' : 'bridge';
}
