// Swarm routes (/swarm/...): init, join, leave, inspect, update, unlock through the node's ClusterBackend; without
// one (not wired in this daemon) the answers of a node in no swarm that cannot start or join one.
import { ConflictError, InvalidParameterError, UnavailableError } from '../../errdefs';
import type { ClusterBackend } from '../../cluster/backend';
import { NameConflict } from '../../cluster/store/objects';
import { swarmSpecForRead } from '../../cluster/spec/swarm-spec';
import { olderThan } from '../api-versions';
import { queryBool, type RequestContext, type Router } from '../router';
import { initRequest, joinRequest, swarmSpec, unlockRequest } from '../shapes/swarm';
import type { InitRequest, JoinRequest, Swarm, SwarmSpec } from '../../wire/swarm';

/** What dockerd answers a node in no swarm asked to leave one (docker-py's teardowns ignore the 503). */
export function notInSwarm(): UnavailableError {
  return new UnavailableError('This node is not part of a swarm');
}

/** What dockerd answers, with 503, a node in no swarm asked for cluster state (nodes, services, tasks, ...). */
export function notAManager(): UnavailableError {
  return new UnavailableError('This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.');
}

function swarmModeUnavailable(): UnavailableError {
  return new UnavailableError('swarm mode is not available in this build of Berth yet: this node cannot start or join a swarm');
}

/** `?version=N` of an update: required, an unsigned integer, else strconv's words under the kind's prefix. */
export function objectVersion(ctx: RequestContext, kind: 'swarm' | 'service' | 'node' | 'secret' | 'config'): number {
  const raw = ctx.query.get('version') ?? '';
  const why = !/^\d+$/.test(raw) ? 'invalid syntax' : Number(raw) > 2 ** 64 - 1 ? 'value out of range' : '';
  if (why) throw new InvalidParameterError(`invalid ${kind} version '${raw}': strconv.ParseUint: parsing ${JSON.stringify(raw)}: ${why}`);
  return Number(raw);
}

/** A query flag read with Go's strconv.ParseBool (status, insertDefaults, rotate*): absent or "" is `fallback`. */
export function queryParseBool(ctx: RequestContext, name: string, fallback = false): boolean {
  const raw = ctx.query.get(name);
  if (raw === null || raw === '') return fallback;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(raw)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(raw)) return false;
  throw new InvalidParameterError(`invalid value for ${name}: ${raw}: strconv.ParseBool: parsing ${JSON.stringify(raw)}: invalid syntax`);
}

/** dockerd's router gate for endpoints newer than the client's API version. */
export function requireApiVersion(ctx: RequestContext, min: string): void {
  if (olderThan(ctx.apiVersion, min)) {
    const path = (ctx.req.url ?? '').replace(/\?.*$/, '').replace(/^\/v[\d.]+/, '');
    throw new InvalidParameterError(`${ctx.req.method} ${path} requires minimum API version ${min}`);
  }
}

/**
 * Before a check dockerd makes inside its manager-only action (so a node that is no manager answers its 503
 * first): asking the backend for the cluster raises that 503 when there is one to raise.
 */
export async function asManager(cluster: ClusterBackend): Promise<void> {
  if (cluster.pingHeader() !== 'active/manager') await cluster.inspectSwarm();
}

/** Runs a backend call, giving a name conflict the kind's words (409). */
export async function guarded<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof NameConflict) {
      const kind = err.kind.replace(/s$/, '');
      const text = kind === 'service'
        ? `rpc error: code = AlreadyExists desc = name conflicts with an existing object: service ${err.objectName} already exists`
        : `rpc error: code = AlreadyExists desc = ${kind} ${err.objectName} already exists`;
      throw new ConflictError(text);
    }
    throw err;
  }
}

/** An empty 200, as dockerd answers updates, deletes of services and nodes, join, leave and unlock. */
export function emptyOk(ctx: RequestContext): void {
  ctx.res!.writeHead(200).end();
}

export function registerSwarmRoutes(router: Router, cluster?: ClusterBackend): void {
  if (!cluster) {
    router.post('/swarm/init', () => { throw swarmModeUnavailable(); });
    router.post('/swarm/join', () => { throw swarmModeUnavailable(); });
    router.post('/swarm/leave', () => { throw notInSwarm(); });
    router.get('/swarm', () => { throw notAManager(); });
    router.get('/swarm/unlockkey', () => { throw notAManager(); });
    router.post('/swarm/update', () => { throw notAManager(); });
    router.post('/swarm/unlock', () => { throw notAManager(); });
    return;
  }

  router.post('/swarm/init', async (ctx) => {
    const body = ((await ctx.body(initRequest)) ?? {}) as InitRequest;
    // Fields of newer API versions are ignored for older clients, as dockerd's router does.
    if (olderThan(ctx.apiVersion, '1.39')) { delete body.DefaultAddrPool; delete body.SubnetSize; }
    if (olderThan(ctx.apiVersion, '1.40')) delete body.DataPathPort;
    return cluster.init({ ...body, ListenAddr: body.ListenAddr ?? '' });
  });
  router.post('/swarm/join', async (ctx) => {
    const body = ((await ctx.body(joinRequest)) ?? {}) as JoinRequest;
    await cluster.join({ ...body, ListenAddr: body.ListenAddr ?? '', RemoteAddrs: body.RemoteAddrs ?? [], JoinToken: body.JoinToken ?? '' });
    emptyOk(ctx);
  });
  router.post('/swarm/leave', async (ctx) => {
    await cluster.leave(queryBool(ctx.query, 'force'));
    emptyOk(ctx);
  });
  router.get('/swarm', async (): Promise<Swarm> => {
    const swarm = await cluster.inspectSwarm();
    return { ...swarm, Spec: swarmSpecForRead(swarm.Spec) };
  });
  router.get('/swarm/unlockkey', async () => ({ UnlockKey: await cluster.unlockKey() }));
  router.post('/swarm/update', async (ctx) => {
    const version = objectVersion(ctx, 'swarm');
    const rotate = {
      workerToken: queryParseBool(ctx, 'rotateWorkerToken'),
      managerToken: queryParseBool(ctx, 'rotateManagerToken'),
      unlockKey: queryParseBool(ctx, 'rotateManagerUnlockKey'),
    };
    const spec = ((await ctx.body(swarmSpec)) ?? {}) as SwarmSpec;
    await cluster.updateSwarm({ ...spec, Labels: spec.Labels ?? {} }, version, rotate);
    emptyOk(ctx);
  });
  router.post('/swarm/unlock', async (ctx) => {
    const body = (await ctx.body(unlockRequest)) ?? {};
    await cluster.unlock(body.UnlockKey ?? '');
    emptyOk(ctx);
  });
}
