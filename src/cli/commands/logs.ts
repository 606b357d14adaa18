// `berth logs`: GET /containers/{id}/logs, multiplexed unless the container has a TTY.
import { Command } from 'commander';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { BerthCommand, Cli } from '../command';
import { getTimestamp } from '../../wire/timestamps';
import { StreamDemultiplexer } from '../stdcopy';
import { inspectContainer } from './start';

interface LogsFlags { details?: boolean; follow?: boolean; since?: string; tail: string; timestamps?: boolean; until?: string }

export function logsCommand(cli: Cli, name = 'logs'): Command {
  return new BerthCommand(name)
    .description('Fetch the logs of a container')
    .argument('<container>')
    .option('--details', 'Show extra details provided to logs')
    .option('-f, --follow', 'Follow log output')
    .option('--since <time>', 'Show logs since timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
    .option('-n, --tail <n>', 'Number of lines to show from the end of the logs', 'all')
    .option('-t, --timestamps', 'Show timestamps')
    .option('--until <time>', 'Show logs before a timestamp (e.g. "2013-01-02T13:23:37Z") or relative (e.g. "42m" for 42 minutes)')
    .action(async (container: string, o: LogsFlags) => {
      const c = await inspectContainer(cli, container);
      const res = await cli.api.request('GET', `/containers/${encodeURIComponent(container)}/logs`, {
        query: {
          details: o.details || undefined,
          follow: o.follow || undefined,
          since: o.since ? getTimestamp(o.since) : undefined,
          stderr: true,
          stdout: true,
          tail: o.tail,
          timestamps: o.timestamps || undefined,
          until: o.until ? getTimestamp(o.until) : undefined,
        },
      });
      const target: Writable = c.Config.Tty
        ? new Writable({ write: (chunk, _e, cb) => { if (cli.out.write(chunk)) cb(); else cli.out.once('drain', () => cb()); } })
        : new StreamDemultiplexer(cli.out, cli.err);
      await pipeline(res, target);
    });
}
