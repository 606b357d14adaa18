// `docker compose` / `berth compose`: the command tree with Compose v2's flags, each verb's module loaded
// only when named, and the one place errors become messages and Compose's exit statuses.
import type { Command } from 'commander';
import { ConnectionError, DaemonError } from '../../cli/api-client';
import { BerthCommand, Cli, collect, isCommanderExit, StatusError, UsageError } from '../../cli/command';
import { resolveDaemonHost, type DaemonFlags } from './context';
import { ComposeSession, type ProjectFlags } from './session';

export type VerbFactory = (s: ComposeSession) => Command;

/** Each verb and where it lives; the module is required only when the command line names the verb. */
const VERBS: Record<string, [module: string, exportName: string]> = {
  up: ['./commands/up', 'upCommand'],
  down: ['./commands/lifecycle', 'downCommand'],
  create: ['./commands/lifecycle', 'createCommand'],
  start: ['./commands/lifecycle', 'startCommand'],
  stop: ['./commands/lifecycle', 'stopCommand'],
  restart: ['./commands/lifecycle', 'restartCommand'],
  rm: ['./commands/lifecycle', 'rmCommand'],
  kill: ['./commands/lifecycle', 'killCommand'],
  pause: ['./commands/lifecycle', 'pauseCommand'],
  unpause: ['./commands/lifecycle', 'unpauseCommand'],
  build: ['./commands/lifecycle', 'buildCommand'],
  pull: ['./commands/lifecycle', 'pullCommand'],
  push: ['./commands/lifecycle', 'pushCommand'],
  scale: ['./commands/lifecycle', 'scaleCommand'],
  ps: ['./commands/ps', 'psCommand'],
  ls: ['./commands/ls', 'lsCommand'],
  logs: ['./commands/logs', 'logsCommand'],
  config: ['./commands/config', 'configCommand'],
  exec: ['./commands/exec', 'execCommand'],
  run: ['./commands/run', 'runCommand'],
  images: ['./commands/inspect', 'imagesCommand'],
  port: ['./commands/inspect', 'portCommand'],
  top: ['./commands/inspect', 'topCommand'],
  events: ['./commands/inspect', 'eventsCommand'],
  cp: ['./commands/cp', 'cpCommand'],
  wait: ['./commands/inspect', 'waitCommand'],
  version: ['./commands/version', 'versionCommand'],
};

const DESCRIPTIONS: Record<string, string> = {
  up: 'Create and start containers', down: 'Stop and remove containers, networks', create: 'Creates containers for a service',
  start: 'Start services', stop: 'Stop services', restart: 'Restart service containers', rm: 'Removes stopped service containers',
  kill: 'Force stop service containers', pause: 'Pause services', unpause: 'Unpause services', build: 'Build or rebuild services',
  pull: 'Pull service images', push: 'Push service images', scale: 'Scale services', ps: 'List containers', ls: 'List running compose projects',
  logs: 'View output from containers', config: 'Parse, resolve and render compose file in canonical format',
  exec: 'Execute a command in a running container', run: 'Run a one-off command on a service', images: 'List images used by the created containers',
  port: 'Print the public port for a port binding', top: 'Display the running processes', events: 'Receive real time events from containers',
  cp: 'Copy files/folders between a service container and the local filesystem', wait: 'Block until containers of all (or specified) services stop.',
  version: 'Show the Docker Compose version information',
};

/** Compose's persistent flags: accepted before the verb and after it (cobra's persistent flags). */
const PROJECT_OPTIONS: [short: string | undefined, long: string, description: string, repeatable: boolean][] = [
  ['-f', '--file <file>', 'Compose configuration files', true],
  ['-p', '--project-name <name>', 'Project name', false],
  [undefined, '--project-directory <dir>', 'Specify an alternate working directory (default: the path of the, first specified, Compose file)', false],
  [undefined, '--env-file <file>', 'Specify an alternate environment file', true],
  [undefined, '--profile <profile>', 'Specify a profile to enable', true],
  [undefined, '--parallel <n>', 'Control max parallelism, -1 for unlimited', false],
  [undefined, '--ansi <when>', 'Control when to print ANSI control characters ("never"|"always"|"auto")', false],
  [undefined, '--progress <mode>', 'Set type of progress output (auto, tty, plain, json, quiet)', false],
  [undefined, '--dry-run', 'Execute command in dry run mode', false],
];

/** Adds the project flags a verb does not define itself (run's -p is --publish, logs' -f is --follow). */
export function addProjectFlags(cmd: Command): Command {
  const taken = new Set(cmd.options.flatMap((o) => [o.short, o.long]).filter(Boolean));
  for (const [short, long, description, repeatable] of PROJECT_OPTIONS) {
    const name = long.split(' ')[0]!;
    if (taken.has(name)) continue;
    const flags = short && !taken.has(short) ? `${short}, ${long}` : long;
    if (repeatable) cmd.option(flags, description, collect);
    else cmd.option(flags, description);
  }
  return cmd;
}

