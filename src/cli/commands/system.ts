// System verbs: version, info, events, system df, system prune.
import { Command } from 'commander';
import type { EventMessage } from '../../wire/docker';
import { BERTH_VERSION, API_VERSION } from '../../wire/docker';
import { DaemonError, encodeFilters, jsonValues } from '../api-client';
import { BerthCommand, Cli, collect } from '../command';
import { renderRows } from '../format/table';
import { Template, unescapeFormat } from '../format/template';
import { humanSize } from '../../util/units';
import { getTimestamp } from '../../wire/timestamps';
import { confirm } from '../prompt';
import { printImagesDeleted, pruneImages } from './images';
import { printPruned } from './lifecycle';

type Json = Record<string, unknown>;

export function versionCommand(cli: Cli, name = 'version'): Command {
  return new BerthCommand(name)
    .description('Show the Berth version information')
    .option('-f, --format <format>', 'Format output using a custom template')
    .action(async (o: { format?: string }) => {
      const client = {
        Version: BERTH_VERSION, ApiVersion: API_VERSION, DefaultAPIVersion: API_VERSION, GoVersion: process.version,
        GitCommit: '', BuiltTime: '', Os: process.platform, Arch: process.arch === 'x64' ? 'amd64' : process.arch, Context: 'default',
      };
      let server: Json | undefined;
      let serverError: Error | undefined;
      try {
        server = await cli.api.json<Json>('GET', '/version');
      } catch (err) {
        serverError = err as Error;
      }
      if (o.format) {
        cli.out.write(`${new Template(unescapeFormat(o.format)).execute({ Client: client, Server: server ?? null })}\n`);
      } else {
        let text = `Client:\n Version:\t${client.Version}\n API version:\t${client.ApiVersion}\n Node version:\t${client.GoVersion}\n OS/Arch:\t${client.Os}/${client.Arch}\n Context:\t${client.Context}\n`;
        if (server) {
          text += `\nServer: ${String((server.Platform as Json | undefined)?.Name ?? 'Berth Engine')}\n Engine:\n  Version:\t${String(server.Version)}\n` +
            `  API version:\t${String(server.ApiVersion)} (minimum version ${String(server.MinAPIVersion)})\n` +
            `  Go version:\t${String(server.GoVersion ?? '')}\n  Git commit:\t${String(server.GitCommit ?? '')}\n  Built:\t${String(server.BuildTime ?? '')}\n` +
            `  OS/Arch:\t${String(server.Os)}/${String(server.Arch)}\n  Experimental:\t${String(server.Experimental ?? false)}\n`;
          for (const c of (server.Components as { Name: string; Version: string }[] | undefined) ?? []) {
            if (c.Name !== 'Engine') text += ` ${c.Name}:\n  Version:\t${c.Version}\n`;
          }
        }
        cli.out.write(text.split('\n').map((l) => { const [k, v] = l.split('\t'); return v === undefined ? k : `${k.padEnd(18)}${v}`; }).join('\n'));
      }
      if (serverError) throw serverError;
    });
}

export function infoCommand(cli: Cli, name = 'info'): Command {
  return new BerthCommand(name)
    .description('Display system-wide information')
    .option('-f, --format <format>', 'Format output using a custom template')
    .action(async (o: { format?: string }) => {
      const info = await cli.api.json<Json>('GET', '/info');
      if (o.format) { cli.out.write(`${new Template(unescapeFormat(o.format)).execute(info)}\n`); return; }
      const s = (k: string) => String(info[k] ?? '');
      const lines = [
        'Client:', ` Version:    ${BERTH_VERSION}`, ' Context:    default', ` Debug Mode: false`, '',
        'Server:',
        ` Containers: ${s('Containers')}`, `  Running: ${s('ContainersRunning')}`, `  Paused: ${s('ContainersPaused')}`, `  Stopped: ${s('ContainersStopped')}`,
        ` Images: ${s('Images')}`, ` Server Version: ${s('ServerVersion')}`, ` Storage Driver: ${s('Driver')}`,
        ...((info.DriverStatus as [string, string][] | null) ?? []).map(([k, v]) => `  ${k}: ${v}`),
        ` Logging Driver: ${s('LoggingDriver')}`, ` Cgroup Driver: ${s('CgroupDriver')}`, ` Cgroup Version: ${s('CgroupVersion')}`,
        ` Runtimes: ${Object.keys((info.Runtimes as Json | undefined) ?? {}).sort().join(' ')}`, ` Default Runtime: ${s('DefaultRuntime')}`,
        ` Init Binary: ${s('InitBinary')}`, ` Security Options:`, ...((info.SecurityOptions as string[] | null) ?? []).map((x) => `  ${x.replace(/^name=/, '')}`),
        ` Kernel Version: ${s('KernelVersion')}`, ` Operating System: ${s('OperatingSystem')}`, ` OSType: ${s('OSType')}`,
        ` Architecture: ${s('Architecture')}`, ` CPUs: ${s('NCPU')}`, ` Total Memory: ${humanBinary(Number(info.MemTotal ?? 0))}`,
        ` Name: ${s('Name')}`, ` ID: ${s('ID')}`, ` Docker Root Dir: ${s('DockerRootDir')}`, ` Debug Mode: ${String(info.Debug ?? false)}`,
        ` Experimental: ${String(info.ExperimentalBuild ?? false)}`, ` Live Restore Enabled: ${String(info.LiveRestoreEnabled ?? false)}`, '',
      ];
      cli.out.write(`${lines.join('\n')}\n`);
      for (const w of (info.Warnings as string[] | null) ?? []) cli.err.write(`${w}\n`);
    });
}

