// Network routes of the Docker Engine API: HTTP in, NetworkService calls, Docker's wire types out.
import type { NetworkConnectBody, NetworkCreateBody, NetworkDisconnectBody, NetworkResource } from '../../wire/docker';
import type { NetworkService } from '../../engine/networks';
import type { NetworkRecord } from '../../network/network-store';
import { InvalidParameterError } from '../../engine/errors';
import { labelFiltersMatch, labelMatch } from '../../engine/filters';
import { queryFilters, type Router } from '../router';
import { parseUntil } from './containers';

export function registerNetworkRoutes(router: Router, networks: NetworkService): void {
  router.get('/networks', async (ctx) => {
    const match = listFilter(queryFilters(ctx.query), networks);
    return networks.all().filter(match).map((n) => resource(n, networks, false));
  });

  router.get('/networks/{id}', async (ctx) => resource(networks.get(ctx.params.id!), networks, true));

  router.post('/networks/create', async (ctx) => {
    const out = await networks.create((await ctx.json<NetworkCreateBody>()) as NetworkCreateBody);
    ctx.res!.statusCode = 201;
    return out;
  });

  router.delete('/networks/{id}', async (ctx) => {
    await networks.remove(ctx.params.id!);
    ctx.res!.statusCode = 204;
  });

  router.post('/networks/{id}/connect', async (ctx) => {
    const body = (await ctx.json<NetworkConnectBody>()) ?? {};
    if (!body.Container) throw new InvalidParameterError('a container name or ID is required');
    await networks.connect(ctx.params.id!, body.Container, body.EndpointConfig ?? {});
    ctx.res!.statusCode = 200;
  });

  router.post('/networks/{id}/disconnect', async (ctx) => {
    const body = (await ctx.json<NetworkDisconnectBody>()) ?? {};
    if (!body.Container) throw new InvalidParameterError('a container name or ID is required');
    await networks.disconnect(ctx.params.id!, body.Container, !!body.Force);
    ctx.res!.statusCode = 200;
  });

  router.post('/networks/prune', async (ctx) => {
    const filters = queryFilters(ctx.query);
    for (const k of filters.keys()) if (!['until', 'label', 'label!'].includes(k)) throw new InvalidParameterError(`invalid filter '${k}'`);
    const until = filters.get('until')?.map(parseUntil);
    return networks.prune((n) => (!until || until.every((t) => Date.parse(n.created) < t))
      && labelFiltersMatch(n.labels, filters));
  });
}

/** moby's network.Inspect; the list leaves Containers empty, as dockerd does. */
export function resource(n: NetworkRecord, networks: NetworkService, withContainers: boolean): NetworkResource {
  const containers: NetworkResource['Containers'] = {};
  if (withContainers) {
    for (const e of networks.endpointsOn(n)) {
      containers[e.containerId] = {
        Name: e.name, EndpointID: e.attachment.endpointId, MacAddress: e.attachment.mac,
        IPv4Address: `${e.attachment.ip}/${e.attachment.prefixLen}`, IPv6Address: '',
      };
    }
  }
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv4: n.driver === 'bridge',
    EnableIPv6: false,
    IPAM: {
      Driver: 'default',
      Options: Object.keys(n.ipamOptions).length ? n.ipamOptions : null,
      Config: n.subnet ? [{ Subnet: n.subnet, ...(n.ipRange ? { IPRange: n.ipRange } : {}), Gateway: n.gateway }] : [],
    },
    Internal: n.internal,
    Attachable: n.attachable,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: n.options,
    Labels: n.labels,
  };
}

/** GET /networks filters: driver, id, label, name, scope, type (custom|builtin), dangling. */
function listFilter(filters: Map<string, string[]>, networks: NetworkService): (n: NetworkRecord) => boolean {
  const known = ['driver', 'id', 'label', 'name', 'scope', 'type', 'dangling'];
  for (const key of filters.keys()) if (!known.includes(key)) throw new InvalidParameterError(`invalid filter '${key}'`);
  for (const t of filters.get('type') ?? []) if (t !== 'custom' && t !== 'builtin') throw new InvalidParameterError(`invalid filter: 'type'='${t}'`);
  for (const d of filters.get('dangling') ?? []) if (!['true', 'false', '1', '0'].includes(d)) throw new InvalidParameterError(`invalid filter 'dangling=${d}'`);
  return (n) => {
    const any = (key: string, pred: (v: string) => boolean) => { const vs = filters.get(key); return !vs || vs.some(pred); };
    return any('driver', (d) => n.driver === d)
      && any('id', (i) => n.id.startsWith(i))
      && any('name', (x) => n.name.includes(x))
      && any('scope', (s) => s === 'local')
      && any('type', (t) => (t === 'builtin') === n.builtin)
      && any('dangling', (d) => (d === 'true' || d === '1') === (!n.builtin && networks.endpointsOn(n).length === 0))
      && (filters.get('label') ?? []).every((l) => labelMatch(n.labels, l));
  };
}
