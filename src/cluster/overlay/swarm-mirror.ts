// A node's watched copy of what its overlay networking depends on in etcd: swarm networks, services, nodes, heartbeats,
// endpoint and load-balancer records and the encryption keys. One watch on the swarm prefix (as objects-store.ts),
// lists of the few prefixes wanted; a compacted watch lists again.
import type { Node, Service } from '../../wire/swarm';
import type { ClusterNetwork } from '../objects-api';
import { HEARTBEAT_PREFIX } from '../manager/heartbeat-keys';
import { PREFIX } from '../store/objects';
import type { ClusterStore, Watch, WatchEvent } from '../store/store';
import { overlayKeys, OVERLAY_PREFIX, type EncryptionKeys, type EndpointRecord } from './model';

const NETWORKS = `${PREFIX}networks/`;
const SERVICES = `${PREFIX}services/`;
const NODES = `${PREFIX}nodes/`;
const LBS = `${OVERLAY_PREFIX}lb/`;
const WANTED = [NETWORKS, SERVICES, NODES, HEARTBEAT_PREFIX, overlayKeys.allEndpoints(), LBS, overlayKeys.keys()];

export class SwarmMirror {
  private readonly data = new Map<string, string>();
  private watch: Watch | undefined;
  private stopped = false;

  /** `onChange(networksChanged)` after every batch of changes (not during start). */
  constructor(private readonly store: ClusterStore, private readonly onChange: (networksChanged: boolean) => void,
    private readonly log: { error(m: string): void }) {}

  async start(): Promise<void> {
    const revision = await this.relist();
    this.watch = await this.store.watch(PREFIX, revision, (events) => this.apply(events), () => void this.reset());
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.watch?.cancel().catch(() => undefined);
  }

  /** Lists every wanted prefix; returns the lowest revision read (replaying later events on top converges). */
  private async relist(): Promise<number> {
    const lists = await Promise.all(WANTED.map((p) => this.store.list(p)));
    this.data.clear();
    for (const l of lists) for (const kv of l.items) this.data.set(kv.key, kv.value);
    return Math.min(...lists.map((l) => l.revision));
  }

  private async reset(): Promise<void> {
    await this.watch?.cancel().catch(() => undefined);
    if (this.stopped) return;
    try {
      await this.start();
      this.onChange(true);
    } catch (e) {
      this.log.error(`overlay: cannot watch the swarm again: ${(e as Error).message}`);
      setTimeout(() => void this.reset(), 1000).unref();
    }
  }

  private apply(events: WatchEvent[]): void {
    let relevant = false;
    let networks = false;
    for (const e of events) {
      if (!WANTED.some((p) => e.key.startsWith(p))) continue;
      relevant = true;
      if (e.key.startsWith(NETWORKS)) networks = true;
      if (e.type === 'put' && e.value !== undefined) this.data.set(e.key, e.value);
      else this.data.delete(e.key);
    }
    if (relevant && !this.stopped) this.onChange(networks);
  }

  /** A write of this node, seen before its watch event comes back (the event then changes nothing). */
  put(key: string, value: string | undefined): void {
    if (value === undefined) this.data.delete(key);
    else this.data.set(key, value);
  }

  private docs<T>(prefix: string): T[] {
    const out: T[] = [];
    for (const [k, v] of this.data) {
      if (!k.startsWith(prefix)) continue;
      try {
        out.push(JSON.parse(v) as T);
      } catch {
        // a foreign or half-written value: not ours to judge
      }
    }
    return out;
  }

  networks(): ClusterNetwork[] {
    return this.docs<ClusterNetwork>(NETWORKS).filter((n) => n.ID);
  }

  services(): Service[] {
    return this.docs<Service>(SERVICES).filter((s) => s.ID);
  }

  nodeAddrs(): Map<string, string> {
    return new Map(this.docs<Node>(NODES).filter((n) => n.ID && n.Status?.Addr).map((n) => [n.ID, n.Status.Addr]));
  }

  alive(): Set<string> {
    return new Set([...this.data.keys()].filter((k) => k.startsWith(HEARTBEAT_PREFIX)).map((k) => k.slice(HEARTBEAT_PREFIX.length)));
  }

  endpoints(): EndpointRecord[] {
    return this.docs<EndpointRecord>(overlayKeys.allEndpoints()).filter((e) => e.networkId && e.ip);
  }

  /** lb/<networkId>/<nodeId> → the address: the value is an AddressLease's JSON ({ip, owner}) or the bare address. */
  lbs(): Map<string, Map<string, string>> {
    const out = new Map<string, Map<string, string>>();
    for (const [k, v] of this.data) {
      if (!k.startsWith(LBS)) continue;
      const [networkId, nodeId] = k.slice(LBS.length).split('/');
      const ip = lbValue(v);
      if (!networkId || !nodeId || !ip) continue;
      if (!out.has(networkId)) out.set(networkId, new Map());
      out.get(networkId)!.set(nodeId, ip);
    }
    return out;
  }

  keys(): EncryptionKeys | undefined {
    return this.docs<EncryptionKeys>(overlayKeys.keys())[0];
  }
}

export function lbValue(value: string): string | undefined {
  try {
    const v = JSON.parse(value) as unknown;
    if (typeof v === 'string') return v;
    if (v && typeof v === 'object' && typeof (v as { ip?: unknown }).ip === 'string') return (v as { ip: string }).ip;
    return undefined;
  } catch {
    return /^[0-9.]+$/.test(value.trim()) ? value.trim() : undefined;
  }
}
