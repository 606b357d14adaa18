#!/usr/bin/env node
// `berth`: the command tree (top-level verbs and docker's management commands) and the one place
// errors become messages and exit statuses.
import { Command } from 'commander';
import { BERTH_VERSION } from '../wire/docker';
import { ConnectionError, DaemonError, resolveHost } from './api-client';
import { BerthCommand, Cli, isCommanderExit, StatusError, UsageError } from './command';
import { InvalidFlagError } from './container-options';
import { JsonMessageError } from './format/progress';
import { TemplateError } from './format/template';
import { exitWhenDone } from './process-exit';
type Factory = (cli: Cli, name?: string) => Command;

/**
 * Each verb's module is loaded only when the command line names it: a `berth run` should not pay for
 * loading `build`, `cp` and `stats` (node's module loading is most of a short CLI call).
 */
function lazy(load: () => unknown, exportName: string): Factory {
  return (cli, name) => (load() as Record<string, Factory>)[exportName]!(cli, name);
}

const attachCommand = lazy(() => require('./commands/start'), 'attachCommand');
const startCommand = lazy(() => require('./commands/start'), 'startCommand');
const commitCommand = lazy(() => require('./commands/image-archive'), 'commitCommand');
const importCommand = lazy(() => require('./commands/image-archive'), 'importCommand');
const loadCommand = lazy(() => require('./commands/image-archive'), 'loadCommand');
const saveCommand = lazy(() => require('./commands/image-archive'), 'saveCommand');
const cpCommand = lazy(() => require('./commands/archive'), 'cpCommand');
const exportCommand = lazy(() => require('./commands/archive'), 'exportCommand');
const createCommand = lazy(() => require('./commands/run'), 'createCommand');
const runCommand = lazy(() => require('./commands/run'), 'runCommand');
const diffCommand = lazy(() => require('./commands/container-info'), 'diffCommand');
const portCommand = lazy(() => require('./commands/container-info'), 'portCommand');
const statsCommand = lazy(() => require('./commands/container-info'), 'statsCommand');
const topCommand = lazy(() => require('./commands/container-info'), 'topCommand');
const execCommand = lazy(() => require('./commands/exec'), 'execCommand');
const killCommand = lazy(() => require('./commands/lifecycle'), 'killCommand');
const pauseCommand = lazy(() => require('./commands/lifecycle'), 'pauseCommand');
const renameCommand = lazy(() => require('./commands/lifecycle'), 'renameCommand');
const restartCommand = lazy(() => require('./commands/lifecycle'), 'restartCommand');
const rmCommand = lazy(() => require('./commands/lifecycle'), 'rmCommand');
const stopCommand = lazy(() => require('./commands/lifecycle'), 'stopCommand');
const unpauseCommand = lazy(() => require('./commands/lifecycle'), 'unpauseCommand');
const updateCommand = lazy(() => require('./commands/lifecycle'), 'updateCommand');
const waitCommand = lazy(() => require('./commands/lifecycle'), 'waitCommand');
const containerPruneCommand = lazy(() => require('./commands/lifecycle'), 'containerPruneCommand');
const logsCommand = lazy(() => require('./commands/logs'), 'logsCommand');
const buildCommand = lazy(() => require('./commands/build'), 'buildCommand');
const historyCommand = lazy(() => require('./commands/images'), 'historyCommand');
const imagePruneCommand = lazy(() => require('./commands/images'), 'imagePruneCommand');
const imagesCommand = lazy(() => require('./commands/images'), 'imagesCommand');
const rmiCommand = lazy(() => require('./commands/images'), 'rmiCommand');
const tagCommand = lazy(() => require('./commands/images'), 'tagCommand');
const pullCommand = lazy(() => require('./commands/pull'), 'pullCommand');
const pushCommand = lazy(() => require('./commands/pull'), 'pushCommand');
const psCommand = lazy(() => require('./commands/ps'), 'psCommand');
const inspectCommand = lazy(() => require('./commands/inspect'), 'inspectCommand');
const typedInspectCommand = lazy(() => require('./commands/inspect'), 'typedInspectCommand');
const loginCommand = lazy(() => require('./commands/login'), 'loginCommand');
const logoutCommand = lazy(() => require('./commands/login'), 'logoutCommand');
const versionCommand = lazy(() => require('./commands/system'), 'versionCommand');
const infoCommand = lazy(() => require('./commands/system'), 'infoCommand');
const eventsCommand = lazy(() => require('./commands/system'), 'eventsCommand');
const dfCommand = lazy(() => require('./commands/system'), 'dfCommand');
const systemPruneCommand = lazy(() => require('./commands/system'), 'systemPruneCommand');
const networkCommand = lazy(() => require('./commands/network'), 'networkCommand');
const volumeCommand = lazy(() => require('./commands/volume'), 'volumeCommand');
const checkpointCommand = lazy(() => require('./commands/checkpoint'), 'checkpointCommand');
const registryCommand = lazy(() => require('./commands/registry'), 'registryCommand');
const trustCommand = lazy(() => require('./commands/trust'), 'trustCommand');
const dashboardCommand = lazy(() => require('./commands/dashboard'), 'dashboardCommand');
const bootstrapCommand = lazy(() => require('./commands/bootstrap'), 'bootstrapCommand');
const swarmCommand = lazy(() => require('./commands/swarm'), 'swarmCommand');
const nodeCommand = lazy(() => require('./commands/node'), 'nodeCommand');
const serviceCommand = lazy(() => require('./commands/service'), 'serviceCommand');
const stackCommand = lazy(() => require('./commands/stack'), 'stackCommand');
const secretCommand = lazy(() => require('./commands/secret'), 'secretCommand');
const configCommand = lazy(() => require('./commands/config'), 'configCommand');

