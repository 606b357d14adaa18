// IPv4 and IPv6 subnets and addresses as numbers: parsing CIDRs, overlap, the n-th host, and picking free subnets from a pool.
import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { InvalidParameterError } from '../errdefs';

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

// ---------- IPv6 ----------
// 128-bit addresses do not fit a JS number, so IPv6 subnets and addresses are bigints. The arithmetic is IPv4's
// above with another width; IPv4 keeps plain numbers, which its callers (and the hot path of every start) use.

export interface Subnet6 {
  base: bigint;
  prefix: number;
}

const ALL6 = (1n << 128n) - 1n;

function mask6(prefix: number): bigint {
  return prefix === 0 ? 0n : (ALL6 << BigInt(128 - prefix)) & ALL6;
}

/** An IPv6 address as text → its 128-bit value (embedded IPv4 as in ::ffff:1.2.3.4 included). */
export function ip6ToBig(ip: string): bigint {
  if (!isIPv6(ip)) throw new InvalidParameterError(`invalid IPv6 address: ${ip}`);
  let text = ip.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = ipToInt(v4[1]!);
    text = `${text.slice(0, -v4[1]!.length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** A 128-bit value → RFC 5952 text (lower case, the longest run of two or more zero groups as "::"), as Go prints it. */
export function bigToIp6(n: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** "fd00:1::/64" → {base, prefix}; host bits set are refused as for IPv4. */
export function parseSubnet6(cidr: string): Subnet6 {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(cidr.trim());
  if (!m || !isIPv6(m[1]!) || Number(m[2]) > 128) throw new InvalidParameterError(`invalid subnet ${cidr}: expected an IPv6 CIDR such as fd00:1::/64`);
  const prefix = Number(m[2]);
  const ip = ip6ToBig(m[1]!);
  const base = ip & mask6(prefix);
  if (base !== ip) throw new InvalidParameterError(`invalid subnet ${cidr}: it has host bits set (did you mean ${bigToIp6(base)}/${prefix}?)`);
  return { base, prefix };
}

/** Like parseSubnet6 but masks host bits away (for routes and addresses the kernel reports). */
export function routeDst6(ip: string, prefix: number): Subnet6 | undefined {
  if (!isIPv6(ip) || !(prefix >= 0 && prefix <= 128)) return undefined;
  return { base: ip6ToBig(ip) & mask6(prefix), prefix };
}

export function subnet6String(s: Subnet6): string {
  return `${bigToIp6(s.base)}/${s.prefix}`;
}

export function contains6(s: Subnet6, ip: bigint): boolean {
  return (ip & mask6(s.prefix)) === s.base;
}

export function overlaps6(a: Subnet6, b: Subnet6): boolean {
  const m = mask6(Math.min(a.prefix, b.prefix));
  return (a.base & m) === (b.base & m);
}

/** The usable addresses [first, last]: IPv6 has no broadcast, only the subnet-router anycast address (the base) is left out. */
export function hostRange6(s: Subnet6): [bigint, bigint] {
  const last = s.base + (1n << BigInt(128 - s.prefix)) - 1n;
  return s.prefix >= 127 ? [s.base, last] : [s.base + 1n, last];
}

/** nextFreeAddress for IPv6: the next free address in `range` after `after` (wrapping), skipping `taken`. */
export function nextFreeAddress6(range: [bigint, bigint], taken: Set<bigint>, after?: bigint): bigint | undefined {
  const [lo, hi] = range;
  const total = hi - lo + 1n;
  const startAt = after !== undefined && after >= lo && after < hi ? after + 1n : lo;
  // `taken` is small next to any real subnet: the loop ends at the first gap.
  for (let i = 0n; i < total && i <= BigInt(taken.size); i++) {
    const ip = lo + ((startAt - lo + i) % total);
    if (!taken.has(ip)) return ip;
  }
  return undefined;
}

/**
 * The /48 unique local prefix (RFC 4193: fd00::/8 and a 40-bit global ID) that automatic IPv6 subnets come from, as
 * dockerd derives its own from the engine's host ID: the same seed gives the same prefix across restarts.
 */
export function ulaPrefix(seed: string): Subnet6 {
  const gid = BigInt(`0x${createHash('sha256').update(seed).digest('hex').slice(0, 10)}`);
  return { base: (0xfdn << 120n) | (gid << 80n), prefix: 48 };
}

/** The /`prefix` subnets of `pool`, in order, that overlap nothing in `used`. */
export function* freeSubnets6(pool: Subnet6, prefix: number, used: Subnet6[]): Generator<Subnet6> {
  const count = 1n << BigInt(prefix - pool.prefix);
  const step = 1n << BigInt(128 - prefix);
  for (let i = 0n; i < count; i++) {
    const cand = { base: pool.base + i * step, prefix };
    if (!used.some((u) => u.prefix > 0 && overlaps6(u, cand))) yield cand;
  }
}
