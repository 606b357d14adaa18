// The read-only verbs over a project's containers, from labels and the API: images, port, top, events, wait.
import { Command } from 'commander';
import { encodeFilters, jsonValues } from '../../../cli/api-client';
import { BerthCommand, intArg, StatusError } from '../../../cli/command';
import { tabwrite } from '../../../cli/format/table';
import { humanSize, shortId, timeAgo } from '../../../util/units';
import { LABEL } from '../../model';
import { projectContainers, serviceContainer } from '../containers';
import type { ComposeSession } from '../session';

export function imagesCommand(s: ComposeSession): Command {
  return new BerthCommand('images')
    .description('List images used by the created containers')
    .argument('[services...]')
    .option('--format <format>', 'Format the output. Values: [table | json]', 'table')
    .option('-q, --quiet', 'Only display IDs')
    .action(async (services: string[], o: { format: string; quiet?: boolean }) => {
      const project = await s.projectName();
      const list = await projectContainers(s.cli.api, project, { all: true, services });
      const rows: { ContainerName: string; Repository: string; Tag: string; ID: string; Size: number; Created: number }[] = [];
      for (const c of list) {
        const image = await s.cli.api.json<{ Id: string; RepoTags?: string[]; Size: number; Created: string }>('GET', `/images/${encodeURIComponent(c.image)}/json`).catch(() => undefined);
        if (!image) continue;
        const tag = image.RepoTags?.find((t) => t === c.image || t === `${c.image}:latest`) ?? image.RepoTags?.[0] ?? '<none>:<none>';
        const colon = tag.lastIndexOf(':');
        rows.push({ ContainerName: c.name, Repository: tag.slice(0, colon), Tag: tag.slice(colon + 1), ID: image.Id, Size: image.Size, Created: Date.parse(image.Created) / 1000 });
      }
      if (o.quiet) { s.cli.out.write([...new Set(rows.map((r) => `${shortId(r.ID)}\n`))].join('')); return; }
      if (o.format === 'json') { s.cli.out.write(`${JSON.stringify(rows.map((r) => ({ ...r, LastTagTime: '0001-01-01T00:00:00Z' })))}\n`); return; }
      const lines = ['CONTAINER\tREPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\n',
        ...rows.map((r) => `${r.ContainerName}\t${r.Repository}\t${r.Tag}\t${shortId(r.ID)}\t${timeAgo(r.Created)}\t${humanSize(r.Size, 3)}\n`)];
      s.cli.out.write(tabwrite(lines.join(''), 20, 3));
    });
}

type PortMap = Record<string, { HostIp: string; HostPort: string }[] | null>;

export function portCommand(s: ComposeSession): Command {
  return new BerthCommand('port')
    .description('Print the public port for a port binding')
    .usage('[OPTIONS] SERVICE PRIVATE_PORT')
    .argument('<service>')
    .argument('<private_port>')
    .option('--index <n>', 'Index of the container if service has multiple replicas', intArg('index'))
    .option('--protocol <proto>', 'tcp or udp', 'tcp')
    .action(async (service: string, port: string, o: { index?: number; protocol: string }) => {
      const project = await s.projectName();
      const c = await serviceContainer(s.cli.api, project, service, o.index);
      const inspect = await s.cli.api.json<{ NetworkSettings: { Ports: PortMap | null } }>('GET', `/containers/${c.id}/json`);
      const bindings = inspect.NetworkSettings?.Ports?.[`${port}/${o.protocol}`];
      if (!bindings?.length) throw new StatusError(1, `no port ${port}/${o.protocol} for container ${c.name}: not published`);
      const b = bindings.find((x) => !x.HostIp.includes(':')) ?? bindings[0]!;
      s.cli.out.write(`${b.HostIp.includes(':') ? `[${b.HostIp}]` : b.HostIp || '0.0.0.0'}:${b.HostPort}\n`);
    });
}

