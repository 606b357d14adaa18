// `berth exec`: POST /containers/{id}/exec, then POST /exec/{id}/start hijacked, then the exit code
// from GET /exec/{id}/json.
import { Command } from 'commander';
import { BerthCommand, Cli, collect, StatusError } from '../command';
import { expandEnv, parseKeyValueFile } from '../container-options';
import { DEFAULT_DETACH_KEYS, holdHijackedConnection, monitorTtySize } from '../hijack';

export interface ExecFlags {
  detach?: boolean; detachKeys?: string; env?: string[]; envFile?: string[]; interactive?: boolean;
  privileged?: boolean; tty?: boolean; user?: string; workdir?: string;
}

export function execCommand(cli: Cli, name = 'exec'): Command {
  return new BerthCommand(name)
    .description('Execute a command in a running container')
    .usage('[OPTIONS] CONTAINER COMMAND [ARG...]')
    .argument('<container>')
    .argument('<command...>')
    .passThroughOptions()
    .option('-d, --detach', 'Detached mode: run command in the background')
    .option('--detach-keys <keys>', 'Override the key sequence for detaching a container')
    .option('-e, --env <env>', 'Set environment variables', collect)
    .option('--env-file <file>', 'Read in a file of environment variables', collect)
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('--privileged', 'Give extended privileges to the command')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('-u, --user <user>', 'Username or UID (format: "<name|uid>[:<group|gid>]")')
    .option('-w, --workdir <dir>', 'Working directory inside the container')
    .action((container: string, command: string[], o: ExecFlags) => execInContainer(cli, container, command, o));
}

/** Runs a command in a running container as `exec` does; throws StatusError with the command's exit code. */
export async function execInContainer(cli: Cli, container: string, command: string[], o: ExecFlags): Promise<void> {
  if (o.tty && o.interactive && !cli.in.isTTY && !o.detach) throw new StatusError(1, 'the input device is not a TTY');
  const env = [...(o.envFile ?? []).flatMap((f) => parseKeyValueFile(f, (k) => cli.env[k])), ...(o.env ?? []).map((e) => expandEnv(e, cli.env))];
  const attach = !o.detach;
  const consoleSize: [number, number] = o.tty && cli.out.isTTY ? [cli.out.rows, cli.out.columns] : [0, 0];
  const created = await cli.api.json<{ Id: string }>('POST', `/containers/${encodeURIComponent(container)}/exec`, {
    body: {
      User: o.user ?? '', Privileged: !!o.privileged, Tty: !!o.tty, ConsoleSize: consoleSize,
      AttachStdin: attach && !!o.interactive, AttachStderr: attach, AttachStdout: attach,
      Detach: !!o.detach, DetachKeys: o.detachKeys ?? '', Env: env.length ? env : null,
      WorkingDir: o.workdir ?? '', Cmd: command,
    },
  });
  const path = `/exec/${created.Id}`;
  if (o.detach) {
    await cli.api.call('POST', `${path}/start`, { body: { Detach: true, Tty: !!o.tty, ConsoleSize: consoleSize } });
    return;
  }
  const conn = await cli.api.hijack('POST', `${path}/start`, { body: { Detach: false, Tty: !!o.tty, ConsoleSize: consoleSize } });
  const stopResize = o.tty ? monitorTtySize(cli.api, path, cli.out) : () => undefined;
  try {
    const result = await holdHijackedConnection(conn, {
      tty: !!o.tty, stdin: o.interactive ? cli.in : null, stdout: cli.out, stderr: cli.err,
      detachKeys: o.detachKeys ?? DEFAULT_DETACH_KEYS,
    });
    if (result.detached) return;
  } finally {
    stopResize();
  }
  const inspect = await cli.api.json<{ ExitCode: number | null; Running: boolean }>('GET', `${path}/json`);
  const code = inspect.ExitCode ?? 0;
  if (code !== 0) throw new StatusError(code);
}
