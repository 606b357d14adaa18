// What the host already routes (/proc/net/route) and the subnets of its addresses, so networks pick subnets that
// collide with nothing. Read without running `ip`: this is asked on every container start.
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import { intToIp, parseRouteDst, type Subnet4 } from './addresses';

export interface HostRoute { dst: Subnet4; dev: string }

/** Reads the host's IPv4 routes (main table; default routes left out) and interface addresses. */
export type HostRouteProbe = () => Promise<HostRoute[]>;

export const probeHostRoutes: HostRouteProbe = async () => {
  const text = await fsp.readFile('/proc/net/route', 'utf8').catch(() => '');
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
