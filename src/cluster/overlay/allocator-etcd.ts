// The swarm's address management over the cluster store (contract: allocator.ts): subnets, VNIs and address leases
// as keys of model.ts, each taken by a create-if-absent transaction and retried on a lost race, so two managers (or
// two tasks created at once) never get the same thing.
import { ConflictError, InvalidParameterError } from '../../errdefs';
import { contains, hostRange, intToIp, ipToInt, overlaps, parseSubnet, subnetString, freeSubnets, nextFreeAddress, type Subnet4 } from '../../network/addresses';
import type { HostRouteProbe } from '../../network/host-routes';
import { objectKey } from '../store/objects';
import { StoreConflict, type ClusterStore, type TxnOp } from '../store/store';
import { DEFAULT_OVERLAY_POOL, DEFAULT_OVERLAY_SUBNET_SIZE, type OverlayAllocator, type OverlayNetworkRequest } from './allocator';
import { overlayKeys, type AddressLease, type AddressOwner, type OverlayConfig } from './model';

/** Swarmkit's first VXLAN ID (VNIs below are left to other uses, as Docker does). */
export const FIRST_VNI = 4096;
const MAX_VNI = (1 << 24) - 1;
/** Tries of one allocation against concurrent writers before giving up. */
const ATTEMPTS = 64;

export interface AddressPool { pools: string[]; subnetSize: number }

export interface EtcdAllocatorOptions {
  /** The swarm's DefaultAddrPool and SubnetSize (from init); the default pool when absent. */
  addressPool?: () => Promise<AddressPool>;
  /** What the host routes already: pool subnets overlapping it are skipped. */
  hostRoutes?: HostRouteProbe;
}

/** The identity an owner is matched by: an owner asking again gets its own lease. */
export function ownerKey(o: AddressOwner): string | undefined {
  switch (o.kind) {
    case 'task': return `task:${o.taskId}`;
    case 'container': return `container:${o.containerId}`;
    case 'vip': return `vip:${o.serviceId}`;
    case 'lb': return `lb:${o.nodeId}`;
    case 'reserved': return undefined;
  }
}

export class EtcdOverlayAllocator implements OverlayAllocator {
  constructor(private readonly store: ClusterStore, private readonly o: EtcdAllocatorOptions = {}) {}

