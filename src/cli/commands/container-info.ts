// Read-only views of a container: top, port, diff, stats.
import { Command } from 'commander';
import { jsonValues } from '../api-client';
import { BerthCommand, Cli, StatusError } from '../command';
import { renderRows, tabwrite } from '../format/table';
import { bytesSize, humanSize, shortId } from '../../util/units';
import { statsFigures, type StatsSample } from '../../wire/container-stats';

const cpath = (n: string) => `/containers/${encodeURIComponent(n)}`;

export function topCommand(cli: Cli, name = 'top'): Command {
  return new BerthCommand(name)
    .description('Display the running processes of a container')
    .usage('CONTAINER [ps OPTIONS]')
    .argument('<container>')
    .argument('[ps-args...]')
    .passThroughOptions()
    .action(async (container: string, psArgs: string[]) => {
      const r = await cli.api.json<{ Titles: string[]; Processes: string[][] }>('GET', `${cpath(container)}/top`, {
        query: { ps_args: psArgs.length ? psArgs.join(' ') : undefined },
      });
      // docker's top: tabwriter(minwidth 20, padding 1).
      const lines = [r.Titles.join('\t'), ...(r.Processes ?? []).map((p) => p.join('\t'))].join('\n');
      cli.out.write(tabwrite(`${lines}\n`, 20, 1));
    });
}

type PortMap = Record<string, { HostIp: string; HostPort: string }[] | null>;

export function portCommand(cli: Cli, name = 'port'): Command {
  return new BerthCommand(name)
    .description('List port mappings or a specific mapping for the container')
    .argument('<container>')
    .argument('[private-port]', 'PRIVATE_PORT[/PROTO]')
    .action(async (container: string, privatePort: string | undefined) => {
      const c = await cli.api.json<{ NetworkSettings: { Ports: PortMap | null } }>('GET', `${cpath(container)}/json`);
      const ports = c.NetworkSettings?.Ports ?? {};
      const fmt = (b: { HostIp: string; HostPort: string }) => `${b.HostIp.includes(':') ? `[${b.HostIp}]` : b.HostIp || '0.0.0.0'}:${b.HostPort}`;
      if (privatePort) {
        const key = privatePort.includes('/') ? privatePort : `${privatePort}/tcp`;
        const bindings = ports[key];
        if (!bindings?.length) throw new StatusError(1, `Error: No public port '${key}' published for ${container}`);
        for (const b of bindings) cli.out.write(`${fmt(b)}\n`);
        return;
      }
      const keys = Object.keys(ports).sort((a, b) => parseInt(a, 10) - parseInt(b, 10) || a.localeCompare(b));
      for (const k of keys) for (const b of ports[k] ?? []) cli.out.write(`${k} -> ${fmt(b)}\n`);
    });
}

export function diffCommand(cli: Cli, name = 'diff'): Command {
  return new BerthCommand(name)
    .description("Inspect changes to files or directories on a container's filesystem")
    .argument('<container>')
    .action(async (container: string) => {
      const changes = await cli.api.json<{ Kind: number; Path: string }[] | null>('GET', `${cpath(container)}/changes`);
      for (const c of changes ?? []) cli.out.write(`${['C', 'A', 'D'][c.Kind] ?? '?'} ${c.Path}\n`);
    });
}

/** One stats row as docker shows it (the figures as docker computes them, wire/container-stats.ts). */
export function statsRow(id: string, s: StatsSample): Record<string, string> {
  const f = statsFigures(s);
  return {
    ID: shortId(id), Container: id, Name: (s.name ?? '').replace(/^\//, ''),
    CPUPerc: `${f.CPUPercent.toFixed(2)}%`,
    MemUsage: `${bytesSize(f.MemoryUsage)} / ${bytesSize(f.MemoryLimit)}`,
    MemPerc: `${(f.MemoryLimit ? (f.MemoryUsage / f.MemoryLimit) * 100 : 0).toFixed(2)}%`,
    NetIO: `${humanSize(f.NetRx, 3)} / ${humanSize(f.NetTx, 3)}`,
    BlockIO: `${humanSize(f.BlockRead, 3)} / ${humanSize(f.BlockWrite, 3)}`,
    PIDs: String(f.Pids),
  };
}

const STATS_HEADERS = { ID: 'CONTAINER ID', Container: 'CONTAINER', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS' };

export function statsCommand(cli: Cli, name = 'stats'): Command {
  return new BerthCommand(name)
    .description('Display a live stream of container(s) resource usage statistics')
    .argument('[containers...]')
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('--format <format>', 'Format output using a custom template')
    .option('--no-stream', 'Disable streaming stats and only pull the first result')
    .option('--no-trunc', 'Do not truncate output')
    .action(async (names: string[], o: { all?: boolean; format?: string; stream: boolean; trunc: boolean }) => {
      let ids = names;
      if (!ids.length) {
        const list = await cli.api.json<{ Id: string }[]>('GET', '/containers/json', { query: { all: o.all || undefined } });
        ids = list.map((c) => c.Id);
      }
      const rows = new Map<string, Record<string, string>>();
      const spec = { format: o.format ?? '', defaultFormat: 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}', headers: STATS_HEADERS };
      const render = () => {
        const text = renderRows(ids.map((id) => rows.get(id)).filter((r): r is Record<string, string> => !!r), spec);
        cli.out.write(o.stream && cli.out.isTTY ? `\x1b[2J\x1b[H${text}` : text);
      };
      if (!o.stream) {
        await Promise.all(ids.map(async (id) => {
          const s = await cli.api.json<StatsSample>('GET', `${cpath(id)}/stats`, { query: { stream: false } });
          rows.set(id, statsRow(s.id ?? id, s));
        }));
        render();
        return;
      }
      const timer = setInterval(render, 1000);
      try {
        await Promise.all(ids.map(async (id) => {
          const res = await cli.api.request('GET', `${cpath(id)}/stats`, { query: { stream: true } });
          for await (const s of jsonValues<StatsSample>(res)) rows.set(id, statsRow(s.id ?? id, s));
        }));
      } finally {
        clearInterval(timer);
      }
    });
}
