// The convergence plan of one service, as Compose v2 decides it (convergence.go): which of the existing
// containers are kept, started, recreated (and why) or removed, and which numbers are created. Pure: the
// observed containers and the desired state in, the actions out; up.ts carries them out.
import type { ContainerSummary } from '../../wire/docker';
import { LABEL, type Project, type Service } from '../model';
import { changedFields, CONFIG_FIELDS_LABEL } from './config-hash';
import { containerIdentity } from './labels';
import { containerName } from './naming';

/** A container of the project as the planner needs it (from the daemon's list). */
export interface ObservedContainer {
  id: string;
  name: string;
  service: string;
  number: number;
  oneoff: boolean;
  /** created, running, paused, restarting, exited, dead. */
  state: string;
  labels: Record<string, string>;
}

export type ContainerAction =
  | { kind: 'keep'; container: ObservedContainer }
  | { kind: 'start'; container: ObservedContainer }
  | { kind: 'create'; number: number; name: string }
  | { kind: 'recreate'; container: ObservedContainer; number: number; name: string; reason: string }
  | { kind: 'remove'; container: ObservedContainer };

export interface ServicePlanInput {
  project: Project;
  service: Service;
  scale: number;
  /** The service's non-one-off containers. */
  existing: ObservedContainer[];
  configHash: string;
  /** The image ID the service should run now (compared with com.docker.compose.image). */
  imageId: string;
  recreate: 'diverged' | 'force' | 'never';
  /** A dependency with `restart: true` recreated in this run (its name), which recreates this service too. */
  recreatedDependency?: string;
}

export function observedContainer(c: ContainerSummary): ObservedContainer {
  return { ...containerIdentity(c), state: c.State };
}

/** Why a container must be recreated, or undefined when it still matches (Compose's mustRecreate, with a reason). */
export function recreateReason(input: ServicePlanInput, c: ObservedContainer): string | undefined {
  if (input.recreate === 'never') return undefined;
  if (input.recreate === 'force') return '--force-recreate';
  if (c.labels[LABEL.configHash] !== input.configHash) {
    const fields = changedFields(c.labels[CONFIG_FIELDS_LABEL], input.service);
    return fields.length ? `${fields.join(', ')} changed` : 'config hash changed';
  }
  if (input.imageId && c.labels[LABEL.image] !== input.imageId) return 'image changed';
  if (input.recreatedDependency) return `dependency ${input.recreatedDependency} was recreated`;
  return undefined;
}

export function planService(input: ServicePlanInput): ContainerAction[] {
  const sorted = [...input.existing].sort((a, b) => a.number - b.number);
  const kept = sorted.slice(0, input.scale);
  // Scaling down removes the highest numbers first, as Compose does.
  const removed = sorted.slice(input.scale).reverse();
  const actions: ContainerAction[] = [];
  for (const c of kept) {
    const reason = recreateReason(input, c);
    if (reason) actions.push({ kind: 'recreate', container: c, number: c.number, name: containerName(input.project, input.service, c.number, input.scale), reason });
    else if (c.state === 'running' || c.state === 'paused' || c.state === 'restarting') actions.push({ kind: 'keep', container: c });
    else actions.push({ kind: 'start', container: c });
  }
  for (const c of removed) actions.push({ kind: 'remove', container: c });
  // New replicas number on from the highest existing, as Compose's nextContainerNumber.
  let next = sorted.reduce((m, c) => Math.max(m, c.number), 0) + 1;
  for (let i = kept.length; i < input.scale; i++, next++) {
    actions.push({ kind: 'create', number: next, name: containerName(input.project, input.service, next, input.scale) });
  }
  return actions;
}

/** Containers of services the project no longer has (one-offs never count). */
export function orphanContainers(project: Project, containers: ObservedContainer[]): ObservedContainer[] {
  return containers.filter((c) => !c.oneoff && !project.services[c.service] && !project.disabled_services[c.service]);
}

export function orphanWarning(orphans: ObservedContainer[]): string {
  return `Found orphan containers ([${orphans.map((c) => c.name).join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`;
}
