// `up` and `create`: orphans, networks, volumes, images, then each service converged in dependency order, then
// started in dependency order (each after its dependencies' conditions), then, with --wait, waited for.
import type { ProjectContext } from './context';
import { projectContainers } from './context';
import { applyPlan, stopAndRemove } from './converge';
import { serviceHash } from './config-hash';
import { dependencyGraph, inDependencyOrder, selectServices } from './dependency-order';
import { ensureImages } from './images';
import { desiredScale } from './naming';
import type { UpOptions } from './operations';
import { orphanContainers, orphanWarning, planService } from './plan';
import { ensureNetworks, ensureVolumes } from './resources';
import { startServiceContainers, type ServiceContainers } from './start';
import { waitFor, WaitError } from './waits';

export async function up(ctx: ProjectContext, options: UpOptions): Promise<void> {
  const { project, reporter } = ctx;
  const selected = selectServices(project, options.services, options.noDeps, (m) => reporter.warn(m));
  const graph = dependencyGraph(project, selected);
  const existing = await projectContainers(ctx, { oneoff: false });

  const orphans = orphanContainers(project, existing);
  if (orphans.length && options.removeOrphans) {
    for (const c of orphans) await stopAndRemove(ctx, c, options.timeout);
  } else if (orphans.length) reporter.warn(orphanWarning(orphans));

  await ensureNetworks(ctx, Object.keys(project.networks));
  await ensureVolumes(ctx, Object.keys(project.volumes));
  const imageIds = await ensureImages(ctx, selected, { build: options.build, pull: options.pull });

  const containers: ServiceContainers = new Map();
  // Services outside the selection (with --no-deps) still have containers dependents may wait on.
  for (const c of existing) if (!graph.has(c.service)) containers.set(c.service, [...(containers.get(c.service) ?? []), c.id]);
  const recreated = new Set<string>();
  const running = new Set<string>();
  await inDependencyOrder(graph, async (name) => {
    const service = project.services[name];
    const restartWith = Object.entries(service.depends_on ?? {}).find(([d, dep]) => dep.restart && recreated.has(d))?.[0];
    const actions = planService({
      project, service, scale: desiredScale(service, options.scale[name]),
      existing: existing.filter((c) => c.service === name),
      configHash: serviceHash(service), imageId: imageIds.get(name) ?? '', recreate: options.recreate,
      recreatedDependency: restartWith,
    });
    const result = await applyPlan(ctx, service, actions, imageIds.get(name) ?? '', options.timeout);
    if (result.recreated) recreated.add(name);
    result.running.forEach((id) => running.add(id));
    containers.set(name, result.ids);
  }, { parallelism: ctx.parallelism });

  if (!options.start) return;
  await inDependencyOrder(graph, (name) => startServiceContainers(ctx, name, containers, running), { parallelism: ctx.parallelism });

  if (options.wait) await waitServices(ctx, selected, containers, options.waitTimeout);
}

/** --wait: every container running, or healthy when it has a healthcheck; a one-shot that exited 0 is done. */
async function waitServices(ctx: ProjectContext, services: string[], containers: ServiceContainers, timeoutSeconds?: number): Promise<void> {
  const timeoutMs = timeoutSeconds === undefined ? undefined : timeoutSeconds * 1000;
  const failures: string[] = [];
  await Promise.all(services.flatMap((service) => (containers.get(service) ?? []).map(async (id) => {
    const first = await ctx.api.inspectContainer(id);
    const name = first?.Name.replace(/^\//, '') ?? id;
    ctx.reporter.event({ kind: 'Container', name, status: 'Waiting', done: false });
    try {
      const c = await waitFor(ctx.api, id, 'up', { timeoutMs });
      const status = c.State.Status === 'exited' ? 'Exited' : c.State.Health ? 'Healthy' : 'Running';
      ctx.reporter.event({ kind: 'Container', name, status, done: true });
    } catch (err) {
      ctx.reporter.event({ kind: 'Container', name, status: 'Error', done: true, error: true, detail: (err as Error).message });
      failures.push(`service "${service}": ${(err as Error).message}`);
    }
  })));
  if (failures.length) throw new WaitError(failures.sort().join('\n'));
}
