// Task routes (/tasks): list, inspect and logs through the ClusterBackend; a node in no swarm (no backend wired)
// answers dockerd's 503.
import type { ClusterBackend } from '../../cluster/backend';
import { TASK_FILTERS } from '../../cluster/spec/filters';
import { queryFilters, type Router } from '../router';
import { logOptions, writeClusterLogs } from './cluster-logs';
import { notAManager } from './swarm';

export function registerTaskRoutes(router: Router, cluster?: ClusterBackend): void {
  if (!cluster) {
    router.get('/tasks', () => { throw notAManager(); });
    router.get('/tasks/{id}', () => { throw notAManager(); });
    router.get('/tasks/{id}/logs', () => { throw notAManager(); });
    return;
  }
  router.get('/tasks', (ctx) => cluster.listTasks(queryFilters(ctx.query, TASK_FILTERS)));
  router.get('/tasks/{id}', (ctx) => cluster.inspectTask(ctx.params.id!));
  router.get('/tasks/{id}/logs', async (ctx) => {
    const options = logOptions(ctx);
    await writeClusterLogs(ctx, await cluster.taskLogs(ctx.params.id!, options));
  });
}
