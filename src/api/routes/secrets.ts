// Secret routes (/secrets, API >= 1.25): list, create (201), inspect, update (Labels only) and delete (204) through
// the ClusterBackend; the config routes are the same skin over configs. No backend wired: dockerd's 503.
import type { ClusterBackend } from '../../cluster/backend';
import { SECRET_FILTERS } from '../../cluster/spec/filters';
import { forRead, templatingSupported, type SecretKind } from '../../cluster/spec/secret-spec';
import { olderThan } from '../api-versions';
import { queryFilters, type RequestContext, type Router } from '../router';
import type { Shape } from '../shapes/decode';
import { secretSpec } from '../shapes/swarm';
import type { Secret, SecretSpec } from '../../wire/swarm';
import { emptyOk, guarded, notAManager, objectVersion, requireApiVersion } from './swarm';

/** What a secret-like kind's routes call. */
export interface SecretLikeBackend {
  list(filters: import('../../wire/filters').Filters): Promise<Secret[]>;
  create(spec: SecretSpec): Promise<{ ID: string }>;
  inspect(idOrName: string): Promise<Secret>;
  update(idOrName: string, version: number, spec: SecretSpec): Promise<void>;
  remove(idOrName: string): Promise<void>;
}

export interface SecretLikeKind {
  kind: SecretKind;
  base: '/secrets' | '/configs';
  minVersion: string;
  filters: readonly string[];
  shape: Shape<unknown>;
}

export function registerSecretLikeRoutes(router: Router, k: SecretLikeKind, backend: SecretLikeBackend | undefined): void {
  const { base } = k;
  const gated = (handler: (ctx: RequestContext) => unknown) => (ctx: RequestContext) => {
    requireApiVersion(ctx, k.minVersion);
    return handler(ctx);
  };
  if (!backend) {
    for (const [method, path] of [['get', ''], ['post', '/create'], ['get', '/{id}'], ['delete', '/{id}'], ['post', '/{id}/update']] as const) {
      router[method](`${base}${path}`, () => { throw notAManager(); });
    }
    return;
  }
  const body = async (ctx: RequestContext) => {
    const spec = ((await ctx.body(k.shape)) ?? {}) as SecretSpec;
    return { ...spec, Labels: spec.Labels ?? {} };
  };
  router.get(base, gated(async (ctx) => (await backend.list(queryFilters(ctx.query, k.filters))).map((o) => forRead(k.kind, o))));
  router.post(`${base}/create`, gated(async (ctx) => {
    const spec = await body(ctx);
    templatingSupported(k.kind, spec, ctx.apiVersion, olderThan);
    const created = await guarded(() => backend.create(spec));
    ctx.res!.statusCode = 201;
    return { ID: created.ID };
  }));
  router.get(`${base}/{id}`, gated(async (ctx) => forRead(k.kind, await backend.inspect(ctx.params.id!))));
  router.delete(`${base}/{id}`, gated(async (ctx) => {
    await backend.remove(ctx.params.id!);
    ctx.res!.statusCode = 204;
  }));
  router.post(`${base}/{id}/update`, gated(async (ctx) => {
    const version = objectVersion(ctx, k.kind);
    const spec = await body(ctx);
    await guarded(() => backend.update(ctx.params.id!, version, spec));
    emptyOk(ctx);
  }));
}

export function registerSecretRoutes(router: Router, cluster?: ClusterBackend): void {
  registerSecretLikeRoutes(router, { kind: 'secret', base: '/secrets', minVersion: '1.25', filters: SECRET_FILTERS, shape: secretSpec }, cluster && {
    list: (f) => cluster.listSecrets(f),
    create: (s) => cluster.createSecret(s),
    inspect: (id) => cluster.inspectSecret(id),
    update: (id, v, s) => cluster.updateSecret(id, v, s),
    remove: (id) => cluster.removeSecret(id),
  });
}
