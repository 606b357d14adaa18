// `compose up`: converge through the operations; detached, that is all. Attached, every service's log is
// printed with its prefix, containers that start later join in, and Ctrl-C stops the project's containers.
import { Command } from 'commander';
import { BerthCommand, collect, intArg, StatusError } from '../../../cli/command';
import type { ProjectContainer } from '../../project/operations';
import { nameWithoutProject, projectContainers } from '../containers';
import { onInterrupt } from '../interrupt';
import { LogPrinter, useColor } from '../log-printer';
import { ProjectLogFollower } from '../log-stream';
import type { ComposeSession } from '../session';
import { parseScale, pullPolicy } from './lifecycle';

interface UpFlags {
  detach?: boolean; build?: boolean; pull?: string; quietPull?: boolean; wait?: boolean; waitTimeout?: number; scale?: string[];
  removeOrphans?: boolean; forceRecreate?: boolean; recreate: boolean; deps: boolean; start: boolean; abortOnContainerExit?: boolean;
  exitCodeFrom?: string; timeout?: number; attach?: string[]; noAttach?: string[]; color: boolean; logPrefix: boolean; timestamps?: boolean;
  yes?: boolean; attachDependencies?: boolean; menu?: boolean;
}

export function upCommand(s: ComposeSession): Command {
  return new BerthCommand('up')
    .description('Create and start containers')
    .usage('[OPTIONS] [SERVICE...]')
    .argument('[services...]')
    .option('--abort-on-container-exit', 'Stops all containers if any container was stopped. Incompatible with -d')
    .option('--attach <service>', 'Restrict attaching to the specified services. Incompatible with --attach-dependencies.', collect)
    .option('--attach-dependencies', 'Automatically attach to log output of dependent services')
    .option('--build', 'Build images before starting containers')
    .option('-d, --detach', 'Detached mode: Run containers in the background')
    .option('--exit-code-from <service>', 'Return the exit code of the selected service container. Implies --abort-on-container-exit')
    .option('--force-recreate', "Recreate containers even if their configuration and image haven't changed")
    .option('--menu', 'Enable interactive shortcuts when running attached (ignored)')
    .option('--no-attach <service>', "Do not attach (stream logs) to the specified services", collect)
    .option('--no-build', "Don't build an image, even if it's policy")
    .option('--no-color', 'Produce monochrome output')
    .option('--no-deps', "Don't start linked services")
    .option('--no-log-prefix', "Don't print prefix in logs")
    .option('--no-recreate', "If containers already exist, don't recreate them. Incompatible with --force-recreate.")
    .option('--no-start', "Don't start the services after creating them")
    .option('--pull <policy>', 'Pull image before running ("always"|"missing"|"never")', 'policy')
    .option('--quiet-pull', 'Pull without printing progress information')
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option('--scale <scale>', 'Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present.', collect)
    .option('-t, --timeout <seconds>', 'Use this timeout in seconds for container shutdown when attached or when containers are already running', intArg('timeout'))
    .option('--timestamps', 'Show timestamps')
    .option('--wait', 'Wait for services to be running|healthy. Implies detached mode.')
    .option('--wait-timeout <seconds>', 'Maximum duration in seconds to wait for the project to be running|healthy', intArg('wait-timeout'))
    .option('-y, --yes', 'Assume "yes" as answer to all prompts and run non-interactively')
    .action(async (services: string[], o: UpFlags) => {
      if (o.exitCodeFrom) o.abortOnContainerExit = true;
      const detached = !!o.detach || !!o.wait;
      if (detached && o.abortOnContainerExit) throw new StatusError(1, '--abort-on-container-exit and --detach are incompatible');
      if (o.forceRecreate && o.recreate === false) throw new StatusError(1, '--force-recreate and --no-recreate are incompatible');
      const { project } = await s.load({ services });
      if (o.exitCodeFrom && !project.services[o.exitCodeFrom]) throw new StatusError(1, `no such service: ${o.exitCodeFrom}`);
      const ops = await s.operations();
      const upOptions = {
        services, noDeps: !o.deps, build: o.build ? 'always' : o.build === false ? 'never' : 'auto', pull: pullPolicy(o.pull),
        recreate: o.forceRecreate ? 'force' : o.recreate === false ? 'never' : 'diverged', start: o.start, scale: parseScale(o.scale),
        removeOrphans: !!o.removeOrphans, timeout: o.timeout, wait: !!o.wait, waitTimeout: o.waitTimeout,
      } as const;
      if (detached || !o.start) {
        await ops.up(upOptions);
        return;
      }
      // Attached: listen before converging, so a container that starts (and maybe ends) during up is followed too.
      const code = await attachToProject(s, project.name, services, o, () => ops.up(upOptions));
      if (code !== 0) throw new StatusError(code);
    });
}

