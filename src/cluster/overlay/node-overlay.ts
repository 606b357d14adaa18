// The node's overlay service while it is in a swarm: the engine's port to overlay networks (addresses, presence of
// the network here, the endpoint other nodes learn of) and the reconciler that keeps this host's devices, peers,
// DNS lines, mesh rules and IPsec tunnels equal to what etcd says (node-state.ts computes it; adapters apply it).
import { ForbiddenError, NotFoundError, SystemError, errorMessage } from '../../errdefs';
import type { OverlayAttachments, OverlayJoin, OverlayJoinRequest, OverlayNetworkInfo } from '../../engine/overlay-port';
import { ENCRYPTED_VXLAN_PORT, macForIp, overlayDeviceNames, type OverlayHost, type OverlayLink } from '../../network/overlay/host-overlay';
import type { MeshRules } from '../../network/overlay/mesh';
import type { OverlayDns } from '../../network/overlay/overlay-dns';
import type { IpsecTunnels } from '../../network/overlay/xfrm';
import type { ClusterNetwork } from '../objects-api';
import type { ClusterStore } from '../store/store';
import type { OverlayAllocator } from './allocator';
import { overlayKeys, type AddressOwner, type EndpointRecord } from './model';
import { desiredNodeState, linkOf, type NetworkPresence, type SwarmView } from './node-state';
import { SwarmMirror } from './swarm-mirror';

export interface NodeOverlayOptions {
  nodeId: string;
  /** This node's underlay (data-path) address. */
  nodeAddr: string;
  underlayMtu?: number;
  store: ClusterStore;
  allocator: OverlayAllocator;
  host: OverlayHost;
  mesh: MeshRules;
  tunnels: IpsecTunnels;
  dns: OverlayDns;
  /** IDs of the containers running on this node: endpoints in etcd of others are gone (kill -9). */
  runningContainers(): Promise<Set<string>>;
  log: { error(m: string): void };
  /** Changes are gathered this long before one apply (default 100 ms). */
  debounceMs?: number;
  /** After a failed apply (default 1 s). */
  retryMs?: number;
}

type Phase = 'joining' | 'joined' | 'leaving';

/** A container of this node on an overlay, from join to left. */
interface LocalEndpoint {
  networkId: string;
  containerId: string;
  ip: string;
  owner: AddressOwner;
  req: OverlayJoinRequest;
  phase: Phase;
  record?: EndpointRecord;
}

export class NodeOverlay implements OverlayAttachments {
  private readonly mirror: SwarmMirror;
  private readonly local = new Map<string, LocalEndpoint>();
  /** LB addresses allocated by this node, before their etcd record is watched back. */
  private readonly ownLbs = new Map<string, string>();
  private readonly listeners = new Set<() => void>();
  /** What was applied per network (JSON), so an unchanged network costs nothing; dropped to force a re-apply. */
  private readonly applied = new Map<string, string>();
  /** 12-character prefixes of devices found at start that are not accounted for yet. */
  private stale = new Set<string>();
  private appliedMesh = '';
  private appliedTunnels = '';
  private chain: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private lastError: unknown;
  private stopped = false;

  constructor(private readonly o: NodeOverlayOptions) {
    this.mirror = new SwarmMirror(o.store, (networks) => {
      if (networks) for (const l of this.listeners) l();
      this.schedule();
    }, o.log);
  }

  // ------------------------------------------------------------------------------------------- lifecycle

