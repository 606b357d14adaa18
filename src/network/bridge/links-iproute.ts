// BridgeLinks on Linux: iproute2's `ip -batch -` on the host, and the same under nsenter in the container's
// namespace; the state of the bridge and the host's sysctls through /sys and /proc, which cost no process.
import * as fsp from 'node:fs/promises';
import { isIPv4 } from 'node:net';
import { SystemError, errorMessage } from '../../errdefs';
import { exec } from '../overlay/iproute2';
import type { BridgeNetworkSpec } from './contract';
import { bridgeLines, hostEndpointLines, namespaceLines, type BridgeEndpoint, type BridgeLinks, type BridgeState } from './links';

export class IprouteBridgeLinks implements BridgeLinks {
  /** Forwarding sysctls already written by this daemon (per family): written once, not per container. */
  private readonly forwarding = new Set<string>();

  async attach(n: BridgeNetworkSpec, ep: BridgeEndpoint): Promise<void> {
    await this.enableForwarding(n);
    const lines = async () => [
      ...bridgeLines(n, await readBridgeState(n.bridge)),
      // The same container back on the network before the kernel finished destroying its old namespace: that
      // namespace's veth still has the name (derived from container and network); it goes first.
      ...((await present(`/sys/class/net/${ep.hostIfname}`)) ? [`link del dev ${ep.hostIfname}`] : []),
      ...hostEndpointLines(n, ep),
    ].join('\n') + '\n';
    // Once more if the old veth vanished between the look and the batch.
    await exec('ip', ['-batch', '-'], await lines()).catch(async () => exec('ip', ['-batch', '-'], await lines()));
    try {
      const lines = namespaceLines(ep).join('\n') + '\n';
      // arp_notify is the namespace's sysctl, so it is written by a shell in it that then becomes the namespace's
      // `ip` (one process still, one exec more): only when asked, the common case costs nsenter and ip alone.
      await exec('nsenter', ep.announce
        ? [`--net=${ep.netns}`, 'sh', '-c', 'echo 1 >"/proc/sys/net/ipv4/conf/$1/arp_notify" && exec ip -batch -', 'sh', ep.ifname]
        : [`--net=${ep.netns}`, 'ip', '-batch', '-'], lines);
    } catch (e) {
      await this.detach(ep.hostIfname).catch(() => undefined);
      throw e;
    }
  }

  async detach(hostIfname: string): Promise<void> {
    if (!(await present(`/sys/class/net/${hostIfname}`))) return;
    await exec('ip', ['link', 'del', 'dev', hostIfname]).catch(async (e: unknown) => {
      // Gone meanwhile (its namespace was destroyed): what was asked.
      if (await present(`/sys/class/net/${hostIfname}`)) throw e;
    });
  }

  async removeBridge(bridge: string, onlyIfEmpty = false): Promise<boolean> {
    const ports = await fsp.readdir(`/sys/class/net/${bridge}/brif`).catch(() => undefined);
    if (!ports) return true;
    if (onlyIfEmpty && ports.length) return false;
    await exec('ip', ['link', 'del', 'dev', bridge]).catch(async (e: unknown) => {
      if (await present(`/sys/class/net/${bridge}`)) throw e;
    });
    return true;
  }

  async addAddresses(netns: string, ifname: string, cidrs: string[]): Promise<void> {
    if (!cidrs.length) return;
    const lines = cidrs.map((c) => `addr add ${c} dev ${ifname}${isIPv4(c.split('/')[0]!) ? '' : ' nodad'}`);
    await exec('nsenter', [`--net=${netns}`, 'ip', '-batch', '-'], lines.join('\n') + '\n').catch((e: unknown) => {
      throw new SystemError(`cannot add link-local addresses ${cidrs.join(', ')} to ${ifname}: ${errorMessage(e)}`);
    });
  }

  /** Routing between the bridge and the world (NAT, published ports), as netavark turned it on. */
  private async enableForwarding(n: BridgeNetworkSpec): Promise<void> {
    const keys = ['net/ipv4/ip_forward', ...(n.subnets.some((s) => !isIPv4(s.gateway)) ? ['net/ipv6/conf/all/forwarding'] : [])];
    for (const key of keys) {
      if (this.forwarding.has(key)) continue;
      await fsp.writeFile(`/proc/sys/${key}`, '1').catch((e: Error) => { throw new SystemError(`cannot set ${key}=1: ${e.message}`); });
      this.forwarding.add(key);
    }
  }
}

/** The bridge as /sys shows it: no process, a few reads. */
export async function readBridgeState(bridge: string): Promise<BridgeState> {
  const dir = `/sys/class/net/${bridge}`;
  const [assigned, mac] = await Promise.all([
    fsp.readFile(`${dir}/addr_assign_type`, 'utf8').catch(() => ''),
    fsp.readFile(`${dir}/address`, 'utf8').catch(() => ''),
  ]);
  if (!assigned) return { exists: false, macPinned: false };
  // 3: NET_ADDR_SET, a MAC set from user space, which the bridge keeps.
  return { exists: true, macPinned: assigned.trim() === '3', mac: mac.trim() };
}

function present(file: string): Promise<boolean> {
  return fsp.access(file).then(() => true, () => false);
}
