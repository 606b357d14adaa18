// Volume routes of the Docker Engine API: HTTP in, VolumeService calls, Docker's wire types out.
import type { VolumeCreateBody } from '../../wire/docker';
import type { VolumeService } from '../../engine/volumes';
import { volumeCreate } from '../shapes/volumes';
import { compareApiVersions, queryBool, queryFilters, type Router } from '../router';

export function registerVolumeRoutes(router: Router, volumes: VolumeService): void {
  router.get('/volumes', (ctx) => volumes.list(queryFilters(ctx.query, ['dangling', 'name', 'driver', 'label'])));

  router.post('/volumes/create', async (ctx) => {
    const body = ((await ctx.body(volumeCreate)) ?? {}) as VolumeCreateBody;
    const v = await volumes.create(body);
    ctx.res!.statusCode = 201;
    return v;
  });

  router.post('/volumes/prune', async (ctx) => {
    const filters = queryFilters(ctx.query, ['all', 'label', 'label!']);
    // Before API 1.42 prune removed every unused volume; since, only anonymous ones unless all=true.
    if (compareApiVersions(ctx.apiVersion, '1.42') < 0) filters.set('all', ['true']);
    return volumes.prune(filters);
  });

  router.get('/volumes/{name:.*}', (ctx) => volumes.inspect(ctx.params.name!));

  router.delete('/volumes/{name:.*}', async (ctx) => {
    await volumes.remove(ctx.params.name!, { force: queryBool(ctx.query, 'force') });
    ctx.res!.statusCode = 204;
  });
}
