// A container's endpoint on a swarm overlay network: netavark's document for it (a bridge network on the overlay's
// bo- bridge), the swarm's join before netavark's setup and joined after, leave before its teardown and left after,
// addresses owed to the swarm while no swarm is there, and health → serving. network-endpoints.ts decides which
// endpoints a container has and calls this for the overlay ones; the swarm's side is behind overlay-port.ts.
import { randomBytes } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { hasProcess, type ContainerRecord, type EndpointRecord } from './container-record';
import { NotFoundError, errorMessage } from '../errdefs';
import type { EventBus } from './events';
import { parseSubnet } from '../network/addresses';
import type { NetavarkNetwork, NetavarkOptions } from '../network/netavark';
import type { Attachment, NetworkRecord, NetworkStore, OverlayRelease, SandboxRecord } from '../network/network-store';
import type { PublishedPort } from '../network/ports';
import { isDnsFileName } from './network-dns';
import type { NetavarkEndpoints } from './network-endpoint-netavark';
import type { NetworkService } from './networks';
import type { SandboxTable } from './network-sandboxes';
import type { OverlayAttachments, OverlayJoinRequest } from './overlay-port';

export interface OverlayEndpointsOptions {
  networks: NetworkService;
  /** Where overlay endpoints whose addresses are still owed to the swarm are kept across restarts. */
  store: NetworkStore;
  sandboxes: SandboxTable;
  netavark: NetavarkEndpoints;
  events: EventBus;
  log: { info(msg: string): void; error(msg: string): void };
}

/** The container MTU on an overlay without com.docker.network.driver.mtu: the underlay's 1500 less VXLAN's 50. */
const OVERLAY_MTU = '1450';

type OverlayJoinLike = { ip: string; prefixLen: number; gateway: string; mac: string; bridge: string };

export class OverlayEndpoints {
  /** Overlay endpoints torn down while no swarm was there to free their addresses (see release). */
  private owed: OverlayRelease[] = [];

  constructor(private readonly o: OverlayEndpointsOptions) {
    o.networks.onOverlay((port) => { if (port) void this.o.networks.exclusive(() => this.settleOwed(port)); });
    o.events.subscribe((ev) => {
      const status = ev.Type === 'container' && ev.Action.startsWith('health_status: ') ? ev.Action.slice('health_status: '.length) : '';
      if (status === 'healthy' || status === 'unhealthy') void this.announceServing(ev.Actor.ID, status === 'healthy');
    });
  }

  /** Reads back the releases still owed to the swarm (at start-up). */
  async init(): Promise<void> {
    this.owed = await this.o.store.loadOverlayReleases();
  }

  /**
   * The attachment planned for an overlay endpoint: a placeholder without address until the join (bringUp), written
   * ahead so a crash still owes the leave.
   */
  plan(c: ContainerRecord, n: NetworkRecord, ep: EndpointRecord, ifname: string, ports: PublishedPort[], endpointId: string | undefined): Attachment {
    const a = this.attachment(c, n, ep, ifname, ports, { ip: '', prefixLen: parseSubnet(n.subnet).prefix, gateway: n.gateway, mac: '', bridge: n.bridge });
    return { ...a, endpointId: endpointId ?? a.endpointId };
  }

  /**
   * Sets one planned overlay attachment up: the join first (the swarm leases the address and makes the network
   * present here), recorded before netavark runs, and after setup `joined` (other nodes then learn of the endpoint);
   * a container with a health check takes load-balanced traffic only once healthy.
   */
  async bringUp(c: ContainerRecord, n: NetworkRecord, ep: EndpointRecord, s: SandboxRecord, a: Attachment): Promise<void> {
    const port = this.portFor(n);
    const join = await port.join(n.id, {
      containerId: c.id, containerName: c.name, aliases: [...ep.aliases, c.id.slice(0, 12)], ...(ep.ipv4Address ? { ip: ep.ipv4Address } : {}), ...taskOf(c),
    });
    const joined = this.attachment(c, n, ep, a.interfaceName, a.opts.port_mappings ? s.ports : [], join);
    Object.assign(a, { ip: joined.ip, prefixLen: joined.prefixLen, gateway: joined.gateway, mac: joined.mac, opts: joined.opts });
    await this.o.sandboxes.save(s);
    await this.o.netavark.setup(s, a);
    await port.joined(n.id, c.id);
    // A start begins the health check afresh (status starting); a running container connected keeps its status.
    const running = hasProcess(c.state.status);
    if (hasHealthcheck(c) && (!running || c.state.health?.status !== 'healthy')) await port.serving(n.id, c.id, false);
  }

  /** Tears an overlay endpoint down: leave (the endpoint withdrawn) before netavark, left (the address freed) after. */
  async teardown(s: SandboxRecord, a: Attachment, netnsLive: boolean, namespaceGoes = false): Promise<void> {
    const port = this.o.networks.overlayPort();
    if (port) await port.leave(a.networkId, s.containerId).catch((e) => this.o.log.error(`overlay leave of ${s.containerId.slice(0, 12)} on ${a.networkName}: ${errorMessage(e)}`));
    // Before the join answered there is no interface, rule or DNS line of this endpoint to remove.
    if (a.ip) await this.o.netavark.teardown(s, a, netnsLive, namespaceGoes);
    await this.release({ networkId: a.networkId, containerId: s.containerId });
  }

