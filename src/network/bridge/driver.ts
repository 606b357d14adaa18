// Berth's own bridge driver (decision 19): the engine's NetworkDriver port (netavark's options in, its status out)
// over three adapters — links (bridge and veths), firewall (NAT, forwarding, isolation, published ports) and dns
// (aardvark-dns) — so a container costs one `ip` process per network (the first also makes its namespace), the
// firewall only when it publishes ports, and the network-wide work (the bridge, its rules) happens once per network
// per daemon life.
import { isIPv4 } from 'node:net';
import { SystemError, errorMessage } from '../../errdefs';
import type { NetavarkNetwork, NetavarkOptions, NetavarkStatus, NetworkDriver } from '../netavark';
import type { NetworkRecord } from '../network-store';
import type { BridgeFirewall, BridgeNetworkSpec, PublishedPorts } from './contract';
import type { BridgeDns } from './dns';
import { KeyedMutex } from '../../util/mutex';
import { dockerMac, hostVethName, type BridgeEndpoint, type BridgeLinks } from './links';

export interface BerthBridgeDriverOptions {
  links: BridgeLinks;
  firewall: BridgeFirewall;
  dns: BridgeDns;
  log: { error(msg: string): void };
}

export class BerthBridgeDriver implements NetworkDriver {
  /** The networks whose rules this daemon has ensured, by bridge, with the spec they were made for. */
  private readonly ensured = new Map<string, string>();
  /** Endpoints set up together (they are, outside the engine's networks lock) make a network's rules once: by bridge. */
  private readonly ensuring = new KeyedMutex();

  constructor(private readonly o: BerthBridgeDriverOptions) {}

  async setup(netnsPath: string, opts: NetavarkOptions): Promise<NetavarkStatus> {
    const status: NetavarkStatus = {};
    for (const [name, ep] of Object.entries(opts.networks)) {
      const info = opts.network_info[name];
      if (!info) continue;
      const n = specOf(info);
      const ips = addressesOf(info, ep.static_ips);
      const endpoint: BridgeEndpoint = {
        netns: netnsPath, ifname: ep.interface_name, hostIfname: hostVethName(opts.container_id, info.id),
        mac: ep.static_mac || (ips.v4[0] ? dockerMac(ips.v4[0].ip) : randomishMac(opts.container_id)), announce: !!ep.static_mac,
        addresses: [...ips.v4, ...ips.v6].map((a) => `${a.ip}/${a.prefix}`),
        gateways: n.internal ? [] : [...ips.v4, ...ips.v6].map((a) => a.gateway),
      };
      const published = publishedOf(opts, ips);
      // Whether this attach may be the one that makes the bridge (the first on it in this daemon's life).
      const bridgeMayBeNew = !this.ensured.has(n.bridge);
      const attached = this.o.links.attach(n, endpoint);
      // The rules do not need the interfaces (they name the bridge and addresses): made side by side. Except that a
      // publication on 127.0.0.1 turns on the bridge's route_localnet, a setting of the device itself: on a bridge
      // this attach may be making, it waits for the attach (else the setting was skipped and 127.0.0.1 never answered).
      await Promise.all([
        this.ensureNetwork(n),
        attached,
        published ? (bridgeMayBeNew ? attached.then(() => this.o.firewall.publish(n, published)) : this.o.firewall.publish(n, published)) : undefined,
      ]);
      // aardvark-dns binds the gateway, which exists once the bridge does.
      if (info.dns_enabled) {
        await this.o.dns.add(info.name, n.subnets.map((s) => s.gateway), {
          containerId: opts.container_id, ipv4: ips.v4.map((a) => a.ip), ipv6: ips.v6.map((a) => a.ip),
          names: [opts.container_name, ...(ep.aliases ?? [])], servers: opts.dns_servers,
        });
      }
      status[name] = {
        interfaces: { [ep.interface_name]: { mac_address: endpoint.mac, subnets: [...ips.v4, ...ips.v6].map((a) => ({ ipnet: `${a.ip}/${a.prefix}`, gateway: a.gateway })) } },
        ...(info.dns_enabled ? { dns_server_ips: n.subnets.map((s) => s.gateway) } : {}),
      };
    }
    return status;
  }

  /**
   * Undoes one container's setup. `last` (no other container is on these networks) removes the network-wide state
   * too — the engine asks it only of a swarm overlay's bridge (whose life the swarm's node side ends); a bridge
   * network keeps its bridge and rules for its own life (removeNetwork), as dockerd keeps docker0.
   */
  async teardown(netnsPath: string, opts: NetavarkOptions, last = false, namespaceGoes = false): Promise<void> {
    void netnsPath;
    const errors: string[] = [];
    for (const [name, ep] of Object.entries(opts.networks)) {
      const info = opts.network_info[name];
      if (!info) continue;
      const n = specOf(info);
      const published = publishedOf(opts, addressesOf(info, ep.static_ips));
      const veth = hostVethName(opts.container_id, info.id);
      const steps = await Promise.allSettled([
        // The kernel deletes a veth in 10–150 ms (RCU grace periods): when the namespace goes anyway, its destruction
        // deletes the pair off everyone's path. An overlay's last endpoint waits: the bridge must be empty to go.
        namespaceGoes && !last ? undefined : this.o.links.detach(veth),
        published ? this.o.firewall.unpublish(n, published) : undefined,
        info.dns_enabled ? this.o.dns.remove(info.name, opts.container_id) : undefined,
      ]);
      for (const s of steps) if (s.status === 'rejected') errors.push(errorMessage(s.reason));
      // As netavark did: the network goes with its last endpoint only if nothing else is on its bridge (the ingress
      // network's VXLAN device stays attached on every node of the swarm, and so do its bridge and rules).
      if (last) {
        await this.o.links.removeBridge(n.bridge, true).then(async (gone) => {
          if (!gone) return;
          this.ensured.delete(n.bridge);
          await this.o.firewall.removeNetwork(n);
        }).catch((e) => errors.push(errorMessage(e)));
      }
    }
    if (errors.length) throw new SystemError(`network teardown of ${opts.container_id.slice(0, 12)}: ${errors.join('; ')}`);
  }

