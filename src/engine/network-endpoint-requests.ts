// What a container asks of networks, read and checked before anything is made: its network mode, the endpoints a
// create request (or a connect) names, checked with dockerd's errors, and the endpoint records kept for them in the
// container. Making the endpoints is network-endpoints.ts's.
import { isIP, isIPv4, isIPv6 } from 'node:net';
import type { ContainerConfig, EndpointConfigBody, HostConfig } from '../wire/docker';
import type { ContainerNetwork, EndpointRecord } from './container-record';
import { ForbiddenError, InvalidParameterError, NotFoundError } from '../errdefs';
import { bigToIp6, contains, contains6, ip6ToBig, ipToInt, parseSubnet, parseSubnet6 } from '../network/addresses';
import type { Attachment, NetworkRecord } from '../network/network-store';
import { parseLink } from './network-dns';
import type { ContainerDirectory, NetworkService } from './networks';

/** HostConfig.NetworkMode, read: the host's stack, none, another container's, or a network by name or ID. */
export type NetworkMode = { kind: 'host' } | { kind: 'none' } | { kind: 'container'; ref: string } | { kind: 'network'; ref: string };

export function networkModeOf(mode: string | undefined): NetworkMode {
  if (!mode || mode === 'default') return { kind: 'network', ref: 'bridge' };
  if (mode === 'host') return { kind: 'host' };
  if (mode === 'none') return { kind: 'none' };
  if (mode.startsWith('container:')) return { kind: 'container', ref: mode.slice('container:'.length) };
  return { kind: 'network', ref: mode };
}

/**
 * The endpoints a create request asks for, checked as dockerd checks them (its errors); a network or container it
 * names and cannot find is a NotFoundError (NetworkEndpoints.prepare makes it a 400).
 */
export function requestedEndpoints(o: { networks: NetworkService; containers: ContainerDirectory }, name: string, hc: HostConfig, config: ContainerConfig & { MacAddress?: string }, endpointsConfig: Record<string, EndpointConfigBody | undefined>): ContainerNetwork {
  const mode = networkModeOf(hc.NetworkMode);
  const out: ContainerNetwork = { endpoints: [], sandboxKey: '', sandboxId: '', ports: [] };
  const published = Object.keys(hc.PortBindings ?? {}).length > 0 || !!hc.PublishAllPorts;
  if (mode.kind === 'container') {
    if (!mode.ref) throw new InvalidParameterError('--network container:<name|id> needs a container');
    const target = o.containers.find(mode.ref);
    if (!target) throw new NotFoundError(`No such container: ${mode.ref}`);
    if (target.name === name) throw new InvalidParameterError('cannot join own network');
    if (published) throw new InvalidParameterError('conflicting options: port publishing and the container type network mode');
    if (hc.Dns?.length || hc.DnsSearch?.length || hc.DnsOptions?.length) throw new InvalidParameterError('conflicting options: dns and the network mode');
    if (hc.ExtraHosts?.length) throw new InvalidParameterError('conflicting options: custom host-to-IP mapping and the network mode');
    if (config.MacAddress || Object.values(endpointsConfig).some((e) => e?.MacAddress)) throw new InvalidParameterError('conflicting options: mac-address and the network mode');
    if (hc.Links?.length) throw new InvalidParameterError('conflicting options: container type network can\'t be used with links. This would result in undefined behavior');
    return out;
  }
  if (mode.kind === 'host' || mode.kind === 'none') {
    const n = o.networks.byName(mode.kind);
    if (mode.kind === 'none' && published) throw new InvalidParameterError('conflicting options: port publishing and the container type network mode');
    if (hc.Links?.length) throw new InvalidParameterError(`conflicting options: ${mode.kind} type networking can't be used with links. This would result in undefined behavior`);
    out.endpoints.push(newEndpoint(mode.kind, n?.id ?? '', {}));
    return out;
  }
  const primary = o.networks.get(mode.ref);
  if (!isEndpointDriver(primary)) throw new NotFoundError(`network ${mode.ref} not found`);
  const task = isTaskContainer(config.Labels);
  checkAttachable(primary, mode.ref, task);
  // The docker CLI files --ip, --alias and --mac-address of the default network under "default".
  const asked = endpointsConfig[hc.NetworkMode || 'default'] ?? endpointsConfig[mode.ref] ?? endpointsConfig[primary.name] ?? endpointsConfig[primary.id] ?? {};
  const first = { ...asked, MacAddress: asked.MacAddress || config.MacAddress || '' };
  out.endpoints.push(checkedEndpoint(primary, first));
  for (const [ref, ep] of Object.entries(endpointsConfig)) {
    const n = o.networks.get(ref === 'default' ? 'bridge' : ref);
    if (n.id === primary.id) continue;
    if (!isEndpointDriver(n)) throw new InvalidParameterError(`container cannot be connected to network ${n.name} and ${primary.name} at once`);
    checkAttachable(n, ref, task);
    if (out.endpoints.some((e) => e.networkId === n.id)) continue;
    out.endpoints.push(checkedEndpoint(n, ep ?? {}));
  }
  // As moby registers links: on the default bridge only; on a user network they are resolved by DNS when the
  // target runs, and may name a container that does not exist yet.
  for (const link of primary.id === o.networks.byName('bridge')?.id ? hc.Links ?? [] : []) {
    const target = parseLink(link).name;
    if (!o.containers.find(target)) throw new NotFoundError(`could not get container for ${target}: No such container: ${target}`);
  }
  return out;
}

