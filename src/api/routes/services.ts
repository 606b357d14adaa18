// Service routes (/services): list (with status from 1.41), create (201), inspect (insertDefaults), update (version,
// rollback, registryAuthFrom, X-Registry-Auth), remove and logs through the ClusterBackend; a node in no swarm (no
// backend wired) answers dockerd's 503.
import { InvalidParameterError } from '../../errdefs';
import type { ClusterBackend } from '../../cluster/backend';
import { PlainServerError } from '../../cluster/spec/errors';
import { SERVICE_FILTERS } from '../../cluster/spec/filters';
import { olderThan } from '../api-versions';
import { queryFilters, type RequestContext, type Router } from '../router';
import { serviceSpec } from '../shapes/swarm';
import type { ServiceSpec } from '../../wire/swarm';
import { logOptions, writeClusterLogs } from './cluster-logs';
import { asManager, emptyOk, guarded, notAManager, objectVersion, queryParseBool } from './swarm';

async function specBody(ctx: RequestContext): Promise<ServiceSpec> {
  const spec = ((await ctx.body(serviceSpec)) ?? {}) as ServiceSpec;
  return { ...spec, Labels: spec.Labels ?? {}, TaskTemplate: spec.TaskTemplate ?? {} };
}

/** X-Registry-Auth as sent (base64 JSON): kept with the service by the backend, never decoded here. */
function encodedAuth(ctx: RequestContext): string | undefined {
  const v = ctx.req.headers['x-registry-auth'];
  return typeof v === 'string' && v ? v : undefined;
}

export function registerServiceRoutes(router: Router, cluster?: ClusterBackend): void {
  if (!cluster) {
    router.get('/services', () => { throw notAManager(); });
    router.post('/services/create', () => { throw notAManager(); });
    router.get('/services/{id}', () => { throw notAManager(); });
    router.delete('/services/{id}', () => { throw notAManager(); });
    router.post('/services/{id}/update', () => { throw notAManager(); });
    router.get('/services/{id}/logs', () => { throw notAManager(); });
    return;
  }

  router.get('/services', async (ctx) => {
    const filters = queryFilters(ctx.query, SERVICE_FILTERS);
    // Before 1.41 dockerd ignores `status`.
    const status = !olderThan(ctx.apiVersion, '1.41') && queryParseBool(ctx, 'status');
    const services = await cluster.listServices(filters, status);
    return status ? services : services.map(({ ServiceStatus: _s, ...rest }) => rest);
  });

  router.post('/services/create', async (ctx) => {
    const spec = await specBody(ctx);
    const created = await guarded(() => cluster.createService(spec, encodedAuth(ctx)));
    ctx.res!.statusCode = 201;
    return { ID: created.ID, Warnings: created.Warnings ?? null };
  });

  router.get('/services/{id}', async (ctx) => {
    const insertDefaults = queryParseBool(ctx, 'insertDefaults');
    // ServiceStatus belongs to the listing only.
    const { ServiceStatus: _s, ...service } = await cluster.inspectService(ctx.params.id!, insertDefaults);
    return service;
  });

  router.post('/services/{id}/update', async (ctx) => {
    const version = objectVersion(ctx, 'service');
    const from = ctx.query.get('registryAuthFrom') || 'spec';
    if (from !== 'spec' && from !== 'previous-spec') throw new InvalidParameterError(`invalid registryAuthFrom '${from}'`);
    const spec = await specBody(ctx);
    const rollbackRaw = ctx.query.get('rollback') ?? '';
    if (!['', 'none', 'previous'].includes(rollbackRaw)) {
      // dockerd checks this inside its manager-only action, with a plain error (500).
      await asManager(cluster);
      throw new PlainServerError(`unrecognized rollback option ${rollbackRaw}`);
    }
    const auth = ctx.req.headers['x-registry-auth'];
    const result = await guarded(() => cluster.updateService(ctx.params.id!, version, spec, {
      rollback: rollbackRaw === 'previous',
      registryAuthFrom: from,
      ...(typeof auth === 'string' && auth ? { encodedAuth: auth } : {}),
    }));
    return { Warnings: result.Warnings ?? null };
  });

  router.delete('/services/{id}', async (ctx) => {
    await cluster.removeService(ctx.params.id!);
    emptyOk(ctx);
  });

  router.get('/services/{id}/logs', async (ctx) => {
    const options = logOptions(ctx);
    await writeClusterLogs(ctx, await cluster.serviceLogs(ctx.params.id!, options));
  });
}