/** Which services' logs up prints: --attach, else all (or the named ones), less --no-attach. */
export function attachedServices(all: string[], named: string[], attach: string[] | undefined, noAttach: string[] | undefined): Set<string> {
  const base = attach?.length ? attach : named.length ? named : all;
  return new Set(base.filter((svc) => !(noAttach ?? []).includes(svc)));
}

/**
 * Runs `converge` (up's creation and starts) while printing the logs of the attached services' containers as
 * they start, until every one has stopped; Ctrl-C (or an exit with --abort-on-container-exit) stops the
 * project's containers, which stay there, exited. Resolves with up's exit code (Compose's: 130 after Ctrl-C,
 * else the --exit-code-from service's first exit code, else the first exit's with --abort-on-container-exit).
 */
async function attachToProject(s: ComposeSession, project: string, named: string[], o: UpFlags, converge: () => Promise<void>): Promise<number> {
  const api = s.cli.api;
  const { project: model } = await s.load();
  const wanted = attachedServices(Object.keys(model.services), named, o.attach, o.noAttach);
  const since = Math.floor(Date.now() / 1000);
  const printer = new LogPrinter(s.cli.out, s.cli.err, { color: useColor(s.flags.ansi, !o.color, s.cli.out, s.env), prefix: o.logPrefix, timestamps: o.timestamps });
  const follower = new ProjectLogFollower(api, project, printer, { follow: true, since: String(since), timestamps: o.timestamps });
  const stop = new AbortController();
  const live = new Set<string>();
  let converged = false;
  let interrupted = false;
  let firstExit: number | undefined;
  let exitFrom: number | undefined;
  let stopping: Promise<void> | undefined;
  let converging: Promise<void> = Promise.resolve();

  const stopAll = (message: string): Promise<void> => {
    stopping ??= (async () => {
      s.cli.err.write(`${message}\n`);
      // Containers still being created or started by up are stopped once up is done with them.
      await converging.catch(() => undefined);
      const ops = await s.operations();
      await ops.stop([], o.timeout);
      stop.abort();
    })().catch((err: Error) => { s.cli.err.write(`${err.message}\n`); stop.abort(); });
    return stopping;
  };
  const onEnd = async (c: ProjectContainer) => {
    live.delete(c.id);
    const info = await api.json<{ State: { Running: boolean; ExitCode: number } }>('GET', `/containers/${c.id}/json`).catch(() => undefined);
    if (info?.State.Running) return; // the stream ended but the container did not (a restart): the start event brings it back
    const code = info?.State.ExitCode ?? 0;
    printer.status(nameWithoutProject(c, project), `exited with code ${code}`);
    if (exitFrom === undefined && c.service === o.exitCodeFrom) exitFrom = code;
    if (firstExit === undefined) {
      firstExit = code;
      if (o.abortOnContainerExit) void stopAll('Aborting on container exit...');
    }
    if (converged && live.size === 0) stop.abort();
  };
  const add = (c: ProjectContainer) => {
    if (!wanted.has(c.service) || c.oneoff || live.has(c.id)) return;
    live.add(c.id);
    follower.add(c, onEnd);
  };

  const unregister = onInterrupt((presses) => {
    if (presses > 1) { s.cli.err.write('\n'); process.exit(130); }
    interrupted = true;
    void stopAll('Gracefully stopping... (press Ctrl+C again to force)');
  });
  try {
    const watching = (await follower.watch(stop.signal, add)).done;
    converging = converge();
    try {
      await converging;
    } catch (err) {
      stop.abort();
      await watching;
      throw err;
    }
    converged = true;
    // Containers up left running as they were start no more: follow them from here.
    for (const c of await projectContainers(api, project, { all: false, oneoff: false })) add(c);
    if (live.size === 0 && !stopping) stop.abort();
    await watching;
    await stopping;
    await follower.drained();
  } finally {
    unregister();
  }
  if (interrupted) return 130;
  if (o.exitCodeFrom) return exitFrom ?? 0;
  return o.abortOnContainerExit ? firstExit ?? 0 : 0;
}
