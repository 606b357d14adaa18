// Network routes of the Docker Engine API: HTTP in, NetworkService and NetworkEndpoints calls, Docker's wire types out.
import { isIP } from 'node:net';
import type { IPAMConfig, NetworkConnectBody, NetworkCreateBody, NetworkDisconnectBody, NetworkResource } from '../../wire/docker';
import type { NetworkService } from '../../engine/networks';
import type { NetworkEndpoints } from '../../engine/network-endpoints';
import type { NetworkRecord } from '../../network/network-store';
import { InvalidParameterError, NotFoundError } from '../../errdefs';
import { parseGoBool } from '../../wire/go-bool';
import { labelFiltersMatch, labelMatch } from '../../engine/filters';
import { queryFilters, type Router } from '../router';
import { networkConnect, networkCreate, networkDisconnect } from '../shapes/networks';
import { parseUntil } from '../../wire/timestamps';
import type { Filters } from '../../wire/filters';
import type { SwarmNetworks } from '../../cluster/backend';

export function registerNetworkRoutes(router: Router, networks: NetworkService, endpoints: NetworkEndpoints, swarm?: SwarmNetworks): void {
  router.get('/networks', async (ctx) => {
    const filters = queryFilters(ctx.query, ['driver', 'id', 'label', 'name', 'scope', 'type', 'dangling']);
    const match = listFilter(filters, networks);
    const local = networks.all().filter(match).map((n) => resource(n, networks, false));
    if (!swarm) return local;
    // As moby's list: the cluster's networks (a manager's), then this node's that the cluster's list does not hold.
    const cluster = (await swarm.list()).filter(swarmListFilter(filters));
    return [...local.filter((n) => n.Scope !== 'swarm' || !cluster.some((x) => x.Id === n.Id)), ...cluster];
  });

  router.get('/networks/{id}', async (ctx) => {
    const scope = ctx.query.get('scope');
    const found = networks.find(ctx.params.id!);
    // A swarm network not realized on this node is the cluster's to show (a manager's); realized, the node's own
    // view with its containers, as moby prefers the local one.
    const n = found?.scope === 'swarm' && !networks.all().some((x) => x.id === found.id) ? undefined : found;
    // moby answers a network of another scope than the one asked for as not found.
    const notFound = () => new NotFoundError(`network ${ctx.params.id} not found`);
    if (!n && swarm) {
      const s = await swarm.find(ctx.params.id!);
      if (s) {
        if (scope && scope !== 'swarm') throw notFound();
        return s;
      }
    }
    const shown = n ?? networks.get(ctx.params.id!);
    if (scope && scope !== (shown.scope ?? 'local')) throw notFound();
    return resource(shown, networks, true);
  });

  router.post('/networks/create', async (ctx) => {
    const body = await ctx.body(networkCreate) as NetworkCreateBody | null | undefined;
    const out = swarm && body?.Driver === 'overlay' ? await swarm.create(body) : await networks.create(checkBridgeOptions(body));
    ctx.res!.statusCode = 201;
    return out;
  });

  router.delete('/networks/{id}', async (ctx) => {
    const local = networks.find(ctx.params.id!);
    if ((!local || local.scope === 'swarm') && swarm && await swarm.remove(ctx.params.id!)) {
      ctx.res!.statusCode = 204;
      return;
    }
    await networks.remove(ctx.params.id!);
    ctx.res!.statusCode = 204;
  });

  router.post('/networks/{id}/connect', async (ctx) => {
    const body = (await ctx.body(networkConnect) ?? {}) as NetworkConnectBody;
    if (!body.Container) throw new InvalidParameterError('a container name or ID is required');
    await endpoints.connect(ctx.params.id!, body.Container, body.EndpointConfig ?? {});
    // moby answers 200 with an empty body (dockerode accepts only 200); an unanswered handler would be a 204.
    ctx.res!.writeHead(200).end();
  });

  router.post('/networks/{id}/disconnect', async (ctx) => {
    const body = (await ctx.body(networkDisconnect) ?? {}) as NetworkDisconnectBody;
    if (!body.Container) throw new InvalidParameterError('a container name or ID is required');
    await endpoints.disconnect(ctx.params.id!, body.Container, !!body.Force);
    ctx.res!.writeHead(200).end();
  });

  router.post('/networks/prune', async (ctx) => {
    const filters = queryFilters(ctx.query, ['until', 'label', 'label!']);
    const until = filters.get('until')?.map(parseUntil);
    return networks.prune((n) => (!until || until.every((t) => Date.parse(n.created) < t))
      && labelFiltersMatch(n.labels, filters));
  });
}