  async allocateNetwork(req: OverlayNetworkRequest): Promise<OverlayConfig> {
    const asked = req.subnet ? parseSubnet(req.subnet) : undefined;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const held = await this.heldSubnets();
      const guard = await this.store.get(overlayKeys.subnetGuard());
      let subnet: Subnet4;
      if (asked) {
        const other = held.find((h) => overlaps(h.subnet, asked));
        if (other) {
          throw new InvalidParameterError(`invalid pool request: Pool overlaps with other one on this address space: ${subnetString(asked)} overlaps ${subnetString(other.subnet)} of swarm network ${await this.nameOf(other.networkId)}`);
        }
        subnet = asked;
      } else {
        subnet = await this.freeSubnet(held.map((h) => h.subnet));
      }
      const config = configOf(subnet, req, await this.freeVni());
      const ops: TxnOp[] = [
        // Every subnet write moves the guard, so two overlapping subnets of different sizes cannot both be taken.
        guard ? { op: 'update', key: guard.key, value: req.networkId, expectedModRevision: guard.modRevision } : { op: 'create', key: overlayKeys.subnetGuard(), value: req.networkId },
        { op: 'create', key: overlayKeys.subnet(config.Subnet), value: req.networkId },
        { op: 'create', key: overlayKeys.vni(config.VNI), value: req.networkId },
        { op: 'create', key: overlayKeys.address(req.networkId, config.Gateway), value: lease(config.Gateway, { kind: 'reserved' }) },
      ];
      try {
        await this.store.txn(ops);
        return config;
      } catch (err) {
        if (!(err instanceof StoreConflict)) throw err;
      }
    }
    throw new ConflictError('could not allocate a subnet for the network: too many concurrent allocations, try again');
  }

  async releaseNetwork(networkId: string, config: OverlayConfig): Promise<void> {
    const keys = [
      ...(await this.store.list(overlayKeys.addresses(networkId))).items.map((kv) => kv.key),
      ...(await this.store.list(overlayKeys.lbOf(networkId))).items.map((kv) => kv.key),
      overlayKeys.cursor(networkId),
    ];
    const mine = async (key: string) => (await this.store.get(key))?.value === networkId;
    if (await mine(overlayKeys.vni(config.VNI))) keys.push(overlayKeys.vni(config.VNI));
    if (await mine(overlayKeys.subnet(config.Subnet))) keys.push(overlayKeys.subnet(config.Subnet));
    // etcd limits a txn's ops (128 by default): delete in batches.
    for (let i = 0; i < keys.length; i += 100) await this.store.txn(keys.slice(i, i + 100).map((key) => ({ op: 'delete', key })));
  }

  async allocateAddress(networkId: string, config: OverlayConfig, owner: AddressOwner, want?: string): Promise<string> {
    const subnet = parseSubnet(config.Subnet);
    const range = config.IPRange ? hostRangeWithin(parseSubnet(config.IPRange), subnet) : hostRange(subnet);
    const who = ownerKey(owner);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const leases = await this.leases(networkId);
      const own = who ? leases.find((l) => ownerKey(l.owner) === who) : undefined;
      if (own && (!want || own.ip === want)) return own.ip;
      let ip: string;
      if (want) {
        const n = ipToIntChecked(want);
        const [lo, hi] = hostRange(subnet);
        if (n < lo || n > hi) throw new InvalidParameterError(`invalid address ${want}: it is not a host address of subnet ${config.Subnet}`);
        if (leases.some((l) => l.ip === want)) throw new ConflictError(`Address already in use: ${want} on network ${networkId}`);
        ip = want;
      } else {
        const cursor = await this.store.get(overlayKeys.cursor(networkId));
        const taken = new Set(leases.map((l) => ipToInt(l.ip)));
        const next = nextFreeAddress(range, taken, cursor ? ipToInt(cursor.value) : undefined);
        if (next === undefined) throw new InvalidParameterError(`no available IPv4 addresses on network ${networkId} (${config.Subnet})`);
        ip = intToIp(next);
      }
      try {
        // The cursor is a plain put: two allocations racing still take two different addresses (the create decides).
        await this.store.txn([
          { op: 'create', key: overlayKeys.address(networkId, ip), value: lease(ip, owner) },
          { op: 'put', key: overlayKeys.cursor(networkId), value: ip },
        ]);
        return ip;
      } catch (err) {
        if (!(err instanceof StoreConflict)) throw err;
        if (want) throw new ConflictError(`Address already in use: ${want} on network ${networkId}`);
      }
    }
    throw new ConflictError(`could not allocate an address on network ${networkId}: too many concurrent allocations, try again`);
  }

  async releaseAddress(networkId: string, owner: AddressOwner): Promise<void> {
    const who = ownerKey(owner);
    if (!who) return;
    const { items } = await this.store.list(overlayKeys.addresses(networkId));
    const ops: TxnOp[] = items
      .filter((kv) => ownerKey((JSON.parse(kv.value) as AddressLease).owner) === who)
      .map((kv) => ({ op: 'delete', key: kv.key, expectedModRevision: kv.modRevision }));
    if (owner.kind === 'lb') ops.push({ op: 'delete', key: overlayKeys.lb(networkId, owner.nodeId) });
    if (ops.length) await this.store.txn(ops).catch((err) => { if (!(err instanceof StoreConflict)) throw err; });
  }

  async lbAddress(networkId: string, config: OverlayConfig, nodeId: string): Promise<string> {
    const known = await this.store.get(overlayKeys.lb(networkId, nodeId));
    if (known) return known.value;
    const ip = await this.allocateAddress(networkId, config, { kind: 'lb', nodeId });
    await this.store.txn([{ op: 'put', key: overlayKeys.lb(networkId, nodeId), value: ip }]);
    return ip;
  }

  /** Every lease on the network. */
  async leases(networkId: string): Promise<AddressLease[]> {
    return (await this.store.list(overlayKeys.addresses(networkId))).items.map((kv) => JSON.parse(kv.value) as AddressLease);
  }

  private async heldSubnets(): Promise<{ subnet: Subnet4; networkId: string }[]> {
    const prefix = overlayKeys.subnet('').replace(/_?$/, '');
    const { items } = await this.store.list(prefix);
    return items.map((kv) => ({ subnet: parseSubnet(kv.key.slice(prefix.length).replace('_', '/')), networkId: kv.value }));
  }

  private async nameOf(networkId: string): Promise<string> {
    const kv = await this.store.get(objectKey('networks', networkId)).catch(() => undefined);
    const name = kv ? (JSON.parse(kv.value) as { Name?: string }).Name : undefined;
    return name ? `${name} (${networkId})` : networkId;
  }

  /** The first subnet of the pools, in order, that no swarm network holds and the host does not route. */
  private async freeSubnet(held: Subnet4[]): Promise<Subnet4> {
    const pool = this.o.addressPool ? await this.o.addressPool() : { pools: [DEFAULT_OVERLAY_POOL], subnetSize: DEFAULT_OVERLAY_SUBNET_SIZE };
    const routes = this.o.hostRoutes ? (await this.o.hostRoutes()).map((r) => r.dst) : [];
    for (const p of pool.pools.length ? pool.pools : [DEFAULT_OVERLAY_POOL]) {
      const base = parseSubnet(p);
      const size = Math.max(pool.subnetSize || DEFAULT_OVERLAY_SUBNET_SIZE, base.prefix);
      for (const s of freeSubnets(base, size, [...held, ...routes])) return s;
    }
    throw new InvalidParameterError(`could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network`);
  }

  private async freeVni(): Promise<number> {
    const prefix = overlayKeys.vni(0).replace(/0$/, '');
    const { items } = await this.store.list(prefix);
    const used = new Set(items.map((kv) => Number(kv.key.slice(prefix.length))));
    for (let vni = FIRST_VNI; vni <= MAX_VNI; vni++) if (!used.has(vni)) return vni;
    throw new InvalidParameterError('no VXLAN ID left');
  }
}

