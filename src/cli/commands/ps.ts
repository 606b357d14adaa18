// `berth ps` / `container ls`: GET /containers/json rendered as docker's container table.
import { Command } from 'commander';
import type { ContainerSummary, Port } from '../../wire/docker';
import { encodeFilters } from '../api-client';
import { BerthCommand, Cli, collect } from '../command';
import { renderRows } from '../format/table';
import { ellipsis, humanSize, shortId, timeAgo } from '../../util/units';

export const PS_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED',
  Ports: 'PORTS', State: 'STATE', Status: 'STATUS', Size: 'SIZE', Names: 'NAMES', Labels: 'LABELS',
  Mounts: 'MOUNTS', Networks: 'NETWORKS', LocalVolumes: 'LOCAL VOLUMES',
};

function comparePorts(a: Port, b: Port): number {
  if (a.PrivatePort !== b.PrivatePort) return a.PrivatePort - b.PrivatePort;
  if ((a.IP ?? '') !== (b.IP ?? '')) return (a.IP ?? '') < (b.IP ?? '') ? -1 : 1;
  if ((a.PublicPort ?? 0) !== (b.PublicPort ?? 0)) return (a.PublicPort ?? 0) - (b.PublicPort ?? 0);
  return a.Type < b.Type ? -1 : a.Type > b.Type ? 1 : 0;
}

function joinHostPort(ip: string, port: string): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** docker's formatter.DisplayablePorts: "0.0.0.0:8080->80/tcp, 9000-9001/tcp". */
export function displayablePorts(input: Port[]): string {
  const ports = [...input].sort(comparePorts);
  const groups = new Map<string, { first: number; last: number }>();
  const result: string[] = [];
  const hostMappings: string[] = [];
  const formGroup = (key: string, first: number, last: number) => {
    const parts = key.split('/');
    let type = parts[0];
    let ip = '';
    if (parts.length > 1) { ip = parts[0]; type = parts[1]; }
    let group = first === last ? `${first}` : `${first}-${last}`;
    if (ip) group = `${joinHostPort(ip, group)}->${group}`;
    return `${group}/${type}`;
  };
  for (const p of ports) {
    const current = p.PrivatePort;
    let key = p.Type;
    if (p.IP) {
      if (p.PublicPort !== current) {
        hostMappings.push(`${joinHostPort(p.IP, String(p.PublicPort))}->${p.PrivatePort}/${p.Type}`);
        continue;
      }
      key = `${p.IP}/${p.Type}`;
    }
    const g = groups.get(key);
    if (!g) { groups.set(key, { first: current, last: current }); continue; }
    if (current === g.last + 1) { g.last = current; continue; }
    result.push(formGroup(key, g.first, g.last));
    groups.set(key, { first: current, last: current });
  }
  for (const [key, g] of groups) result.push(formGroup(key, g.first, g.last));
  return [...result, ...hostMappings].join(', ');
}

/** Go's time.Time.String() in local time: "2024-05-01 12:00:00 +0200 CEST". */
export function goTimeString(date: Date): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const off = -date.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const zone = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(date).find((p) => p.type === 'timeZoneName')?.value ?? '';
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())} ` +
    `${sign}${pad(Math.trunc(Math.abs(off) / 60))}${pad(Math.abs(off) % 60)} ${zone === 'GMT' || zone === 'UTC' ? 'UTC' : zone}`;
}

/** The template context of one container, as docker's formatter.ContainerContext exposes it. */
export class ContainerRow {
  constructor(private readonly c: ContainerSummary, private readonly trunc: boolean, private readonly now = Date.now()) {}

  get ID(): string { return this.trunc ? shortId(this.c.Id) : this.c.Id; }
  get Image(): string {
    const image = this.c.Image || '<no image>';
    if (!this.trunc) return image;
    if (image.startsWith('sha256:')) return shortId(image);
    const at = image.indexOf('@');
    return at > 0 ? image.slice(0, at) : image;
  }
  get Command(): string { return JSON.stringify(this.trunc ? ellipsis(this.c.Command ?? '', 20) : this.c.Command ?? ''); }
  get CreatedAt(): string { return goTimeString(new Date(this.c.Created * 1000)); }
  get RunningFor(): string { return timeAgo(this.c.Created, this.now); }
  get Ports(): string { return displayablePorts(this.c.Ports ?? []); }
  get State(): string { return this.c.State; }
  get Status(): string { return this.c.Status; }
  get Size(): string {
    if (this.c.SizeRw === undefined && this.c.SizeRootFs === undefined) return '';
    const rw = humanSize(this.c.SizeRw ?? 0, 3);
    return (this.c.SizeRootFs ?? 0) > 0 ? `${rw} (virtual ${humanSize(this.c.SizeRootFs ?? 0, 3)})` : rw;
  }
  get Names(): string {
    const names = (this.c.Names ?? []).map((n) => n.replace(/^\//, ''));
    return (this.trunc ? names.filter((n) => !n.includes('/')) : names).join(',');
  }
  get Labels(): string {
    return Object.keys(this.c.Labels ?? {}).sort().map((k) => `${k}=${this.c.Labels[k]}`).join(',');
  }
  Label(name: string): string { return this.c.Labels?.[name] ?? ''; }
  get Mounts(): string {
    return (this.c.Mounts ?? []).map((m) => {
      const name = m.Name || m.Source;
      return this.trunc ? ellipsis(name, 15) : name;
    }).join(',');
  }
  get Networks(): string { return Object.keys(this.c.NetworkSettings?.Networks ?? {}).sort().join(','); }
  get LocalVolumes(): string { return String((this.c.Mounts ?? []).filter((m) => m.Driver === 'local').length); }

  toJSON(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const k of ['Command', 'CreatedAt', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts', 'Names', 'Networks', 'Ports', 'RunningFor', 'Size', 'State', 'Status'] as const) out[k] = this[k];
    return out;
  }
}

interface PsFlags { all?: boolean; filter?: string[]; format?: string; last?: string; latest?: boolean; trunc: boolean; quiet?: boolean; size?: boolean }

export function psCommand(cli: Cli, name = 'ps'): Command {
  return new BerthCommand(name)
    .description('List containers')
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
    .option('--format <format>', 'Format output using a custom template')
    .option('-n, --last <n>', 'Show n last created containers (includes all states)', '-1')
    .option('-l, --latest', 'Show the latest created container (includes all states)')
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only display container IDs')
    .option('-s, --size', 'Display total file sizes')
    .action(async (o: PsFlags) => {
      let limit = Number(o.last ?? -1);
      if (o.latest) limit = 1;
      const wantsSize = !!o.size || /\.Size\b/.test(o.format ?? '');
      const list = await cli.api.json<ContainerSummary[]>('GET', '/containers/json', {
        query: {
          all: o.all || undefined,
          limit: limit > 0 ? limit : undefined,
          size: wantsSize || undefined,
          filters: encodeFilters(o.filter ?? []),
        },
      });
      const rows = list.map((c) => new ContainerRow(c, o.trunc));
      let def = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';
      if (o.size) def += '\t{{.Size}}';
      cli.out.write(renderRows(rows, { format: o.format ?? '', defaultFormat: def, headers: PS_HEADERS, quiet: o.quiet }));
    });
}
