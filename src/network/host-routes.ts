// What the host already routes (/proc/net/route, /proc/net/ipv6_route) and the subnets of its addresses, so networks pick subnets that
// collide with nothing. Read without running `ip`: this is asked on every container start.
import * as os from 'node:os';
import { readNow } from '../host/procfs';
import { contains6, intToIp, parseRouteDst, parseSubnet6, routeDst6, type Subnet4, type Subnet6 } from './addresses';

export interface HostRoute { dst: Subnet4; dev: string }

/** Reads the host's IPv4 routes (main table; default routes left out) and interface addresses. */
export type HostRouteProbe = () => Promise<HostRoute[]>;

export const probeHostRoutes: HostRouteProbe = async () => {
  const text = readNow('/proc/net/route') ?? '';
  return [...parseProcNetRoute(text), ...addressSubnets(os.networkInterfaces())];
};

/**
 * /proc/net/route (the main table, as the kernel prints it: destination and mask in little-endian hex) → routes;
 * the default route is left out (it covers everything and says nothing local).
 */
export function parseProcNetRoute(text: string): HostRoute[] {
  const out: HostRoute[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const [dev, dstHex, , , , , , maskHex] = f as [string, string, string, string, string, string, string, string];
    const dst = leHexToIp(dstHex);
    const mask = leHexToIp(maskHex);
    if (dst === undefined || mask === undefined) continue;
    const prefix = prefixOf(mask);
    if (prefix === undefined || prefix === 0) continue;
    const d = parseRouteDst(`${intToIp(dst)}/${prefix}`);
    if (d) out.push({ dst: d, dev });
  }
  return out;
}

/** os.networkInterfaces() → the subnets of the host's own IPv4 addresses (a down interface has no route, but counts). */
export function addressSubnets(ifaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>): HostRoute[] {
  const out: HostRoute[] = [];
  for (const [dev, list] of Object.entries(ifaces)) {
    for (const a of list ?? []) {
      if (a.family !== 'IPv4' || !a.cidr) continue;
      const dst = parseRouteDst(a.cidr);
      if (dst && dst.prefix > 0) out.push({ dst, dev });
    }
  }
  return out;
}

function leHexToIp(hex: string): number | undefined {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return undefined;
  const n = parseInt(hex, 16);
  return (((n & 0xff) << 24) | (((n >>> 8) & 0xff) << 16) | (((n >>> 16) & 0xff) << 8) | ((n >>> 24) & 0xff)) >>> 0;
}

/** A contiguous netmask → its prefix length; undefined for a mask with holes. */
function prefixOf(mask: number): number | undefined {
  let prefix = 0;
  while (prefix < 32 && ((mask >>> (31 - prefix)) & 1)) prefix++;
  return ((mask << prefix) >>> 0) === 0 || prefix === 32 ? prefix : undefined;
}

export interface HostRoute6 { dst: Subnet6; dev: string }

/** The host's IPv6 routes and address subnets, link-local, multicast, loopback and default routes left out. */
export type HostRouteProbe6 = () => Promise<HostRoute6[]>;

export const probeHostRoutes6: HostRouteProbe6 = async () => {
  const text = readNow('/proc/net/ipv6_route') ?? '';
  return [...parseProcNetIpv6Route(text), ...addressSubnets6(os.networkInterfaces())];
};

const NOT_LOCAL6 = ['fe80::/10', 'ff00::/8'].map(parseSubnet6);

function local6(dst: Subnet6): boolean {
  return dst.prefix > 0 && dst.prefix < 128 && !NOT_LOCAL6.some((s) => contains6(s, dst.base));
}

/** /proc/net/ipv6_route (destination and prefix length in hex, the device last) → routes that say something local. */
export function parseProcNetIpv6Route(text: string): HostRoute6[] {
  const out: HostRoute6[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^[0-9a-f]{32}$/.test(f[0]!) || !/^[0-9a-f]{2}$/.test(f[1]!)) continue;
    const dst = { base: BigInt(`0x${f[0]}`), prefix: parseInt(f[1]!, 16) };
    if (local6(dst)) out.push({ dst, dev: f[9]! });
  }
  return out;
}

/** os.networkInterfaces() → the subnets of the host's own global and unique-local IPv6 addresses. */
export function addressSubnets6(ifaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>): HostRoute6[] {
  const out: HostRoute6[] = [];
  for (const [dev, list] of Object.entries(ifaces)) {
    for (const a of list ?? []) {
      if (a.family !== 'IPv6' || !a.cidr) continue;
      const [ip, p] = a.cidr.split('/') as [string, string | undefined];
      const dst = routeDst6(ip, Number(p));
      if (dst && local6(dst)) out.push({ dst, dev });
    }
  }
  return out;
}
