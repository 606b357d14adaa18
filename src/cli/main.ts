#!/usr/bin/env node
// `berth`: the command tree (top-level verbs and docker's management commands) and the one place
// errors become messages and exit statuses.
import { Command } from 'commander';
import * as checkConfig from '../host/check-config';
import { BERTH_VERSION } from '../wire/docker';
import { ConnectionError, DaemonError } from './api-client';
import { BerthCommand, Cli, isCommanderExit, StatusError, UsageError } from './command';
import { InvalidFlagError } from './container-options';
import { JsonMessageError } from './format/progress';
import { TemplateError } from './format/template';
import { cpCommand, exportCommand } from './commands/archive';
import { buildCommand } from './commands/build';
import { diffCommand, portCommand, statsCommand, topCommand } from './commands/container-info';
import { execCommand } from './commands/exec';
import { commitCommand, importCommand, loadCommand, saveCommand } from './commands/image-archive';
import { historyCommand, imagePruneCommand, imagesCommand, rmiCommand, tagCommand } from './commands/images';
import { inspectCommand, typedInspectCommand } from './commands/inspect';
import {
  containerPruneCommand, killCommand, pauseCommand, renameCommand, restartCommand, rmCommand, stopCommand,
  unpauseCommand, updateCommand, waitCommand,
} from './commands/lifecycle';
import { loginCommand, logoutCommand } from './commands/login';
import { logsCommand } from './commands/logs';
import { networkCommand } from './commands/network';
import { psCommand } from './commands/ps';
import { pullCommand, pushCommand } from './commands/pull';
import { createCommand, runCommand } from './commands/run';
import { attachCommand, startCommand } from './commands/start';
import { dfCommand, eventsCommand, infoCommand, systemPruneCommand, versionCommand } from './commands/system';
import { volumeCommand } from './commands/volume';

type Factory = (cli: Cli, name?: string) => Command;

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

export function buildProgram(cli: Cli): Command {
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

  for (const [name, make] of CONTAINER_VERBS) program.addCommand(make(cli, name));
  for (const [name, make] of IMAGE_VERBS) program.addCommand(make(cli, name));
  program.addCommand(psCommand(cli, 'ps'));
  program.addCommand(imagesCommand(cli, 'images'));
  program.addCommand(rmiCommand(cli, 'rmi'));
  program.addCommand(inspectCommand(cli));
  program.addCommand(loginCommand(cli));
  program.addCommand(logoutCommand(cli));
  program.addCommand(versionCommand(cli));
  program.addCommand(infoCommand(cli));
  program.addCommand(eventsCommand(cli));

  const container = new BerthCommand('container').description('Manage containers');
  for (const [name, make] of CONTAINER_VERBS) container.addCommand(make(cli, name));
  container.addCommand(psCommand(cli, 'ls').aliases(['ps', 'list']));
  container.addCommand(typedInspectCommand(cli, 'container'));
  container.addCommand(containerPruneCommand(cli));
  program.addCommand(container);

  const image = new BerthCommand('image').description('Manage images');
  for (const [name, make] of IMAGE_VERBS) image.addCommand(make(cli, name));
  image.addCommand(imagesCommand(cli, 'ls').aliases(['images', 'list']));
  image.addCommand(rmiCommand(cli, 'rm').aliases(['rmi', 'remove']));
  image.addCommand(typedInspectCommand(cli, 'image'));
  image.addCommand(imagePruneCommand(cli));
  program.addCommand(image);

  program.addCommand(networkCommand(cli));
  program.addCommand(volumeCommand(cli));

  const system = new BerthCommand('system').description('Manage Berth');
  system.addCommand(dfCommand(cli));
  system.addCommand(eventsCommand(cli));
  system.addCommand(infoCommand(cli));
  system.addCommand(systemPruneCommand(cli));
  program.addCommand(system);

  // The one verb that runs locally: it inspects this host, like Docker's check-config.sh.
  program.addCommand(new BerthCommand('check-config')
    .description('Check that this host has what Berth needs (kernel, cgroups, tools)')
    .action(async () => {
      const run = (checkConfig as unknown as { runCheckConfig?: () => Promise<number> }).runCheckConfig;
      if (!run) throw new StatusError(1, 'check-config is not available in this build');
      const code = await run();
      if (code !== 0) throw new StatusError(code);
    }));
  return program;
}

/** Runs the CLI on argv and resolves with the exit status (printing errors as docker does). */
export async function main(argv: string[], cli = new Cli()): Promise<number> {
  const program = buildProgram(cli);
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
  main(process.argv).then((code) => {
    // Let stdout drain before exiting: piped output must not be cut short.
    process.exitCode = code;
    if (process.stdout.writableLength === 0) process.exit(code);
    process.stdout.once('drain', () => process.exit(code));
  }, (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
}

if (require.main === module) runAsProgram();
