// A project's containers as the daemon lists them, found by Compose's labels: what the read-only verbs
// (ps, logs, exec, port, top, images, cp) work on, with no compose file needed.
import type { ApiClient } from '../../cli/api-client';
import { encodeFilters } from '../../cli/api-client';
import type { ContainerSummary } from '../../wire/docker';
import { LABEL } from '../model';
import type { ProjectContainer } from '../project/operations';

export interface ContainerQuery {
  all: boolean;
  services?: string[];
  /** true: only one-off (`run`) containers; false: only service containers; undefined: both. */
  oneoff?: boolean;
}

/** The project's containers, ordered by service then number (as Compose prints them). */
export async function projectContainers(api: ApiClient, project: string, q: ContainerQuery): Promise<ProjectContainer[]> {
  const labels = [`${LABEL.project}=${project}`];
  if (q.oneoff !== undefined) labels.push(`${LABEL.oneoff}=${q.oneoff ? 'True' : 'False'}`);
  if (q.services?.length === 1) labels.push(`${LABEL.service}=${q.services[0]}`);
  const list = await api.json<ContainerSummary[]>('GET', '/containers/json', {
    query: { all: q.all || undefined, filters: encodeFilters({ label: labels }) },
  });
  const wanted = q.services?.length ? new Set(q.services) : undefined;
  return list
    .filter((c) => !wanted || wanted.has(c.Labels?.[LABEL.service] ?? ''))
    .map(toProjectContainer)
    .sort((a, b) => a.service.localeCompare(b.service) || Number(a.oneoff) - Number(b.oneoff) || a.number - b.number || a.name.localeCompare(b.name));
}

export function toProjectContainer(c: ContainerSummary): ProjectContainer {
  const labels = c.Labels ?? {};
  return {
    id: c.Id,
    name: (c.Names?.[0] ?? '').replace(/^\//, ''),
    service: labels[LABEL.service] ?? '',
    number: Number(labels[LABEL.containerNumber] ?? 0),
    oneoff: labels[LABEL.oneoff] === 'True',
    image: c.Image,
    command: c.Command ?? '',
    created: c.Created,
    state: c.State,
    status: c.Status,
    health: healthOf(c.Status),
    exitCode: exitCodeOf(c.Status),
    labels,
    ports: (c.Ports ?? []).map((p) => ({ IP: p.IP, PrivatePort: p.PrivatePort, PublicPort: p.PublicPort, Type: p.Type })),
    networks: Object.keys(c.NetworkSettings?.Networks ?? {}),
  };
}

/** The health the daemon put in the status text ("Up 3 seconds (healthy)"). */
function healthOf(status: string): string {
  const m = /\((healthy|unhealthy|health: starting)\)/.exec(status ?? '');
  if (!m) return '';
  return m[1] === 'health: starting' ? 'starting' : m[1]!;
}

function exitCodeOf(status: string): number {
  const m = /^Exited \((\d+)\)/.exec(status ?? '');
  return m ? Number(m[1]) : 0;
}

/** A container's name as Compose shows it in log prefixes: without the `<project>-` in front. */
export function nameWithoutProject(c: ProjectContainer, project: string): string {
  return c.name.startsWith(`${project}-`) ? c.name.slice(project.length + 1) : c.name;
}

export class NoContainerError extends Error {}

/** The container of a service a verb addresses with --index (default the first), as Compose picks it. */
export async function serviceContainer(api: ApiClient, project: string, service: string, index: number | undefined, all = false): Promise<ProjectContainer> {
  const list = (await projectContainers(api, project, { all, services: [service], oneoff: false }));
  if (index !== undefined && index > 0) {
    const c = list.find((x) => x.number === index);
    if (!c) throw new NoContainerError(`service "${service}" is not running container #${index}`);
    return c;
  }
  if (!list.length) throw new NoContainerError(`service "${service}" is not running`);
  return list[0]!;
}
