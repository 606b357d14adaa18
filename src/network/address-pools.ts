// Docker's address-pool settings (daemon.json "default-address-pools", "bip", "fixed-cidr") checked into typed values,
// and the size each network's subnet is cut to from them. A value Berth cannot use is refused with its key named.
import { InvalidParameterError } from '../errdefs';
import { contains, hostRange, intToIp, ipToInt, parseRouteDst, parseSubnet, subnetString, type Subnet4 } from './addresses';

/** One of Docker's default address pools: subnets of /`size` cut from `base`. */
export interface AddressPool { base: Subnet4; size: number }

/** Where user networks' subnets come from when no pool is configured: /24s away from Docker's and podman's. */
export const DEFAULT_ADDRESS_POOLS: readonly AddressPool[] = [{ base: parseSubnet('10.210.0.0/16'), size: 24 }];

/**
 * The default bridge's size when no `bip` sets it: a /21 (2,045 containers). The kernel gives a bridge at most 1,023
 * ports (BR_MAX_PORTS), so one bridge never carries more containers than a /21 addresses; a /16 as dockerd's would
 * take all of Berth's default pool and more of 10/8 than anyone can use.
 */
export const DEFAULT_BRIDGE_PREFIX = 21;

/** The default bridge's address as `bip` gives it ("10.210.0.1/16"): the subnet, and the gateway in it. */
export interface BridgeIp { subnet: Subnet4; gateway: number }

/** The smallest subnet Berth makes a network of: two hosts, a gateway and one container. */
const SMALLEST_PREFIX = 30;

/**
 * Docker's "default-address-pools" entries ({"base": "10.10.0.0/16", "size": 24}) checked: IPv4 bases, a size no
 * wider than the base and no narrower than a /30. An empty list is refused: it would leave no subnet for any network.
 */
export function parseAddressPools(entries: unknown): AddressPool[] {
  if (!Array.isArray(entries) || entries.length === 0) throw new InvalidParameterError('default-address-pools: expected a list of {"base": CIDR, "size": N}');
  return entries.map((e: unknown, i) => {
    const { base, size } = (e && typeof e === 'object' ? e : {}) as { base?: unknown; size?: unknown };
    const where = `default-address-pools[${i}]`;
    if (typeof base !== 'string') throw new InvalidParameterError(`${where}: "base" must be an IPv4 CIDR such as 10.10.0.0/16`);
    if (base.includes(':')) throw new InvalidParameterError(`${where}: IPv6 pool ${base}: Berth takes IPv6 subnets from its own unique local prefix, give IPv4 pools only`);
    const subnet = (() => {
      try { return parseSubnet(base); } catch (err) { throw new InvalidParameterError(`${where}: invalid base ${JSON.stringify(base)}: ${(err as Error).message}`); }
    })();
    const n = Number(size);
    if (!Number.isInteger(n) || n < subnet.prefix || n > SMALLEST_PREFIX) {
      throw new InvalidParameterError(`${where}: invalid size ${String(size)}: a prefix length from the base's (${subnet.prefix}) to ${SMALLEST_PREFIX}`);
    }
    return { base: subnet, size: n };
  });
}

/** The --default-address-pool flag's form, "base=10.10.0.0/16,size=24" (size 24 when left out, as dockerd's). */
export function parseAddressPoolFlag(text: string): AddressPool {
  const kv = Object.fromEntries(text.split(',').map((p) => p.split(/=(.*)/s) as [string, string | undefined]));
  return parseAddressPools([{ base: kv.base, size: kv.size ?? 24 }])[0]!;
}

/** Docker's "bip": the bridge's own address with the subnet's length ("10.210.0.1/16"), not the network's address. */
export function parseBridgeIp(text: unknown): BridgeIp {
  const m = typeof text === 'string' ? /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(text.trim()) : null;
  const prefix = Number(m?.[2]);
  const gateway = (() => { try { return m ? ipToInt(m[1]!) : undefined; } catch { return undefined; } })();
  if (gateway === undefined || prefix > SMALLEST_PREFIX) {
    throw new InvalidParameterError(`bip: invalid ${JSON.stringify(text)}: the bridge's IPv4 address and prefix length (at most /${SMALLEST_PREFIX}), such as 10.210.0.1/16`);
  }
  const subnet = parseRouteDst(`${intToIp(gateway)}/${prefix}`)!;
  const [lo, hi] = hostRange(subnet);
  if (gateway < lo || gateway > hi) {
    throw new InvalidParameterError(`bip: ${String(text)} is the network's or broadcast address of ${subnetString(subnet)}; give the bridge a host address, such as ${intToIp(lo)}/${prefix}`);
  }
  return { subnet, gateway };
}

/** Docker's "fixed-cidr": where the default bridge's containers get addresses, inside the bridge's subnet. */
export function parseFixedCidr(text: unknown, bridge?: BridgeIp): Subnet4 {
  let range: Subnet4;
  try {
    range = parseSubnet(String(text));
  } catch (err) {
    throw new InvalidParameterError(`fixed-cidr: invalid ${JSON.stringify(text)}: ${(err as Error).message}`);
  }
  if (range.prefix > SMALLEST_PREFIX) throw new InvalidParameterError(`fixed-cidr: ${subnetString(range)} is too small: at most /${SMALLEST_PREFIX}`);
  if (bridge && !(range.prefix >= bridge.subnet.prefix && contains(bridge.subnet, range.base))) {
    throw new InvalidParameterError(`fixed-cidr: ${subnetString(range)} is not inside the bridge's subnet ${subnetString(bridge.subnet)} (bip)`);
  }
  return range;
}

/**
 * The prefix length the default bridge takes from `pool` when no bip sets it: a /21, or the pool's own size when
 * that is wider (dockerd's pools of /16s give a /16, as docker0), or the whole base when the base is narrower.
 */
export function bridgePrefixIn(pool: AddressPool): number {
  return Math.max(pool.base.prefix, Math.min(pool.size, DEFAULT_BRIDGE_PREFIX));
}
