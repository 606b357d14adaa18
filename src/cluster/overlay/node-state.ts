// What this node's overlay networking should be, computed from the swarm's state in etcd (a pure function, so every
// rule about presence, peers, names and balancing is tested without a kernel): which overlay networks are present
// here and with which addresses, peers and DNS lines, the mesh's VIP and ingress rules, and the IPsec tunnels.
import { createHash } from 'node:crypto';
import type { Service } from '../../wire/swarm';
import type { ClusterNetwork } from '../objects-api';
import type { EncryptionKeys, EndpointRecord } from './model';
import { ENCRYPTED_VXLAN_PORT, VXLAN_OVERHEAD, VXLAN_PORT, macForIp, overlayDeviceNames, type OverlayLink, type OverlayPeer } from '../../network/overlay/host-overlay';
import type { IngressRule, MeshProto, MeshState, VipRule } from '../../network/overlay/mesh';
import type { DnsRecord } from '../../network/overlay/overlay-dns';
import type { IpsecTunnel } from '../../network/overlay/xfrm';
import { tunnelsFor } from '../../network/overlay/xfrm-ip';

/** The swarm as this node watches it, plus what only this node knows (its containers between join and left). */
export interface SwarmView {
  nodeId: string;
  /** This node's underlay (data-path) address. */
  nodeAddr: string;
  /** MTU of the underlay; overlays get 50 less unless the network sets its own. */
  underlayMtu: number;
  networks: ClusterNetwork[];
  services: Service[];
  /** Node IDs whose heartbeat key is present. */
  alive: Set<string>;
  /** Underlay address of each node (Node.Status.Addr), for the LB addresses of other nodes. */
  nodeAddrs: Map<string, string>;
  endpoints: EndpointRecord[];
  /** Load-balancer addresses: network ID → node ID → address. */
  lbs: Map<string, Map<string, string>>;
  keys: EncryptionKeys | undefined;
  /**
   * This node's containers the engine is joining or has joined (from join to leave) by network: the network is
   * present while any is there even before its endpoint is published.
   */
  attached: Map<string, number>;
  /** Networks whose every local container is between leave and left: their devices are left as they are. */
  leaving: Set<string>;
}

export interface NetworkPresence {
  link: OverlayLink;
  /** CIDRs besides the gateway: this node's LB address with the subnet's prefix, service VIPs as /32. */
  extraAddrs: string[];
  peers: OverlayPeer[];
  dns: DnsRecord[];
}

export interface NodeOverlayState {
  networks: NetworkPresence[];
  /** Network IDs whose devices must be neither made nor removed now (see SwarmView.leaving). */
  hold: string[];
  mesh: MeshState;
  tunnels: IpsecTunnel[];
  /** Present networks still lacking this node's LB address (the service allocates it, then the state changes). */
  needLb: string[];
}

export function desiredNodeState(v: SwarmView): NodeOverlayState {
  const overlays = v.networks.filter((n) => n.Overlay).sort((a, b) => a.ID.localeCompare(b.ID));
  const liveEndpoints = v.endpoints.filter((e) => e.nodeId === v.nodeId || v.alive.has(e.nodeId));
  const localNets = new Set(liveEndpoints.filter((e) => e.nodeId === v.nodeId).map((e) => e.networkId));
  const out: NodeOverlayState = { networks: [], hold: [], mesh: { vips: [], ingress: [] }, tunnels: [], needLb: [] };
  const encryptedPeers = new Set<string>();
  // Only node of its swarm (known nodes, alive or not: a node down for a while keeps its VXLAN end here).
  const solo = ![...v.nodeAddrs.keys()].some((id) => id !== v.nodeId);
  for (const n of overlays) {
    const cfg = n.Overlay!;
    const wanted = cfg.Ingress || (v.attached.get(n.ID) ?? 0) > 0 || (localNets.has(n.ID) && !v.leaving.has(n.ID));
    if (!wanted) {
      if (v.leaving.has(n.ID)) out.hold.push(n.ID);
      continue;
    }
    const link = linkOf(n, { ...v, solo });
    const prefix = cfg.Subnet.split('/')[1] ?? '24';
    const lbAddr = v.lbs.get(n.ID)?.get(v.nodeId);
    if (!lbAddr) out.needLb.push(n.ID);
    const onNet = liveEndpoints.filter((e) => e.networkId === n.ID);
    const remote = onNet.filter((e) => e.nodeId !== v.nodeId);
    const peers: OverlayPeer[] = remote.map((e) => ({ ip: e.ip, mac: macForIp(e.ip), nodeAddr: e.nodeAddr }));
    for (const [nodeId, ip] of v.lbs.get(n.ID) ?? []) {
      const nodeAddr = v.nodeAddrs.get(nodeId);
      if (nodeId !== v.nodeId && v.alive.has(nodeId) && nodeAddr) peers.push({ ip, mac: macForIp(ip), nodeAddr });
    }
    if (cfg.Encrypted) for (const p of peers) encryptedPeers.add(p.nodeAddr);
    const extraAddrs = lbAddr ? [`${lbAddr}/${prefix}`] : [];
    const dns: DnsRecord[] = [];
    if (!cfg.Ingress) {
      for (const e of remote) dns.push(record([e.name, ...e.aliases, e.containerId.slice(0, 12)], [e.ip]));
      for (const s of servicesOn(n, v.services)) {
        const serving = onNet.filter((e) => e.serviceId === s.ID && e.serving).map((e) => e.ip);
        const vip = vipOn(s, n.ID);
        const name = s.Spec.Name ?? s.ID;
        if (s.Spec.EndpointSpec?.Mode === 'dnsrr' || s.Endpoint?.Spec?.Mode === 'dnsrr') {
          if (serving.length) dns.push(record([name], serving));
        } else if (vip) {
          dns.push(record([name], [vip]));
          extraAddrs.push(`${vip}/32`);
          if (lbAddr) out.mesh.vips.push({ serviceId: s.ID, vip, bridge: link.bridge, lbAddr, backends: sorted(serving) } satisfies VipRule);
        }
        if (serving.length) dns.push(record([`tasks.${name}`], serving));
      }
    } else if (lbAddr) {
      out.mesh.ingress.push(...ingressRules(v, n.ID, link.bridge, lbAddr, onNet));
    }
    out.networks.push({
      link,
      extraAddrs: [...new Set(extraAddrs)].sort(),
      peers: uniqueBy(peers, (p) => p.ip).sort((a, b) => a.ip.localeCompare(b.ip)),
      dns: uniqueBy(dns, (r) => r.key).sort((a, b) => a.key.localeCompare(b.key)),
    });
  }
  // Newest generation first: it sends; the older ones still receive (xfrm-ip.ts).
  out.tunnels = v.keys ? tunnelsFor(v.nodeAddr, [...encryptedPeers].sort(), [...v.keys.keys].sort((a, b) => b.generation - a.generation)) : [];
  return out;
}