export function topCommand(s: ComposeSession): Command {
  return new BerthCommand('top')
    .description('Display the running processes')
    .argument('[services...]')
    .action(async (services: string[]) => {
      const project = await s.projectName();
      const list = await projectContainers(s.cli.api, project, { all: false, services });
      for (const c of list) {
        const r = await s.cli.api.json<{ Titles: string[]; Processes: string[][] }>('GET', `/containers/${c.id}/top`);
        const lines = [r.Titles.join('\t'), ...(r.Processes ?? []).map((p) => p.join('\t'))].join('\n');
        s.cli.out.write(`${c.name}\n${tabwrite(`${lines}\n`, 4, 2)}\n`);
      }
    });
}

interface EventMessage { Type?: string; Action?: string; id?: string; time?: number; timeNano?: number; Actor?: { ID: string; Attributes?: Record<string, string> } }

/** One event as `compose events` prints it: time, type, action, id, then the attributes. */
export function formatComposeEvent(ev: EventMessage, json: boolean): string {
  const attrs = { ...(ev.Actor?.Attributes ?? {}) };
  const service = attrs[LABEL.service] ?? '';
  const time = new Date(Math.floor((ev.timeNano ?? (ev.time ?? 0) * 1e9) / 1e6)).toISOString();
  const id = ev.Actor?.ID ?? ev.id ?? '';
  const image = attrs.image ?? '';
  const name = attrs.name ?? '';
  if (json) return `${JSON.stringify({ action: ev.Action, attributes: { image, name }, id, service, time, type: ev.Type })}\n`;
  return `${time} ${ev.Type} ${ev.Action} ${id} (image=${image}, name=${name})\n`;
}

export function eventsCommand(s: ComposeSession): Command {
  return new BerthCommand('events')
    .description('Receive real time events from containers')
    .argument('[services...]')
    .option('--json', 'Output events as a stream of json objects')
    .option('--since <time>', 'Show all events created since timestamp')
    .option('--until <time>', 'Stream events until this timestamp')
    .action(async (services: string[], o: { json?: boolean; since?: string; until?: string }) => {
      const project = await s.projectName();
      const res = await s.cli.api.request('GET', '/events', {
        query: { since: o.since, until: o.until, filters: encodeFilters({ type: ['container'], label: [`${LABEL.project}=${project}`] }) },
      });
      const stop = () => res.destroy();
      process.once('SIGINT', stop);
      try {
        for await (const ev of jsonValues<EventMessage>(res)) {
          const service = ev.Actor?.Attributes?.[LABEL.service] ?? '';
          if (services.length && !services.includes(service)) continue;
          s.cli.out.write(formatComposeEvent(ev, !!o.json));
        }
      } catch { /* interrupted */ } finally {
        process.removeListener('SIGINT', stop);
      }
    });
}

export function waitCommand(s: ComposeSession): Command {
  return new BerthCommand('wait')
    .description('Block until containers of all (or specified) services stop.')
    .argument('<services...>')
    .option('--down-project', 'Drops project when the first container stops')
    .action(async (services: string[], o: { downProject?: boolean }) => {
      const project = await s.projectName();
      const list = await projectContainers(s.cli.api, project, { all: true, services, oneoff: false });
      if (!list.length) throw new StatusError(1, `no containers for project "${project}"`);
      const codes = list.map(async (c) => {
        const r = await s.cli.api.json<{ StatusCode: number }>('POST', `/containers/${c.id}/wait`, { query: { condition: 'not-running' } });
        return r.StatusCode;
      });
      let status: number;
      if (o.downProject) {
        status = await Promise.race(codes);
        const ops = await s.operations();
        await ops.down({ removeOrphans: false, volumes: false });
      } else status = (await Promise.all(codes)).find((c) => c !== 0) ?? 0;
      s.cli.out.write(`${status}\n`);
      if (status !== 0) throw new StatusError(status);
    });
}
