// `berth service create|ls|ps|inspect|logs|update|rollback|scale|rm`: flags to /services and /tasks calls as
// docker's service commands make them; the spec building, rendering and waiting live in ../swarm/.
import { Command } from 'commander';
import { DaemonError, encodeFilters } from '../api-client';
import { BerthCommand, Cli, StatusError, collect, forEach } from '../command';
import { InvalidFlagError } from '../container-options';
import { renderRows } from '../format/table';
import { getTimestamp } from '../../wire/timestamps';
import type { Service, ServiceSpec, Task } from '../../wire/swarm';
import { waitForConvergence } from '../swarm/converge';
import { inspectEach } from '../swarm/inspect';
import { SERVICE_TABLE, serviceRow } from '../swarm/render';
import { TaskLogFormatter, apiLogNames, digits, printLogStream } from '../swarm/service-logs';
import { resolveServiceImage } from '../swarm/service-image';
import { ServiceFlags, addServiceFlags } from '../swarm/service-options';
import { SpecResolver, createSpec, updateSpec } from '../swarm/service-spec';
import { printTasks, taskFilters, withTaskListOptions } from '../swarm/tasks';

/** The daemon's name → ID lookups for specs: secrets and configs by exact name, networks in swarm scope. */
export function apiResolver(cli: Cli): SpecResolver {
  const byName = (kind: 'secrets' | 'configs') => async (names: string[]) => {
    const list = await cli.api.json<{ ID: string; Spec: { Name?: string } }[]>('GET', `/${kind}`, { query: { filters: encodeFilters({ name: names }) } });
    const out: Record<string, string> = {};
    for (const o of list) if (o.Spec.Name && names.includes(o.Spec.Name)) out[o.Spec.Name] = o.ID;
    return out;
  };
  return {
    secretIds: byName('secrets'),
    configIds: byName('configs'),
    networkId: async (name) => (await cli.api.json<{ Id: string }>('GET', `/networks/${encodeURIComponent(name)}`, { query: { scope: 'swarm' } })).Id,
  };
}

export async function getService(cli: Cli, ref: string, insertDefaults = false): Promise<Service> {
  return cli.api.json<Service>('GET', `/services/${encodeURIComponent(ref)}`, { query: { insertDefaults: String(insertDefaults) } });
}

/** Prints the daemon's warnings and the client's own (the image not pinned), each followed by a newline, on stderr. */
export function printWarnings(cli: Cli, warnings: (string | undefined)[] | null | undefined): void {
  for (const w of warnings ?? []) if (w) cli.err.write(`${w}\n`);
}

/**
 * Posts a new spec for `service` at its version (the image tagged, and pinned by digest with `queryRegistry`);
 * `rollback` asks the daemon for the previous spec instead.
 */
async function postUpdate(cli: Cli, service: Service, spec: ServiceSpec, opts: { rollback?: boolean; queryRegistry?: boolean } = {}): Promise<void> {
  const warning = await resolveServiceImage(cli, spec.TaskTemplate, !!opts.queryRegistry);
  const r = await cli.api.json<{ Warnings?: string[] | null }>('POST', `/services/${service.ID}/update`, {
    query: { version: service.Version.Index, ...(opts.rollback ? { rollback: 'previous' } : { registryAuthFrom: 'spec' }) },
    body: spec,
  });
  printWarnings(cli, [...(r?.Warnings ?? []), warning]);
}

/** Waits unless -d; progress goes to stdout unless -q (docker discards it then). */
async function maybeWait(cli: Cli, id: string, o: { detach?: boolean; quiet?: boolean }, rollback = false): Promise<void> {
  if (o.detach) return;
  const sink = o.quiet ? { write: () => true } as unknown as NodeJS.WritableStream : cli.out;
  await waitForConvergence(cli, id, sink, { rollback });
}

