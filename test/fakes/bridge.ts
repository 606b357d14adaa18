// Fakes of the bridge driver's adapters (links, firewall, dns) that record their calls, for the driver's unit tests.
import type { BridgeFirewall, BridgeNetworkSpec, PublishedPorts } from '../../src/network/bridge/contract';
import type { BridgeDns, DnsEntry } from '../../src/network/bridge/dns';
import type { BridgeEndpoint, BridgeLinks } from '../../src/network/bridge/links';

export class FakeBridgeLinks implements BridgeLinks {
  readonly calls: string[] = [];
  readonly endpoints: BridgeEndpoint[] = [];
  /** Host ends present now. */
  readonly ports = new Set<string>();
  failAttach = false;
  async attach(n: BridgeNetworkSpec, ep: BridgeEndpoint): Promise<void> {
    this.calls.push(`attach ${n.bridge} ${ep.hostIfname}`);
    if (this.failAttach) throw new Error('attach failed');
    this.endpoints.push(ep);
    this.ports.add(ep.hostIfname);
  }
  async detach(hostIfname: string): Promise<void> {
    this.calls.push(`detach ${hostIfname}`);
    this.ports.delete(hostIfname);
  }
  /** Bridges that still have a port other than the veths (an overlay's VXLAN device). */
  readonly busy = new Set<string>();
  async removeBridge(bridge: string, onlyIfEmpty = false): Promise<boolean> {
    this.calls.push(`removeBridge ${bridge}${onlyIfEmpty ? ' if empty' : ''}`);
    return !(onlyIfEmpty && this.busy.has(bridge));
  }
  async addAddresses(netns: string, ifname: string, cidrs: string[]): Promise<void> { this.calls.push(`addAddresses ${netns} ${ifname} ${cidrs.join(',')}`); }
}

export class FakeBridgeFirewall implements BridgeFirewall {
  readonly calls: string[] = [];
  readonly published: PublishedPorts[] = [];
  async ensureNetwork(n: BridgeNetworkSpec): Promise<void> { this.calls.push(`ensureNetwork ${n.bridge}`); }
  async removeNetwork(n: BridgeNetworkSpec): Promise<void> { this.calls.push(`removeNetwork ${n.bridge}`); }
  async publish(n: BridgeNetworkSpec, p: PublishedPorts): Promise<void> { this.calls.push(`publish ${n.bridge} ${p.containerId}`); this.published.push(p); }
  async unpublish(n: BridgeNetworkSpec, p: PublishedPorts): Promise<void> { this.calls.push(`unpublish ${n.bridge} ${p.containerId}`); }
  async reconcile(keep: BridgeNetworkSpec[]): Promise<void> { this.calls.push(`reconcile ${keep.map((n) => n.bridge).join(',')}`); }
}

export class FakeBridgeDns implements BridgeDns {
  readonly calls: string[] = [];
  readonly entries = new Map<string, { listen: string[]; entry: DnsEntry }>();
  async add(network: string, listen: string[], entry: DnsEntry): Promise<void> {
    this.calls.push(`add ${network} ${entry.containerId}`);
    this.entries.set(`${network}/${entry.containerId}`, { listen, entry });
  }
  async remove(network: string, containerId: string): Promise<void> {
    this.calls.push(`remove ${network} ${containerId}`);
    this.entries.delete(`${network}/${containerId}`);
  }
  async setNames(network: string, names: Record<string, string[]>): Promise<void> { this.calls.push(`setNames ${network} ${Object.keys(names).join(',')}`); }
}
