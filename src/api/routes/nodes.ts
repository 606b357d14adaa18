// Node routes (/nodes): list, inspect, update and remove through the ClusterBackend; a node in no swarm (no backend
// wired) answers dockerd's 503.
import type { ClusterBackend } from '../../cluster/backend';
import { NODE_FILTERS } from '../../cluster/spec/filters';
import { queryBool, queryFilters, type Router } from '../router';
import { nodeSpec } from '../shapes/swarm';
import type { NodeSpec } from '../../wire/swarm';
import { emptyOk, guarded, notAManager, objectVersion } from './swarm';

export function registerNodeRoutes(router: Router, cluster?: ClusterBackend): void {
  if (!cluster) {
    router.get('/nodes', () => { throw notAManager(); });
    router.get('/nodes/{id}', () => { throw notAManager(); });
    router.delete('/nodes/{id}', () => { throw notAManager(); });
    router.post('/nodes/{id}/update', () => { throw notAManager(); });
    return;
  }
  router.get('/nodes', (ctx) => cluster.listNodes(queryFilters(ctx.query, NODE_FILTERS)));
  router.get('/nodes/{id}', (ctx) => cluster.inspectNode(ctx.params.id!));
  router.delete('/nodes/{id}', async (ctx) => {
    await cluster.removeNode(ctx.params.id!, queryBool(ctx.query, 'force'));
    emptyOk(ctx);
  });
  router.post('/nodes/{id}/update', async (ctx) => {
    const version = objectVersion(ctx, 'node');
    const spec = ((await ctx.body(nodeSpec)) ?? {}) as NodeSpec;
    await guarded(() => cluster.updateNode(ctx.params.id!, version, spec));
    emptyOk(ctx);
  });
}