  /**
   * netavark's document for an overlay endpoint: a bridge network on the overlay's bridge on this node (bo-…, the
   * swarm made it), with the swarm's address and MAC (the same on every node), so aardvark-dns names it as on any
   * user network (the swarm adds the other nodes' names to the same file, named by the network's ID).
   */
  private attachment(c: ContainerRecord, n: NetworkRecord, ep: EndpointRecord, ifname: string, ports: PublishedPort[], join: OverlayJoinLike): Attachment {
    const shortId = c.id.slice(0, 12);
    const info: NetavarkNetwork = {
      name: n.id, id: n.id, driver: 'bridge', network_interface: join.bridge, subnets: [{ subnet: n.subnet, gateway: n.gateway }],
      ipv6_enabled: false, internal: n.internal, dns_enabled: true,
      // VXLAN takes 50 bytes of the underlay's 1500: bridged frames are not fragmented, so the container's MTU must
      // leave room (dockerd's overlay driver uses 1450 too).
      options: { isolate: 'true', mtu: n.options['com.docker.network.driver.mtu'] ?? OVERLAY_MTU }, ipam_options: { driver: 'host-local' },
    };
    const opts: NetavarkOptions = {
      container_id: c.id,
      container_name: c.name,
      networks: { [n.id]: { interface_name: ifname, static_ips: join.ip ? [join.ip] : [], ...(join.mac ? { static_mac: join.mac } : {}), aliases: [...ep.aliases.filter(isDnsFileName), shortId] } },
      network_info: { [n.id]: info },
      ...(ports.length ? { port_mappings: ports.map((p) => ({ host_ip: p.hostIp, container_port: p.containerPort, host_port: p.hostPort, range: 1, protocol: p.proto })) } : {}),
      ...(c.hostConfig.Dns?.length ? { dns_servers: c.hostConfig.Dns.filter((s) => isIPv4(s)) } : {}),
    };
    return {
      networkId: n.id, networkName: n.name, endpointId: randomBytes(32).toString('hex'), interfaceName: ifname, ip: join.ip, prefixLen: join.prefixLen,
      gateway: n.internal ? '' : join.gateway, mac: join.mac, dnsNames: [c.name, ...ep.aliases, shortId], opts, ready: false, overlay: true,
    };
  }

  private portFor(n: NetworkRecord): OverlayAttachments {
    const port = this.o.networks.overlayPort();
    if (!port) throw new NotFoundError(`network ${n.name} not found`);
    return port;
  }

  /**
   * Frees an overlay endpoint's address in the swarm; when the node has no swarm just now (a crash reconciled at
   * start-up before the cluster is up, or the node left) it is owed, kept on disk, and paid when a swarm comes.
   */
  private async release(r: OverlayRelease): Promise<void> {
    const port = this.o.networks.overlayPort();
    try {
      if (!port) throw new Error('the node is not in a swarm');
      await port.left(r.networkId, r.containerId);
    } catch (e) {
      this.o.log.info(`overlay: the address of ${r.containerId.slice(0, 12)} on ${r.networkId.slice(0, 12)} is freed later (${errorMessage(e)})`);
      if (!this.owed.some((x) => x.networkId === r.networkId && x.containerId === r.containerId)) {
        this.owed.push(r);
        await this.o.store.saveOverlayReleases(this.owed);
      }
    }
  }

  /** Pays what was owed to the swarm (under the networks' lock, as every change of endpoints). */
  private async settleOwed(port: OverlayAttachments): Promise<void> {
    if (!this.owed.length) return;
    const still: OverlayRelease[] = [];
    for (const r of this.owed) {
      // Owed by a container that has since joined again: its address is its own again, nothing to free.
      if (this.o.sandboxes.get(r.containerId)?.attachments.some((a) => a.networkId === r.networkId)) continue;
      // leave first: the endpoint was not withdrawn either when no swarm was there.
      await port.leave(r.networkId, r.containerId).then(() => port.left(r.networkId, r.containerId)).catch((e) => {
        this.o.log.error(`overlay: cannot free the address of ${r.containerId.slice(0, 12)} on ${r.networkId.slice(0, 12)}: ${errorMessage(e)}`);
        still.push(r);
      });
    }
    this.owed = still;
    await this.o.store.saveOverlayReleases(still);
  }

  /** Tells the swarm whether the container's overlay endpoints take load-balanced traffic (its health changed). */
  private async announceServing(containerId: string, serving: boolean): Promise<void> {
    const port = this.o.networks.overlayPort();
    const s = this.o.sandboxes.get(containerId);
    if (!port || !s) return;
    for (const a of s.attachments.filter((x) => x.overlay && x.ready)) {
      await port.serving(a.networkId, containerId, serving)
        .catch((e) => this.o.log.error(`overlay: serving=${serving} of ${containerId.slice(0, 12)} on ${a.networkName}: ${errorMessage(e)}`));
    }
  }
}

/** Who a task's container is to the swarm, from the labels the agent gave it. */
function taskOf(c: ContainerRecord): Pick<OverlayJoinRequest, 'task'> {
  const l = c.config.Labels ?? {};
  const taskId = l['com.docker.swarm.task.id'];
  return taskId ? { task: { taskId, serviceId: l['com.docker.swarm.service.id'] ?? '', serviceName: l['com.docker.swarm.service.name'] ?? '' } } : {};
}

function hasHealthcheck(c: ContainerRecord): boolean {
  const t = c.config.Healthcheck?.Test;
  return !!t?.length && t[0] !== 'NONE';
}