/** Root flags then the verb's: lists add up, a scalar given after the verb wins. */
export function mergeProjectFlags(root: ProjectFlags, verb: ProjectFlags): ProjectFlags {
  const out: ProjectFlags = { ...root };
  for (const [k, v] of Object.entries(verb) as [keyof ProjectFlags, unknown][]) {
    if (v === undefined) continue;
    const prev = out[k];
    (out as Record<string, unknown>)[k] = Array.isArray(v) && Array.isArray(prev) ? [...prev, ...v] : v;
  }
  return out;
}

const PROJECT_KEYS: (keyof ProjectFlags)[] = ['file', 'projectName', 'projectDirectory', 'envFile', 'profile', 'parallel', 'ansi', 'progress', 'dryRun'];

function projectFlagsOf(cmd: Command): ProjectFlags {
  const o = cmd.opts<Record<string, unknown>>();
  const out: Record<string, unknown> = {};
  for (const k of PROJECT_KEYS) if (o[k] !== undefined) out[k] = o[k];
  return out as ProjectFlags;
}

/** The verb named on a compose command line (skipping the project flags and their values). */
export function composeVerbOf(args: string[]): string | undefined {
  const withValue = new Set(['-f', '--file', '-p', '--project-name', '--project-directory', '--env-file', '--profile', '--parallel', '--ansi', '--progress']);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (withValue.has(a)) { i++; continue; }
    if (a.startsWith('-')) continue;
    return a;
  }
  return undefined;
}

export function buildComposeProgram(s: ComposeSession, verb?: string): Command {
  const program = addProjectFlags(new BerthCommand('compose'))
    .description('Define and run multi-container applications with Docker')
    .usage('[OPTIONS] COMMAND')
    .option('-v, --version', 'Show the Docker Compose version information');
  program.hook('preAction', (root, action) => {
    s.flags = mergeProjectFlags(projectFlagsOf(root), action === root ? {} : projectFlagsOf(action));
    if (s.flags.dryRun) throw new StatusError(1, 'compose: --dry-run is not supported by Berth');
    if (s.flags.progress && !['auto', 'tty', 'plain', 'json', 'quiet'].includes(s.flags.progress)) {
      throw new StatusError(1, `unsupported --progress value "${s.flags.progress}"`);
    }
  });
  for (const [name, [module, exportName]] of Object.entries(VERBS)) {
    if (verb && VERBS[verb] && verb !== name) {
      // Listed (for help and unknown-command wording) without loading its module.
      program.addCommand(new BerthCommand(name).description(DESCRIPTIONS[name] ?? ''));
      continue;
    }
    const make = (require(module) as Record<string, VerbFactory>)[exportName]!;
    program.addCommand(addProjectFlags(make(s)));
  }
  program.action(async (o: { version?: boolean }, cmd: Command) => {
    if (o.version) {
      const { printVersion } = require('./commands/version') as typeof import('./commands/version');
      printVersion(s, {});
      return;
    }
    if (cmd.args.length) throw new StatusError(1, `unknown docker command: "compose ${cmd.args[0]}"`);
    program.outputHelp();
  });
  return program;
}

export interface ComposeRunOptions {
  daemon: DaemonFlags;
  /** "docker compose" or "berth compose". */
  programName: string;
  cli?: Cli;
}

/** Runs compose on its words (everything after `compose`) and resolves with the exit status. */
export async function runCompose(args: string[], options: ComposeRunOptions): Promise<number> {
  const cli = options.cli ?? new Cli();
  const s = new ComposeSession(cli, options.programName);
  try {
    cli.hostFlag = resolveDaemonHost(options.daemon, cli.env);
    const program = buildComposeProgram(s, composeVerbOf(args));
    if (!args.length) {
      program.outputHelp();
      return 0;
    }
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (err) {
    return reportComposeError(cli, err);
  }
}

/**
 * Compose v2's exit statuses: a command's own (exec, run, wait, up --exit-code-from), 130 when the user
 * stopped it, else 1 for every error. Compose dropped its per-kind codes (14 file not found, 15 invalid file,
 * 16 syntax, 17 build, 18 pull) in v2.33 (docker/compose 23351ece8); an error's own `exitCode` is not used.
 */
export function reportComposeError(cli: Cli, err: unknown): number {
  if (isCommanderExit(err)) return err.exitCode;
  if (err instanceof StatusError) {
    if (err.message) cli.err.write(`${err.message}\n`);
    return err.status;
  }
  if (err instanceof UsageError) {
    // Compose's flag error function: every usage mistake exits 1.
    cli.err.write(`${err.message}\n`);
    return 1;
  }
  if (err instanceof DaemonError) {
    cli.err.write(`Error response from daemon: ${err.message}\n`);
    return 1;
  }
  if (err instanceof ConnectionError) {
    cli.err.write(`${err.message.replace('Berth daemon', 'Docker daemon').replace('berth daemon', 'docker daemon')}\n`);
    return 1;
  }
  cli.err.write(`${err instanceof Error ? err.message : String(err)}\n`);
  return 1;
}