/** One endpoint's settings (--ip, --ip6, --link-local-ip, --alias, --mac-address) checked against its network. */
export function checkedEndpoint(n: NetworkRecord, ep: EndpointConfigBody): EndpointRecord {
  const ip = ep.IPAMConfig?.IPv4Address ?? '';
  const ip6 = ep.IPAMConfig?.IPv6Address ?? '';
  const userNet = !n.builtin;
  if ((ip || ip6) && !userNet) throw new InvalidParameterError('user specified IP address is supported on user defined networks only');
  if (ip) {
    if (!isIPv4(ip)) throw new InvalidParameterError(`invalid IPv4 address: ${ip}`);
    if (!contains(parseSubnet(n.subnet), ipToInt(ip))) throw new InvalidParameterError(`no configured subnet or ip-range contain the IP address ${ip}`);
    if (ip === n.gateway) throw new InvalidParameterError(`Invalid address ${ip}: it is the gateway of network ${n.name}`);
  }
  if (ip6) {
    if (!isIPv6(ip6) || ip6ToBig(ip6) === 0n) throw new InvalidParameterError(`invalid IPv6 address: ${ip6}`);
    if (!n.ipv6 || !n.subnet6) throw new InvalidParameterError(`user specified IP address is supported only when connecting to networks with user configured subnets (network ${n.name} has no IPv6 subnet)`);
    if (!contains6(parseSubnet6(n.subnet6), ip6ToBig(ip6))) throw new InvalidParameterError(`no configured subnet or ip-range contain the IP address ${ip6}`);
    if (ip6ToBig(ip6) === ip6ToBig(n.gateway6!)) throw new InvalidParameterError(`Invalid address ${ip6}: it is the gateway of network ${n.name}`);
  }
  for (const a of ep.IPAMConfig?.LinkLocalIPs ?? []) {
    if (!isIP(a) || /^(0\.0\.0\.0|::)$/.test(a)) throw new InvalidParameterError(`invalid link-local IP address: ${a}`);
  }
  if (ep.Aliases?.length && !userNet) throw new InvalidParameterError('network-scoped alias is supported only for containers in user defined networks');
  if (ep.MacAddress && !/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(ep.MacAddress)) throw new InvalidParameterError(`invalid MAC address: ${ep.MacAddress}`);
  return newEndpoint(n.name, n.id, ep);
}

/** Drivers whose networks a container has an endpoint (an interface in its namespace) on. */
export function isEndpointDriver(n: NetworkRecord): boolean {
  return n.driver === 'bridge' || n.driver === 'overlay';
}

/** A swarm task's container (the agent labels it): it may join a network that is not attachable. */
export function isTaskContainer(labels: Record<string, string> | null | undefined): boolean {
  return !!labels?.['com.docker.swarm.task.id'];
}

/**
 * A standalone container on a swarm network that is not attachable: refused as dockerd refuses it (the manager's
 * PermissionDenied, through the daemon's "Could not attach"), naming the network as the user did.
 */
export function checkAttachable(n: NetworkRecord, ref: string, task: boolean): void {
  if (n.driver !== 'overlay' || n.attachable || task) return;
  throw new ForbiddenError(`Could not attach to network ${ref}: rpc error: code = PermissionDenied desc = network ${ref} not manually attachable`);
}

export function newEndpoint(network: string, networkId: string, ep: EndpointConfigBody): EndpointRecord {
  return {
    network, networkId, aliases: [...(ep.Aliases ?? [])], ipv4Address: ep.IPAMConfig?.IPv4Address ?? '',
    ipv6Address: ep.IPAMConfig?.IPv6Address ? bigToIp6(ip6ToBig(ep.IPAMConfig.IPv6Address)) : '', macAddress: ep.MacAddress ?? '',
    ...(ep.IPAMConfig?.LinkLocalIPs?.length ? { linkLocalIPs: [...ep.IPAMConfig.LinkLocalIPs] } : {}),
    links: [...(ep.Links ?? [])], driverOpts: ep.DriverOpts ?? null,
    ...liveFields(),
  };
}

/** What an endpoint shows of its attachment while the container runs; blank when it does not. */
export function liveFields(a?: Attachment): Pick<EndpointRecord, 'endpointId' | 'ip' | 'prefixLen' | 'gateway' | 'ip6' | 'prefixLen6' | 'gateway6' | 'mac' | 'dnsNames'> {
  return a
    ? {
      endpointId: a.endpointId, ip: a.ip, prefixLen: a.prefixLen, gateway: a.gateway, ip6: a.ip6 ?? '', prefixLen6: a.prefixLen6 ?? 0,
      gateway6: a.gateway6 ?? '', mac: a.mac, dnsNames: a.dnsNames,
    }
    : { endpointId: '', ip: '', prefixLen: 0, gateway: '', ip6: '', prefixLen6: 0, gateway6: '', mac: '', dnsNames: [] };
}