/** Verbs that exist both at the top level and under `container` (docker's aliases). */
const CONTAINER_VERBS: [string, Factory][] = [
  ['attach', attachCommand], ['commit', commitCommand], ['cp', cpCommand], ['create', createCommand],
  ['diff', diffCommand], ['exec', execCommand], ['export', exportCommand], ['kill', killCommand],
  ['logs', logsCommand], ['pause', pauseCommand], ['port', portCommand], ['rename', renameCommand],
  ['restart', restartCommand], ['rm', rmCommand], ['run', runCommand], ['start', startCommand],
  ['stats', statsCommand], ['stop', stopCommand], ['top', topCommand], ['unpause', unpauseCommand],
  ['update', updateCommand], ['wait', waitCommand],
];

const IMAGE_VERBS: [string, Factory][] = [
  ['build', buildCommand], ['history', historyCommand], ['import', importCommand], ['load', loadCommand],
  ['pull', pullCommand], ['push', pushCommand], ['save', saveCommand], ['tag', tagCommand],
];

/** The verb a command line names (skipping the global flags), or undefined when there is none. */
export function verbOf(args: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-H' || a === '--host' || a === '-l' || a === '--log-level') { i++; continue; }
    if (a.startsWith('-')) continue;
    return a;
  }
  return undefined;
}

/** The command tree; with `verb`, only that verb's branch (the rest would load modules for nothing). */
export function buildProgram(cli: Cli, verb?: string): Command {
  const known = new Set([...CONTAINER_VERBS.map(([n]) => n), ...IMAGE_VERBS.map(([n]) => n),
    'ps', 'images', 'rmi', 'inspect', 'login', 'logout', 'version', 'info', 'events', 'container', 'image',
    'network', 'volume', 'system', 'check-config', 'registry', 'trust', 'dashboard', 'checkpoint',
    'swarm', 'node', 'service', 'stack', 'secret', 'config']);
  const want = (name: string) => verb === undefined || !known.has(verb) || verb === name;
  const program = new BerthCommand('berth')
    .description('A self-sufficient runtime for containers')
    .usage('[OPTIONS] COMMAND')
    .option('-H, --host <host>', 'Daemon socket to connect to')
    .option('-D, --debug', 'Enable debug mode')
    .option('-l, --log-level <level>', 'Set the logging level ("debug", "info", "warn", "error", "fatal")', 'info')
    .version(`Berth version ${BERTH_VERSION}`, '-v, --version', 'Print version information and quit');
  program.hook('preAction', () => {
    cli.hostFlag = program.opts<{ host?: string }>().host;
  });

  for (const [name, make] of CONTAINER_VERBS) if (want(name)) program.addCommand(make(cli, name));
  for (const [name, make] of IMAGE_VERBS) if (want(name)) program.addCommand(make(cli, name));
  if (want('ps')) program.addCommand(psCommand(cli, 'ps'));
  if (want('images')) program.addCommand(imagesCommand(cli, 'images'));
  if (want('rmi')) program.addCommand(rmiCommand(cli, 'rmi'));
  if (want('inspect')) program.addCommand(inspectCommand(cli));
  if (want('login')) program.addCommand(loginCommand(cli));
  if (want('logout')) program.addCommand(logoutCommand(cli));
  if (want('version')) program.addCommand(versionCommand(cli));
  if (want('info')) program.addCommand(infoCommand(cli));
  if (want('events')) program.addCommand(eventsCommand(cli));

  if (want('container')) {
  const container = new BerthCommand('container').description('Manage containers');
  for (const [name, make] of CONTAINER_VERBS) container.addCommand(make(cli, name));
  container.addCommand(psCommand(cli, 'ls').aliases(['ps', 'list']));
  container.addCommand(typedInspectCommand(cli, 'container'));
  container.addCommand(containerPruneCommand(cli));
  program.addCommand(container);
  }

  if (want('image')) {
  const image = new BerthCommand('image').description('Manage images');
  for (const [name, make] of IMAGE_VERBS) image.addCommand(make(cli, name));
  image.addCommand(imagesCommand(cli, 'ls').aliases(['images', 'list']));
  image.addCommand(rmiCommand(cli, 'rm').aliases(['rmi', 'remove']));
  image.addCommand(typedInspectCommand(cli, 'image'));
  image.addCommand(imagePruneCommand(cli));
  image.addCommand(bootstrapCommand(cli));
  program.addCommand(image);
  }

  if (want('network')) program.addCommand(networkCommand(cli));
  if (want('volume')) program.addCommand(volumeCommand(cli));
  if (want('checkpoint')) program.addCommand(checkpointCommand(cli));
  if (want('registry')) program.addCommand(registryCommand(cli));
  if (want('trust')) program.addCommand(trustCommand(cli));
  if (want('dashboard')) program.addCommand(dashboardCommand(cli));
  // Swarm mode: the cluster's verbs, as docker's management commands.
  if (want('swarm')) program.addCommand(swarmCommand(cli));
  if (want('node')) program.addCommand(nodeCommand(cli));
  if (want('service')) program.addCommand(serviceCommand(cli));
  if (want('stack')) program.addCommand(stackCommand(cli));
  if (want('secret')) program.addCommand(secretCommand(cli));
  if (want('config')) program.addCommand(configCommand(cli));

  if (want('system')) {
  const system = new BerthCommand('system').description('Manage Berth');
  system.addCommand(dfCommand(cli));
  system.addCommand(eventsCommand(cli));
  system.addCommand(infoCommand(cli));
  system.addCommand(systemPruneCommand(cli));
  program.addCommand(system);
  }

  // The one verb that runs locally: it inspects this host, like Docker's check-config.sh.
  if (want('check-config')) program.addCommand(new BerthCommand('check-config')
    .description('Check that this host has what Berth needs (kernel, cgroups, tools)')
    .action(async () => {
      const { runCheckConfig } = require('../host/check-config') as typeof import('../host/check-config');
      const code = await runCheckConfig();
      if (code !== 0) throw new StatusError(code);
    }));
  return program;
}

