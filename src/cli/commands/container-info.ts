// Read-only views of a container: top, port, diff, stats.
import { Command } from 'commander';
import { jsonValues } from '../api-client';
import { BerthCommand, Cli, StatusError } from '../command';
import { renderRows, tabwrite } from '../format/table';
import { bytesSize, humanSize, shortId } from '../../util/units';

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

interface StatsJson {
  id?: string; name?: string; read: string;
  cpu_stats: { cpu_usage: { total_usage: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats: { cpu_usage: { total_usage: number }; system_cpu_usage?: number };
  memory_stats: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
  blkio_stats?: { io_service_bytes_recursive?: { op: string; value: number }[] | null };
  pids_stats?: { current?: number };
}

/** One stats row as docker computes it (cgroup v2 memory excludes inactive_file). */
export function statsRow(id: string, s: StatsJson): Record<string, string> {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const sysDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats.online_cpus || s.cpu_stats.cpu_usage.percpu_usage?.length || 1;
  const cpu = sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * cpus * 100 : 0;
  const ms = s.memory_stats ?? {};
  const inactive = ms.stats?.inactive_file ?? ms.stats?.total_inactive_file ?? 0;
  const mem = Math.max(0, (ms.usage ?? 0) - inactive);
  const limit = ms.limit ?? 0;
  let rx = 0; let tx = 0;
  for (const n of Object.values(s.networks ?? {})) { rx += n.rx_bytes; tx += n.tx_bytes; }
  let blkRead = 0; let blkWrite = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    if (e.op.toLowerCase() === 'read') blkRead += e.value;
    if (e.op.toLowerCase() === 'write') blkWrite += e.value;
  }
  return {
    ID: shortId(id), Container: id, Name: (s.name ?? '').replace(/^\//, ''),
    CPUPerc: `${cpu.toFixed(2)}%`,
    MemUsage: `${bytesSize(mem)} / ${bytesSize(limit)}`,
    MemPerc: `${(limit ? (mem / limit) * 100 : 0).toFixed(2)}%`,
    NetIO: `${humanSize(rx, 3)} / ${humanSize(tx, 3)}`,
    BlockIO: `${humanSize(blkRead, 3)} / ${humanSize(blkWrite, 3)}`,
    PIDs: String(s.pids_stats?.current ?? 0),
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
          const s = await cli.api.json<StatsJson>('GET', `${cpath(id)}/stats`, { query: { stream: false } });
          rows.set(id, statsRow(s.id ?? id, s));
        }));
        render();
        return;
      }
      const timer = setInterval(render, 1000);
      try {
        await Promise.all(ids.map(async (id) => {
          const res = await cli.api.request('GET', `${cpath(id)}/stats`, { query: { stream: true } });
          for await (const s of jsonValues<StatsJson>(res)) rows.set(id, statsRow(s.id ?? id, s));
        }));
      } finally {
        clearInterval(timer);
      }
    });
}
