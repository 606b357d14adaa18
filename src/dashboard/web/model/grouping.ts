// The containers table's rows: containers grouped by Compose project, then by cluster service, then the rest,
// flattened into one list of header and container rows so the table can render only the visible window.
import type { ContainerSummary } from '../../../wire/docker';

export const COMPOSE_PROJECT_LABEL = 'com.docker.compose.project';
export const SERVICE_NAME_LABEL = 'com.docker.swarm.service.name';

export type GroupKind = 'compose' | 'service';

export type TableRow =
  | { type: 'group'; kind: GroupKind; name: string; count: number; running: number }
  | { type: 'container'; container: ContainerSummary; grouped: boolean };

/** The container's name without the leading slash Docker keeps. */
export function containerName(c: Pick<ContainerSummary, 'Names' | 'Id'>): string {
  const name = c.Names?.[0];
  return name ? name.replace(/^\//, '') : c.Id.slice(0, 12);
}

/** Which group a container belongs to: its Compose project first (a stack's service also carries one), else its service. */
export function groupOf(c: Pick<ContainerSummary, 'Labels'>): { kind: GroupKind; name: string } | undefined {
  const labels = c.Labels ?? {};
  const project = labels[COMPOSE_PROJECT_LABEL];
  if (project) return { kind: 'compose', name: project };
  const service = labels[SERVICE_NAME_LABEL];
  if (service) return { kind: 'service', name: service };
  return undefined;
}

const byName = (a: ContainerSummary, b: ContainerSummary) => containerName(a).localeCompare(containerName(b));

/** Groups (compose projects, then services, each by name) with their containers, then ungrouped containers by name. */
export function tableRows(containers: readonly ContainerSummary[]): TableRow[] {
  const groups = new Map<string, { kind: GroupKind; name: string; members: ContainerSummary[] }>();
  const loose: ContainerSummary[] = [];
  for (const c of containers) {
    const g = groupOf(c);
    if (!g) { loose.push(c); continue; }
    const key = `${g.kind}\0${g.name}`;
    let entry = groups.get(key);
    if (!entry) groups.set(key, (entry = { ...g, members: [] }));
    entry.members.push(c);
  }
  const kindOrder: Record<GroupKind, number> = { compose: 0, service: 1 };
  const ordered = [...groups.values()].sort((a, b) => kindOrder[a.kind] - kindOrder[b.kind] || a.name.localeCompare(b.name));
  const rows: TableRow[] = [];
  for (const g of ordered) {
    const members = g.members.sort(byName);
    rows.push({ type: 'group', kind: g.kind, name: g.name, count: members.length, running: members.filter((c) => c.State === 'running').length });
    for (const container of members) rows.push({ type: 'container', container, grouped: true });
  }
  for (const container of loose.sort(byName)) rows.push({ type: 'container', container, grouped: false });
  return rows;
}

/** Containers whose name, image, ID, state, command or any label value contains the text (case-insensitive). */
export function matchesFilter(c: ContainerSummary, text: string): boolean {
  const needle = text.trim().toLowerCase();
  if (!needle) return true;
  const hay = [containerName(c), c.Image, c.Id, c.State, c.Command, ...Object.values(c.Labels ?? {})];
  return hay.some((s) => typeof s === 'string' && s.toLowerCase().includes(needle));
}
