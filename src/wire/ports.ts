// Docker's port grammar (go-connections' nat package): publish specs "[ip:][hostPort:]containerPort[/proto]" as
// -p, EXPOSE and `--change EXPOSE` read them, and the "80/tcp" keys of ExposedPorts, PortBindings and NetworkSettings.Ports.
import { isIP } from 'node:net';
import type { PortBinding } from './docker';
import { InvalidParameterError } from '../errdefs';

export type Protocol = 'tcp' | 'udp' | 'sctp';
const PROTOCOLS: readonly string[] = ['tcp', 'udp', 'sctp'];

/** One container port of a spec with the host binding asked for it. */
export interface PortMapping { key: string; binding: PortBinding }

/** "80" or "8000-8010" as [start, end], each 0..65535; undefined where nat's range parser fails. */
export function parsePortRange(s: string): [number, number] | undefined {
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) return undefined;
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo > 65535 || hi > 65535 || hi < lo) return undefined;
  return [lo, hi];
}

/** "80/udp" as ["udp", "80"]: the protocol defaults to tcp and is neither checked nor lowered here (nat.SplitProtoPort). */
export function splitProtoPort(raw: string): [proto: string, port: string] {
  const i = raw.indexOf('/');
  const port = i < 0 ? raw : raw.slice(0, i);
  if (!port) return ['', ''];
  const proto = i < 0 ? '' : raw.slice(i + 1);
  return [proto || 'tcp', port];
}

/** The key ExposedPorts and PortBindings use: "80/tcp". */
export function portKey(port: number, proto: string): string {
  return `${port}/${proto}`;
}

/** An ExposedPorts/PortBindings key, "80/tcp" (a bare "80" is tcp), as port and protocol; undefined when it is none. */
export function parsePortKey(key: string): { port: number; proto: Protocol } | undefined {
  const [p, proto = 'tcp'] = key.split('/') as [string, string | undefined];
  const port = /^\d+$/.test(p) ? Number(p) : NaN;
  if (!(port >= 1 && port <= 65535) || !PROTOCOLS.includes(proto)) return undefined;
  return { port, proto: proto as Protocol };
}

function splitParts(raw: string): [ip: string, hostPort: string, containerPort: string] {
  const parts = raw.split(':');
  if (parts.length === 1) return ['', '', parts[0]!];
  if (parts.length === 2) return ['', parts[0]!, parts[1]!];
  // An IPv6 address brings its own colons: the last two fields are the ports.
  return [parts.slice(0, -2).join(':'), parts[parts.length - 2]!, parts[parts.length - 1]!];
}

/**
 * One publish spec as nat.ParsePortSpec reads it: a mapping per container port, with the host port of the same
 * offset, or the whole host range when one container port is given a range to choose from ("8080-8090:80").
 * Throws InvalidParameterError with moby's wording.
 */
export function parsePortSpec(raw: string): PortMapping[] {
  let [ip, hostPort, containerSpec] = splitParts(raw);
  const [protoRaw, containerPort] = splitProtoPort(containerSpec);
  if (!containerPort) throw new InvalidParameterError(`no port specified: ${raw}<empty>`);
  const proto = protoRaw.toLowerCase();
  if (!PROTOCOLS.includes(proto)) throw new InvalidParameterError(`invalid proto: ${proto}`);
  if (ip.startsWith('[')) {
    if (!ip.endsWith(']')) throw new InvalidParameterError(`invalid IP address ${ip}: address ${ip}:: missing ']' in address`);
    ip = ip.slice(1, -1);
  }
  if (ip && !isIP(ip)) throw new InvalidParameterError(`invalid IP address: ${ip}`);
  const ctr = parsePortRange(containerPort);
  if (!ctr) throw new InvalidParameterError(`invalid containerPort: ${containerPort}`);
  let host: [number, number] | undefined;
  if (hostPort) {
    host = parsePortRange(hostPort);
    if (!host) throw new InvalidParameterError(`invalid hostPort: ${hostPort}`);
    if (host[1] - host[0] !== ctr[1] - ctr[0] && ctr[0] !== ctr[1]) {
      throw new InvalidParameterError(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
    }
  }
  const out: PortMapping[] = [];
  for (let i = 0; i <= ctr[1] - ctr[0]; i++) {
    let hp = '';
    if (host) hp = ctr[0] === ctr[1] && host[0] !== host[1] ? `${host[0]}-${host[1]}` : String(host[0] + i);
    out.push({ key: portKey(ctr[0] + i, proto), binding: { HostIp: ip, HostPort: hp } });
  }
  return out;
}

/** nat.ParsePortSpecs: the exposed ports and host bindings of a list of publish specs. */
export function parsePortSpecs(specs: readonly string[]): { exposed: Record<string, object>; bindings: Record<string, PortBinding[]> } {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, PortBinding[]> = {};
  for (const spec of specs) {
    for (const m of parsePortSpec(spec)) {
      exposed[m.key] = {};
      (bindings[m.key] ??= []).push(m.binding);
    }
  }
  return { exposed, bindings };
}
