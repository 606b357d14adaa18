// IPv4 subnets and addresses as numbers: parsing CIDRs, overlap, the n-th host, and picking free subnets from a pool.
import { isIPv4 } from 'node:net';
import { InvalidParameterError } from '../engine/errors';

export interface Subnet4 {
  /** The network address as an unsigned 32-bit number. */
  base: number;
  prefix: number;
}

export function ipToInt(ip: string): number {
  if (!isIPv4(ip)) throw new InvalidParameterError(`invalid IPv4 address: ${ip}`);
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** "10.1.2.0/24" → {base, prefix}; host bits set ("10.1.2.3/24") are refused as Docker refuses them. */
export function parseSubnet(cidr: string): Subnet4 {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(cidr.trim());
  if (!m || !isIPv4(m[1]!) || Number(m[2]) > 32) throw new InvalidParameterError(`invalid subnet ${cidr}: expected an IPv4 CIDR such as 172.20.0.0/16`);
  const prefix = Number(m[2]);
  const ip = ipToInt(m[1]!);
  const base = (ip & maskOf(prefix)) >>> 0;
  if (base !== ip) throw new InvalidParameterError(`invalid subnet ${cidr}: it has host bits set (did you mean ${intToIp(base)}/${prefix}?)`);
  return { base, prefix };
}

/** Like parseSubnet but masks host bits away (for routes the kernel reports). */
export function parseRouteDst(dst: string): Subnet4 | undefined {
  if (dst === 'default') return { base: 0, prefix: 0 };
  const [ip, p] = dst.split('/');
  if (!ip || !isIPv4(ip)) return undefined;
  const prefix = p === undefined ? 32 : Number(p);
  if (!(prefix >= 0 && prefix <= 32)) return undefined;
  return { base: (ipToInt(ip) & maskOf(prefix)) >>> 0, prefix };
}

export function subnetString(s: Subnet4): string {
  return `${intToIp(s.base)}/${s.prefix}`;
}

export function size(s: Subnet4): number {
  return 2 ** (32 - s.prefix);
}

export function contains(s: Subnet4, ip: number): boolean {
  return ((ip & maskOf(s.prefix)) >>> 0) === s.base;
}

export function overlaps(a: Subnet4, b: Subnet4): boolean {
  const prefix = Math.min(a.prefix, b.prefix);
  const m = maskOf(prefix);
  return ((a.base & m) >>> 0) === ((b.base & m) >>> 0);
}

/** The first usable host address (Docker's default gateway). */
export function firstHost(s: Subnet4): number {
  return s.base + 1;
}

/** The usable host range [first, last] (network and broadcast left out). */
export function hostRange(s: Subnet4): [number, number] {
  if (s.prefix >= 31) return [s.base, s.base + size(s) - 1];
  return [s.base + 1, s.base + size(s) - 2];
}

/**
 * The subnets of `pool` split into /`prefix`, in order starting at `start` (an index, for spreading daemons over
 * the pool), that overlap nothing in `used`.
 */
export function* freeSubnets(pool: Subnet4, prefix: number, used: Subnet4[], start = 0): Generator<Subnet4> {
  const count = 2 ** (prefix - pool.prefix);
  for (let i = 0; i < count; i++) {
    const cand = { base: pool.base + ((i + start) % count) * 2 ** (32 - prefix), prefix };
    // A default route (0.0.0.0/0) overlaps everything and says nothing about local subnets.
    if (!used.some((u) => u.prefix > 0 && overlaps(u, cand))) yield cand;
  }
}

/** The next free address in `range` after `after` (wrapping), skipping `taken`; undefined when the range is full. */
export function nextFreeAddress(range: [number, number], taken: Set<number>, after?: number): number | undefined {
  const [lo, hi] = range;
  const total = hi - lo + 1;
  const startAt = after !== undefined && after >= lo && after < hi ? after + 1 : lo;
  for (let i = 0; i < total; i++) {
    const ip = lo + ((startAt - lo + i) % total);
    if (!taken.has(ip)) return ip;
  }
  return undefined;
}
