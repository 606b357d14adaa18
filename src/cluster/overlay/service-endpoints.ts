// A service's Endpoint as swarmkit's allocator keeps it: Ports (ingress ports given a published port from the dynamic
// range when none was asked, kept across updates) and VirtualIPs (one per overlay network the service is on when its
// endpoint mode is vip, plus the ingress network when it publishes ingress ports), allocated at create, changed at
// update, freed at remove. The choices are pure (planEndpoint); the leases go through the OverlayAllocator.
import { InvalidParameterError } from '../../errdefs';
import type { PortConfig, Service, ServiceSpec } from '../../wire/swarm';
import type { ClusterNetwork } from '../objects-api';
import { invalidArgument } from '../spec/errors';
import { DYNAMIC_PORT_RANGE, type OverlayAllocator } from './allocator';
import { isIngress, needsIngress, prefixOf } from './networks-api';

export type ServiceEndpoint = Service['Endpoint'];
export type VirtualIP = NonNullable<ServiceEndpoint['VirtualIPs']>[number];

const portKey = (p: PortConfig) => `${p.PublishedPort}/${p.Protocol ?? 'tcp'}`;
const isIngressPort = (p: PortConfig) => (p.PublishMode ?? 'ingress') === 'ingress';

/**
 * Endpoint.Ports: the spec's ports, an ingress port without a published port given the one it had before (same
 * target and protocol) or the first of the dynamic range that no service holds. A published port another service
 * holds through its allocated ports (dynamic ones are not in its spec) is refused with swarmkit's words.
 */
export function assignPorts(spec: ServiceSpec, current: PortConfig[] | undefined, others: readonly Service[]): PortConfig[] | undefined {
  const ports = spec.EndpointSpec?.Ports;
  if (!ports?.length) return undefined;
  const held = new Map<string, Service>();
  for (const o of others) for (const p of o.Endpoint?.Ports ?? o.Spec.EndpointSpec?.Ports ?? []) if (p.PublishedPort && isIngressPort(p)) held.set(portKey(p), o);
  for (const p of ports) {
    const holder = p.PublishedPort && isIngressPort(p) ? held.get(portKey(p)) : undefined;
    if (holder) throw invalidArgument(`port '${p.PublishedPort}' is already in use by service '${holder.Spec.Name}' (${holder.ID}) as an ingress port`);
  }
  const mine = new Set(ports.filter((p) => p.PublishedPort).map(portKey));
  return ports.map((p) => {
    const out: PortConfig = { ...p, Protocol: p.Protocol ?? 'tcp', PublishMode: p.PublishMode ?? 'ingress' };
    if (out.PublishedPort || out.PublishMode !== 'ingress') return out;
    const before = current?.find((c) => c.TargetPort === p.TargetPort && (c.Protocol ?? 'tcp') === out.Protocol && isIngressPort(c) && c.PublishedPort);
    const taken = (port: number) => held.has(`${port}/${out.Protocol}`) || mine.has(`${port}/${out.Protocol}`);
    let port = before && !taken(before.PublishedPort!) ? before.PublishedPort : undefined;
    for (let n = DYNAMIC_PORT_RANGE.start; !port && n <= DYNAMIC_PORT_RANGE.end; n++) if (!taken(n)) port = n;
    if (!port) throw new InvalidParameterError('no free port in the dynamic range 30000-32767');
    out.PublishedPort = port;
    mine.add(portKey(out));
    return out;
  });
}

/** The networks a service has a VIP on: the ingress network first (when it publishes there), then its overlays, vip mode only. */
export function vipNetworks(spec: ServiceSpec, networks: readonly ClusterNetwork[]): ClusterNetwork[] {
  if ((spec.EndpointSpec?.Mode ?? 'vip') !== 'vip') return [];
  const byId = new Map(networks.map((n) => [n.ID, n]));
  const out: ClusterNetwork[] = [];
  const ingress = networks.find(isIngress);
  if (ingress && needsIngress({ Spec: spec })) out.push(ingress);
  for (const a of [...(spec.TaskTemplate.Networks ?? []), ...(spec.Networks ?? [])]) {
    const n = byId.get(a.Target);
    if (n?.Overlay && !out.includes(n)) out.push(n);
  }
  return out;
}

/**
 * The endpoint for `spec`: ports assigned, VIPs kept on networks still wanted, leased on new ones; `stale` lists the
 * networks whose VIP goes (left, or all of them when the mode became dnsrr), freed by releaseStale once the service
 * is written (a failed write leaves the stored endpoint's VIPs held). Endpoint.Spec is the spec's as given.
 */
export async function allocateEndpoint(
  allocator: OverlayAllocator, serviceId: string, spec: ServiceSpec, current: ServiceEndpoint | undefined,
  networks: readonly ClusterNetwork[], others: readonly Service[],
): Promise<{ endpoint: ServiceEndpoint; stale: string[] }> {
  const ports = assignPorts(spec, current?.Ports, others);
  const wanted = vipNetworks(spec, networks);
  const vips: VirtualIP[] = [];
  for (const n of wanted) {
    const ip = await allocator.allocateAddress(n.ID, n.Overlay!, vipOwner(serviceId));
    vips.push({ NetworkID: n.ID, Addr: `${ip}/${prefixOf(n.Overlay)}` });
  }
  const keep = new Set(wanted.map((n) => n.ID));
  const stale = (current?.VirtualIPs ?? []).map((v) => v.NetworkID).filter((id) => !keep.has(id));
  return { endpoint: { Spec: spec.EndpointSpec ?? {}, ...(ports ? { Ports: ports } : {}), ...(vips.length ? { VirtualIPs: vips } : {}) }, stale };
}

const vipOwner = (serviceId: string) => ({ kind: 'vip' as const, serviceId });

/** Frees the service's VIPs on the given networks. */
export async function releaseStale(allocator: OverlayAllocator, serviceId: string, networkIds: readonly string[]): Promise<void> {
  for (const id of networkIds) await allocator.releaseAddress(id, vipOwner(serviceId));
}

/** Frees the service's VIPs (service removal). */
export async function releaseEndpoint(allocator: OverlayAllocator, serviceId: string, endpoint: ServiceEndpoint | undefined): Promise<void> {
  await releaseStale(allocator, serviceId, (endpoint?.VirtualIPs ?? []).map((v) => v.NetworkID));
}
