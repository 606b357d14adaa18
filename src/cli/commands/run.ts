// `berth run` and `berth create`: docker's flow — create (pulling on "No such image"), then for run
// attach, wait (registered before start), start, stream, and exit with the container's status.
import * as fs from 'node:fs';
import { Command } from 'commander';
import { DaemonError } from '../api-client';
import { BerthCommand, Cli, StatusError } from '../command';
import { addCreateFlags, buildCreateRequest, CreateFlags, CreateRequest, InvalidFlagError } from '../container-options';
import { DEFAULT_DETACH_KEYS, holdHijackedConnection, monitorTtySize } from '../hijack';
import { familiarWithTag } from '../reference';
import { pullImage } from './pull';

/** docker's "docker: <message>\n\nRun 'docker run --help' for more information", exit 125 (or 126/127). */
export function runFailure(verb: string, err: unknown, status = 125): StatusError {
  if (err instanceof StatusError) return err;
  const message = err instanceof DaemonError ? `Error response from daemon: ${err.message}` : (err as Error).message;
  return new StatusError(status, `berth: ${message}\n\nRun 'berth ${verb} --help' for more information`);
}

/** toStatusError: a start failure that names a missing or unrunnable command exits 127 or 126. */
function startFailureStatus(err: unknown): number {
  const msg = (err as Error).message ?? '';
  if (/executable file not found|no such file or directory|not found/i.test(msg) && !/No such container/i.test(msg)) return 127;
  if (/permission denied|cannot execute/i.test(msg)) return 126;
  return 125;
}

/** POST /containers/create, pulling the image first when the daemon does not have it. */
export async function createContainer(cli: Cli, req: CreateRequest, pull: string, quiet: boolean): Promise<string> {
  const image = req.body.Image ?? '';
  const create = async () => {
    const res = await cli.api.json<{ Id: string; Warnings?: string[] | null }>('POST', '/containers/create', {
      query: { name: req.name, platform: req.platform },
      body: req.body,
    });
    for (const w of res.Warnings ?? []) cli.err.write(`WARNING: ${w}\n`);
    return res.Id;
  };
  if (pull === 'always') await pullImage(cli, image, { platform: req.platform, quiet }, cli.err);
  try {
    return await create();
  } catch (err) {
    if (!(err instanceof DaemonError) || err.statusCode !== 404 || pull === 'never' || !/No such image/i.test(err.message)) throw err;
    cli.err.write(`Unable to find image '${familiarWithTag(image)}' locally\n`);
    await pullImage(cli, image, { platform: req.platform, quiet }, cli.err);
    return create();
  }
}

/**
 * Registers a wait before the container starts, so a quick exit is not missed. Resolves `registered`
 * once the daemon sent its headers (or after a short grace period for daemons that send them late).
 */
export function registerWait(cli: Cli, id: string, condition: string): { registered: Promise<void>; status: Promise<number> } {
  let markRegistered: () => void = () => undefined;
  const registered = new Promise<void>((r) => { markRegistered = r; });
  const timer = setTimeout(markRegistered, 1000);
  const status = (async () => {
    try {
      const res = await cli.api.request('POST', `/containers/${encodeURIComponent(id)}/wait`, { query: { condition } });
      clearTimeout(timer);
      markRegistered();
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { StatusCode?: number; Error?: { Message?: string } | null };
      if (body.Error?.Message) cli.err.write(logrusError(`Error waiting for container: ${body.Error.Message}`));
      return body.StatusCode ?? 0;
    } catch (err) {
      clearTimeout(timer);
      markRegistered();
      throw err;
    }
  })();
  status.catch(() => { /* observed by the caller */ });
  return { registered, status };
}

/** An error line as the docker CLI's logrus prints it: time="2024-05-01T10:00:00Z" level=error msg="...". */
export function logrusError(msg: string, now = new Date()): string {
  const time = now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  return `time="${time}" level=error msg=${JSON.stringify(msg)}\n`;
}

/** Forwards SIGINT/SIGTERM to a non-TTY container (--sig-proxy), returning the function that stops it. */
export function proxySignals(cli: Cli, id: string): () => void {
  const handlers: [NodeJS.Signals, () => void][] = (['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as NodeJS.Signals[]).map((sig) => {
    const h = () => { cli.api.call('POST', `/containers/${encodeURIComponent(id)}/kill`, { query: { signal: sig } }).catch(() => undefined); };
    process.on(sig, h);
    return [sig, h];
  });
  return () => { for (const [sig, h] of handlers) process.removeListener(sig, h); };
}

interface RunFlags extends CreateFlags {
  sigProxy?: boolean;
  disableContentTrust?: boolean;
}

