// Placement constraints and platforms against a node, as swarmkit's constraint package: `key==value` or
// `key!=value`, case-insensitive equality (not regular expressions), node.ip against an address or CIDR, an
// unknown key matching no node, and x86_64/amd64, aarch64/arm64 treated as one architecture.
import { isIP } from 'node:net';
import type { Node, Placement } from '../../wire/swarm';

export interface Constraint { key: string; equal: boolean; value: string }

const KEY = /^[a-z_][a-z0-9\-_.]+$/i;

/** Parses constraints; throws on a malformed one (the API rejects those at create). */
export function parseConstraints(exprs: string[]): Constraint[] {
  return exprs.map((expr) => {
    const m = /^(.*?)(==|!=)(.*)$/s.exec(expr);
    if (!m) throw new Error(`constraint expected one operator from ==, !=`);
    const key = m[1]!.trim();
    if (!KEY.test(key)) throw new Error(`key '${key}' is invalid`);
    return { key, equal: m[2] === '==', value: m[3]!.trim() };
  });
}

function nodeValue(node: Node, key: string): string | undefined {
  const lower = key.toLowerCase();
  switch (lower) {
    case 'node.id': return node.ID;
    case 'node.hostname': return node.Description.Hostname;
    case 'node.role': return node.Spec.Role;
    case 'node.platform.os': return node.Description.Platform.OS;
    case 'node.platform.arch': return node.Description.Platform.Architecture;
  }
  // Label keys keep their case; a missing label compares as "".
  if (lower.startsWith('node.labels.')) return node.Spec.Labels[key.slice('node.labels.'.length)] ?? '';
  if (lower.startsWith('engine.labels.')) return node.Description.Engine.Labels?.[key.slice('engine.labels.'.length)] ?? '';
  return undefined;
}

function ipMatches(addr: string, value: string): boolean {
  const host = addr.replace(/:\d+$/, '');
  const [net, bits] = value.split('/');
  if (!net || !isIP(net) || !isIP(host)) return false;
  if (bits === undefined) return host === net;
  const toInt = (ip: string) => ip.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
  if (isIP(net) !== 4 || isIP(host) !== 4) return false;
  const len = Number(bits);
  const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
  return (toInt(host) & mask) === (toInt(net) & mask);
}

export function constraintsMatch(node: Node, constraints: Constraint[]): boolean {
  return constraints.every((c) => {
    if (c.key.toLowerCase() === 'node.ip') {
      const hit = ipMatches(node.Status.Addr ?? '', c.value);
      return c.equal ? hit : !hit;
    }
    const have = nodeValue(node, c.key);
    if (have === undefined) return false;
    const same = have.toLowerCase() === c.value.toLowerCase();
    return c.equal ? same : !same;
  });
}

const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', aarch64: 'arm64' };
const normArch = (a: string) => ARCH_ALIASES[a.toLowerCase()] ?? a.toLowerCase();

export function platformMatches(node: Node, platforms: NonNullable<Placement['Platforms']>): boolean {
  const { Architecture, OS } = node.Description.Platform;
  return platforms.some((p) =>
    (!p.Architecture || normArch(p.Architecture) === normArch(Architecture)) && (!p.OS || p.OS.toLowerCase() === OS.toLowerCase()));
}

/** Whether a node satisfies a placement's constraints and platforms (a malformed constraint matches nothing). */
export function placementMatches(node: Node, placement: Placement | undefined): boolean {
  let constraints: Constraint[];
  try {
    constraints = parseConstraints(placement?.Constraints ?? []);
  } catch {
    return false;
  }
  return constraintsMatch(node, constraints) && (!placement?.Platforms?.length || platformMatches(node, placement.Platforms));
}
