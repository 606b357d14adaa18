// Checkpoint routes of the Docker Engine API (experimental in Docker): create, list and remove a container's
// checkpoints. `POST /containers/{id}/start?checkpoint=` is served by the container routes through CheckpointService.start.
import type { CheckpointCreateBody, CheckpointService } from '../../engine/checkpoints';
import type { Router } from '../router';
import { checkpointCreate } from '../shapes/checkpoints';

export function registerCheckpointRoutes(router: Router, checkpoints: CheckpointService): void {
  router.post('/containers/{id}/checkpoints', async (ctx) => {
    const body = await ctx.body(checkpointCreate) as CheckpointCreateBody | null | undefined;
    await checkpoints.create(ctx.params.id!, body ?? {});
    ctx.res!.statusCode = 201;
  });

  router.get('/containers/{id}/checkpoints', async (ctx) => checkpoints.list(ctx.params.id!, ctx.query.get('dir') ?? ''));

  router.delete('/containers/{id}/checkpoints/{checkpoint}', async (ctx) => {
    await checkpoints.remove(ctx.params.id!, ctx.params.checkpoint!, ctx.query.get('dir') ?? '');
  });
}