  /** Watches the swarm, forgets endpoints of containers gone while berthd was down, and reconciles the host once. */
  async start(): Promise<void> {
    await this.mirror.start();
    this.stale = new Set(await this.o.host.present());
    const running = await this.o.runningContainers();
    for (const e of this.mirror.endpoints().filter((x) => x.nodeId === this.o.nodeId)) {
      const key = overlayKeys.endpoint(e.networkId, e.nodeId, e.containerId);
      if (!running.has(e.containerId)) {
        await this.o.store.txn([{ op: 'delete', key }]).catch(() => undefined);
        this.mirror.put(key, undefined);
        if (!e.taskId) await this.o.allocator.releaseAddress(e.networkId, { kind: 'container', containerId: e.containerId, nodeId: this.o.nodeId }).catch(() => undefined);
        continue;
      }
      const owner: AddressOwner = e.taskId ? { kind: 'task', taskId: e.taskId, nodeId: e.nodeId } : { kind: 'container', containerId: e.containerId, nodeId: e.nodeId };
      const task = e.taskId && e.serviceId ? { taskId: e.taskId, serviceId: e.serviceId, serviceName: e.serviceName ?? '' } : undefined;
      this.local.set(localKey(e.networkId, e.containerId), {
        networkId: e.networkId, containerId: e.containerId, ip: e.ip, owner, phase: 'joined', record: e,
        req: { containerId: e.containerId, containerName: e.name, ip: e.ip, aliases: e.aliases, task },
      });
    }
    await this.reconcileNow().catch((e) => this.o.log.error(`overlay: first reconcile: ${errorMessage(e)}`));
  }

