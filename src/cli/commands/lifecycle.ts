// Container state verbs: stop, kill, restart, pause, unpause, wait, rename, rm, update, container prune.
import { Command } from 'commander';
import { DaemonError, encodeFilters } from '../api-client';
import { BerthCommand, Cli, collect, describeError, forEach, StatusError } from '../command';
import { parseRestartPolicy } from '../container-options';
import { humanSize, ramInBytes } from '../../util/units';
import { confirm } from '../prompt';

const path = (name: string) => `/containers/${encodeURIComponent(name)}`;

/** stop and restart: the same flags, a different endpoint. */
function stopLike(cli: Cli, name: string, description: string, endpoint: 'stop' | 'restart'): Command {
  return new BerthCommand(name)
    .description(description)
    .argument('<containers...>')
    .option('-s, --signal <signal>', 'Signal to send to the container')
    .option('-t, --timeout <seconds>', 'Seconds to wait before killing the container')
    .option('--time <seconds>', 'Seconds to wait before killing the container (deprecated: use --timeout)')
    .action(async (names: string[], o: { signal?: string; timeout?: string; time?: string }) => {
      const t = o.timeout ?? o.time;
      await forEach(cli, names, (n) => cli.api.call('POST', `${path(n)}/${endpoint}`, { query: { signal: o.signal, t } }), { parallel: endpoint === 'stop' });
    });
}

export const stopCommand = (cli: Cli, name = 'stop') => stopLike(cli, name, 'Stop one or more running containers', 'stop');
export const restartCommand = (cli: Cli, name = 'restart') => stopLike(cli, name, 'Restart one or more containers', 'restart');

export function killCommand(cli: Cli, name = 'kill'): Command {
  return new BerthCommand(name)
    .description('Kill one or more running containers')
    .argument('<containers...>')
    .option('-s, --signal <signal>', 'Signal to send to the container')
    .action(async (names: string[], o: { signal?: string }) => {
      await forEach(cli, names, (n) => cli.api.call('POST', `${path(n)}/kill`, { query: { signal: o.signal } }), { parallel: true });
    });
}

function simpleVerb(cli: Cli, name: string, description: string, endpoint: string): Command {
  return new BerthCommand(name)
    .description(description)
    .argument('<containers...>')
    .action(async (names: string[]) => {
      await forEach(cli, names, (n) => cli.api.call('POST', `${path(n)}/${endpoint}`), { parallel: true });
    });
}

export const pauseCommand = (cli: Cli, name = 'pause') => simpleVerb(cli, name, 'Pause all processes within one or more containers', 'pause');
export const unpauseCommand = (cli: Cli, name = 'unpause') => simpleVerb(cli, name, 'Unpause all processes within one or more containers', 'unpause');

export function waitCommand(cli: Cli, name = 'wait'): Command {
  return new BerthCommand(name)
    .description('Block until one or more containers stop, then print their exit codes')
    .argument('<containers...>')
    .action(async (names: string[]) => {
      await forEach(cli, names, async (n) => {
        const r = await cli.api.json<{ StatusCode: number }>('POST', `${path(n)}/wait`, { query: { condition: 'not-running' } });
        return String(r.StatusCode);
      });
    });
}

export function renameCommand(cli: Cli, name = 'rename'): Command {
  return new BerthCommand(name)
    .description('Rename a container')
    .argument('<container>')
    .argument('<new-name>')
    .action(async (container: string, newName: string) => {
      if (!newName.trim()) throw new StatusError(1, 'Error: neither old nor new names may be empty');
      try {
        await cli.api.call('POST', `${path(container)}/rename`, { query: { name: newName } });
      } catch (err) {
        cli.err.write(`${describeError(err)}\n`);
        throw new StatusError(1, `Error: failed to rename container named ${container}`);
      }
    });
}

export function rmCommand(cli: Cli, name = 'rm'): Command {
  return new BerthCommand(name)
    .description('Remove one or more containers')
    .argument('<containers...>')
    .option('-f, --force', 'Force the removal of a running container (uses SIGKILL)')
    .option('-l, --link', 'Remove the specified link')
    .option('-v, --volumes', 'Remove anonymous volumes associated with the container')
    .action(async (names: string[], o: { force?: boolean; link?: boolean; volumes?: boolean }) => {
      // As docker does, -f reports a missing container on stderr without failing.
      const missing: string[] = [];
      await forEach(cli, names, async (n) => {
        try {
          await cli.api.call('DELETE', path(n), { query: { force: o.force || undefined, link: o.link || undefined, v: o.volumes || undefined } });
        } catch (err) {
          if (!o.force || !(err instanceof DaemonError) || err.statusCode !== 404) throw err;
          cli.err.write(`${describeError(err)}\n`);
          missing.push(n);
        }
      }, { parallel: true, hide: (n) => missing.includes(n) });
    });
}

