// MeshRules over iptables (iptables-nft): the mesh's chains rendered whole as one `iptables-restore --noflush`
// document (declaring a chain flushes it, so each apply replaces the previous ruleset atomically), and the jumps from
// the built-in chains put in once, after reading what is there with one iptables-save.
//
// The rules, per table (one rule per backend at most, so n tasks make O(n) rules, never O(n²)):
//   nat BERTH-MESH-PRE (PREROUTING; OUTPUT through BERTH-MESH-OUT, which only jumps here):
//     VIPs first: `-d vip -m statistic --probability 1/(n-i) -j DNAT --to-destination backend`, the last without the
//     statistic match; no protocol match, so every TCP and UDP port (and a ping) reaches a backend, ports kept.
//     Then published ports: `-p proto --dport P -m addrtype --dst-type LOCAL … -j DNAT --to-destination ip:target`.
//   nat BERTH-MESH-POST (POSTROUTING), the SNATs that make replies come back through this host:
//     loopback clients of the ingress bridge (127.x cannot leave the host; route_localnet lets them be routed there);
//     everything DNATed from a VIP (`--ctorigdst vip`): client and backend may share the bridge, so without SNAT the
//     backend would answer the client directly; ingress connections to a remote backend (`-d backend` and
//     `--ctorigdstport P`, no marks: nothing else on the host needs to agree on a mark bit). Local backends keep the
//     client's address (moby#25526) — their replies go through their gateway, this host.
//   filter BERTH-MESH-FWD (FORWARD): accepts the mesh's DNATed connections both ways (`--ctstate DNAT` is a property
//     of the connection, so one rule matches requests and replies), since FORWARD's policy may be DROP (dockerd).
//   filter BERTH-MESH-IN (INPUT): rejects what is addressed to a VIP and was not DNATed (a VIP without backends) and
//     published ports without backends, so they are refused at once rather than answered by a host process. TCP gets
//     a reset: seen here, a SYN answered with ICMP port-unreachable from a local address kept the client waiting.
import { isIPv4 } from 'node:net';
import { InvalidParameterError, SystemError } from '../../errdefs';
import { declareChain, deleteLine, runCommand, writeRouteLocalnet, type CommandRunner } from '../iptables-restore';
import { MESH_CHAINS, type IngressRule, type MeshChains, type MeshRules, type MeshState, type VipRule } from './mesh';

type Table = 'nat' | 'filter';

interface Jump { table: Table; from: string; to: string }

/** The built-in chains that jump to the mesh's, each once, at the top (before netavark's and dockerd's MASQUERADE and DROP rules). */
export function meshJumps(c: MeshChains = MESH_CHAINS): readonly Jump[] {
  return [
    { table: 'nat', from: 'PREROUTING', to: c.natPrerouting },
    { table: 'nat', from: 'OUTPUT', to: c.natOutput },
    { table: 'nat', from: 'POSTROUTING', to: c.natPostrouting },
    { table: 'filter', from: 'FORWARD', to: c.filterForward },
    { table: 'filter', from: 'INPUT', to: c.filterInput },
  ];
}

function ownChains(c: MeshChains): Record<Table, string[]> {
  return { nat: [c.natPrerouting, c.natOutput, c.natPostrouting], filter: [c.filterForward, c.filterInput] };
}

/** What iptables-save shows of the mesh: the chains that exist and the rules of built-in chains that jump to them. */
export interface MeshPresence {
  /** `table/CHAIN` of the mesh's chains present. */
  chains: Set<string>;
  /** Per table, the rule specs (`-A FROM …`, as iptables-save prints them) jumping to a mesh chain. */
  jumps: Record<Table, string[]>;
}

export const NOTHING_PRESENT: MeshPresence = { chains: new Set(), jumps: { nat: [], filter: [] } };

/** Reads the output of `iptables-save` (all tables) for the mesh's chains and jumps. */
export function parseMeshPresence(save: string, c: MeshChains = MESH_CHAINS): MeshPresence {
  const out: MeshPresence = { chains: new Set(), jumps: { nat: [], filter: [] } };
  const ours = new Set(Object.values(c) as string[]);
  let table: string | undefined;
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    if (table !== 'nat' && table !== 'filter') continue;
    if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0]!;
      if (ours.has(name)) out.chains.add(`${table}/${name}`);
    } else if (line.startsWith('-A ')) {
      const [, from] = line.split(' ');
      const target = /(?:^| )-j (\S+)/.exec(line)?.[1];
      if (target && ours.has(target) && from && !ours.has(from)) out.jumps[table].push(line.trim());
    }
  }
  return out;
}

/**
 * The restore document making the mesh exactly `state`. `present` (from parseMeshPresence) decides the jumps: a
 * missing one is inserted at the top, a duplicate or any other rule jumping to a mesh chain is deleted, the one in
 * place is left alone — so the jumps never multiply however often this is applied.
 */
