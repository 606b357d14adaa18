// `compose ps`: the project's containers in Compose v2's table (NAME IMAGE COMMAND SERVICE CREATED STATUS
// PORTS), one JSON object per line, a template, IDs (-q) or service names (--services).
import { Command } from 'commander';
import { BerthCommand, collect, StatusError } from '../../../cli/command';
import { displayablePorts, goTimeString } from '../../../cli/commands/ps';
import { renderRows } from '../../../cli/format/table';
import { ellipsis, shortId, timeAgo } from '../../../util/units';
import type { ProjectContainer } from '../../project/operations';
import { projectContainers } from '../containers';
import type { ComposeSession } from '../session';

export const COMPOSE_PS_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Name: 'NAME', Names: 'NAMES', Project: 'PROJECT', Service: 'SERVICE', Image: 'IMAGE', Command: 'COMMAND',
  CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS', State: 'STATE', Status: 'STATUS', Size: 'SIZE',
  Labels: 'LABELS', Health: 'HEALTH', ExitCode: 'EXIT CODE', Networks: 'NETWORKS', Mounts: 'MOUNTS', LocalVolumes: 'LOCAL VOLUMES',
};

export const COMPOSE_PS_FORMAT = 'table {{.Name}}\t{{.Image}}\t{{.Command}}\t{{.Service}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}';

/** One container as Compose v2's formatter.ContainerContext exposes it to templates and JSON. */
export class ComposeContainerRow {
  constructor(private readonly c: ProjectContainer, private readonly trunc: boolean, private readonly now = Date.now()) {}

  get ID(): string { return this.trunc ? shortId(this.c.id) : this.c.id; }
  get Name(): string { return this.c.name; }
  get Names(): string { return this.c.name; }
  get Project(): string { return this.c.labels['com.docker.compose.project'] ?? ''; }
  get Service(): string { return this.c.service; }
  get Image(): string { return this.c.image; }
  get Command(): string { return JSON.stringify(this.trunc ? ellipsis(this.c.command, 20) : this.c.command); }
  get CreatedAt(): string { return goTimeString(new Date(this.c.created * 1000)); }
  get RunningFor(): string { return timeAgo(this.c.created, this.now); }
  get ExitCode(): number { return this.c.exitCode; }
  get State(): string { return this.c.state; }
  get Status(): string { return this.c.status; }
  get Health(): string { return this.c.health; }
  get Ports(): string { return displayablePorts(this.c.ports); }
  get Publishers(): { URL: string; TargetPort: number; PublishedPort: number; Protocol: string }[] {
    return this.c.ports.map((p) => ({ URL: p.IP ?? '', TargetPort: p.PrivatePort, PublishedPort: p.PublicPort ?? 0, Protocol: p.Type }));
  }
  get Labels(): string { return Object.entries(this.c.labels).map(([k, v]) => `${k}=${v}`).join(','); }
  Label(name: string): string { return this.c.labels[name] ?? ''; }
  get Networks(): string { return this.c.networks.join(','); }
  get Mounts(): string { return ''; }
  get LocalVolumes(): string { return '0'; }
  get Size(): string { return '0B'; }

  /** The keys Compose's JSON carries, in its (alphabetical) order. */
  toJSON(): Record<string, unknown> {
    return {
      Command: this.Command, CreatedAt: this.CreatedAt, ExitCode: this.ExitCode, Health: this.Health, ID: this.ID, Image: this.Image,
      Labels: this.Labels, LocalVolumes: this.LocalVolumes, Mounts: this.Mounts, Name: this.Name, Names: this.Names, Networks: this.Networks,
      Ports: this.Ports, Project: this.Project, Publishers: this.Publishers, RunningFor: this.RunningFor, Service: this.Service,
      Size: this.Size, State: this.State, Status: this.Status,
    };
  }
}

export interface ComposePsFlags {
  all?: boolean; quiet?: boolean; services?: boolean; status?: string[]; filter?: string[]; format?: string; trunc: boolean; orphans: boolean;
}

const STATES = ['paused', 'restarting', 'removing', 'running', 'dead', 'created', 'exited'];

/** The --status values and `--filter status=` values together, checked against Docker's states. */
export function statusFilter(o: Pick<ComposePsFlags, 'status' | 'filter'>): string[] {
  const out = [...(o.status ?? [])];
  for (const f of o.filter ?? []) {
    const [key, value] = f.split('=', 2) as [string, string | undefined];
    if (key !== 'status' || value === undefined) throw new StatusError(1, `unknown filter ${key}`);
    out.push(value);
  }
  for (const st of out) if (!STATES.includes(st)) throw new StatusError(1, `invalid filter 'status=${st}'`);
  return out;
}

/** Renders containers as `compose ps` does for its flags. */
export function renderPs(list: ProjectContainer[], o: ComposePsFlags, now = Date.now()): string {
  if (o.services) return [...new Set(list.map((c) => c.service))].map((svc) => `${svc}\n`).join('');
  if (o.quiet) return list.map((c) => `${c.id}\n`).join('');
  const rows = list.map((c) => new ComposeContainerRow(c, o.trunc, now));
  return renderRows(rows, { format: o.format === 'table' ? '' : o.format ?? '', defaultFormat: COMPOSE_PS_FORMAT, headers: COMPOSE_PS_HEADERS });
}

export function psCommand(s: ComposeSession): Command {
  return new BerthCommand('ps')
    .description('List containers')
    .usage('[OPTIONS] [SERVICE...]')
    .argument('[services...]')
    .option('-a, --all', 'Show all stopped containers (including those created by the run command)')
    .option('--filter <filter>', 'Filter services by a property (supported filters: status)', collect)
    .option('--format <format>', 'Format output using a custom template: table, json, or a Go template', 'table')
    .option('--no-trunc', "Don't truncate output")
    .option('--no-orphans', "Don't include orphaned services")
    .option('-q, --quiet', 'Only display IDs')
    .option('--services', 'Display services')
    .option('--status <status>', 'Filter services by status. Values: [paused | restarting | removing | running | dead | created | exited]', collect)
    .action(async (services: string[], o: ComposePsFlags) => {
      const statuses = statusFilter(o);
      const project = await s.projectName();
      let list = await projectContainers(s.cli.api, project, { all: !!o.all || statuses.length > 0, services });
      // One-off containers only with -a, as Compose shows them.
      if (!o.all) list = list.filter((c) => !c.oneoff);
      if (statuses.length) list = list.filter((c) => statuses.includes(c.state));
      s.cli.out.write(renderPs(list, o));
    });
}