/**
 * The daemon `berth compose` talks to: the one every other berth verb uses (-H, BERTH_HOST, DOCKER_HOST, Berth's
 * socket), not the docker CLI's /var/run/docker.sock; a --context given to compose still names a docker context.
 */
export function berthComposeDaemon<D extends { host?: string; context?: string }>(daemon: D, env: NodeJS.ProcessEnv): D {
  return daemon.host || daemon.context ? daemon : { ...daemon, host: resolveHost(undefined, env) };
}

/** Runs the CLI on argv and resolves with the exit status (printing errors as docker does). */
export async function main(argv: string[], cli = new Cli()): Promise<number> {
  // `berth compose ...`: the rest of the line is compose's (its own flags and verbs); berth's -H is the host.
  const composeAt = verbOf(argv.slice(2)) === 'compose' ? argv.indexOf('compose', 2) : -1;
  if (composeAt > 0) {
    const { parsePluginArgv } = require('../compose/cli/argv') as typeof import('../compose/cli/argv');
    const { runCompose } = require('../compose/cli/main') as typeof import('../compose/cli/main');
    const { args, debug: _debug, ...daemon } = parsePluginArgv(argv.slice(2));
    return runCompose(args, { daemon: berthComposeDaemon(daemon, cli.env), programName: 'berth compose', cli });
  }
  const program = buildProgram(cli, verbOf(argv.slice(2)));
  try {
    if (argv.length <= 2) {
      program.outputHelp();
      return 0;
    }
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    return reportError(cli, err);
  }
}

function reportError(cli: Cli, err: unknown): number {
  if (isCommanderExit(err)) return err.exitCode;
  if (err instanceof StatusError) {
    if (err.message) cli.err.write(`${err.message}\n`);
    return err.status;
  }
  if (err instanceof UsageError) {
    cli.err.write(err.showUsage
      ? `berth: ${err.message}\n\nSee '${err.commandPath} --help' for more information\n`
      : `${err.message}\nSee '${err.commandPath} --help'.\n`);
    return err.status;
  }
  if (err instanceof DaemonError) {
    cli.err.write(`Error response from daemon: ${err.message}\n`);
    return 1;
  }
  if (err instanceof ConnectionError || err instanceof JsonMessageError || err instanceof TemplateError) {
    cli.err.write(`${err.message}\n`);
    return 1;
  }
  if (err instanceof InvalidFlagError) {
    cli.err.write(`${err.message}\n`);
    return 125;
  }
  cli.err.write(`${err instanceof Error ? err.message : String(err)}\n`);
  return 1;
}

/** Runs the CLI as a program: bin/berth calls this. */
export function runAsProgram(): void {
  exitWhenDone(() => main(process.argv));
}

if (require.main === module) runAsProgram();
