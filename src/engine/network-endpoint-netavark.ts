// One endpoint's interface made and unmade by the network driver: setup (with the link-local addresses moby's sandbox adds) and
// teardown, replayed in a scratch namespace when the container's namespace is already gone. Which endpoints to make is
// network-endpoints.ts's; an overlay's swarm side network-overlay-endpoints.ts's.
import { isIPv4 } from 'node:net';
import { errorMessage } from '../errdefs';
import type { NetworkDriver } from '../network/netavark';
import type { NetnsManager } from '../network/netns';
import type { Attachment, SandboxRecord } from '../network/network-store';
import type { SandboxTable } from './network-sandboxes';

export interface NetavarkEndpointsOptions {
  driver: NetworkDriver;
  netns: NetnsManager;
  sandboxes: SandboxTable;
  log: { error(msg: string): void };
}

export class NetavarkEndpoints {
  constructor(private readonly o: NetavarkEndpointsOptions) {}

  async setup(s: SandboxRecord, a: Attachment): Promise<void> {
    // The namespace's file until berthd holds the namespace by a descriptor (netns.ts), that descriptor then.
    const netns = await this.o.netns.enterPath(s.containerId);
    const status = await this.o.driver.setup(netns, a.opts);
    a.mac = status[a.networkId]?.interfaces?.[a.interfaceName]?.mac_address || a.mac;
    // As moby's sandbox adds them: IPv4 link-local in 169.254.0.0/16, IPv6 in fe80::/64.
    if (a.linkLocalIPs?.length) await this.o.driver.addAddresses(netns, a.interfaceName, a.linkLocalIPs.map((ip) => `${ip}/${isIPv4(ip) ? 16 : 64}`));
    a.ready = true;
  }

  async teardown(s: SandboxRecord, a: Attachment, netnsLive: boolean, namespaceGoes = false): Promise<void> {
    // The network-wide state of a bridge network lives as long as the network (NetworkDriver.removeNetwork); an
    // overlay's bridge here lives as long as the node's endpoints on it, so the last one's teardown removes it.
    const last = !!a.overlay && this.lastOn(a.networkId, s);
    if (netnsLive) {
      await this.o.driver.teardown(await this.o.netns.enterPath(s.containerId), a.opts, last, namespaceGoes).catch((e) => {
        if (a.ready) this.o.log.error(`network teardown of ${s.containerId.slice(0, 12)} on ${a.networkName}: ${errorMessage(e)}`);
      });
      return;
    }
    // The namespace is gone (its veth with it): replay the endpoint in a scratch namespace and tear that down,
    // which removes its rules and DNS line (and, for an overlay's last, the network's) as a live teardown does.
    const scratch = `${s.containerId}.reap`;
    try {
      const path = await this.o.netns.create(scratch);
      const { port_mappings: _ignored, ...bare } = a.opts;
      await this.o.driver.setup(path, bare).catch(() => undefined);
      await this.o.driver.teardown(path, a.opts, last, true);
    } catch (e) {
      this.o.log.error(`network cleanup of ${s.containerId.slice(0, 12)} on ${a.networkName}: ${errorMessage(e)}`);
    } finally {
      await this.o.netns.remove(scratch).catch(() => undefined);
    }
  }

  /**
   * Whether no sandbox but `s` has a set-up endpoint on the network. When unsure (an endpoint half set up) it
   * answers yes: the next endpoint makes the network's state again.
   */
  private lastOn(networkId: string, s: SandboxRecord): boolean {
    return !this.o.sandboxes.all().some((o) => o !== s && o.containerId !== s.containerId && o.attachments.some((x) => x.networkId === networkId && x.ready));
  }
}
