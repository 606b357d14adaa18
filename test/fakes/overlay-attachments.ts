// A fake of the engine's port to overlay networks (src/engine/overlay-port.ts) for the engine's unit tests: swarm
// networks as the test gives them, addresses handed out in order, every call recorded in order.
import { ForbiddenError } from '../../src/errdefs';
import type { OverlayAttachments, OverlayJoin, OverlayJoinRequest, OverlayNetworkInfo } from '../../src/engine/overlay-port';

export class FakeOverlayAttachments implements OverlayAttachments {
  readonly networks: OverlayNetworkInfo[] = [];
  /** "join <net> <container>", "joined …", "serving <net> <container> <bool>", "leave …", "left …", in call order. */
  readonly calls: string[] = [];
  /** The requests join() was given, by container ID. */
  readonly requests = new Map<string, OverlayJoinRequest>();
  /** Set to make join() fail (after it recorded the call). */
  failJoin?: Error;
  private next = 2;
  private readonly listeners = new Set<() => void>();

  /** Adds a swarm network: subnet 10.0.<n>.0/24, gateway .1, bridge bo-<12 of id>. */
  add(p: Partial<OverlayNetworkInfo> & Pick<OverlayNetworkInfo, 'id' | 'name'>): OverlayNetworkInfo {
    const n = this.networks.length + 1;
    const info: OverlayNetworkInfo = {
      subnet: `10.0.${n}.0/24`, gateway: `10.0.${n}.1`, internal: false, attachable: false, ingress: false,
      bridge: `bo-${p.id.slice(0, 12)}`, labels: {}, options: {}, ...p,
    };
    this.networks.push(info);
    for (const l of this.listeners) l();
    return info;
  }

  find(ref: string): OverlayNetworkInfo | undefined {
    return this.networks.find((n) => n.id === ref) ?? this.networks.find((n) => n.name === ref)
      ?? (ref ? this.networks.find((n) => n.id.startsWith(ref)) : undefined);
  }

  list(): OverlayNetworkInfo[] { return [...this.networks]; }

  async join(networkId: string, req: OverlayJoinRequest): Promise<OverlayJoin> {
    this.calls.push(`join ${networkId} ${req.containerId}`);
    this.requests.set(req.containerId, req);
    if (this.failJoin) throw this.failJoin;
    const n = this.networks.find((x) => x.id === networkId)!;
    if (!n.attachable && !req.task) throw new ForbiddenError(`Could not attach to network ${n.name}: rpc error: code = PermissionDenied desc = network ${n.name} not manually attachable`);
    const base = n.subnet.split('.').slice(0, 3).join('.');
    const ip = req.ip ?? `${base}.${this.next++}`;
    const mac = `02:42:${ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0')).join(':')}`;
    return { ip, prefixLen: 24, gateway: n.gateway, mac, bridge: n.bridge };
  }

  async joined(networkId: string, containerId: string): Promise<void> { this.calls.push(`joined ${networkId} ${containerId}`); }
  async serving(networkId: string, containerId: string, serving: boolean): Promise<void> { this.calls.push(`serving ${networkId} ${containerId} ${serving}`); }
  async leave(networkId: string, containerId: string): Promise<void> { this.calls.push(`leave ${networkId} ${containerId}`); }
  async left(networkId: string, containerId: string): Promise<void> { this.calls.push(`left ${networkId} ${containerId}`); }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
