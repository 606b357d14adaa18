// The read-only verbs over a project's containers, from labels and the API: images, port, top, events, wait.
import { Command } from 'commander';
import { encodeFilters, jsonValues } from '../../../cli/api-client';
import { BerthCommand, intArg, StatusError } from '../../../cli/command';
import { tabwrite } from '../../../cli/format/table';
import { humanSize, shortId, timeAgo } from '../../../util/units';
import { LABEL } from '../../model';
import { projectContainers, serviceContainer } from '../containers';
import { onInterrupt } from '../interrupt';
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
      const rows: ImageRow[] = [];
      for (const c of list) {
        const image = await s.cli.api.json<{ Id: string; RepoTags?: string[]; Size: number; Created: string; Os?: string; Architecture?: string; Variant?: string }>(
          'GET', `/images/${encodeURIComponent(c.image)}/json`).catch(() => undefined);
        if (!image) continue;
        const tag = image.RepoTags?.find((t) => t === c.image || t === `${c.image}:latest`) ?? image.RepoTags?.[0] ?? '';
        const colon = tag.lastIndexOf(':');
        rows.push({
          ID: image.Id, ContainerName: c.name, Repository: tag ? tag.slice(0, colon) : '', Tag: tag ? tag.slice(colon + 1) : '',
          Platform: [image.Os, image.Architecture, image.Variant].filter(Boolean).join('/'), Size: image.Size, Created: image.Created,
        });
      }
      s.cli.out.write(renderComposeImages(rows, o.format, !!o.quiet));
    });
}

/** An image row as Compose v2's `images --format json` prints it. */
export interface ImageRow { ID: string; ContainerName: string; Repository: string; Tag: string; Platform: string; Size: number; Created: string }

/** Compose v2's images output: IDs (-q, without "sha256:"), a JSON array, or its table sorted by container. */
export function renderComposeImages(rows: ImageRow[], format: string, quiet: boolean, now = Date.now()): string {
  if (quiet) return [...new Set(rows.map((r) => r.ID.replace(/^[^:]*:/, '')))].map((id) => `${id}\n`).join('');
  if (format === 'json') return `${JSON.stringify(rows)}\n`;
  if (format !== 'table') throw new StatusError(1, `format value "${format}" could not be parsed: parsing failed`);
  const sorted = [...rows].sort((a, b) => (a.ContainerName < b.ContainerName ? -1 : a.ContainerName > b.ContainerName ? 1 : 0));
  const lines = ['CONTAINER\tREPOSITORY\tTAG\tPLATFORM\tIMAGE ID\tSIZE\tCREATED\n', ...sorted.map((r) => {
    const created = r.Created ? timeAgo(Date.parse(r.Created) / 1000, now) : 'N/A';
    return `${r.ContainerName}\t${r.Repository || '<none>'}\t${r.Tag || '<none>'}\t${r.Platform}\t${shortId(r.ID)}\t${humanSize(r.Size, 3)}\t${created}\n`;
  })];
  return tabwrite(lines.join(''), 20, 3);
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

/** Go's time.Format("2006-01-02 15:04:05.000000") in local time. */
function eventClock(d: Date, micros: number): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(micros, 6)}`;
}

/** Go's RFC 3339 with nanoseconds (trailing zeros dropped) and the local offset, as json.Marshal writes a time.Time. */
function eventRfc3339(d: Date, nanos: number): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const frac = nanos ? `.${p(nanos, 9).replace(/0+$/, '')}` : '';
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}${frac}${zone}`;
}

/**
 * One event as `compose events` prints it (Compose v2's api.Event): `<time> container <action> <id> (k=v, ...)`,
 * or with --json {action, attributes, id, service, time, type}; the attributes without the compose labels.
 */
export function formatComposeEvent(ev: EventMessage, json: boolean): string {
  const attributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(ev.Actor?.Attributes ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    // Compose's own labels are left out; Berth's (io.berth.compose.*) are of the same kind.
    if (!k.startsWith('com.docker.compose.') && !k.startsWith('io.berth.compose.')) attributes[k] = v;
  }
  const service = ev.Actor?.Attributes?.[LABEL.service] ?? '';
  const nanoTotal = BigInt(ev.timeNano ?? (ev.time ?? 0) * 1e9);
  const nanos = Number(nanoTotal % 1_000_000_000n);
  const date = new Date(Number(nanoTotal / 1_000_000n));
  const id = ev.Actor?.ID ?? ev.id ?? '';
  if (json) return `${JSON.stringify({ action: ev.Action, attributes, id, service, time: eventRfc3339(date, nanos), type: 'container' })}\n`;
  const attrs = Object.entries(attributes).map(([k, v]) => `${k}=${v}`).join(', ');
  return `${eventClock(date, Math.floor(nanos / 1000))} container ${ev.Action} ${id} (${attrs})\n`;
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
      // Compose's events end only on Ctrl-C (or --until), with its 130.
      let interrupted = false;
      const unregister = onInterrupt(() => { interrupted = true; res.destroy(); });
      try {
        for await (const ev of jsonValues<EventMessage>(res)) {
          if (ev.Type !== 'container' || ev.Actor?.Attributes?.[LABEL.oneoff] === 'True') continue;
          const service = ev.Actor?.Attributes?.[LABEL.service] ?? '';
          if (services.length && !services.includes(service)) continue;
          s.cli.out.write(formatComposeEvent(ev, !!o.json));
        }
      } catch { /* interrupted */ } finally {
        unregister();
      }
      if (interrupted) throw new StatusError(130);
    });
}

export function waitCommand(s: ComposeSession): Command {
  return new BerthCommand('wait')
    .description('Block until containers of all (or specified) services stop.')
    .argument('<services...>')
    .option('--down-project', 'Drops project when the first container stops')
    .action(async (services: string[], o: { downProject?: boolean }) => {
      const project = await s.projectName();
      // As Compose v2: the running containers (one-offs too); each exit is printed; the exit code is the last one's.
      const list = await projectContainers(s.cli.api, project, { all: false, services });
      if (!list.length) throw new StatusError(1, `no containers for project "${project}"`);
      let status = 0;
      const exits = list.map(async (c) => {
        const r = await s.cli.api.json<{ StatusCode: number }>('POST', `/containers/${c.id}/wait`, { query: { condition: 'not-running' } });
        s.cli.out.write(`container ${JSON.stringify(c.id)} exited with status code ${r.StatusCode}\n`);
        status = r.StatusCode;
      });
      if (o.downProject) {
        await Promise.race(exits);
        const ops = await s.operations();
        await ops.down({ removeOrphans: true, volumes: false });
      } else await Promise.all(exits);
      if (status !== 0) throw new StatusError(status);
    });
}