function humanBinary(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(2).replace(/\.?0+$/, '')}${units[i]}`;
}

export function eventsCommand(cli: Cli, name = 'events'): Command {
  return new BerthCommand(name)
    .description('Get real time events from the server')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
    .option('--format <format>', 'Format output using a custom template')
    .option('--since <time>', 'Show all events created since timestamp')
    .option('--until <time>', 'Stream events until this timestamp')
    .action(async (o: { filter?: string[]; format?: string; since?: string; until?: string }) => {
      const res = await cli.api.request('GET', '/events', {
        query: { filters: encodeFilters(o.filter ?? []), since: o.since ? getTimestamp(o.since) : undefined, until: o.until ? getTimestamp(o.until) : undefined },
      });
      const tmpl = o.format ? new Template(unescapeFormat(o.format === 'json' ? '{{json .}}' : o.format)) : undefined;
      for await (const ev of jsonValues<EventMessage>(res)) {
        cli.out.write(`${tmpl ? tmpl.execute(ev) : formatEvent(ev)}\n`);
      }
    });
}

/** docker's default event line: "2024-01-01T00:00:00.000000000Z container start <id> (image=busybox, name=x)". */
export function formatEvent(ev: EventMessage): string {
  const ns = BigInt(ev.timeNano ?? ev.time * 1e9);
  const secs = Number(ns / 1000000000n);
  const frac = String(ns % 1000000000n).padStart(9, '0');
  const d = new Date(secs * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const tz = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.trunc(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  const stamp = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${frac}${tz}`;
  const attrs = Object.keys(ev.Actor?.Attributes ?? {}).sort().map((k) => `${k}=${ev.Actor.Attributes[k]}`);
  return `${stamp} ${ev.Type} ${ev.Action} ${ev.Actor?.ID ?? ''}${attrs.length ? ` (${attrs.join(', ')})` : ''}`;
}

