// The verbs on existing containers of the project: start (in dependency order, waiting on conditions),
// stop (reverse order), restart, kill, pause, unpause, rm; each reported in Compose v2's words.
import type { ProjectContext } from './context';
import { projectContainers, reported } from './context';
import { dependencyGraph, inDependencyOrder, selectServices } from './dependency-order';
import { forEachBounded } from './images';
import type { ObservedContainer } from './plan';
import { startServiceContainers, type ServiceContainers } from './start';

async function byService(ctx: ProjectContext, services: string[], noDeps = true): Promise<{ graph: Map<string, string[]>; containers: Map<string, ObservedContainer[]> }> {
  const selected = selectServices(ctx.project, services, noDeps, (m) => ctx.reporter.warn(m));
  const graph = dependencyGraph(ctx.project, selected);
  const containers = new Map<string, ObservedContainer[]>();
  for (const c of await projectContainers(ctx, { oneoff: false })) {
    containers.set(c.service, [...(containers.get(c.service) ?? []), c]);
  }
  return { graph, containers };
}

export async function start(ctx: ProjectContext, services: string[]): Promise<void> {
  const { graph, containers } = await byService(ctx, services, false);
  const ids: ServiceContainers = new Map([...containers].map(([s, cs]) => [s, cs.map((c) => c.id)]));
  await inDependencyOrder(graph, (name) => startServiceContainers(ctx, name, ids), { parallelism: ctx.parallelism });
}

/** Runs `step` on each selected service's containers, services in (reverse) dependency order. */
async function eachContainer(ctx: ProjectContext, services: string[], reverse: boolean, step: (c: ObservedContainer) => Promise<void>): Promise<void> {
  const { graph, containers } = await byService(ctx, services);
  await inDependencyOrder(graph, (name) => {
    const cs = containers.get(name) ?? [];
    return forEachBounded(cs.map((c) => c.id), (id) => step(cs.find((c) => c.id === id)!), ctx.parallelism);
  }, { reverse, parallelism: ctx.parallelism });
}

const running = (c: ObservedContainer) => c.state === 'running' || c.state === 'paused' || c.state === 'restarting';

export function stop(ctx: ProjectContext, services: string[], timeout?: number): Promise<void> {
  return eachContainer(ctx, services, true, async (c) => {
    if (!running(c)) return;
    await reported(ctx.reporter, { kind: 'Container', name: c.name }, 'Stopping', 'Stopped', () => ctx.api.stopContainer(c.id, timeout));
  });
}

export async function restart(ctx: ProjectContext, services: string[], timeout?: number, noDeps = true): Promise<void> {
  const { graph, containers } = await byService(ctx, services, noDeps);
  await inDependencyOrder(graph, async (name) => {
    for (const c of containers.get(name) ?? []) {
      await reported(ctx.reporter, { kind: 'Container', name: c.name }, 'Restarting', 'Started', async () => {
        if (running(c)) await ctx.api.stopContainer(c.id, timeout);
        await ctx.api.startContainer(c.id);
      });
    }
  }, { parallelism: ctx.parallelism });
}

export function kill(ctx: ProjectContext, services: string[], signal: string): Promise<void> {
  return eachContainer(ctx, services, true, async (c) => {
    if (c.state !== 'running') return;
    await reported(ctx.reporter, { kind: 'Container', name: c.name }, 'Killing', 'Killed', () => ctx.api.killContainer(c.id, signal));
  });
}

export function pause(ctx: ProjectContext, services: string[]): Promise<void> {
  return eachContainer(ctx, services, false, async (c) => {
    if (c.state !== 'running') return;
    await reported(ctx.reporter, { kind: 'Container', name: c.name }, 'Pausing', 'Paused', () => ctx.api.pauseContainer(c.id));
  });
}

export function unpause(ctx: ProjectContext, services: string[]): Promise<void> {
  return eachContainer(ctx, services, false, async (c) => {
    if (c.state !== 'paused') return;
    await reported(ctx.reporter, { kind: 'Container', name: c.name }, 'Unpausing', 'Unpaused', () => ctx.api.unpauseContainer(c.id));
  });
}

/** `rm`: stopped containers (running ones too with stop: they are stopped first). */
export function remove(ctx: ProjectContext, services: string[], options: { stop: boolean; volumes: boolean }): Promise<void> {
  return eachContainer(ctx, services, true, async (c) => {
    if (running(c)) {
      if (!options.stop) return;
      await reported(ctx.reporter, { kind: 'Container', name: c.name }, 'Stopping', 'Stopped', () => ctx.api.stopContainer(c.id));
    }
    await reported(ctx.reporter, { kind: 'Container', name: c.name }, 'Removing', 'Removed', () => ctx.api.removeContainer(c.id, { force: true, volumes: options.volumes }));
  });
}
