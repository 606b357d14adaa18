// Carrying out one service's convergence plan on the daemon: create (the first network at create, the others
// connected before start), recreate as Compose v2 does (the new container under a temporary name, the old one
// stopped and removed, the new one renamed), remove replicas past the scale.
import type { Service } from '../model';
import type { ProjectContext } from './context';
import { reported } from './context';
import { serviceHash, fieldHashesLabel } from './config-hash';
import { containerLabels } from './labels';
import { recreateTempName, serviceImage } from './naming';
import type { ContainerAction, ObservedContainer } from './plan';
import { containerBody, injectedFiles, secondaryNetworks } from './service-container';

export interface CreateInput {
  number: number;
  name: string;
  imageId: string;
  oneoff?: boolean;
  /** Adjusts the body before create (one-off overrides). */
  adjust?: (body: ReturnType<typeof containerBody>) => void;
  ports?: boolean;
}

/** Creates a container for the service and connects its other networks; returns the ID. */
export async function createServiceContainer(ctx: ProjectContext, service: Service, input: CreateInput): Promise<string> {
  const labels = containerLabels(ctx.project, service, {
    number: input.number, oneoff: input.oneoff ?? false, configHash: serviceHash(service), imageId: input.imageId,
    extra: fieldHashesLabel(service), envFiles: ctx.envFiles,
  });
  const body = containerBody(ctx.project, service, { image: serviceImage(ctx.project, service), labels, ports: input.ports ?? true, env: ctx.env });
  input.adjust?.(body);
  const files = injectedFiles(ctx.project, service, ctx.env);
  const id = await ctx.api.createContainer(input.name, body);
  await ctx.api.copyFiles(id, files);
  for (const n of secondaryNetworks(ctx.project, service)) await ctx.api.connectNetwork(n.name, id, n.endpoint);
  return id;
}

export async function stopAndRemove(ctx: ProjectContext, c: ObservedContainer, timeout?: number, volumes = false): Promise<void> {
  if (c.state === 'running' || c.state === 'paused' || c.state === 'restarting') {
    await reported(ctx.reporter, { kind: 'Container', name: c.name }, 'Stopping', 'Stopped', () => ctx.api.stopContainer(c.id, timeout));
  }
  await reported(ctx.reporter, { kind: 'Container', name: c.name }, 'Removing', 'Removed', () => ctx.api.removeContainer(c.id, { force: true, volumes }));
}

/** The IDs the service's replicas have after its plan ran, in number order; whether anything was recreated; the kept running ones. */
export interface ConvergeResult { ids: string[]; recreated: boolean; running: string[] }

export async function applyPlan(ctx: ProjectContext, service: Service, actions: ContainerAction[], imageId: string, timeout?: number): Promise<ConvergeResult> {
  const result: { number: number; id: string }[] = [];
  const running: string[] = [];
  let recreated = false;
  for (const a of actions) {
    switch (a.kind) {
      case 'keep':
        ctx.reporter.event({ kind: 'Container', name: a.container.name, status: 'Running', done: true });
        result.push({ number: a.container.number, id: a.container.id });
        if (a.container.state === 'running') running.push(a.container.id);
        break;
      case 'start':
        result.push({ number: a.container.number, id: a.container.id });
        break;
      case 'create': {
        const id = await reported(ctx.reporter, { kind: 'Container', name: a.name }, 'Creating', 'Created',
          () => createServiceContainer(ctx, service, { number: a.number, name: a.name, imageId }));
        result.push({ number: a.number, id });
        break;
      }
      case 'recreate': {
        const id = await reported(ctx.reporter, { kind: 'Container', name: a.name }, 'Recreate', 'Recreated', async () => {
          const id = await createServiceContainer(ctx, service, { number: a.number, name: recreateTempName(a.container.id, a.name), imageId });
          if (a.container.state === 'running' || a.container.state === 'paused') await ctx.api.stopContainer(a.container.id, timeout);
          await ctx.api.removeContainer(a.container.id, { force: true, volumes: false });
          await ctx.api.renameContainer(id, a.name);
          return id;
        }, a.reason);
        recreated = true;
        result.push({ number: a.number, id });
        break;
      }
      case 'remove':
        await stopAndRemove(ctx, a.container, timeout);
        break;
    }
  }
  return { ids: result.sort((x, y) => x.number - y.number).map((r) => r.id), recreated, running };
}