export function serviceCommand(cli: Cli): Command {
  const svc = new BerthCommand('service').description('Manage Swarm services');
  svc.addCommand(addServiceFlags(new BerthCommand('create'), 'create')
    .description('Create a new service')
    .argument('<image>')
    .argument('[command...]')
    .passThroughOptions()
    .action(async (image: string, args: string[], o: ServiceFlags) => {
      const spec = await createSpec(o, image, args, apiResolver(cli), cli.env);
      const warning = await resolveServiceImage(cli, spec.TaskTemplate, o.resolveImage !== false);
      const r = await cli.api.json<{ ID: string; Warnings?: string[] | null }>('POST', '/services/create', { body: spec });
      printWarnings(cli, [...(r.Warnings ?? []), warning]);
      cli.out.write(`${r.ID}\n`);
      await maybeWait(cli, r.ID, o);
    }));
  svc.addCommand(new BerthCommand('ls').alias('list')
    .description('List services')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
    .option('--format <format>', 'Format output using a custom template')
    .option('-q, --quiet', 'Only display IDs')
    .action(async (o: { filter?: string[]; format?: string; quiet?: boolean }) => {
      const list = await cli.api.json<Service[]>('GET', '/services', { query: { filters: encodeFilters(o.filter ?? []), status: o.quiet ? undefined : 'true' } });
      list.sort((a, b) => (a.Spec.Name ?? '').localeCompare(b.Spec.Name ?? ''));
      cli.out.write(renderRows(list.map(serviceRow), { format: o.format ?? '', ...SERVICE_TABLE, quiet: o.quiet }));
    }));
  svc.addCommand(withTaskListOptions(new BerthCommand('ps')
    .description('List the tasks of one or more services')
    .argument('<services...>'))
    .action(async (refs: string[], o: { filter?: string[]; format?: string; trunc: boolean; quiet?: boolean }) => {
      const ids: string[] = [];
      const missing: string[] = [];
      for (const ref of refs) {
        try { ids.push((await getService(cli, ref)).ID); } catch (err) {
          if (err instanceof DaemonError && err.statusCode === 404) missing.push(`no such service: ${ref}`);
          else throw err;
        }
      }
      if (missing.length) throw new StatusError(1, missing.join('\n'));
      const filters = taskFilters({ service: ids }, o.filter, (m) => new InvalidFlagError(m));
      const tasks = await cli.api.json<Task[]>('GET', '/tasks', { query: { filters: encodeFilters(filters) } });
      await printTasks(cli, tasks, { format: o.format, quiet: o.quiet, trunc: o.trunc });
    }));
  svc.addCommand(new BerthCommand('inspect')
    .description('Display detailed information on one or more services')
    .argument('<services...>')
    .option('-f, --format <format>', 'Format output using a custom template')
    .option('--pretty', 'Print the information in a human friendly format')
    .action(async (refs: string[], o: { format?: string; pretty?: boolean }) => {
      if (o.pretty) {
        const { prettyService } = require('../swarm/service-pretty') as typeof import('../swarm/service-pretty');
        for (const r of refs) {
          const s = await getService(cli, r, true);
          const names = new Map<string, string>();
          for (const n of s.Spec.TaskTemplate.Networks ?? []) {
            const net = await cli.api.json<{ Name: string }>('GET', `/networks/${encodeURIComponent(n.Target)}`, { query: { scope: 'swarm' } }).catch(() => undefined);
            if (net) names.set(n.Target, net.Name);
          }
          cli.out.write(prettyService(s, (id) => names.get(id) ?? id));
        }
        return;
      }
      await inspectEach(cli, refs, (r) => getService(cli, r, true), o.format, 'service');
    }));
  svc.addCommand(new BerthCommand('logs')
    .description('Fetch the logs of a service or task')
    .argument('<service|task>')
    .option('--details', 'Show extra details provided to logs')
    .option('-f, --follow', 'Follow log output')
    .option('--no-resolve', 'Do not map IDs to Names in output')
    .option('--no-task-ids', 'Do not include task IDs in output')
    .option('--no-trunc', 'Do not truncate output')
    .option('--raw', 'Do not neatly format logs')
    .option('--since <time>', 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
    .option('-n, --tail <n>', 'Number of lines to show from the end of the logs', 'all')
    .option('-t, --timestamps', 'Show timestamps')
    .action(async (target: string, o: { details?: boolean; follow?: boolean; taskIds: boolean; trunc: boolean; raw?: boolean; since?: string; tail: string; timestamps?: boolean }) => {
      let path: string;
      let tty: boolean;
      let padding = 1;
      try {
        const s = await getService(cli, target);
        path = `/services/${encodeURIComponent(target)}/logs`;
        tty = !!s.Spec.TaskTemplate.ContainerSpec?.TTY;
        if (s.Spec.Mode?.Replicated?.Replicas !== undefined) padding = digits(s.Spec.Mode.Replicated.Replicas);
      } catch (err) {
        if (!(err instanceof DaemonError && err.statusCode === 404)) throw err;
        const t = await cli.api.json<Task>('GET', `/tasks/${encodeURIComponent(target)}`).catch((e: unknown) => {
          if (e instanceof DaemonError && e.statusCode === 404) throw new Error(`no such task or service: ${target}`);
          throw e;
        });
        path = `/tasks/${encodeURIComponent(target)}/logs`;
        tty = !!t.Spec.ContainerSpec?.TTY;
        padding = digits(t.Slot ?? 0);
      }
      if (tty && !o.raw) throw new Error('tty service logs only supported with --raw');
      const res = await cli.api.request('GET', path, {
        query: {
          stdout: '1', stderr: '1', tail: o.tail, follow: o.follow ? '1' : undefined, timestamps: o.timestamps ? '1' : undefined,
          details: o.details || !o.raw ? '1' : undefined, since: o.since ? getTimestamp(o.since) : undefined,
        },
      });
      const formatter = o.raw ? undefined : new TaskLogFormatter(apiLogNames(cli),
        { timestamps: !!o.timestamps, details: !!o.details, noTaskIds: !o.taskIds, noTrunc: !o.trunc, padding });
      await printLogStream(cli, res, !tty, formatter);
    }));
  svc.addCommand(addServiceFlags(new BerthCommand('update'), 'update')
    .description('Update a service')
    .argument('<service>')
    .action(async (ref: string, o: ServiceFlags) => {
      const service = await getService(cli, ref);
      if (o.rollback) {
        await postUpdate(cli, service, service.Spec, { rollback: true });
      } else {
        const spec = await updateSpec(service.Spec, o, apiResolver(cli), cli.env);
        await postUpdate(cli, service, spec, { queryRegistry: o.image !== undefined && o.resolveImage !== false });
      }
      cli.out.write(`${ref}\n`);
      await maybeWait(cli, service.ID, o, !!o.rollback);
    }));
  svc.addCommand(new BerthCommand('rollback')
    .description('Revert changes to a service\'s configuration')
    .argument('<service>')
    .option('-d, --detach', 'Exit immediately instead of waiting for the service to converge')
    .option('-q, --quiet', 'Suppress progress output')
    .action(async (ref: string, o: { detach?: boolean; quiet?: boolean }) => {
      const service = await getService(cli, ref);
      await postUpdate(cli, service, service.Spec, { rollback: true });
      cli.out.write(`${ref}\n`);
      await maybeWait(cli, service.ID, o, true);
    }));
  svc.addCommand(new BerthCommand('scale')
    .description('Scale one or multiple replicated services')
    .argument('<service=replicas...>')
    .option('-d, --detach', 'Exit immediately instead of waiting for the service to converge')
    .action(async (pairs: string[], o: { detach?: boolean }) => {
      for (const p of pairs) {
        const m = /^([^=]+)=(\d+)$/.exec(p);
        if (!m) throw new InvalidFlagError(`invalid scale specifier '${p}'.\nSee 'berth service scale --help'.\n\nUsage:  berth service scale SERVICE=REPLICAS [SERVICE=REPLICAS...]\n\nScale one or multiple replicated services`);
      }
      let failed = false;
      const scaled: string[] = [];
      for (const p of pairs) {
        const [name, n] = [p.slice(0, p.indexOf('=')), Number(p.slice(p.indexOf('=') + 1))];
        try {
          const service = await getService(cli, name);
          const spec = structuredClone(service.Spec);
          if (spec.Mode?.Replicated) spec.Mode.Replicated.Replicas = n;
          else if (spec.Mode?.ReplicatedJob) spec.Mode.ReplicatedJob.TotalCompletions = n;
          else throw new Error('scale can only be used with replicated or replicated-job mode');
          await postUpdate(cli, service, spec);
          cli.out.write(`${name} scaled to ${n}\n`);
          scaled.push(service.ID);
        } catch (err) {
          failed = true;
          cli.err.write(`${err instanceof DaemonError ? `Error response from daemon: ${err.message}` : (err as Error).message}\n`);
        }
      }
      if (!o.detach) for (const id of scaled) await waitForConvergence(cli, id, cli.out);
      if (failed) throw new StatusError(1);
    }));
  svc.addCommand(new BerthCommand('rm').alias('remove')
    .description('Remove one or more services')
    .argument('<services...>')
    .action(async (refs: string[]) => {
      await forEach(cli, refs, async (r) => { await cli.api.call('DELETE', `/services/${encodeURIComponent(r)}`); });
    }));
  return svc;
}