export function renderMesh(state: MeshState, present: MeshPresence = NOTHING_PRESENT, c: MeshChains = MESH_CHAINS): string {
  checkMeshState(state);
  const nat: string[] = [];
  const natPost: string[] = [];
  const fwd: string[] = [];
  const input: string[] = [];
  const pre = c.natPrerouting;

  for (const v of state.vips) {
    const tag = comment(v.serviceId, 'vip');
    spread(v.backends, (stat, b) => nat.push(`-A ${pre} -d ${v.vip}/32 ${tag}${stat}-j DNAT --to-destination ${b}`));
    input.push(`-A ${c.filterInput} -d ${v.vip}/32 -p tcp ${tag}-j REJECT --reject-with tcp-reset`);
    input.push(`-A ${c.filterInput} -d ${v.vip}/32 ${tag}-j REJECT`);
    if (v.backends.length === 0) continue;
    natPost.push(`-A ${c.natPostrouting} ${tag}-m conntrack --ctstate DNAT --ctorigdst ${v.vip} -j SNAT --to-source ${v.lbAddr}`);
    fwd.push(`-A ${c.filterForward} ${tag}-m conntrack --ctstate DNAT --ctorigdst ${v.vip} -j ACCEPT`);
  }

  // Loopback clients first: whichever backend they reach, their source must become an address of the bridge.
  const loopback: string[] = [];
  for (const r of state.ingress) {
    const line = `-A ${c.natPostrouting} -s 127.0.0.0/8 -o ${r.bridge} -m conntrack --ctstate DNAT -j SNAT --to-source ${r.lbAddr}`;
    if (r.backends.length > 0 && !loopback.includes(line)) loopback.push(line);
  }
  for (const r of state.ingress) {
    const tag = comment(r.serviceId, `${r.proto}/${r.publishedPort}`);
    const port = `-p ${r.proto} -m ${r.proto} --dport ${r.publishedPort}`;
    const orig = `-m conntrack --ctstate DNAT --ctproto ${r.proto} --ctorigdstport ${r.publishedPort}`;
    spread(r.backends, (stat, b) =>
      nat.push(`-A ${pre} ${port} -m addrtype --dst-type LOCAL ${tag}${stat}-j DNAT --to-destination ${b.ip}:${r.targetPort}`));
    if (r.backends.length === 0) {
      input.push(`-A ${c.filterInput} ${port} ${tag}-j REJECT${r.proto === 'tcp' ? ' --reject-with tcp-reset' : ''}`);
      continue;
    }
    for (const b of r.backends) {
      if (!b.local) natPost.push(`-A ${c.natPostrouting} -d ${b.ip}/32 -p ${r.proto} ${tag}${orig} -j SNAT --to-source ${r.lbAddr}`);
    }
    fwd.push(`-A ${c.filterForward} -p ${r.proto} ${tag}${orig} -j ACCEPT`);
  }

  return [
    '*nat',
    ...ownChains(c).nat.map(declareChain),
    ...nat,
    `-A ${c.natOutput} -j ${pre}`,
    ...loopback,
    ...natPost,
    ...fixJumps('nat', present, c),
    'COMMIT',
    '*filter',
    ...ownChains(c).filter.map(declareChain),
    ...fwd,
    ...input,
    ...fixJumps('filter', present, c),
    'COMMIT',
    '',
  ].join('\n');
}

/** The restore document removing every mesh chain and jump in `present` (empty when there is nothing to remove). */
export function renderMeshClear(present: MeshPresence, c: MeshChains = MESH_CHAINS): string {
  const out: string[] = [];
  for (const table of ['nat', 'filter'] as const) {
    const chains = ownChains(c)[table].filter((c) => present.chains.has(`${table}/${c}`));
    const jumps = present.jumps[table];
    if (chains.length === 0 && jumps.length === 0) continue;
    // Flushed first (rules of one mesh chain may jump to another), then the jumps deleted, then the chains.
    out.push(`*${table}`, ...chains.map(declareChain), ...jumps.map(deleteLine), ...chains.map((c) => `-X ${c}`), 'COMMIT');
  }
  return out.length ? [...out, ''].join('\n') : '';
}

function fixJumps(table: Table, present: MeshPresence, c: MeshChains): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const line of present.jumps[table]) {
    const canonical = meshJumps(c).some((j) => j.table === table && line === `-A ${j.from} -j ${j.to}`);
    if (canonical && !seen.has(line)) seen.add(line);
    else out.push(deleteLine(line));
  }
  for (const j of meshJumps(c)) {
    if (j.table === table && !seen.has(`-A ${j.from} -j ${j.to}`)) out.push(`-I ${j.from} 1 -j ${j.to}`);
  }
  return out;
}

/**
 * Calls `rule` for each of n backends with the statistic match choosing it: the i-th (from 0) with probability
 * 1/(n-i) of the connections that reached it, the last with none — so each backend gets 1/n of them.
 */
function spread<B>(backends: B[], rule: (stat: string, backend: B) => void): void {
  const n = backends.length;
  backends.forEach((b, i) => {
    const stat = i === n - 1 ? '' : `-m statistic --mode random --probability ${(1 / (n - i)).toFixed(8)} `;
    rule(stat, b);
  });
}

