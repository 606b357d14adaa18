// What the host already routes (`ip -j route`, `ip -j addr`), so new networks pick subnets that collide with nothing.
import { execFile } from 'node:child_process';
import { parseRouteDst, type Subnet4 } from './addresses';

export interface HostRoute { dst: Subnet4; dev: string }

/** Reads the host's IPv4 routes and interface addresses (main table; default routes left out). */
export type HostRouteProbe = () => Promise<HostRoute[]>;

export const probeHostRoutes: HostRouteProbe = async () => {
  const [routes, addrs] = await Promise.all([ipJson(['-4', 'route', 'show', 'table', 'main']), ipJson(['-4', 'addr', 'show'])]);
  return [...parseIpRoutes(routes), ...parseIpAddrs(addrs)];
};

/** `ip -j route` output → routes; the default route is left out (it covers everything and says nothing local). */
export function parseIpRoutes(json: unknown): HostRoute[] {
  const out: HostRoute[] = [];
  for (const r of Array.isArray(json) ? json as { dst?: string; dev?: string }[] : []) {
    if (!r.dst || r.dst === 'default') continue;
    const dst = parseRouteDst(r.dst);
    if (dst) out.push({ dst, dev: r.dev ?? '' });
  }
  return out;
}

/** `ip -j addr` output → the subnets of the host's own addresses. */
export function parseIpAddrs(json: unknown): HostRoute[] {
  const out: HostRoute[] = [];
  for (const link of Array.isArray(json) ? json as { ifname?: string; addr_info?: { family?: string; local?: string; prefixlen?: number }[] }[] : []) {
    for (const a of link.addr_info ?? []) {
      if (a.family !== 'inet' || !a.local) continue;
      const dst = parseRouteDst(`${a.local}/${a.prefixlen ?? 32}`);
      if (dst && dst.prefix > 0) out.push({ dst, dev: link.ifname ?? '' });
    }
  }
  return out;
}

function ipJson(args: string[]): Promise<unknown> {
  return new Promise((resolve) => {
    execFile('ip', ['-j', ...args], { encoding: 'utf8' }, (err, stdout) => {
      if (err) return resolve([]);
      try {
        resolve(JSON.parse(stdout || '[]'));
      } catch {
        resolve([]);
      }
    });
  });
}