/** The bridge driver's options that moby parses at create (a checked body's meaning, not its types). */
function checkBridgeOptions(body: NetworkCreateBody | null | undefined): NetworkCreateBody {
  if (!body) throw new InvalidParameterError('network name must not be empty');
  for (const [label, value] of Object.entries(body.Options ?? {})) {
    // moby's bridge driver parses these (fromLabels) and refuses what does not parse, in its words.
    const bad = (why: string) => new InvalidParameterError(`failed to parse ${label} value: ${value} (${why})`);
    if (label === 'com.docker.network.driver.mtu' && !/^[+-]?\d+$/.test(value)) throw bad(`strconv.Atoi: parsing ${JSON.stringify(value)}: invalid syntax`);
    if (BRIDGE_BOOL_OPTIONS.includes(label) && parseGoBool(value) === undefined) throw bad(`strconv.ParseBool: parsing ${JSON.stringify(value)}: invalid syntax`);
    if (label === 'com.docker.network.bridge.host_binding_ipv4' && !isIP(value)) throw bad('nil ip');
  }
  return body;
}
const BRIDGE_BOOL_OPTIONS = ['com.docker.network.bridge.enable_icc', 'com.docker.network.bridge.enable_ip_masquerade', 'com.docker.network.bridge.default_bridge'];

/** moby's network.Inspect; the list leaves Containers empty, as dockerd does. */
export function resource(n: NetworkRecord, networks: NetworkService, withContainers: boolean): NetworkResource {
  const containers: NetworkResource['Containers'] = {};
  if (withContainers) {
    for (const e of networks.endpointsOn(n)) {
      containers[e.containerId] = {
        Name: e.name, EndpointID: e.attachment.endpointId, MacAddress: e.attachment.mac,
        IPv4Address: `${e.attachment.ip}/${e.attachment.prefixLen}`, IPv6Address: e.attachment.ip6 ? `${e.attachment.ip6}/${e.attachment.prefixLen6}` : '',
      };
    }
  }
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: n.scope ?? 'local',
    Driver: n.driver,
    EnableIPv4: n.driver === 'bridge' || n.driver === 'overlay',
    EnableIPv6: !!n.ipv6,
    IPAM: {
      Driver: 'default',
      Options: Object.keys(n.ipamOptions).length ? n.ipamOptions : null,
      Config: [ipamConfig(n.subnet, n.ipRange, n.gateway, n.auxAddresses), ...(n.ipv6 ? [ipamConfig(n.subnet6, n.ipRange6, n.gateway6, n.auxAddresses6)] : [])]
        .filter((c): c is IPAMConfig => !!c),
    },
    Internal: n.internal,
    Attachable: n.attachable,
    Ingress: !!n.ingress,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: n.options,
    Labels: n.labels,
  };
}

/** One IPAM.Config entry as moby shows it (empty fields left out); undefined without a subnet. */
function ipamConfig(subnet = '', ipRange = '', gateway = '', aux: Record<string, string> = {}): IPAMConfig | undefined {
  if (!subnet) return undefined;
  return { Subnet: subnet, ...(ipRange ? { IPRange: ipRange } : {}), ...(gateway ? { Gateway: gateway } : {}), ...(Object.keys(aux).length ? { AuxiliaryAddresses: aux } : {}) };
}

/** The same filters over swarm networks (all custom; dangling is not known here, so it keeps them). */
function swarmListFilter(filters: Filters): (n: NetworkResource) => boolean {
  return (n) => {
    const any = (key: string, pred: (v: string) => boolean) => { const vs = filters.get(key); return !vs || vs.some(pred); };
    return any('driver', (d) => n.Driver === d) && any('id', (i) => n.Id.startsWith(i)) && any('name', (x) => n.Name.includes(x))
      && any('scope', (s) => s === 'swarm') && any('type', (t) => t === 'custom')
      && (filters.get('label') ?? []).every((l) => labelMatch(n.Labels ?? {}, l));
  };
}

/** GET /networks filters: driver, id, label, name, scope, type (custom|builtin), dangling. */
function listFilter(filters: Filters, networks: NetworkService): (n: NetworkRecord) => boolean {
  for (const t of filters.get('type') ?? []) if (t !== 'custom' && t !== 'builtin') throw new InvalidParameterError(`invalid filter: 'type'='${t}'`);
  for (const d of filters.get('dangling') ?? []) if (!['true', 'false', '1', '0'].includes(d)) throw new InvalidParameterError(`invalid filter 'dangling=${d}'`);
  return (n) => {
    const any = (key: string, pred: (v: string) => boolean) => { const vs = filters.get(key); return !vs || vs.some(pred); };
    return any('driver', (d) => n.driver === d)
      && any('id', (i) => n.id.startsWith(i))
      && any('name', (x) => n.name.includes(x))
      && any('scope', (s) => s === (n.scope ?? 'local'))
      && any('type', (t) => (t === 'builtin') === n.builtin)
      && any('dangling', (d) => (d === 'true' || d === '1') === (!n.builtin && networks.endpointsOn(n).length === 0))
      && (filters.get('label') ?? []).every((l) => labelMatch(n.labels, l));
  };
}