/** For whoever reads iptables-save: which service a rule is for. Service IDs are [0-9a-z]; anything else is dropped. */
function comment(serviceId: string, what: string): string {
  return `-m comment --comment ${`${serviceId.slice(0, 12)}:${what}`.replace(/[^A-Za-z0-9:/._-]/g, '')} `;
}

/** Throws InvalidParameterError for what would make the whole restore fail (or inject options into it). */
export function checkMeshState(state: MeshState): void {
  for (const v of state.vips) checkVip(v);
  for (const r of state.ingress) checkIngress(r);
}

function checkVip(v: VipRule): void {
  for (const a of [v.vip, v.lbAddr, ...v.backends]) {
    if (!isIPv4(a)) throw new InvalidParameterError(`mesh: invalid IPv4 address ${JSON.stringify(a)} for service ${v.serviceId}`);
  }
}

function checkIngress(r: IngressRule): void {
  if (r.proto !== 'tcp' && r.proto !== 'udp') throw new InvalidParameterError(`mesh: invalid protocol ${JSON.stringify(r.proto)}`);
  for (const p of [r.publishedPort, r.targetPort]) {
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new InvalidParameterError(`mesh: invalid port ${p} for service ${r.serviceId}`);
  }
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(r.bridge)) throw new InvalidParameterError(`mesh: invalid bridge name ${JSON.stringify(r.bridge)}`);
  for (const a of [r.lbAddr, ...r.backends.map((b) => b.ip)]) {
    if (!isIPv4(a)) throw new InvalidParameterError(`mesh: invalid IPv4 address ${JSON.stringify(a)} for service ${r.serviceId}`);
  }
}

export type { CommandResult, CommandRunner } from '../iptables-restore';

export interface IptablesMeshOptions {
  /** A named network namespace (`ip netns`) to work in instead of the host's: the tests' way. */
  netns?: string;
  /** Replaces how tools are run (the netns option is then ignored for them). */
  run?: CommandRunner;
  /**
   * Sets net.ipv4.conf.<dev>.route_localnet=1. Default: a write under /proc/sys (host), `sysctl` in the netns.
   */
  routeLocalnet?: (dev: string) => Promise<void>;
  /** This daemon's chains (meshChains(suffix)); default the plain names. */
  chains?: MeshChains;
}

/**
 * The applier: per apply one iptables-save (which jumps are there) and one iptables-restore; route_localnet is set on
 * every ingress bridge in the state (so `curl 127.0.0.1:<published>` on the node can be routed to a backend). Call it
 * after the ingress bridge exists (OverlayHost.ensure); a bridge not there yet gets it on a later apply.
 * Applies are serialized, so two never read the same jumps and both insert one.
 */
export class IptablesMeshRules implements MeshRules {
  private readonly run: CommandRunner;
  private readonly routeLocalnet: (dev: string) => Promise<void>;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly chains: MeshChains;

  constructor(opts: IptablesMeshOptions = {}) {
    const ns = opts.netns;
    this.run = opts.run ?? (ns ? (f, a, i) => runCommand('ip', ['netns', 'exec', ns, f, ...a], i) : runCommand);
    this.routeLocalnet = opts.routeLocalnet ?? (ns ? (dev) => this.sysctlIn(dev) : writeRouteLocalnet);
    this.chains = opts.chains ?? MESH_CHAINS;
  }

  async apply(state: MeshState): Promise<void> {
    checkMeshState(state); // invalid input fails before anything runs
    return this.serialized(async () => {
      await this.restore(renderMesh(state, await this.presence(), this.chains));
      const bridges = new Set(state.ingress.filter((r) => r.backends.length > 0).map((r) => r.bridge));
      for (const b of bridges) await this.routeLocalnet(b);
    });
  }

  clear(): Promise<void> {
    return this.serialized(async () => {
      const doc = renderMeshClear(await this.presence(), this.chains);
      if (doc) await this.restore(doc);
    });
  }

  private serialized(job: () => Promise<void>): Promise<void> {
    const next = this.queue.then(job, job);
    this.queue = next.catch(() => {});
    return next;
  }

  private async presence(): Promise<MeshPresence> {
    const r = await this.run('iptables-save', []);
    if (r.code !== 0) throw new SystemError(`iptables-save: ${r.stderr.trim() || `exit ${r.code}`}`);
    return parseMeshPresence(r.stdout, this.chains);
  }

  private async restore(doc: string): Promise<void> {
    const r = await this.run('iptables-restore', ['--noflush', '-w'], doc);
    if (r.code !== 0) throw new SystemError(`iptables-restore (service mesh rules): ${r.stderr.trim() || `exit ${r.code}`}`);
  }

  private async sysctlIn(dev: string): Promise<void> {
    const r = await this.run('sysctl', ['-q', '-w', `net.ipv4.conf.${dev}.route_localnet=1`]);
    if (r.code !== 0 && !/No such file/.test(r.stderr)) throw new SystemError(`route_localnet on ${dev}: ${r.stderr.trim()}`);
  }
}