  /**
   * Stops watching. `leave`: the node leaves the swarm, so everything it made goes: mesh rules, tunnels, every overlay
   * device, its endpoint and load-balancer records. Otherwise (berthd stops) the host stays as it is for the next start.
   */
  async stop(opts: { leave: boolean }): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.mirror.stop();
    await this.chain.catch(() => undefined);
    if (!opts.leave) return;
    const errors: string[] = [];
    const attempt = (what: string, p: Promise<unknown>) => p.catch((e) => { errors.push(`${what}: ${errorMessage(e)}`); });
    await attempt('mesh rules', this.o.mesh.clear());
    await attempt('ipsec', this.o.tunnels.set([], ENCRYPTED_VXLAN_PORT));
    const prefixes = new Set([...await this.o.host.present().catch(() => []), ...[...this.applied.keys()].map((id) => id.slice(0, 12))]);
    for (const p of prefixes) await attempt(`devices of ${p}`, this.o.host.remove(this.linkOrStub(p)));
    const mine = this.mirror.endpoints().filter((e) => e.nodeId === this.o.nodeId);
    for (const e of mine) await attempt('endpoint record', this.o.store.txn([{ op: 'delete', key: overlayKeys.endpoint(e.networkId, e.nodeId, e.containerId) }]));
    for (const [networkId, nodes] of this.mirror.lbs()) {
      if (!nodes.has(this.o.nodeId)) continue;
      await this.o.allocator.releaseAddress(networkId, { kind: 'lb', nodeId: this.o.nodeId }).catch(() => undefined);
      await this.o.store.txn([{ op: 'delete', key: overlayKeys.lb(networkId, this.o.nodeId) }]).catch(() => undefined);
    }
    this.applied.clear();
    if (errors.length) this.o.log.error(`overlay: leaving the swarm: ${errors.join('; ')}`);
  }

  // ------------------------------------------------------------------------------------ the engine's port

  find(ref: string): OverlayNetworkInfo | undefined {
    const nets = this.overlays();
    const n = nets.find((x) => x.ID === ref) ?? nets.find((x) => x.Name === ref);
    if (n) return infoOf(n);
    const byPrefix = ref ? nets.filter((x) => x.ID.startsWith(ref)) : [];
    return byPrefix.length === 1 ? infoOf(byPrefix[0]!) : undefined;
  }

  list(): OverlayNetworkInfo[] {
    return this.overlays().map(infoOf);
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async join(networkId: string, req: OverlayJoinRequest): Promise<OverlayJoin> {
    const n = this.overlays().find((x) => x.ID === networkId);
    if (!n) throw new NotFoundError(`network ${networkId} not found`);
    if (!req.task && !n.Attachable) {
      throw new ForbiddenError(`Could not attach to network ${n.Name}: rpc error: code = PermissionDenied desc = network ${n.Name} not manually attachable`);
    }
    const cfg = n.Overlay!;
    const owner: AddressOwner = req.task ? { kind: 'task', taskId: req.task.taskId, nodeId: this.o.nodeId } : { kind: 'container', containerId: req.containerId, nodeId: this.o.nodeId };
    const ip = await this.o.allocator.allocateAddress(networkId, cfg, owner, req.ip);
    const key = localKey(networkId, req.containerId);
    this.local.set(key, { networkId, containerId: req.containerId, ip, owner, req, phase: 'joining' });
    try {
      await this.ensureLb(n);
      await this.reconcileNow();
      if (!this.applied.has(networkId)) throw new SystemError(`network ${n.Name} cannot be set up on this node: ${errorMessage(this.lastError)}`);
    } catch (e) {
      this.local.delete(key);
      if (owner.kind === 'container') await this.o.allocator.releaseAddress(networkId, owner).catch(() => undefined);
      throw e;
    }
    const link = linkOf(n, this.viewParams());
    return { ip, prefixLen: Number(cfg.Subnet.split('/')[1] ?? 24), gateway: cfg.Gateway.split('/')[0]!, mac: macForIp(ip), bridge: link.bridge };
  }

  async joined(networkId: string, containerId: string): Promise<void> {
    const l = this.local.get(localKey(networkId, containerId));
    if (!l) throw new NotFoundError(`container ${containerId} has not joined network ${networkId}`);
    const r = l.req;
    const short = containerId.slice(0, 12);
    l.record = {
      networkId, nodeId: this.o.nodeId, nodeAddr: this.o.nodeAddr, containerId, name: r.containerName, ip: l.ip, mac: macForIp(l.ip),
      aliases: [...r.aliases.filter((a) => a !== r.containerName && a !== short), short],
      ...(r.task ? { serviceId: r.task.serviceId, serviceName: r.task.serviceName, taskId: r.task.taskId } : {}),
      serving: true,
    };
    l.phase = 'joined';
    await this.publish(l.record);
    // netavark may have made the network's aardvark file just now (the first container here): Berth's lines go in
    // again before the container's process starts, so its first lookup of a name on another node finds it.
    this.applied.delete(networkId);
    await this.serialized(async () => {
      const p = desiredNodeState(this.view()).networks.find((x) => x.link.networkId === networkId);
      if (p) await this.o.dns.set(networkId, p.dns);
    }).catch((e) => this.o.log.error(`overlay: names of network ${networkId.slice(0, 12)}: ${errorMessage(e)}`));
    this.schedule();
  }

  async serving(networkId: string, containerId: string, serving: boolean): Promise<void> {
    const l = this.local.get(localKey(networkId, containerId));
    if (!l?.record || l.record.serving === serving || l.phase !== 'joined') return;
    l.record = { ...l.record, serving };
    await this.publish(l.record);
    this.schedule();
  }

  async leave(networkId: string, containerId: string): Promise<void> {
    const l = this.local.get(localKey(networkId, containerId));
    if (!l) return;
    l.phase = 'leaving';
    const key = overlayKeys.endpoint(networkId, this.o.nodeId, containerId);
    await this.o.store.txn([{ op: 'delete', key }]).catch(() => undefined);
    this.mirror.put(key, undefined);
    const n = this.overlays().find((x) => x.ID === networkId);
    if (n && !n.Overlay!.Ingress && !this.othersOn(networkId, containerId)) {
      // Serialized with the applies, so no ensure puts the VXLAN device back before netavark's teardown.
      await this.serialized(async () => {
        await this.o.host.detach(linkOf(n, this.viewParams()));
        this.applied.delete(networkId);
      });
    }
    this.schedule();
  }

  async left(networkId: string, containerId: string): Promise<void> {
    const l = this.local.get(localKey(networkId, containerId));
    if (!l) {
      // Not known here: a container that died while berthd was down (the engine pays what it owed once the port is
      // back), or one whose join never finished. Its lease as a standalone container goes; nothing held is no error.
      // (A task's address is the manager's to free, with the task.)
      await this.o.allocator.releaseAddress(networkId, { kind: 'container', containerId, nodeId: this.o.nodeId })
        .catch((e) => this.o.log.error(`overlay: releasing the address of ${containerId.slice(0, 12)}: ${errorMessage(e)}`));
      return;
    }
    this.local.delete(localKey(networkId, containerId));
    if (l.owner.kind === 'container') {
      await this.o.allocator.releaseAddress(networkId, l.owner).catch((e) => this.o.log.error(`overlay: releasing ${l.ip}: ${errorMessage(e)}`));
    }
    const n = this.overlays().find((x) => x.ID === networkId);
    if (!n?.Overlay!.Ingress && !this.othersOn(networkId, containerId, true)) {
      await this.serialized(async () => {
        await this.o.host.remove(n ? linkOf(n, this.viewParams()) : this.linkOrStub(networkId.slice(0, 12)));
        this.applied.delete(networkId);
      });
    }
    this.schedule();
  }

  // --------------------------------------------------------------------------------------------- reconciler

  /** What etcd and this node's containers say now. */
  view(): SwarmView {
    const lbs = this.mirror.lbs();
    for (const [networkId, ip] of this.ownLbs) {
      if (!lbs.has(networkId)) lbs.set(networkId, new Map());
      if (!lbs.get(networkId)!.has(this.o.nodeId)) lbs.get(networkId)!.set(this.o.nodeId, ip);
    }
    const attached = new Map<string, number>();
    const leaving = new Set<string>();
    for (const l of this.local.values()) {
      if (l.phase === 'leaving') leaving.add(l.networkId);
      else attached.set(l.networkId, (attached.get(l.networkId) ?? 0) + 1);
    }
    for (const id of attached.keys()) leaving.delete(id);
    return {
      ...this.viewParams(), nodeId: this.o.nodeId, networks: this.mirror.networks(), services: this.mirror.services(), alive: this.mirror.alive(),
      nodeAddrs: this.mirror.nodeAddrs(), endpoints: this.mirror.endpoints(), lbs, keys: this.mirror.keys(), attached, leaving,
    };
  }

  /** Applies the desired state soon (changes within the debounce window are applied together). */
  private schedule(delay = this.o.debounceMs ?? 100): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.reconcileNow().catch((e) => {
        this.o.log.error(`overlay: ${errorMessage(e)}`);
        this.schedule(this.o.retryMs ?? 1000);
      });
    }, delay);
    this.timer.unref?.();
  }

  /** One apply now, after any under way (never two at once). */
  reconcileNow(): Promise<void> {
    return this.serialized(() => this.applyOnce());
  }

  private serialized(fn: () => Promise<void>): Promise<void> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async applyOnce(): Promise<void> {
    let state = desiredNodeState(this.view());
    if (state.needLb.length) {
      for (const id of state.needLb) {
        const n = this.overlays().find((x) => x.ID === id);
        if (n) await this.ensureLb(n);
      }
      state = desiredNodeState(this.view());
    }
    const failures: string[] = [];
    const wanted = new Set(state.networks.map((p) => p.link.networkId));
    for (const p of state.networks) {
      try {
        await this.applyNetwork(p);
      } catch (e) {
        this.applied.delete(p.link.networkId);
        this.lastError = e;
        failures.push(`network ${p.link.networkId.slice(0, 12)}: ${errorMessage(e)}`);
      }
    }
    const keep = new Set([...wanted, ...state.hold, ...[...this.local.values()].map((l) => l.networkId)].map((id) => id.slice(0, 12)));
    const gone = new Set([...this.stale, ...[...this.applied.keys()].map((id) => id.slice(0, 12))]);
    for (const prefix of gone) {
      if (keep.has(prefix)) {
        this.stale.delete(prefix);
        continue;
      }
      try {
        await this.o.host.remove(this.linkOrStub(prefix));
        this.stale.delete(prefix);
        for (const id of [...this.applied.keys()]) if (id.startsWith(prefix)) this.applied.delete(id);
      } catch (e) {
        failures.push(`removing devices of ${prefix}: ${errorMessage(e)}`);
      }
    }
    const mesh = JSON.stringify(state.mesh);
    if (mesh !== this.appliedMesh) {
      try {
        await this.o.mesh.apply(state.mesh);
        this.appliedMesh = mesh;
      } catch (e) {
        failures.push(`mesh rules: ${errorMessage(e)}`);
      }
    }
    const tunnels = JSON.stringify(state.tunnels);
    if (tunnels !== this.appliedTunnels) {
      try {
        await this.o.tunnels.set(state.tunnels, ENCRYPTED_VXLAN_PORT);
        this.appliedTunnels = tunnels;
      } catch (e) {
        failures.push(`ipsec tunnels: ${errorMessage(e)}`);
      }
    }
    if (failures.length) throw new SystemError(failures.join('; '));
  }

  private async applyNetwork(p: NetworkPresence): Promise<void> {
    const text = JSON.stringify(p);
    if (this.applied.get(p.link.networkId) === text) return;
    await this.o.host.ensure(p.link, p.extraAddrs);
    await this.o.host.setPeers(p.link, p.peers);
    await this.o.dns.set(p.link.networkId, p.dns);
    this.applied.set(p.link.networkId, text);
  }

  // ----------------------------------------------------------------------------------------------- helpers

  private overlays(): ClusterNetwork[] {
    return this.mirror.networks().filter((n) => n.Overlay);
  }

  private viewParams(): { nodeAddr: string; underlayMtu: number } {
    return { nodeAddr: this.o.nodeAddr, underlayMtu: this.o.underlayMtu ?? 1500 };
  }

  private async ensureLb(n: ClusterNetwork): Promise<void> {
    if (this.mirror.lbs().get(n.ID)?.has(this.o.nodeId) || this.ownLbs.has(n.ID)) return;
    this.ownLbs.set(n.ID, await this.o.allocator.lbAddress(n.ID, n.Overlay!, this.o.nodeId));
  }

  private async publish(r: EndpointRecord): Promise<void> {
    const key = overlayKeys.endpoint(r.networkId, r.nodeId, r.containerId);
    const value = JSON.stringify(r);
    await this.o.store.txn([{ op: 'put', key, value }]);
    this.mirror.put(key, value);
  }

  /** Whether another local container (not leaving, or also counting leaving ones) is on the network. */
  private othersOn(networkId: string, containerId: string, countLeaving = false): boolean {
    for (const l of this.local.values()) {
      if (l.networkId === networkId && l.containerId !== containerId && (countLeaving || l.phase !== 'leaving')) return true;
    }
    return false;
  }

  /** The link of a known network by its prefix, or just its device names (enough to remove them). */
  private linkOrStub(prefix: string): OverlayLink {
    const n = this.overlays().find((x) => x.ID.startsWith(prefix));
    if (n) return linkOf(n, this.viewParams());
    return { networkId: prefix, ...overlayDeviceNames(prefix), vni: 0, gateway: '', localAddr: this.o.nodeAddr, port: 0, mtu: 0 };
  }
}

function localKey(networkId: string, containerId: string): string {
  return `${networkId}/${containerId}`;
}

function infoOf(n: ClusterNetwork): OverlayNetworkInfo {
  const cfg = n.Overlay!;
  return {
    id: n.ID, name: n.Name, subnet: cfg.Subnet, gateway: cfg.Gateway.split('/')[0]!, internal: !!n.Internal, attachable: !!n.Attachable,
    ingress: cfg.Ingress, ...(n.Created ? { created: n.Created } : {}), bridge: overlayDeviceNames(n.ID).bridge, labels: n.Labels ?? {}, options: n.Options ?? {},
  };
}