export function dfCommand(cli: Cli, name = 'df'): Command {
  return new BerthCommand(name)
    .description('Show docker disk usage')
    .option('--format <format>', 'Format output using a custom template')
    .option('-v, --verbose', 'Show detailed information on space usage')
    .action(async (o: { format?: string }) => {
      const du = await cli.api.json<{
        LayersSize?: number; Images?: { Size: number; SharedSize: number; Containers: number }[] | null;
        Containers?: { SizeRw?: number; State: string }[] | null; Volumes?: { UsageData?: { Size: number; RefCount: number } }[] | null;
        BuildCache?: { Size: number; InUse: boolean; Shared: boolean }[] | null;
      }>('GET', '/system/df');
      const images = du.Images ?? [];
      const containers = du.Containers ?? [];
      const volumes = du.Volumes ?? [];
      const cache = du.BuildCache ?? [];
      const pct = (part: number, total: number) => (total > 0 ? ` (${Math.trunc((part / total) * 100)}%)` : '');
      const imgSize = du.LayersSize ?? images.reduce((a, i) => a + i.Size, 0);
      const imgReclaim = images.filter((i) => i.Containers === 0).reduce((a, i) => a + i.Size - Math.max(0, i.SharedSize), 0);
      const ctrSize = containers.reduce((a, c) => a + (c.SizeRw ?? 0), 0);
      const ctrReclaim = containers.filter((c) => c.State !== 'running').reduce((a, c) => a + (c.SizeRw ?? 0), 0);
      const volSize = volumes.reduce((a, v) => a + Math.max(0, v.UsageData?.Size ?? 0), 0);
      const volReclaim = volumes.filter((v) => (v.UsageData?.RefCount ?? 0) === 0).reduce((a, v) => a + Math.max(0, v.UsageData?.Size ?? 0), 0);
      const cacheSize = cache.reduce((a, c) => a + c.Size, 0);
      const cacheReclaim = cache.filter((c) => !c.InUse && !c.Shared).reduce((a, c) => a + c.Size, 0);
      const rows = [
        { Type: 'Images', TotalCount: String(images.length), Active: String(images.filter((i) => i.Containers > 0).length), Size: humanSize(imgSize), Reclaimable: `${humanSize(imgReclaim)}${pct(imgReclaim, imgSize)}` },
        { Type: 'Containers', TotalCount: String(containers.length), Active: String(containers.filter((c) => c.State === 'running').length), Size: humanSize(ctrSize), Reclaimable: `${humanSize(ctrReclaim)}${pct(ctrReclaim, ctrSize)}` },
        { Type: 'Local Volumes', TotalCount: String(volumes.length), Active: String(volumes.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length), Size: humanSize(volSize), Reclaimable: `${humanSize(volReclaim)}${pct(volReclaim, volSize)}` },
        { Type: 'Build Cache', TotalCount: String(cache.length), Active: String(cache.filter((c) => c.InUse).length), Size: humanSize(cacheSize), Reclaimable: humanSize(cacheReclaim) },
      ];
      cli.out.write(renderRows(rows, {
        format: o.format ?? '', defaultFormat: 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}',
        headers: { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' },
      }));
    });
}

export function systemPruneCommand(cli: Cli, name = 'prune'): Command {
  return new BerthCommand(name)
    .description('Remove unused data')
    .option('-a, --all', 'Remove all unused images not just dangling ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "label=<key>=<value>")', collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .option('--volumes', 'Prune anonymous volumes')
    .action(async (o: { all?: boolean; filter?: string[]; force?: boolean; volumes?: boolean }) => {
      const items = ['all stopped containers', 'all networks not used by at least one container'];
      if (o.volumes) items.push('all anonymous volumes not used by at least one container');
      items.push(o.all ? 'all images without at least one container associated to them' : 'all dangling images');
      items.push(o.all ? 'all build cache' : 'unused build cache');
      const warning = `WARNING! This will remove:\n${items.map((i) => `  - ${i}`).join('\n')}\n\nAre you sure you want to continue?`;
      if (!o.force && !(await confirm(cli, warning))) return;
      const filters = encodeFilters(o.filter ?? []);
      let reclaimed = 0;
      const c = await cli.api.json<{ ContainersDeleted?: string[] | null; SpaceReclaimed?: number }>('POST', '/containers/prune', { query: { filters } });
      printPruned(cli, 'Deleted Containers:', c.ContainersDeleted, 0, false);
      reclaimed += c.SpaceReclaimed ?? 0;
      const n = await cli.api.json<{ NetworksDeleted?: string[] | null }>('POST', '/networks/prune', { query: { filters } });
      printPruned(cli, 'Deleted Networks:', n.NetworksDeleted, 0, false);
      if (o.volumes) {
        const v = await cli.api.json<{ VolumesDeleted?: string[] | null; SpaceReclaimed?: number }>('POST', '/volumes/prune', { query: { filters } });
        printPruned(cli, 'Deleted Volumes:', v.VolumesDeleted, 0, false);
        reclaimed += v.SpaceReclaimed ?? 0;
      }
      const i = await pruneImages(cli, !!o.all, o.filter ?? []);
      printImagesDeleted(cli, i.ImagesDeleted);
      reclaimed += i.SpaceReclaimed ?? 0;
      try {
        const b = await cli.api.json<{ CachesDeleted?: string[] | null; SpaceReclaimed?: number }>('POST', '/build/prune', { query: { all: o.all || undefined, filters } });
        printPruned(cli, 'Deleted build cache objects:', b.CachesDeleted, 0, false);
        reclaimed += b.SpaceReclaimed ?? 0;
      } catch (err) {
        if (!(err instanceof DaemonError && (err.statusCode === 404 || err.statusCode === 501))) throw err;
      }
      cli.out.write(`Total reclaimed space: ${humanSize(reclaimed)}\n`);
    });
}

