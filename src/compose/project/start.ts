// Starting a service's containers once its dependencies meet their depends_on conditions (Compose's
// waitDependencies, then start), reporting the waits and starts in Compose v2's words.
import { LABEL } from '../model';
import type { ProjectContext } from './context';
import { reported } from './context';
import { waitFor, WaitError } from './waits';

/** Containers of each service, as the start phase needs them (IDs; names come from inspect). */
export type ServiceContainers = Map<string, string[]>;

export async function waitDependencies(ctx: ProjectContext, service: string, containers: ServiceContainers, timeoutMs?: number): Promise<void> {
  const deps = ctx.project.services[service]?.depends_on ?? {};
  for (const [dep, d] of Object.entries(deps)) {
    const ids = containers.get(dep);
    // service_started holds once the dependency's start returned (the start phase runs in dependency order).
    if (!ids || d.condition === 'service_started') continue;
    for (const id of ids) {
      const c = await ctx.api.inspectContainer(id);
      if (!c) continue;
      const name = c.Name.replace(/^\//, '');
      ctx.reporter.event({ kind: 'Container', name, status: 'Waiting', done: false });
      try {
        await waitFor(ctx.api, id, d.condition, { timeoutMs });
      } catch (err) {
        ctx.reporter.event({ kind: 'Container', name, status: 'Error', done: true, error: true, detail: (err as Error).message });
        throw new WaitError(`dependency failed to start: ${(err as Error).message}`);
      }
      ctx.reporter.event({ kind: 'Container', name, status: d.condition === 'service_healthy' ? 'Healthy' : 'Exited', done: true });
    }
  }
}

/**
 * Starts those of the IDs not already running (after their dependencies' conditions hold). `running`: IDs the
 * caller just saw running (up's kept containers), not inspected again.
 */
export async function startServiceContainers(ctx: ProjectContext, service: string, containers: ServiceContainers, running?: ReadonlySet<string>): Promise<void> {
  await waitDependencies(ctx, service, containers);
  for (const id of containers.get(service) ?? []) {
    if (running?.has(id)) continue;
    const c = await ctx.api.inspectContainer(id);
    if (!c || c.State.Running) continue;
    const name = c.Name.replace(/^\//, '');
    if (c.State.Paused) continue;
    // A one-off's label tells it apart; up never starts one-offs.
    if (c.Config.Labels?.[LABEL.oneoff] === 'True') continue;
    await reported(ctx.reporter, { kind: 'Container', name }, 'Starting', 'Started', () => ctx.api.startContainer(id));
  }
}
