// The verbs that change a project through the operations: down, create, start, stop, restart, rm, kill,
// pause, unpause, build, pull, push, scale. Flag parsing only; the work is ProjectOperations'.
import { Command } from 'commander';
import { BerthCommand, collect, intArg, StatusError } from '../../../cli/command';
import type { UpOptions } from '../../project/operations';
import type { ComposeSession } from '../session';

/** `--scale web=3` (repeatable) into a map; a bad value is a usage error. */
export function parseScale(values: string[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values ?? []) {
    const m = /^([^=]+)=(\d+)$/.exec(v);
    if (!m) throw new StatusError(1, `invalid --scale option "${v}": expected SERVICE=NUM`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

export function pullPolicy(value: string | undefined): UpOptions['pull'] {
  if (value === undefined || value === 'policy') return 'policy';
  if (value === 'always' || value === 'missing' || value === 'never') return value;
  throw new StatusError(1, `invalid --pull option "${value}"`);
}

/** A verb whose whole work is one call on the operations with the named services. */
function servicesVerb(name: string, description: string, add: (c: Command) => Command,
  run: (s: ComposeSession, services: string[], o: Record<string, unknown>) => Promise<void>) {
  return (s: ComposeSession): Command => add(new BerthCommand(name).description(description).usage('[OPTIONS] [SERVICE...]').argument('[services...]'))
    .action(async (services: string[], o: Record<string, unknown>) => {
      // Services named on the command line enable their profiles.
      await s.load({ services });
      await run(s, services, o);
    });
}

const timeoutFlag = (c: Command) => c.option('-t, --timeout <seconds>', 'Specify a shutdown timeout in seconds', intArg('timeout'));

export const downCommand = (s: ComposeSession): Command => new BerthCommand('down')
  .description('Stop and remove containers, networks')
  .usage('[OPTIONS] [SERVICES]')
  .argument('[services...]')
  .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
  .option('--rmi <type>', 'Remove images used by services. "local" remove only images that don\'t have a custom tag ("local"|"all")')
  .option('-t, --timeout <seconds>', 'Specify a shutdown timeout in seconds', intArg('timeout'))
  .option('-v, --volumes', 'Remove named volumes declared in the "volumes" section of the Compose file and anonymous volumes attached to containers')
  .action(async (_services: string[], o: { removeOrphans?: boolean; rmi?: string; timeout?: number; volumes?: boolean }) => {
    if (o.rmi !== undefined && o.rmi !== 'local' && o.rmi !== 'all') throw new StatusError(1, `invalid --rmi option "${o.rmi}"`);
    const ops = await s.operations();
    await ops.down({ removeOrphans: !!o.removeOrphans, volumes: !!o.volumes, rmi: o.rmi as 'local' | 'all' | undefined, timeout: o.timeout });
  });

export const createCommand = servicesVerb('create', 'Creates containers for a service',
  (c) => c.option('--build', 'Build images before starting containers').option('--no-build', "Don't build an image, even if it's policy")
    .option('--force-recreate', 'Recreate containers even if their configuration and image haven\'t changed')
    .option('--no-recreate', "If containers already exist, don't recreate them. Incompatible with --force-recreate.")
    .option('--pull <policy>', 'Pull image before running ("always"|"missing"|"never"|"build")', 'policy')
    .option('--quiet-pull', 'Pull without printing progress information').option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option('--scale <scale>', 'Scale SERVICE to NUM instances. Overrides the `scale` setting in the Compose file if present.', collect)
    .option('-y, --yes', 'Assume "yes" as answer to all prompts and run non-interactively'),
  async (s, services, o) => {
    const ops = await s.operations();
    await ops.create({
      services, noDeps: false, build: o.build ? 'always' : o.build === false ? 'never' : 'auto', pull: pullPolicy(o.pull as string),
      recreate: o.forceRecreate ? 'force' : o.recreate === false ? 'never' : 'diverged', scale: parseScale(o.scale as string[]), removeOrphans: !!o.removeOrphans,
    });
  });

export const startCommand = servicesVerb('start', 'Start services', (c) => c, async (s, services) => (await s.operations()).start(services));
export const stopCommand = servicesVerb('stop', 'Stop services', timeoutFlag, async (s, services, o) => (await s.operations()).stop(services, o.timeout as number | undefined));
export const restartCommand = servicesVerb('restart', 'Restart service containers',
  (c) => timeoutFlag(c).option('--no-deps', "Don't restart dependent services"),
  async (s, services, o) => (await s.operations()).restart(services, o.timeout as number | undefined, o.deps === false));
export const pauseCommand = servicesVerb('pause', 'Pause services', (c) => c, async (s, services) => (await s.operations()).pause(services));
export const unpauseCommand = servicesVerb('unpause', 'Unpause services', (c) => c, async (s, services) => (await s.operations()).unpause(services));
export const killCommand = servicesVerb('kill', 'Force stop service containers',
  (c) => c.option('-s, --signal <signal>', 'SIGNAL to send to the container', 'SIGKILL').option('--remove-orphans', 'Remove containers for services not defined in the Compose file'),
  async (s, services, o) => (await s.operations()).kill(services, o.signal as string));
export const rmCommand = servicesVerb('rm', 'Removes stopped service containers',
  (c) => c.option('-f, --force', "Don't ask to confirm removal").option('-s, --stop', 'Stop the containers, if required, before removing')
    .option('-v, --volumes', 'Remove any anonymous volumes attached to containers'),
  async (s, services, o) => (await s.operations()).remove(services, { stop: !!o.stop, volumes: !!o.volumes }));
export const buildCommand = servicesVerb('build', 'Build or rebuild services',
  (c) => c.option('--no-cache', 'Do not use cache when building the image').option('--pull', 'Always attempt to pull a newer version of the image')
    .option('-q, --quiet', "Don't print anything to STDOUT").option('--build-arg <arg>', 'Set build-time variables for services', collect),
  async (s, services, o) => (await s.operations()).build(services, { noCache: o.cache === false, pull: !!o.pull, quiet: !!o.quiet }));
export const pullCommand = servicesVerb('pull', 'Pull service images',
  (c) => c.option('--ignore-pull-failures', 'Pull what it can and ignores images with pull failures').option('-q, --quiet', 'Pull without printing progress information')
    .option('--include-deps', 'Also pull services declared as dependencies').option('--policy <policy>', 'Apply pull policy ("missing"|"always")'),
  async (s, services, o) => (await s.operations()).pull(services, { ignoreFailures: !!o.ignorePullFailures, quiet: !!o.quiet }));
export const pushCommand = servicesVerb('push', 'Push service images',
  (c) => c.option('--ignore-push-failures', 'Push what it can and ignores images with push failures').option('-q, --quiet', 'Push without printing progress information'),
  async (s, services, o) => (await s.operations()).push(services, { ignoreFailures: !!o.ignorePushFailures }));

export const scaleCommand = (s: ComposeSession): Command => new BerthCommand('scale')
  .description('Scale services')
  .usage('[SERVICE=REPLICAS...]')
  .argument('<scales...>')
  .option('--no-deps', "Don't start linked services")
  .action(async (scales: string[], o: { deps: boolean }) => {
    const map = parseScale(scales.map((v) => v));
    await s.load({ services: Object.keys(map) });
    await (await s.operations()).scale(map, !o.deps);
  });
