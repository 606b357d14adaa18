// The names Compose v2 gives what it creates: containers `<project>-<service>-<n>`, one-offs
// `<project>-<service>-run-<12 hex>`, built images `<project>-<service>`; networks and volumes carry theirs in the model.
import { randomBytes } from 'node:crypto';
import type { Project, Service } from '../model';

/** A compose file the daemon cannot honour as written (names the service and the field). */
export class ComposeProjectError extends Error {
  constructor(message: string) { super(message); this.name = 'ComposeProjectError'; }
}

/** The name of replica `number` of a service; container_name holds for a single replica only. */
export function containerName(project: Project, service: Service, number: number, scale = 1): string {
  if (service.container_name) {
    if (scale > 1) {
      throw new ComposeProjectError(`services.${service.name}: container_name "${service.container_name}" is set, so the service cannot be scaled to ${scale} (container names must be unique)`);
    }
    return service.container_name;
  }
  return `${project.name}-${service.name}-${number}`;
}

export function oneOffName(project: Project, service: Service): string {
  return `${project.name}-${service.name}-run-${randomBytes(6).toString('hex')}`;
}

/** The image a service runs: `image:` as written, else the one Compose builds, `<project>-<service>`. */
export function serviceImage(project: Project, service: Service): string {
  return service.image ?? `${project.name}-${service.name}`;
}

/** Compose's temporary name while a container is recreated: the old one's short ID before the final name. */
export function recreateTempName(oldId: string, name: string): string {
  return `${oldId.slice(0, 12)}_${name}`;
}

/** The replica count: --scale, then scale:, then deploy.replicas, else 1. */
export function desiredScale(service: Service, override?: number): number {
  return override ?? service.scale ?? service.deploy?.replicas ?? 1;
}
