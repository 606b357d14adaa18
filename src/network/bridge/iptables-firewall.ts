// BridgeFirewall over iptables and ip6tables (iptables-nft on Debian 12): each change is one `iptables-restore -w
// --noflush` per family, its document rendered by firewall-rules.ts. What a container's publication needs to know
// (whether its chain and the jump to it exist) is kept here, read once per network with iptables-save, so publish and
// unpublish spawn nothing else; when that knowledge is wrong (a restore fails), it is read again and the change retried.
import * as fsp from 'node:fs/promises';
import { SystemError } from '../../errdefs';
import { runCommand, writeRouteLocalnet, type CommandRunner } from '../iptables-restore';
import type { BridgeFirewall, BridgeNetworkSpec, PublishedPorts } from './contract';
import {
  bridgesIn, familiesOf, needsRouteLocalnet, parsePresence, publishesIn, portChain, portJumps, renderEnsureNetwork,
  renderPublish, renderRemoveNetworks, renderUnpublish, type Family, type FirewallPresence,
} from './firewall-rules';

export interface IptablesBridgeFirewallOptions {
  /** A named network namespace (`ip netns`) to work in instead of the host's: the tests' way. */
  netns?: string;
  /** Replaces how tools are run (the netns option is then ignored for them). */
  run?: CommandRunner;
  /** Sets net.ipv4.conf.<dev>.route_localnet=1. Default: a write under /proc/sys (host), `sysctl` in the netns. */
  routeLocalnet?: (dev: string) => Promise<void>;
  /** Whether a link exists (reconcile). Default: /sys/class/net (host), `ip link show` in the netns. */
  linkExists?: (name: string) => Promise<boolean>;
}

const TOOLS: Record<Family, { save: string; restore: string }> = {
  4: { save: 'iptables-save', restore: 'iptables-restore' },
  6: { save: 'ip6tables-save', restore: 'ip6tables-restore' },
};

/** A restore that failed because the document disagreed with the tables (retried after reading them again). */
const ATTEMPTS = 3;

/**
 * Spawns per call: ensureNetwork one iptables-save and one iptables-restore per family of the network;
 * removeNetwork two saves and up to two restores per family (the second pass removes shared chains left empty); publish one restore per family the container has an address and a mapping in (none without ports);
 * unpublish one restore per family it had a chain in (none otherwise); the first publish or unpublish on a network
 * this process has not ensured adds one iptables-save per family. reconcile: one save per family, one restore where
 * there is something to remove. Calls are serialized, so two never plan from the same reading.
 */
export class IptablesBridgeFirewall implements BridgeFirewall {
  private readonly run: CommandRunner;
  private readonly routeLocalnet: (dev: string) => Promise<void>;
  private readonly linkExists: (name: string) => Promise<boolean>;
  private queue: Promise<unknown> = Promise.resolve();
  /** Per `family/bridge`: the containers' chains and how many jumps lead to each (from the last reading, kept up to date). */
  private readonly known = new Map<string, Map<string, number>>();

  constructor(opts: IptablesBridgeFirewallOptions = {}) {
    const ns = opts.netns;
    this.run = opts.run ?? (ns ? (f, a, i) => runCommand('ip', ['netns', 'exec', ns, f, ...a], i) : runCommand);
    this.routeLocalnet = opts.routeLocalnet ?? (ns ? (dev) => this.sysctlIn(dev) : writeRouteLocalnet);
    this.linkExists = opts.linkExists ?? (ns ? (name) => this.linkInNetns(ns, name) : linkOnHost);
  }

  ensureNetwork(n: BridgeNetworkSpec): Promise<void> {
    return this.serialized(() => this.eachFamily(familiesOf(n), async (f) => {
      await this.applyFresh(f, (present) => {
        this.known.set(key(f, n.bridge), portJumps(present, n.bridge));
        return renderEnsureNetwork(n, f, present);
      });
    }));
  }

  removeNetwork(n: BridgeNetworkSpec): Promise<void> {
    return this.serialized(() => this.eachFamily(familiesOf(n), async (f) => {
      await this.applyFresh(f, (present) => renderRemoveNetworks([n.bridge], present));
      this.known.delete(key(f, n.bridge));
      // Another daemon removing its last network at the same moment saw this one still there, as this one saw its:
      // a new reading finds the shared chains empty, and whoever reads last removes them.
      await this.applyFresh(f, (present) => renderRemoveNetworks([], present));
    }));
  }

