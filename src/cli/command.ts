// The frame every verb shares: a commander Command with docker's flag conventions and error wording,
// the per-invocation context (streams, the API client), and the errors that carry an exit status.
import { Command, CommanderError } from 'commander';
import { ApiClient, resolveHost } from './api-client';

/** Ends the command with a status, after printing `message` (if any) on stderr. */
export class StatusError extends Error {
  constructor(readonly status: number, message = '') {
    super(message);
    this.name = 'StatusError';
  }
}

/** A command-line usage mistake, worded as docker words it. */
export class UsageError extends Error {
  constructor(message: string, readonly commandPath: string, readonly status: number, readonly showUsage: boolean) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface CliStreams {
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** What a running verb needs: its streams, the environment and a lazily made API client. */
export class Cli {
  private client: ApiClient | undefined;
  hostFlag: string | undefined;

  constructor(readonly streams: CliStreams = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
    readonly env: NodeJS.ProcessEnv = process.env) {}

  get api(): ApiClient {
    this.client ??= new ApiClient(resolveHost(this.hostFlag, this.env));
    return this.client;
  }

  get out(): NodeJS.WriteStream { return this.streams.stdout; }
  get err(): NodeJS.WriteStream { return this.streams.stderr; }
  get in(): NodeJS.ReadStream { return this.streams.stdin; }

  /** Writes text to stdout, resolving once flushed enough to continue. */
  print(text: string): void {
    this.out.write(text);
  }
}

/** Accumulates a repeatable flag: -e A -e B. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function intArg(name: string): (v: string) => number {
  return (v: string) => {
    if (!/^[+-]?\d+$/.test(v.trim())) throw new UsageErrorArg(`invalid argument "${v}" for "${name}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
    return Number(v);
  };
}

/** Thrown by flag value parsers; BerthCommand turns it into a flag error (exit 125). */
export class UsageErrorArg extends Error {}

/** `berth container ls`: the command path docker prints in "See 'docker ps --help'." */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Docker's cobra flag error text for commander's error codes. */
function dockerMessage(code: string, message: string, cmd: Command): { text: string; status: number; usage: boolean } {
  const path = commandPath(cmd);
  const quoted = /'([^']+)'/.exec(message)?.[1] ?? '';
  switch (code) {
    case 'commander.unknownOption':
      if (/^-[^-]/.test(quoted)) return { text: `unknown shorthand flag: '${quoted[1]}' in ${quoted}`, status: 125, usage: false };
      return { text: `unknown flag: ${quoted.replace(/=.*$/, '')}`, status: 125, usage: false };
    case 'commander.optionMissingArgument': {
      const flag = /'([^']+)'/.exec(message)?.[1] ?? '';
      const long = flag.split(/[ ,]+/).find((f) => f.startsWith('--')) ?? flag.split(/[ ,]+/)[0];
      return { text: `flag needs an argument: ${long}`, status: 125, usage: false };
    }
    case 'commander.invalidArgument':
      return { text: message.replace(/^error: /, ''), status: 125, usage: false };
    case 'commander.missingArgument':
      return { text: `"${path}" requires at least 1 argument.`, status: 1, usage: true };
    case 'commander.excessArguments':
      return { text: `"${path}" accepts no arguments.`, status: 1, usage: true };
    case 'commander.unknownCommand': {
      return { text: `'${quoted}' is not a berth command.`, status: 1, usage: false };
    }
    default:
      return { text: message.replace(/^error: /, ''), status: 1, usage: false };
  }
}

/** A commander Command configured like docker's cobra commands. */
export class BerthCommand extends Command {
  constructor(name?: string) {
    super(name);
    this.helpOption('--help', 'Print usage');
    this.exitOverride();
    this.enablePositionalOptions();
    this.configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: () => { /* main prints errors */ } });
  }

  override createCommand(name?: string): Command {
    return new BerthCommand(name);
  }

  override error(message: string, errorOptions?: { code?: string; exitCode?: number }): never {
    const code = errorOptions?.code ?? '';
    if (code === 'commander.invalidArgument' && !message.includes('flag')) {
      // Our value parsers' messages already read like docker's.
    }
    const m = dockerMessage(code, message, this);
    throw new UsageError(m.text, commandPath(this), m.status, m.usage);
  }
}

/** Was this a help or version display commander already printed? */
export function isCommanderExit(err: unknown): err is CommanderError {
  return err instanceof CommanderError && ['commander.helpDisplayed', 'commander.help', 'commander.version', 'commander.executeSubCommandAsync'].includes(err.code);
}

/** How docker prints an error for one of many targets: the daemon's words after its prefix. */
export function describeError(err: unknown): string {
  if (err instanceof Error && err.name === 'DaemonError') return `Error response from daemon: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs `fn` for each name as docker's multi-target verbs do (stop, rm, kill...): prints the name on
 * success, the error on stderr otherwise, and exits 1 at the end if anything failed.
 */
export async function forEach(cli: Cli, names: string[], fn: (name: string) => Promise<void | string>, opts: { parallel?: boolean; quiet?: boolean; hide?: (name: string) => boolean } = {}): Promise<void> {
  let failed = false;
  const one = async (name: string) => {
    try {
      const shown = await fn(name);
      if (!opts.quiet && !opts.hide?.(name)) cli.out.write(`${shown ?? name}\n`);
    } catch (err) {
      failed = true;
      cli.err.write(`${describeError(err)}\n`);
    }
  };
  if (opts.parallel) await Promise.all(names.map(one));
  else for (const n of names) await one(n);
  if (failed) throw new StatusError(1);
}