function configOf(subnet: Subnet4, req: OverlayNetworkRequest, vni: number): OverlayConfig {
  const [lo, hi] = hostRange(subnet);
  let gateway = intToIp(lo);
  if (req.gateway) {
    const g = ipToIntChecked(req.gateway);
    if (g < lo || g > hi) throw new InvalidParameterError(`invalid gateway ${req.gateway}: it is not a host address of subnet ${subnetString(subnet)}`);
    gateway = intToIp(g);
  }
  let ipRange = '';
  if (req.ipRange) {
    const r = parseSubnet(req.ipRange);
    if (!contains(subnet, r.base) || r.prefix < subnet.prefix) throw new InvalidParameterError(`invalid ip-range ${req.ipRange}: it is not inside subnet ${subnetString(subnet)}`);
    ipRange = subnetString(r);
  }
  return { Subnet: subnetString(subnet), Gateway: gateway, IPRange: ipRange, VNI: vni, Encrypted: req.encrypted, Ingress: req.ingress };
}

/** An --ip-range's hosts, never the subnet's network or broadcast address. */
function hostRangeWithin(range: Subnet4, subnet: Subnet4): [number, number] {
  const [lo, hi] = hostRange(subnet);
  return [Math.max(range.base, lo), Math.min(range.base + 2 ** (32 - range.prefix) - 1, hi)];
}

function ipToIntChecked(ip: string): number {
  try {
    return ipToInt(ip);
  } catch {
    throw new InvalidParameterError(`invalid address ${ip}: not an IPv4 address`);
  }
}

function lease(ip: string, owner: AddressOwner): string {
  return JSON.stringify({ ip, owner } satisfies AddressLease);
}
