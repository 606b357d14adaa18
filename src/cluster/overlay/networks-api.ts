// Swarm network objects (overlay networks made while in a swarm, the `ingress` network made at init): create with
// their address management (allocator.ts), inspect and list as dockerd shows them, remove with swarmkit's in-use
// checks, and the network as swarmkit shows it inside a task's NetworksAttachments.
import { ForbiddenError, InvalidParameterError, NotImplementedError } from '../../errdefs';
import type { NetworkCreateBody, NetworkResource } from '../../wire/docker';
import type { Node, Service, Task } from '../../wire/swarm';
import { rank } from '../manager/view';
import type { ClusterNetwork } from '../objects-api';
import { alreadyExists, failedPrecondition, invalidArgument } from '../spec/errors';
import { newObjectId } from '../spec/ids';
import { lookup } from '../spec/lookup';
import { NameConflict, type ClusterObjects } from '../store/objects';
import type { AddressPool } from './allocator-etcd';
import type { OverlayAllocator } from './allocator';
import { ensureEncryptionKeys } from './encryption-keys';
import { overlayKeys, type EndpointRecord, type OverlayConfig } from './model';

/** The overlay driver's option that names the network's VNI, as dockerd shows it. */
export const VXLANID_OPTION = 'com.docker.network.driver.overlay.vxlanid_list';
/** `--opt encrypted`: IPsec between the nodes. */
export const ENCRYPTED_OPTION = 'encrypted';
/** Names dockerd keeps for its own networks (runconfig.IsPreDefinedNetwork). */
const PREDEFINED = ['bridge', 'host', 'none', 'default'];

/** A service needs the ingress network when it publishes a port in ingress mode (swarmkit's IsIngressNetworkNeeded). */
export function needsIngress(service: Pick<Service, 'Spec'>): boolean {
  return (service.Spec.EndpointSpec?.Ports ?? []).some((p) => (p.PublishMode ?? 'ingress') === 'ingress');
}

export function isIngress(n: ClusterNetwork): boolean {
  return !!n.Overlay?.Ingress;
}

export class SwarmNetworksApi {
  /**
   * `encryptionUnsupported`: why this host cannot carry encrypted overlays (no ESP or AES-GCM in its kernel), so
   * `--opt encrypted` is refused at create, naming the reason, rather than leaving tasks that cannot talk.
   */
  constructor(private readonly objects: ClusterObjects, private readonly allocator: OverlayAllocator, private readonly nodeId = '',
    private readonly encryptionUnsupported: () => Promise<string | undefined> = async () => undefined) {}

  async list(): Promise<ClusterNetwork[]> {
    return (await this.objects.list<ClusterNetwork>('networks')).items;
  }

  async lookup(idOrName: string): Promise<ClusterNetwork> {
    return lookup('network', idOrName, await this.list(), (n) => n.Name);
  }

  /** All networks as dockerd's GET /networks shows them. */
  async resources(): Promise<NetworkResource[]> {
    return (await this.list()).map((n) => networkResource(n));
  }

  /** One network as GET /networks/{id} shows it (with this node's endpoints and the peers when it has some there); undefined when none. */
  async find(idOrName: string): Promise<NetworkResource | undefined> {
    const all = await this.list();
    const n = all.find((x) => x.ID === idOrName) ?? all.find((x) => x.Name === idOrName) ?? all.find((x) => idOrName && x.ID.startsWith(idOrName));
    if (!n) return undefined;
    return networkResource(n, await this.localView(n));
  }