/** The devices and parameters of a network on this node. */
export function linkOf(n: ClusterNetwork, v: Pick<SwarmView, 'nodeAddr' | 'underlayMtu'> & { solo?: boolean }): OverlayLink {
  const cfg = n.Overlay!;
  const prefix = cfg.Subnet.split('/')[1] ?? '24';
  const mtu = Number(n.Options?.['com.docker.network.driver.mtu']) || v.underlayMtu - VXLAN_OVERHEAD;
  return {
    networkId: n.ID,
    ...overlayDeviceNames(n.ID),
    vni: cfg.VNI,
    gateway: `${cfg.Gateway.split('/')[0]}/${prefix}`,
    localAddr: v.nodeAddr,
    port: cfg.Encrypted ? ENCRYPTED_VXLAN_PORT : VXLAN_PORT,
    mtu,
    ...(v.solo ? { solo: true } : {}),
  };
}

/** Ports published in ingress mode (the default mode) of every service, balanced to its serving tasks on ingress. */
function ingressRules(v: SwarmView, networkId: string, bridge: string, lbAddr: string, onNet: EndpointRecord[]): IngressRule[] {
  const out: IngressRule[] = [];
  for (const s of [...v.services].sort((a, b) => a.ID.localeCompare(b.ID))) {
    const backends = onNet.filter((e) => e.serviceId === s.ID && e.serving)
      .map((e) => ({ ip: e.ip, local: e.nodeId === v.nodeId })).sort((a, b) => a.ip.localeCompare(b.ip));
    for (const p of s.Endpoint?.Ports ?? []) {
      if ((p.PublishMode ?? 'ingress') !== 'ingress' || !p.PublishedPort || !p.TargetPort) continue;
      const proto = (p.Protocol ?? 'tcp') as MeshProto | 'sctp';
      if (proto === 'sctp') continue; // the mesh balances tcp and udp only
      out.push({ serviceId: s.ID, proto, publishedPort: p.PublishedPort, targetPort: p.TargetPort, bridge, lbAddr, backends });
    }
  }
  return out;
}

/** Services attached to the network: by a VIP on it, or by their task template's networks (ID or name). */
function servicesOn(n: ClusterNetwork, services: Service[]): Service[] {
  return services.filter((s) => vipOn(s, n.ID) || [...(s.Spec.TaskTemplate?.Networks ?? []), ...(s.Spec.Networks ?? [])]
    .some((a) => a.Target === n.ID || a.Target === n.Name)).sort((a, b) => a.ID.localeCompare(b.ID));
}

function vipOn(s: Service, networkId: string): string | undefined {
  return s.Endpoint?.VirtualIPs?.find((x) => x.NetworkID === networkId)?.Addr.split('/')[0];
}

/** A DNS line keyed by a hash of its content: never a container ID netavark could use. */
function record(names: string[], ips: string[]): DnsRecord {
  const n = [...new Set(names.filter(Boolean))];
  const i = sorted(ips);
  return { key: `ovr${createHash('sha256').update(`${n.join(',')} ${i.join(',')}`).digest('hex').slice(0, 24)}`, ips: i, names: n };
}

function sorted(ips: string[]): string[] {
  return [...new Set(ips)].sort();
}

function uniqueBy<T>(items: T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((t) => !seen.has(key(t)) && !!seen.add(key(t)));
}