  publish(n: BridgeNetworkSpec, p: PublishedPorts): Promise<void> {
    return this.serialized(async () => {
      if (needsRouteLocalnet(p) && !n.internal) await this.routeLocalnet(n.bridge);
      await this.eachFamily(familiesOf(n), async (f) => {
        const chain = portChain(n.bridge, p.containerId);
        await this.applyKnown(f, n.bridge, (jumps) => renderPublish(n, p, f, jumps.get(chain)), (jumps) => {
          if (publishesIn(n, p, f)) jumps.set(chain, Math.max(1, jumps.get(chain) ?? 0));
          else jumps.delete(chain);
        });
      });
    });
  }

  unpublish(n: BridgeNetworkSpec, p: PublishedPorts): Promise<void> {
    return this.serialized(() => this.eachFamily(familiesOf(n), async (f) => {
      const chain = portChain(n.bridge, p.containerId);
      await this.applyKnown(f, n.bridge, (jumps) => renderUnpublish(n, p.containerId, jumps.get(chain)), (jumps) => jumps.delete(chain));
    }));
  }

  /**
   * Removes the rules of every bridge whose chains follow this layout, is not in `keep` and is no longer a link on
   * the host: a bridge that exists belongs to a running network (this daemon's or another berthd's in the same
   * namespace), whose rules are its owner's to remove; a bridge that is gone left rules that serve nobody.
   */
  reconcile(keep: BridgeNetworkSpec[]): Promise<void> {
    const kept = new Set(keep.map((n) => n.bridge));
    return this.serialized(() => this.eachFamily([4, 6], async (f) => {
      let stale: string[] = [];
      await this.applyFresh(f, async (present) => {
        stale = [];
        for (const br of bridgesIn(present)) if (!kept.has(br) && !(await this.linkExists(br))) stale.push(br);
        return renderRemoveNetworks(stale, present);
      });
      for (const br of stale) this.known.delete(key(f, br));
    }));
  }

  /** Reads the tables, renders from them, applies; on failure, again from a new reading. */
  private async applyFresh(f: Family, render: (present: FirewallPresence) => string | Promise<string>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const doc = await render(await this.presence(f));
      if (!doc) return;
      const r = await this.restore(f, doc);
      if (r.code === 0) return;
      if (attempt === ATTEMPTS) throw restoreError(f, r.stderr, r.code);
    }
  }

  /** Renders from what is known of the network (read when unknown), applies, and records the change. */
  private async applyKnown(f: Family, bridge: string, render: (jumps: Map<string, number>) => string, record: (jumps: Map<string, number>) => void): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      let jumps = this.known.get(key(f, bridge));
      if (!jumps) {
        jumps = portJumps(await this.presence(f), bridge);
        this.known.set(key(f, bridge), jumps);
      }
      const doc = render(jumps);
      if (!doc) return;
      const r = await this.restore(f, doc);
      if (r.code === 0) {
        record(jumps);
        return;
      }
      this.known.delete(key(f, bridge));
      if (attempt === ATTEMPTS) throw restoreError(f, r.stderr, r.code);
    }
  }

  private async presence(f: Family): Promise<FirewallPresence> {
    const r = await this.run(TOOLS[f].save, []);
    if (r.code !== 0) throw new SystemError(`${TOOLS[f].save}: ${r.stderr.trim() || `exit ${r.code}`}`);
    return parsePresence(r.stdout);
  }

  private restore(f: Family, doc: string) {
    return this.run(TOOLS[f].restore, ['-w', '--noflush'], doc);
  }

  /** The families are separate tables and tools: both are changed at once. */
  private async eachFamily(families: Family[], job: (f: Family) => Promise<void>): Promise<void> {
    await Promise.all(families.map(job));
  }

  private serialized(job: () => Promise<void>): Promise<void> {
    const next = this.queue.then(job, job);
    this.queue = next.catch(() => {});
    return next;
  }

  private async sysctlIn(dev: string): Promise<void> {
    const r = await this.run('sysctl', ['-q', '-w', `net.ipv4.conf.${dev}.route_localnet=1`]);
    if (r.code !== 0 && !/No such file|cannot stat/.test(r.stderr)) throw new SystemError(`route_localnet on ${dev}: ${r.stderr.trim()}`);
  }

  private async linkInNetns(ns: string, name: string): Promise<boolean> {
    return (await runCommand('ip', ['-n', ns, 'link', 'show', 'dev', name])).code === 0;
  }
}

const key = (f: Family, bridge: string): string => `${f}/${bridge}`;

function restoreError(f: Family, stderr: string, code: number): SystemError {
  return new SystemError(`${TOOLS[f].restore} (bridge firewall): ${stderr.trim() || `exit ${code}`}`);
}

async function linkOnHost(name: string): Promise<boolean> {
  try {
    await fsp.access(`/sys/class/net/${name}`);
    return true;
  } catch {
    return false;
  }
}
