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
import { parseUntil } from '../../wire/timestamps';

export function registerNetworkRoutes(router: Router, networks: NetworkService, endpoints: NetworkEndpoints): void {
  router.get('/networks', async (ctx) => {
    const match = listFilter(queryFilters(ctx.query), networks);
    return networks.all().filter(match).map((n) => resource(n, networks, false));
  });

  router.get('/networks/{id}', async (ctx) => {
    const n = networks.get(ctx.params.id!);
    // moby answers a network of another scope than the one asked for as not found; all of Berth's are local.
    const scope = ctx.query.get('scope');
    if (scope && scope !== 'local') throw new NotFoundError(`network ${ctx.params.id} not found`);
    return resource(n, networks, true);
  });

  router.post('/networks/create', async (ctx) => {
    const out = await networks.create(checkCreateBody(await ctx.json()));
    ctx.res!.statusCode = 201;
    return out;
  });

  router.delete('/networks/{id}', async (ctx) => {
    await networks.remove(ctx.params.id!);
    ctx.res!.statusCode = 204;
  });

  router.post('/networks/{id}/connect', async (ctx) => {
    const body = checkBody<NetworkConnectBody>(await ctx.json(), 'NetworkConnect', { Container: 'string', EndpointConfig: 'object' });
    if (body.EndpointConfig) {
      checkBody(body.EndpointConfig, 'EndpointSettings', { IPAMConfig: 'object', Links: 'strings', Aliases: 'strings', MacAddress: 'string', DriverOpts: 'map', NetworkID: 'string', IPAddress: 'string' });
      if (body.EndpointConfig.IPAMConfig) checkBody(body.EndpointConfig.IPAMConfig, 'EndpointIPAMConfig', { IPv4Address: 'string', IPv6Address: 'string', LinkLocalIPs: 'strings' });
    }
    if (!body.Container) throw new InvalidParameterError('a container name or ID is required');
    await endpoints.connect(ctx.params.id!, body.Container, body.EndpointConfig ?? {});
    // moby answers 200 with an empty body (dockerode accepts only 200); an unanswered handler would be a 204.
    ctx.res!.writeHead(200).end();
  });

  router.post('/networks/{id}/disconnect', async (ctx) => {
    const body = checkBody<NetworkDisconnectBody>(await ctx.json(), 'NetworkDisconnect', { Container: 'string', Force: 'bool' });
    if (!body.Container) throw new InvalidParameterError('a container name or ID is required');
    await endpoints.disconnect(ctx.params.id!, body.Container, !!body.Force);
    ctx.res!.writeHead(200).end();
  });

  router.post('/networks/prune', async (ctx) => {
    const filters = queryFilters(ctx.query);
    for (const k of filters.keys()) if (!['until', 'label', 'label!'].includes(k)) throw new InvalidParameterError(`invalid filter '${k}'`);
    const until = filters.get('until')?.map(parseUntil);
    return networks.prune((n) => (!until || until.every((t) => Date.parse(n.created) < t))
      && labelFiltersMatch(n.labels, filters));
  });
}

type Kind = 'string' | 'bool' | 'object' | 'array' | 'map' | 'strings';

/** The JSON kind Go's decoder names in its type errors. */
function jsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  return typeof v === 'boolean' ? 'bool' : typeof v;
}

/**
 * A body whose fields have the JSON types moby's structs declare (null stands for absent), as json.Unmarshal checks
 * them: `{"Name": 5}` or `"Config": "x"` is refused with Go's words instead of stored or crashing the engine.
 */
function checkBody<T>(v: unknown, struct: string, fields: Record<string, Kind>): T {
  if (v === undefined || v === null) return {} as T;
  if (typeof v !== 'object' || Array.isArray(v)) throw new InvalidParameterError(`json: cannot unmarshal ${jsonKind(v)} into Go value of type ${struct}`);
  const o = v as Record<string, unknown>;
  for (const [f, kind] of Object.entries(fields)) {
    const x = o[f];
    if (x === undefined || x === null) continue;
    const k = jsonKind(x);
    const ok = kind === 'map' ? k === 'object' && Object.values(x as object).every((e) => typeof e === 'string')
      : kind === 'strings' ? k === 'array' && (x as unknown[]).every((e) => typeof e === 'string') : k === kind;
    if (!ok && kind === 'strings' && k === 'array') throw new InvalidParameterError(`json: cannot unmarshal ${jsonKind((x as unknown[]).find((e) => typeof e !== 'string'))} into Go struct field ${struct}.${f} of type string`);
    if (!ok) throw new InvalidParameterError(`json: cannot unmarshal ${k} into Go struct field ${struct}.${f} of type ${kind === 'map' ? 'map[string]string' : kind === 'strings' ? '[]string' : kind}`);
  }
  return o as T;
}

function checkCreateBody(v: unknown): NetworkCreateBody {
  if (v === undefined || v === null) throw new InvalidParameterError('network name must not be empty');
  const body = checkBody<NetworkCreateBody>(v, 'CreateRequest', {
    Name: 'string', Driver: 'string', Scope: 'string', CheckDuplicate: 'bool', EnableIPv4: 'bool', EnableIPv6: 'bool', Internal: 'bool',
    Attachable: 'bool', Ingress: 'bool', ConfigOnly: 'bool', ConfigFrom: 'object', Options: 'map', Labels: 'map', IPAM: 'object',
  });
  if (body.ConfigFrom) checkBody(body.ConfigFrom, 'CreateRequest.ConfigFrom', { Network: 'string' });
  if (body.IPAM) {
    checkBody(body.IPAM, 'CreateRequest.IPAM', { Driver: 'string', Config: 'array', Options: 'map' });
    for (const c of body.IPAM.Config ?? []) {
      if (c === null) continue;
      if ( typeof c !== 'object' || Array.isArray(c)) throw new InvalidParameterError(`json: cannot unmarshal ${jsonKind(c)} into Go struct field IPAM.Config of type network.IPAMConfig`);
      checkBody(c, 'IPAMConfig', { Subnet: 'string', IPRange: 'string', Gateway: 'string', AuxiliaryAddresses: 'map' });
    }
  }
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
    Scope: 'local',
    Driver: n.driver,
    EnableIPv4: n.driver === 'bridge',
    EnableIPv6: !!n.ipv6,
    IPAM: {
      Driver: 'default',
      Options: Object.keys(n.ipamOptions).length ? n.ipamOptions : null,
      Config: [ipamConfig(n.subnet, n.ipRange, n.gateway, n.auxAddresses), ...(n.ipv6 ? [ipamConfig(n.subnet6, n.ipRange6, n.gateway6, n.auxAddresses6)] : [])]
        .filter((c): c is IPAMConfig => !!c),
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

/** One IPAM.Config entry as moby shows it (empty fields left out); undefined without a subnet. */
function ipamConfig(subnet = '', ipRange = '', gateway = '', aux: Record<string, string> = {}): IPAMConfig | undefined {
  if (!subnet) return undefined;
  return { Subnet: subnet, ...(ipRange ? { IPRange: ipRange } : {}), ...(gateway ? { Gateway: gateway } : {}), ...(Object.keys(aux).length ? { AuxiliaryAddresses: aux } : {}) };
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
