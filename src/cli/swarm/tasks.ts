// Printing task lists (`service ps`, `node ps`, `stack ps`): the names docker's idresolver looks up
// (service name, node name or hostname), each fetched once, then the rows of render.ts.
import { DaemonError } from '../api-client';
import type { Cli } from '../command';
import { renderRows } from '../format/table';
import type { Node, Service, Task } from '../../wire/swarm';
import { TASK_TABLE, taskRows } from './render';

export interface TaskListOptions { format?: string; quiet?: boolean; trunc: boolean }

/** Fetches `path` once per ID; a missing object keeps its ID, as docker's resolver does. */
async function namesOf(cli: Cli, ids: string[], path: (id: string) => string, name: (obj: never) => string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  await Promise.all([...new Set(ids)].map(async (id) => {
    try {
      out.set(id, name(await cli.api.json<never>('GET', path(id))));
    } catch (err) {
      if (!(err instanceof DaemonError && err.statusCode === 404)) throw err;
      out.set(id, id);
    }
  }));
  return out;
}

export async function printTasks(cli: Cli, tasks: Task[], o: TaskListOptions): Promise<void> {
  const format = o.format ?? '';
  const table = !format || format.startsWith('table');
  if (o.quiet && !format) {
    for (const t of tasks) cli.out.write(`${o.trunc ? t.ID.slice(0, 12) : t.ID}\n`);
    return;
  }
  const services = await namesOf(cli, tasks.map((t) => t.ServiceID), (id) => `/services/${id}?insertDefaults=false`,
    (s: Service) => s.Spec.Name ?? s.ID);
  const nodes = await namesOf(cli, tasks.flatMap((t) => (t.NodeID ? [t.NodeID] : [])), (id) => `/nodes/${id}`,
    (n: Node) => n.Spec.Name || n.Description.Hostname);
  const rows = taskRows(tasks, { service: (id) => services.get(id) ?? id, node: (id) => nodes.get(id) ?? id }, { trunc: o.trunc, table });
  cli.out.write(renderRows(rows, { format, ...TASK_TABLE, quiet: o.quiet }));
}