  async create(body: NetworkCreateBody): Promise<{ Id: string; Warning: string }> {
    const name = body.Name ?? '';
    if (!name) throw new InvalidParameterError('network name must not be empty');
    if (PREDEFINED.includes(name)) throw new ForbiddenError(`${name} is a pre-defined network and cannot be created`);
    if (body.Ingress && body.Attachable) throw invalidArgument('ingress network cannot be attachable');
    if (body.EnableIPv6) throw new NotImplementedError('Berth overlay networks are IPv4 only');
    const configs = body.IPAM?.Config ?? [];
    if (configs.length > 1) throw new NotImplementedError('Berth overlay networks have one subnet; give one --subnet');
    if (configs.some((c) => (c.Subnet ?? c.Gateway ?? c.IPRange ?? '').includes(':'))) throw new NotImplementedError('Berth overlay networks are IPv4 only');
    const all = await this.list();
    if (all.some((n) => n.Name === name)) throw alreadyExists(`network with name ${name} already exists`);
    if (body.Ingress) {
      const ingress = all.find(isIngress);
      if (ingress) throw alreadyExists(`ingress network (${ingress.ID}) is already present`);
    }
    const c = configs[0] ?? {};
    if (!c.Subnet && (c.Gateway || c.IPRange)) throw new InvalidParameterError('a gateway or ip-range needs a subnet (--subnet)');
    const options = { ...(body.Options ?? {}) };
    const encrypted = Object.prototype.hasOwnProperty.call(options, ENCRYPTED_OPTION);
    if (encrypted) {
      const why = await this.encryptionUnsupported();
      if (why) throw new InvalidParameterError(`cannot create encrypted network ${name}: overlay encryption needs IPsec ESP, and ${why}`);
    }
    const id = newObjectId();
    const overlay = await this.allocator.allocateNetwork({
      networkId: id, subnet: c.Subnet, gateway: c.Gateway, ipRange: c.IPRange, encrypted, ingress: !!body.Ingress,
    });
    try {
      const now = new Date().toISOString();
      await this.objects.create<ClusterNetwork>('networks', {
        ID: id, Name: name, Driver: 'overlay', Labels: body.Labels ?? {}, Created: now, Scope: 'swarm',
        Options: { ...options, [VXLANID_OPTION]: String(overlay.VNI) },
        IPAM: { Driver: body.IPAM?.Driver || 'default', Options: body.IPAM?.Options ?? null, Config: configs },
        Overlay: overlay, Attachable: !!body.Attachable, Internal: !!body.Internal,
      }, name);
    } catch (err) {
      await this.allocator.releaseNetwork(id, overlay).catch(() => undefined);
      if (err instanceof NameConflict) throw alreadyExists(`network with name ${name} already exists`);
      throw err;
    }
    if (encrypted) await ensureEncryptionKeys(this.objects.store);
    return { Id: id, Warning: '' };
  }

  /** The routing-mesh network swarm init makes (swarmkit's: name `ingress`, the first subnet of the pool), unless the store has one. */
  async createIngress(): Promise<string> {
    const present = (await this.list()).find(isIngress);
    if (present) return present.ID;
    return (await this.create({ Name: 'ingress', Driver: 'overlay', Ingress: true })).Id;
  }

  /** Swarmkit's RemoveNetwork: refused while a service or a task uses it; the ingress network while a service publishes through it. */
  async remove(idOrName: string): Promise<void> {
    const n = await this.lookup(idOrName);
    const services = (await this.objects.list<Service>('services')).items;
    if (isIngress(n)) {
      const user = services.find(needsIngress);
      if (user) throw failedPrecondition(`ingress network cannot be removed because service ${user.ID} depends on it`);
    } else {
      const user = services.find((s) => [...(s.Spec.TaskTemplate.Networks ?? []), ...(s.Spec.Networks ?? [])].some((a) => a.Target === n.ID));
      if (user) throw failedPrecondition(`network ${n.ID} is in use by service ${user.ID}`);
      // As swarmkit: only a task still meant to run and not past running holds the network (a removed service's
      // tasks do not: `docker stack rm` removes the networks right after the services, and a task whose service is
      // gone is shut down whether or not the orchestrator has marked it yet).
      const serviceIds = new Set(services.map((s) => s.ID));
      const live = (t: Task) => rank(t.DesiredState) <= RUNNING && rank(t.Status.State) <= RUNNING && serviceIds.has(t.ServiceID);
      const task = (await this.objects.list<Task>('tasks')).items.find((t) => live(t) && t.NetworksAttachments?.some((a) => a.Network.ID === n.ID));
      if (task) throw failedPrecondition(`network ${n.ID} is in use by task ${task.ID}`);
    }
    await this.objects.remove('networks', n.ID, undefined, n.Name);
    if (n.Overlay) await this.allocator.releaseNetwork(n.ID, n.Overlay);
  }

  /** This node's endpoints on the network and the nodes with endpoints there (what dockerd's local view adds). */
  private async localView(n: ClusterNetwork): Promise<LocalView | undefined> {
    const records = (await this.objects.store.list(overlayKeys.endpointsOf(n.ID))).items.map((kv) => JSON.parse(kv.value) as EndpointRecord);
    if (!this.nodeId || !records.some((r) => r.nodeId === this.nodeId)) return undefined;
    const nodes = new Map((await this.objects.list<Node>('nodes')).items.map((x) => [x.ID, x]));
    const peers = new Map<string, { Name: string; IP: string }>();
    for (const r of records) peers.set(r.nodeId, { Name: nodes.get(r.nodeId)?.Description?.Hostname ?? r.nodeId, IP: r.nodeAddr });
    return { endpoints: records.filter((r) => r.nodeId === this.nodeId), peers: [...peers.values()] };
  }
}

