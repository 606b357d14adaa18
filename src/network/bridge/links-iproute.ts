// BridgeLinks on Linux: iproute2's `ip -batch -` in the container's namespace (under unshare, which makes it, or
// nsenter), and on the host for the bridge; the state of the bridge, its ports' hairpin mode and the host's sysctls
// through /sys and /proc, which cost no process.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { isIPv4 } from 'node:net';
import { SystemError, errorMessage } from '../../errdefs';
import { readNow } from '../../host/procfs';
import { exec } from '../overlay/iproute2';
import { KeyedMutex } from '../../util/mutex';
import type { BridgeNetworkSpec } from './contract';
import { isNsfs, type FreshNamespaces } from '../netns';
import { bridgeLines, endpointLines, type BridgeEndpoint, type BridgeLinks, type BridgeState } from './links';

export class IprouteBridgeLinks implements BridgeLinks {
  /** Forwarding sysctls already written by this daemon (per family): written once, not per container. */
  private readonly forwarding = new Set<string>();
  /** The bridges this daemon made what their spec said, with the ifindex they had then. */
  private readonly bridges = new Map<string, { spec: string; index: number }>();
  /** Endpoints attached together (outside the engine's networks lock) make or mend a bridge once: by bridge. */
  private readonly bridgeTurns = new KeyedMutex();

  /** `namespaces`: where a fresh endpoint's namespace is made, held by berthd's descriptor from the start (netns.ts). */
  constructor(private readonly namespaces: FreshNamespaces) {}

  /**
   * One process per endpoint: `ip` in the container's namespace (made by the same process, `unshare --net ip`, held
   * by berthd through configureFresh, when the file is only reserved), plus a write to /sys; the host's `ip` only
   * when the bridge needs it.
   */
  async attach(n: BridgeNetworkSpec, ep: BridgeEndpoint): Promise<void> {
    await this.enableForwarding(n);
    const bridgeIndex = await this.ensureBridge(n);
    // The same container back on the network before the kernel finished destroying its old namespace: that
    // namespace's veth still has the name (derived from container and network); it goes first.
    await this.detach(ep.hostIfname);
    const lines = endpointLines(n, ep, { netns: `/proc/${process.pid}/ns/net`, bridgeIndex }).join('\n') + '\n';
    const fresh = !(await isNsfs(ep.netns));
    try {
      if (fresh) await this.namespaces.configureFresh(ep.netns, namespaceCommand(ep), lines);
      else await exec('nsenter', [`--net=${ep.netns}`, ...namespaceCommand(ep)], lines);
      await fsp.writeFile(`/sys/class/net/${ep.hostIfname}/brport/hairpin_mode`, '1');
    } catch (e) {
      // The bridge may be what failed (deleted or replaced meanwhile): the next attach makes it again.
      this.bridges.delete(n.bridge);
      await this.detach(ep.hostIfname).catch(() => undefined);
      throw e;
    }
  }

  /**
   * The bridge as `n` says, and its ifindex. The host batch (bridgeLines: idempotent, and it mends what someone
   * changed) runs the first time this daemon sees the bridge or its spec, and again when /sys shows it replaced
   * (another ifindex) or down; otherwise two reads of /sys stand for it. A gateway address or MTU changed by hand
   * is mended by the next daemon start (or the first container after the bridge was replaced), no longer by every
   * container.
   */
  private async ensureBridge(n: BridgeNetworkSpec): Promise<number> {
    const spec = JSON.stringify(n);
    const current = async (): Promise<number | undefined> => {
      const known = this.bridges.get(n.bridge);
      return known?.spec === spec && (await bridgeUp(n.bridge, known.index)) ? known.index : undefined;
    };
    const index = await current();
    if (index !== undefined) return index;
    return this.bridgeTurns.run(n.bridge, async () => {
      // Made or mended meanwhile by the attach this one waited for.
      const made = await current();
      if (made !== undefined) return made;
      await exec('ip', ['-batch', '-'], bridgeLines(n, await readBridgeState(n.bridge)).join('\n') + '\n');
      const index = Number((await fsp.readFile(`/sys/class/net/${n.bridge}/ifindex`, 'utf8')).trim());
      this.bridges.set(n.bridge, { spec, index });
      return index;
    });
  }

  async detach(hostIfname: string): Promise<void> {
    if (!(await present(`/sys/class/net/${hostIfname}`))) return;
    await exec('ip', ['link', 'del', 'dev', hostIfname]).catch(async (e: unknown) => {
      // Gone meanwhile (its namespace was destroyed): what was asked.
      if (await present(`/sys/class/net/${hostIfname}`)) throw e;
    });
  }

  async removeBridge(bridge: string, onlyIfEmpty = false): Promise<boolean> {
    this.bridges.delete(bridge);
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

/** Whether the bridge is still the one of that ifindex, and up (IFF_UP in its flags). */
async function bridgeUp(bridge: string, index: number): Promise<boolean> {
  // Read synchronously on every attach: sysfs attributes, made from memory at the read (decision 29).
  const dir = `/sys/class/net/${bridge}`;
  const [ifindex, flags] = [readNow(`${dir}/ifindex`) ?? '', readNow(`${dir}/flags`) ?? ''];
  return Number(ifindex.trim()) === index && (Number(flags.trim()) & 1) === 1;
}

/**
 * What runs in the namespace: `ip -batch -`; with `announce`, under a shell that sets the namespace's default
 * arp_notify while `ip` makes the interface (which copies it then) and puts it back after, since the interface does
 * not exist before the batch that brings it up (one process more, a fork, for static MACs only). (dash's `read`
 * of a /proc file answers 1 though it read the value, hence the test of the value.)
 */
function namespaceCommand(ep: BridgeEndpoint): string[] {
  if (!ep.announce) return ['ip', '-batch', '-'];
  return ['sh', '-c', 'd=/proc/sys/net/ipv4/conf/default/arp_notify; read -r was <"$d"; [ -n "$was" ] && echo 1 >"$d" || exit 1; ip -batch -; r=$?; echo "$was" >"$d"; exit $r'];
}

/** Whether a /sys entry exists; synchronous, as sysfs answers from memory (decision 29). */
async function present(file: string): Promise<boolean> {
  return fs.existsSync(file);
}
