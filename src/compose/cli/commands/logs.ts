// `compose logs`: every container of the project (or of the named services), prefixed `web-1  | `; with -f,
// until every container of the selection has stopped.
import { Command } from 'commander';
import { BerthCommand, intArg, StatusError } from '../../../cli/command';
import type { ProjectContainer } from '../../project/operations';
import { projectContainers } from '../containers';
import { onInterrupt } from '../interrupt';
import { LogPrinter, useColor } from '../log-printer';
import { ProjectLogFollower } from '../log-stream';
import type { ComposeSession } from '../session';

interface LogsFlags {
  follow?: boolean; tail?: string; timestamps?: boolean; since?: string; until?: string; logPrefix: boolean; color: boolean; index?: number;
}

export function logsCommand(s: ComposeSession): Command {
  return new BerthCommand('logs')
    .description('View output from containers')
    .usage('[OPTIONS] [SERVICE...]')
    .argument('[services...]')
    .option('-f, --follow', 'Follow log output')
    .option('--index <n>', 'index of the container if service has multiple replicas', intArg('index'))
    .option('--no-color', 'Produce monochrome output')
    .option('--no-log-prefix', "Don't print prefix in logs")
    .option('--since <time>', 'Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)')
    .option('-n, --tail <n>', 'Number of lines to show from the end of the logs for each container', 'all')
    .option('-t, --timestamps', 'Show timestamps')
    .option('--until <time>', 'Show logs before a timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)')
    .action(async (services: string[], o: LogsFlags) => {
      const project = await s.projectName();
      let list = (await projectContainers(s.cli.api, project, { all: true, services })).filter((c) => !c.oneoff);
      if (o.index !== undefined) list = list.filter((c) => c.number === o.index);
      const printer = new LogPrinter(s.cli.out, s.cli.err, {
        color: useColor(s.flags.ansi, !o.color, s.cli.out, s.env), prefix: o.logPrefix,
      });
      const q = { follow: !!o.follow, tail: o.tail, since: o.since, until: o.until, timestamps: o.timestamps };
      const follower = new ProjectLogFollower(s.cli.api, project, printer, q, services);
      if (!o.follow) {
        for (const c of list) follower.add(c);
        await follower.drained();
        return;
      }
      // Following, as Compose v2: containers that start later join in; it ends when every container of the
      // selection has stopped (each followed stream ends when its container does), or on Ctrl-C.
      const stop = new AbortController();
      const selected = (c: ProjectContainer) => !c.oneoff && (o.index === undefined || c.number === o.index);
      const checkAllStopped = async () => {
        const running = await projectContainers(s.cli.api, project, { all: false, services, oneoff: false }).catch(() => []);
        if (!running.some(selected)) stop.abort();
      };
      const add = (c: ProjectContainer) => { if (selected(c)) follower.add(c, checkAllStopped); };
      let interrupted = false;
      const unregister = onInterrupt(() => { interrupted = true; stop.abort(); });
      try {
        const watching = (await follower.watch(stop.signal, add)).done;
        for (const c of list) add(c);
        await checkAllStopped();
        await watching;
        // Stopped containers' streams still print what they hold.
        if (!interrupted) await follower.drained();
      } finally {
        unregister();
      }
      // Compose's status for a command the user stopped.
      if (interrupted) throw new StatusError(130);
    });
}