interface LocalView { endpoints: EndpointRecord[]; peers: { Name: string; IP: string }[] }

/** dockerd's network.Inspect of a swarm network: the cluster's view, plus Containers and Peers where this node has endpoints. */
export function networkResource(n: ClusterNetwork, local?: LocalView): NetworkResource & { Peers?: { Name: string; IP: string }[] } {
  const ipam = (n.IPAM ?? {}) as { Driver?: string; Options?: Record<string, string> | null };
  const containers: NetworkResource['Containers'] = {};
  for (const e of local?.endpoints ?? []) {
    containers[e.containerId] = { Name: e.name, EndpointID: e.containerId, MacAddress: e.mac, IPv4Address: `${e.ip}/${prefixOf(n.Overlay)}`, IPv6Address: '' };
  }
  return {
    Name: n.Name, Id: n.ID, Created: n.Created, Scope: 'swarm', Driver: n.Driver, EnableIPv4: true, EnableIPv6: false,
    IPAM: { Driver: ipam.Driver || 'default', Options: ipam.Options && Object.keys(ipam.Options).length ? ipam.Options : null, Config: n.Overlay ? [ipamConfigOf(n.Overlay)] : [] },
    Internal: !!n.Internal, Attachable: !!n.Attachable, Ingress: !!n.Overlay?.Ingress,
    ConfigFrom: { Network: '' }, ConfigOnly: false,
    // The cluster's view has no containers (dockerd: null); a node with endpoints there shows its own.
    Containers: (local ? containers : null) as NetworkResource['Containers'],
    Options: n.Options ?? {}, Labels: n.Labels ?? {},
    ...(local ? { Peers: local.peers } : {}),
  };
}

function ipamConfigOf(o: OverlayConfig): { Subnet: string; IPRange?: string; Gateway: string } {
  return { Subnet: o.Subnet, ...(o.IPRange ? { IPRange: o.IPRange } : {}), Gateway: o.Gateway };
}

export function prefixOf(o: OverlayConfig | undefined): number {
  return Number(o?.Subnet.split('/')[1] ?? 24);
}

/** The network as swarmkit's api.Network reaches the Docker API (a task's NetworksAttachments[].Network). */
export function swarmkitNetwork(n: ClusterNetwork): Record<string, unknown> {
  const ipam = (n.IPAM ?? {}) as { Driver?: string; Config?: { Subnet?: string; IPRange?: string; Gateway?: string }[] };
  const asked = (ipam.Config ?? []).map((c) => omitEmpty({ Subnet: c.Subnet, Range: c.IPRange, Gateway: c.Gateway }));
  const userOptions = Object.fromEntries(Object.entries(n.Options ?? {}).filter(([k]) => k !== VXLANID_OPTION));
  const spec: Record<string, unknown> = {
    Name: n.Name, Labels: n.Labels ?? {},
    DriverConfiguration: isIngress(n) ? {} : omitEmpty({ Name: n.Driver, Options: Object.keys(userOptions).length ? userOptions : undefined }),
    ...(n.Internal ? { Internal: true } : {}), ...(n.Attachable ? { Attachable: true } : {}), ...(isIngress(n) ? { Ingress: true } : {}),
    IPAMOptions: isIngress(n) ? { Driver: {} } : omitEmpty({ Driver: omitEmpty({ Name: ipam.Driver && ipam.Driver !== 'default' ? ipam.Driver : undefined }), Configs: asked.length ? asked : undefined }),
    Scope: 'swarm',
  };
  return {
    ID: n.ID, Version: n.Version, CreatedAt: n.Created, UpdatedAt: n.Created, Spec: spec,
    DriverState: { Name: n.Driver, Options: n.Options ?? {} },
    IPAMOptions: { Driver: { Name: 'default' }, Configs: n.Overlay ? [omitEmpty({ Subnet: n.Overlay.Subnet, Range: n.Overlay.IPRange || undefined, Gateway: n.Overlay.Gateway })] : [] },
  };
}

function omitEmpty<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== '')) as Partial<T>;
}

/** The swarm's address pool from its cluster object (init's DefaultAddrPool and SubnetSize). */
export async function clusterAddressPool(objects: ClusterObjects): Promise<AddressPool> {
  const c = (await objects.list<{ ID: string; Version: { Index: number }; DefaultAddrPool?: string[]; SubnetSize?: number }>('cluster')).items[0];
  return { pools: c?.DefaultAddrPool?.length ? c.DefaultAddrPool : ['10.0.0.0/8'], subnetSize: c?.SubnetSize || 24 };
}

const RUNNING = rank('running');