async function runOrCreate(cli: Cli, verb: 'run' | 'create', image: string, args: string[], flags: RunFlags): Promise<void> {
  let req: CreateRequest;
  try {
    req = buildCreateRequest(flags, image, args, cli.env);
  } catch (err) {
    if (err instanceof InvalidFlagError) throw runFailure(verb, err);
    throw err;
  }
  if (!['always', 'missing', 'never'].includes(flags.pull)) throw runFailure(verb, new Error(`invalid pull option: '${flags.pull}': must be one of "always", "missing" or "never"`));
  const body = req.body;
  if (flags.tty && body.AttachStdin && !cli.in.isTTY) throw runFailure(verb, new Error('the input device is not a TTY'), 1);

  let id: string;
  try {
    id = await createContainer(cli, req, flags.pull, !!flags.quiet);
  } catch (err) {
    // docker create reports a daemon's refusal as a plain error (exit 1); docker run with its usage hint (125).
    if (verb === 'create') throw err;
    throw runFailure(verb, err);
  }
  if (flags.cidfile) fs.writeFileSync(flags.cidfile, id, { flag: 'wx' });
  if (verb === 'create') {
    cli.out.write(`${id}\n`);
    return;
  }

  const path = `/containers/${id}`;
  if (flags.detach) {
    try {
      await cli.api.call('POST', `${path}/start`);
    } catch (err) {
      throw runFailure(verb, err, startFailureStatus(err));
    }
    cli.out.write(`${id}\n`);
    return;
  }

  const attached = body.AttachStdin || body.AttachStdout || body.AttachStderr;
  const conn = attached
    ? await cli.api.hijack('POST', `${path}/attach`, {
      query: {
        stream: true,
        stdin: body.AttachStdin || undefined,
        stdout: body.AttachStdout || undefined,
        stderr: body.AttachStderr || undefined,
        detachKeys: flags.detachKeys,
      },
    })
    : undefined;
  const wait = registerWait(cli, id, flags.rm ? 'removed' : 'next-exit');
  await wait.registered;
  try {
    await cli.api.call('POST', `${path}/start`);
  } catch (err) {
    conn?.socket.destroy();
    throw runFailure(verb, err, startFailureStatus(err));
  }
  const stopResize = body.Tty ? monitorTtySize(cli.api, path, cli.out) : () => undefined;
  const stopSignals = !body.Tty && flags.sigProxy !== false ? proxySignals(cli, id) : () => undefined;
  try {
    if (conn) {
      const result = await holdHijackedConnection(conn, {
        tty: !!body.Tty,
        stdin: body.AttachStdin ? cli.in : null,
        stdout: cli.out,
        stderr: cli.err,
        detachKeys: flags.detachKeys ?? DEFAULT_DETACH_KEYS,
      });
      if (result.detached) return;
    }
    const status = await wait.status;
    if (status !== 0) throw new StatusError(status);
  } finally {
    stopResize();
    stopSignals();
  }
}

/** The run/create command with its flags, without an action. */
function defineCreateCommand(verb: 'run' | 'create', name: string): Command {
  const cmd = new BerthCommand(name)
    .description(verb === 'run' ? 'Create and run a new container from an image' : 'Create a new container')
    .usage('[OPTIONS] IMAGE [COMMAND] [ARG...]')
    .argument('<image>')
    .argument('[command...]')
    .passThroughOptions();
  if (verb === 'run') {
    cmd.option('-d, --detach', 'Run container in background and print container ID');
    cmd.option('--no-sig-proxy', 'Do not proxy received signals to the process');
  }
  cmd.option('--disable-content-trust', 'Skip image verification (default true)');
  return addCreateFlags(cmd);
}

export function runCommand(cli: Cli, name = 'run'): Command {
  return defineCreateCommand('run', name)
    .action((image: string, args: string[], flags: RunFlags) => runOrCreate(cli, 'run', image, args, flags));
}

export function createCommand(cli: Cli, name = 'create'): Command {
  return defineCreateCommand('create', name)
    .action((image: string, args: string[], flags: RunFlags) => runOrCreate(cli, 'create', image, args, flags));
}

/** For tests: parse a `run`/`create` argv (without the verb) into the create request, no daemon needed. */
export function parseRunArgs(verb: 'run' | 'create', argv: string[], env: NodeJS.ProcessEnv = process.env): CreateRequest {
  let result: CreateRequest | undefined;
  const cmd = defineCreateCommand(verb, verb)
    .action((image: string, args: string[], flags: RunFlags) => { result = buildCreateRequest(flags, image, args, env); });
  const root = new BerthCommand('berth');
  root.addCommand(cmd);
  root.parse(['node', 'berth', verb, ...argv]);
  if (!result) throw new Error('no request built');
  return result;
}
