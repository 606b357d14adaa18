// `down`: the project's containers stopped and removed in reverse dependency order (one-offs too; orphans
// with --remove-orphans), then the networks it made, its volumes with -v, its images with --rmi.
import { DaemonError } from '../../cli/api-client';
import type { ProjectContext } from './context';
import { projectContainers, reported } from './context';
import { stopAndRemove } from './converge';
import { dependencyGraph, inDependencyOrder } from './dependency-order';
import { forEachBounded } from './images';
import { serviceImage } from './naming';
import type { DownOptions } from './operations';
import { orphanContainers, orphanWarning } from './plan';
import { removeNetworks, removeVolumes } from './resources';

export async function down(ctx: ProjectContext, options: DownOptions): Promise<void> {
  const { project } = ctx;
  const all = await projectContainers(ctx);
  const orphans = orphanContainers(project, all);
  if (orphans.length && !options.removeOrphans) ctx.reporter.warn(orphanWarning(orphans));
  const orphanIds = new Set(orphans.map((c) => c.id));
  const graph = dependencyGraph(project, Object.keys(project.services));
  await inDependencyOrder(graph, (name) => forEachBounded(
    all.filter((c) => c.service === name && !orphanIds.has(c.id)).map((c) => c.id),
    (id) => stopAndRemove(ctx, all.find((c) => c.id === id)!, options.timeout),
    ctx.parallelism,
  ), { reverse: true, parallelism: ctx.parallelism });
  // Containers of disabled services, and orphans when asked.
  const rest = all.filter((c) => !graph.has(c.service) && (!orphanIds.has(c.id) || options.removeOrphans));
  await forEachBounded(rest.map((c) => c.id), (id) => stopAndRemove(ctx, rest.find((c) => c.id === id)!, options.timeout), ctx.parallelism);

  await removeNetworks(ctx);
  if (options.volumes) await removeVolumes(ctx);
  if (options.rmi) {
    const refs = new Set<string>();
    for (const s of Object.values(project.services)) {
      if (options.rmi === 'all' || !s.image) refs.add(serviceImage(project, s));
    }
    for (const ref of [...refs].sort()) {
      if (!(await ctx.api.imageId(ref))) continue;
      await reported(ctx.reporter, { kind: 'Image', name: ref }, 'Removing', 'Removed', async () => {
        try { await ctx.api.removeImage(ref); } catch (err) {
          if (!(err instanceof DaemonError && err.statusCode === 404)) throw err;
        }
      });
    }
  }
}
