// Published ports: what host ports a container asks for (-p, -P), and how they show in NetworkSettings.Ports,
// `docker port` and `docker ps`.
import { isIPv4 } from 'node:net';
import type { Port, PortBinding } from '../wire/docker';
import { hasProcess, type ContainerRecord } from './container-record';
import { InvalidParameterError } from '../errdefs';
import type { PortRequest } from '../network/ports';
import { parsePortKey, parsePortRange } from '../wire/ports';

/** Kept for the callers that knew it here; the grammar lives in wire/ports. */
export { parsePortKey };

/** The host ports a container asks for: its PortBindings, and with -P every exposed port not bound yet. */
export function portRequests(c: Pick<ContainerRecord, 'hostConfig' | 'config'>): PortRequest[] {
  const out: PortRequest[] = [];
  const bindings: Record<string, PortBinding[] | null> = { ...(c.hostConfig.PortBindings ?? {}) };
  if (c.hostConfig.PublishAllPorts) {
    for (const key of Object.keys(c.config.ExposedPorts ?? {})) if (!bindings[key]?.length) bindings[key] = [{ HostIp: '', HostPort: '' }];
  }
  for (const [key, list] of Object.entries(bindings)) {
    const p = parsePortKey(key);
    if (!p) throw new InvalidParameterError(`invalid port specification: "${key}"`);
    for (const b of list ?? []) {
      const hostIp = b.HostIp && b.HostIp !== '0.0.0.0' ? b.HostIp : '';
      if (hostIp && !isIPv4(hostIp)) {
        if (hostIp === '::' || hostIp.includes(':')) continue; // IPv6 bindings: Berth's networks are IPv4 only
        throw new InvalidParameterError(`invalid host IP address: ${hostIp}`);
      }
      const range = b.HostPort ? parsePortRange(b.HostPort) : [0, 0];
      if (!range) throw new InvalidParameterError(`invalid host port: ${b.HostPort}`);
      const [lo, hi] = range;
      out.push({ hostIp, hostPortLow: lo, hostPortHigh: hi, containerPort: p.port, proto: p.proto });
    }
  }
  return out;
}

/** NetworkSettings.Ports: every exposed or bound port, with its host bindings while the container runs. */
export function portMap(c: Pick<ContainerRecord, 'hostConfig' | 'config' | 'network' | 'state'>): Record<string, { HostIp: string; HostPort: string }[] | null> {
  const running = hasProcess(c.state.status);
  const out: Record<string, { HostIp: string; HostPort: string }[] | null> = {};
  if (!running || !c.network?.sandboxKey) return out;
  const keys = new Set([...Object.keys(c.config.ExposedPorts ?? {}), ...Object.keys(c.hostConfig.PortBindings ?? {})]);
  for (const k of keys) {
    const p = parsePortKey(k);
    if (p) out[`${p.port}/${p.proto}`] = null;
  }
  for (const p of c.network.ports) {
    const k = `${p.containerPort}/${p.proto}`;
    out[k] = [...(out[k] ?? []), { HostIp: p.hostIp || '0.0.0.0', HostPort: String(p.hostPort) }];
  }
  return out;
}

/** `docker ps`'s Ports: published ports with their host side, exposed ones without. */
export function portList(c: Pick<ContainerRecord, 'hostConfig' | 'config' | 'network' | 'state'>): Port[] {
  const out: Port[] = [];
  for (const [k, bindings] of Object.entries(portMap(c))) {
    const p = parsePortKey(k)!;
    if (!bindings) out.push({ PrivatePort: p.port, Type: p.proto });
    else for (const b of bindings) out.push({ IP: b.HostIp, PrivatePort: p.port, PublicPort: Number(b.HostPort), Type: p.proto });
  }
  return out;
}