interface UpdateFlags {
  blkioWeight?: string; cpuPeriod?: string; cpuQuota?: string; cpuRtPeriod?: string; cpuRtRuntime?: string;
  cpuShares?: string; cpus?: string; cpusetCpus?: string; cpusetMems?: string; memory?: string;
  memoryReservation?: string; memorySwap?: string; pidsLimit?: string; restart?: string;
}

export function updateCommand(cli: Cli, name = 'update'): Command {
  return new BerthCommand(name)
    .description('Update configuration of one or more containers')
    .argument('<containers...>')
    .option('--blkio-weight <n>', 'Block IO (relative weight), between 10 and 1000, or 0 to disable')
    .option('--cpu-period <n>', 'Limit CPU CFS (Completely Fair Scheduler) period')
    .option('--cpu-quota <n>', 'Limit CPU CFS (Completely Fair Scheduler) quota')
    .option('--cpu-rt-period <n>', 'Limit the CPU real-time period in microseconds')
    .option('--cpu-rt-runtime <n>', 'Limit the CPU real-time runtime in microseconds')
    .option('-c, --cpu-shares <n>', 'CPU shares (relative weight)')
    .option('--cpus <n>', 'Number of CPUs')
    .option('--cpuset-cpus <cpus>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--cpuset-mems <mems>', 'MEMs in which to allow execution (0-3, 0,1)')
    .option('-m, --memory <bytes>', 'Memory limit')
    .option('--memory-reservation <bytes>', 'Memory soft limit')
    .option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: -1 to enable unlimited swap")
    .option('--pids-limit <n>', 'Tune container pids limit (set -1 for unlimited)')
    .option('--restart <policy>', 'Restart policy to apply when a container exits')
    .action(async (names: string[], o: UpdateFlags) => {
      const num = (v?: string) => (v === undefined ? undefined : Number(v));
      const size = (v?: string) => (v === undefined ? undefined : v === '-1' ? -1 : ramInBytes(v));
      const body: Record<string, unknown> = {
        BlkioWeight: num(o.blkioWeight), CpuPeriod: num(o.cpuPeriod), CpuQuota: num(o.cpuQuota),
        CpuRealtimePeriod: num(o.cpuRtPeriod), CpuRealtimeRuntime: num(o.cpuRtRuntime), CpuShares: num(o.cpuShares),
        NanoCpus: o.cpus === undefined ? undefined : Math.round(Number(o.cpus) * 1e9),
        CpusetCpus: o.cpusetCpus, CpusetMems: o.cpusetMems, Memory: size(o.memory),
        MemoryReservation: size(o.memoryReservation), MemorySwap: size(o.memorySwap), PidsLimit: num(o.pidsLimit),
        RestartPolicy: o.restart ? parseRestartPolicy(o.restart) : undefined,
      };
      let warned = false;
      await forEach(cli, names, async (n) => {
        const r = await cli.api.json<{ Warnings?: string[] | null }>('POST', `${path(n)}/update`, { body });
        for (const w of r?.Warnings ?? []) { if (!warned) cli.err.write(`${w}\n`); warned = true; }
      });
    });
}

export function containerPruneCommand(cli: Cli, name = 'prune'): Command {
  return new BerthCommand(name)
    .description('Remove all stopped containers')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (o: { filter?: string[]; force?: boolean }) => {
      if (!o.force && !(await confirm(cli, 'WARNING! This will remove all stopped containers.\nAre you sure you want to continue?'))) return;
      const r = await cli.api.json<{ ContainersDeleted?: string[] | null; SpaceReclaimed?: number }>('POST', '/containers/prune', {
        query: { filters: encodeFilters(o.filter ?? []) },
      });
      printPruned(cli, 'Deleted Containers:', r.ContainersDeleted, r.SpaceReclaimed);
    });
}

/** docker's prune report: the deleted IDs under a heading, then the reclaimed space. */
export function printPruned(cli: Cli, heading: string, ids: string[] | null | undefined, reclaimed: number | undefined, showSpace = true): void {
  if (ids?.length) cli.out.write(`${heading}\n${ids.join('\n')}\n\n`);
  if (showSpace) cli.out.write(`Total reclaimed space: ${humanSize(reclaimed ?? 0)}\n`);
}