  /** The network is gone (removed, or its last overlay endpoint here left): its rules, then its bridge. */
  async removeNetwork(info: NetavarkNetwork): Promise<void> {
    const n = specOf(info);
    this.ensured.delete(n.bridge);
    await this.o.firewall.removeNetwork(n);
    await this.o.links.removeBridge(n.bridge);
  }

  /** At daemon start: the rules of bridges of ours that are none of `keep` (by bridge) any more go. */
  async reconcile(keep: NetavarkNetwork[]): Promise<void> {
    const byBridge = new Map(keep.map((info) => [info.network_interface, specOf(info)]));
    await this.o.firewall.reconcile([...byBridge.values()]);
  }

  async addAddresses(netnsPath: string, ifname: string, cidrs: string[]): Promise<void> {
    await this.o.links.addAddresses(netnsPath, ifname, cidrs);
  }

  async setDnsNames(networkName: string, names: Record<string, string[]>): Promise<void> {
    await this.o.dns.setNames(networkName, names);
  }

  /** The network-wide rules, once per network per daemon life (idempotent, so once more after a restart is fine). */
  private async ensureNetwork(n: BridgeNetworkSpec): Promise<void> {
    const key = JSON.stringify(n);
    if (this.ensured.get(n.bridge) === key) return;
    await this.ensuring.run(n.bridge, async () => {
      if (this.ensured.get(n.bridge) === key) return;
      await this.o.firewall.ensureNetwork(n);
      this.ensured.set(n.bridge, key);
    });
  }
}

/**
 * A local bridge network's network_info (the document every endpoint on it carries). netavark named its iptables
 * chains after `name`: the ID kept two daemons' "bridge" apart, and still names the DNS file.
 */
export function bridgeNetworkInfo(n: NetworkRecord): NetavarkNetwork {
  const v6 = !!(n.ipv6 && n.subnet6);
  return {
    name: n.id, id: n.id, driver: 'bridge', network_interface: n.bridge,
    subnets: [{ subnet: n.subnet, gateway: n.gateway }, ...(v6 ? [{ subnet: n.subnet6!, gateway: n.gateway6! }] : [])],
    ipv6_enabled: v6, internal: n.internal, dns_enabled: !n.builtin, options: { isolate: 'true' }, ipam_options: { driver: 'host-local' },
  };
}

/** The driver's view of netavark's network_info. */
export function specOf(info: NetavarkNetwork): BridgeNetworkSpec {
  const mtu = Number(info.options?.mtu);
  return {
    id: info.id, bridge: info.network_interface, subnets: info.subnets.map((s) => ({ subnet: s.subnet, gateway: s.gateway })),
    internal: info.internal, isolate: info.options?.isolate === 'true',
    ...(Number.isInteger(mtu) && mtu > 0 ? { mtu } : {}),
  };
}

interface Address { ip: string; prefix: number; gateway: string }

/** The container's static IPs with the prefix and gateway of the subnet of their family. */
function addressesOf(info: NetavarkNetwork, ips: string[]): { v4: Address[]; v6: Address[] } {
  const out = { v4: [] as Address[], v6: [] as Address[] };
  for (const ip of ips) {
    const v4 = isIPv4(ip);
    const s = info.subnets.find((x) => isIPv4(x.gateway) === v4);
    if (!s) continue;
    (v4 ? out.v4 : out.v6).push({ ip, prefix: Number(s.subnet.split('/')[1]), gateway: s.gateway });
  }
  return out;
}

function publishedOf(opts: NetavarkOptions, ips: { v4: Address[]; v6: Address[] }): PublishedPorts | undefined {
  if (!opts.port_mappings?.length || (!ips.v4.length && !ips.v6.length)) return undefined;
  return {
    containerId: opts.container_id, ports: opts.port_mappings,
    ...(ips.v4[0] ? { ipv4: ips.v4[0].ip } : {}), ...(ips.v6[0] ? { ipv6: ips.v6[0].ip } : {}),
  };
}

/** A MAC for an endpoint without an IPv4 address (none in Berth today): locally administered, from the ID. */
function randomishMac(containerId: string): string {
  return ['02', '42', ...(containerId.padEnd(8, '0').slice(0, 8).match(/../g) ?? [])].join(':');
}
