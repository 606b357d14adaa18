// Printing task lists (`service ps`, `node ps`, `stack ps`): the names docker's idresolver looks up
// (service name, node name or hostname), each fetched once, then the rows of render.ts.
import type { Command } from 'commander';
import { DaemonError } from '../api-client';
import { collect, type Cli } from '../command';
import { renderRows } from '../format/table';
import type { Node, Service, Task } from '../../wire/swarm';
import { TASK_TABLE, taskRows } from './render';

export interface TaskListOptions { format?: string; quiet?: boolean; trunc: boolean }

/** The flags `node ps` and `service ps` share, as docker's. */
export function withTaskListOptions(cmd: Command): Command {
  return cmd
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
    .option('--format <format>', 'Pretty-print tasks using a Go template')
    .option('--no-resolve', 'Do not map IDs to Names')
    .option('--no-trunc', 'Do not truncate output')
    .option('-q, --quiet', 'Only display task IDs');
}

/** The /tasks filters of a ps: its scope (the nodes or services asked for) plus the `-f name=value` flags. */
export function taskFilters(scope: Record<string, string[]>, flags: string[] | undefined, badFormat: (message: string) => Error): Record<string, string[]> {
  const filters: Record<string, string[]> = { ...scope };
  for (const f of flags ?? []) {
    const i = f.indexOf('=');
    if (i < 0) throw badFormat('bad format of filter (expected name=value)');
    (filters[f.slice(0, i)] ??= []).push(f.slice(i + 1));
  }
  return filters;
}

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
