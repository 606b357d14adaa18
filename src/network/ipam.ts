// Address management for bridge networks, as moby's default IPAM does it: a network's IPAM.Config checked and made
// canonical, and each endpoint's address handed out in turn (the asked one if free, else the next after the last).
import { isIPv4, isIPv6 } from 'node:net';
import type { IPAMConfig } from '../wire/docker';
import { ConflictError, ForbiddenError, InvalidParameterError, NotImplementedError } from '../errdefs';
import {
  bigToIp6, contains, contains6, hostRange, hostRange6, intToIp, ip6ToBig, ipToInt, nextFreeAddress, nextFreeAddress6, overlaps, overlaps6,
  parseSubnet, parseSubnet6, subnet6String, subnetString, type Subnet4, type Subnet6,
} from './addresses';
import type { Attachment, NetworkRecord } from './network-store';

export const POOL_OVERLAPS = 'invalid pool request: Pool overlaps with other one on this address space';

/** Where the last address of each network was handed out: Docker hands them out in turn, not lowest first. */
export class AddressAllocator {
  private readonly lastIp = new Map<string, number>();
  private readonly lastIp6 = new Map<string, bigint>();

  /**
   * The asked address if free, else the next free one after the last handed out (Docker's sequential IPAM).
   * `held`: the attachments whose addresses are taken, on any network.
   */
  allocate(n: NetworkRecord, asked: string, held: Iterable<Attachment>): string {
    const subnet = parseSubnet(n.subnet);
    const taken = new Set<number>([ipToInt(n.gateway), ...Object.values(n.auxAddresses ?? {}).map(ipToInt)]);
    for (const a of held) if (a.networkId === n.id) taken.add(ipToInt(a.ip));
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
  allocate6(n: NetworkRecord, subnet: Subnet6, asked: string, held: Iterable<Attachment>): string {
    const taken = new Set<bigint>([ip6ToBig(n.gateway6!), ...Object.values(n.auxAddresses6 ?? {}).map(ip6ToBig)]);
    for (const a of held) if (a.networkId === n.id && a.ip6) taken.add(ip6ToBig(a.ip6));
    if (asked) {
      if (taken.has(ip6ToBig(asked))) throw new ConflictError(`Address already in use: ${asked} is taken on network ${n.name}`);
      return bigToIp6(ip6ToBig(asked));
    }
    const ip = nextFreeAddress6(hostRange6(n.ipRange6 ? parseSubnet6(n.ipRange6) : subnet), taken, this.lastIp6.get(n.id));
    if (ip === undefined) throw new ConflictError(`no available IPv6 addresses on network ${n.name} (${n.subnet6})`);
    this.lastIp6.set(n.id, ip);
    return bigToIp6(ip);
  }

  /** A removed network's place in its subnets. */
  forget(networkId: string): void {
    this.lastIp.delete(networkId);
    this.lastIp6.delete(networkId);
  }
}

/** Which family an IPAM.Config entry is for: its subnet's, else its gateway's or ip-range's. */
export function isV6Config(c: IPAMConfig): boolean {
  return (c.Subnet || c.Gateway || c.IPRange || '').includes(':');
}

export interface CheckedIpam { subnet: string; gateway: string; ipRange: string; aux?: Record<string, string> }

/**
 * One family's IPAM.Config entries, checked as moby checks them (subnet, gateway and ip-range inside it, auxiliary
 * addresses inside it), in canonical form; undefined when there are none. Overlapping entries are moby's pool error;
 * Berth networks have one subnet per family.
 */
export function checkedIpam(configs: IPAMConfig[], family: 4 | 6): CheckedIpam | undefined {
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
