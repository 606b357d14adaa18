// The com.docker.compose.* labels Compose v2 sets: how Compose (and `ps`, `down`, docker-compose 1.29)
// finds a project's containers, networks and volumes again and knows what each was made from.
import type { ContainerSummary } from '../../wire/docker';
import { COMPOSE_VERSION, LABEL, type Network, type Project, type Service, type Volume } from '../model';

/** Compose's depends_on label: `svc:condition:restart`, comma-joined, in the order written. */
export function dependsOnLabel(service: Service): string {
  return Object.entries(service.depends_on ?? {})
    .map(([name, d]) => `${name}:${d.condition}:${d.restart === true}`)
    .join(',');
}

export interface ContainerLabelInput {
  number: number;
  oneoff: boolean;
  configHash: string;
  /** The image ID the container was created from (com.docker.compose.image). */
  imageId: string;
  /** Extra labels written beside Compose's (the per-field hashes of config-hash.ts). */
  extra?: Record<string, string>;
  /** The --env-file files the project was loaded with (com.docker.compose.project.environment_file). */
  envFiles?: string[];
}

export function projectFilter(project: Project): string {
  return `${LABEL.project}=${project.name}`;
}

export function containerLabels(project: Project, service: Service, input: ContainerLabelInput): Record<string, string> {
  const labels: Record<string, string> = {
    ...(service.labels ?? {}),
    ...(input.extra ?? {}),
    [LABEL.project]: project.name,
    [LABEL.service]: service.name,
    [LABEL.containerNumber]: String(input.number),
    [LABEL.oneoff]: input.oneoff ? 'True' : 'False',
    [LABEL.configHash]: input.configHash,
    [LABEL.image]: input.imageId,
    [LABEL.workingDir]: project.working_dir,
    [LABEL.configFiles]: project.config_files.join(','),
    [LABEL.dependsOn]: dependsOnLabel(service),
    [LABEL.version]: COMPOSE_VERSION,
  };
  if (input.envFiles?.length) labels[LABEL.environmentFile] = input.envFiles.join(',');
  return labels;
}

export function networkLabels(project: Project, key: string, network: Network): Record<string, string> {
  return { ...(network.labels ?? {}), [LABEL.project]: project.name, [LABEL.network]: key, [LABEL.version]: COMPOSE_VERSION };
}

export function volumeLabels(project: Project, key: string, volume: Volume): Record<string, string> {
  return { ...(volume.labels ?? {}), [LABEL.project]: project.name, [LABEL.volume]: key, [LABEL.version]: COMPOSE_VERSION };
}

/** Which container of the project a listed one is, read back from its name and labels. */
export function containerIdentity(c: ContainerSummary): { id: string; name: string; service: string; number: number; oneoff: boolean; labels: Record<string, string> } {
  const labels = c.Labels ?? {};
  return {
    id: c.Id,
    name: (c.Names?.[0] ?? '').replace(/^\//, ''),
    service: labels[LABEL.service] ?? '',
    number: Number(labels[LABEL.containerNumber] ?? 0) || 0,
    oneoff: labels[LABEL.oneoff] === 'True',
    labels,
  };
}
