// The host's interfaces with their link kind and addresses, as swarm init's choice of an advertise address needs them:
// dockerd prefers physical devices (no link kind) over bridges, veths and the like, which `ip -d -j addr` tells apart
// and os.networkInterfaces() does not.
import { execFile } from 'node:child_process';

export interface HostAddress {
  family: 4 | 6;
  address: string;
  prefix: number;
  /** Scope global: neither loopback nor link-local (Go's IsGlobalUnicast for the addresses an interface carries). */
  global: boolean;
}

export interface HostInterface {
  name: string;
  up: boolean;
  loopback: boolean;
  /** The link kind (bridge, veth, ifb, vxlan...); '' for a plain device, what netlink calls type "device". */
  kind: string;
  addresses: HostAddress[];
}

export type HostInterfaceProbe = () => Promise<HostInterface[]>;

export const probeHostInterfaces: HostInterfaceProbe = () => new Promise((resolve, reject) => {
  execFile('ip', ['-d', '-j', 'addr', 'show'], { encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
    if (err) reject(new Error(`ip addr show: ${stderr.trim() || err.message}`));
    else resolve(parseIpAddrJson(stdout));
  });
});

interface IpAddrJson {
  ifname?: string;
  flags?: string[];
  link_type?: string;
  linkinfo?: { info_kind?: string };
  addr_info?: { family?: string; local?: string; prefixlen?: number; scope?: string }[];
}

/** `ip -d -j addr show`'s output → interfaces. */
export function parseIpAddrJson(text: string): HostInterface[] {
  const links = JSON.parse(text || '[]') as IpAddrJson[];
  return links.filter((l) => l.ifname).map((l) => ({
    name: l.ifname!,
    up: (l.flags ?? []).includes('UP'),
    loopback: (l.flags ?? []).includes('LOOPBACK') || l.link_type === 'loopback',
    kind: l.linkinfo?.info_kind ?? '',
    addresses: (l.addr_info ?? []).filter((a) => (a.family === 'inet' || a.family === 'inet6') && a.local).map((a) => ({
      family: (a.family === 'inet' ? 4 : 6) as 4 | 6,
      address: a.local!,
      prefix: a.prefixlen ?? (a.family === 'inet' ? 32 : 128),
      global: a.scope === 'global',
    })),
  }));
}
