// `berth start` and `berth attach`: start containers, or hold a hijacked attach to a running one.
import { Command } from 'commander';
import type { ContainerConfig, ContainerState } from '../../wire/docker';
import { BerthCommand, Cli, describeError, StatusError } from '../command';
import { DEFAULT_DETACH_KEYS, holdHijackedConnection, monitorTtySize } from '../hijack';
import { proxySignals, registerWait } from './run';

interface InspectedContainer { Id: string; Config: ContainerConfig; State: ContainerState }

export function inspectContainer(cli: Cli, name: string): Promise<InspectedContainer> {
  return cli.api.json<InspectedContainer>('GET', `/containers/${encodeURIComponent(name)}/json`);
}

/** Attaches to a container (optionally starting it) and resolves with its exit status, or 0 on detach. */
async function attachAndWait(cli: Cli, name: string, o: { stdin: boolean; start: boolean; detachKeys?: string; sigProxy: boolean }): Promise<number> {
  const c = await inspectContainer(cli, name);
  const path = `/containers/${c.Id}`;
  const tty = !!c.Config.Tty;
  const withStdin = o.stdin && !!c.Config.OpenStdin;
  if (tty && withStdin && !cli.in.isTTY) throw new StatusError(1, 'the input device is not a TTY');
  const conn = await cli.api.hijack('POST', `${path}/attach`, {
    query: { stream: true, stdin: withStdin || undefined, stdout: true, stderr: true, detachKeys: o.detachKeys },
  });
  const wait = registerWait(cli, c.Id, 'next-exit');
  await wait.registered;
  if (o.start) {
    try {
      await cli.api.call('POST', `${path}/start`);
    } catch (err) {
      conn.socket.destroy();
      throw err;
    }
  }
  const stopResize = tty ? monitorTtySize(cli.api, path, cli.out) : () => undefined;
  const stopSignals = !tty && o.sigProxy ? proxySignals(cli, c.Id) : () => undefined;
  try {
    const result = await holdHijackedConnection(conn, {
      tty, stdin: withStdin ? cli.in : null, stdout: cli.out, stderr: cli.err, detachKeys: o.detachKeys ?? DEFAULT_DETACH_KEYS,
    });
    if (result.detached) return 0;
    // An attach to a running container that ended because it stopped: its exit code, from the wait.
    return await Promise.race([wait.status, new Promise<number>((r) => setTimeout(async () => {
      try { r((await inspectContainer(cli, c.Id)).State.ExitCode); } catch { r(0); }
    }, 2000))]);
  } finally {
    stopResize();
    stopSignals();
  }
}

export function startCommand(cli: Cli, name = 'start'): Command {
  return new BerthCommand(name)
    .description('Start one or more stopped containers')
    .argument('<containers...>')
    .option('-a, --attach', "Attach STDOUT/STDERR and forward signals")
    .option('-i, --interactive', "Attach container's STDIN")
    .option('--detach-keys <keys>', 'Override the key sequence for detaching a container')
    .option('--checkpoint <checkpoint>', 'Restore from this checkpoint')
    .option('--checkpoint-dir <dir>', 'Use a custom checkpoint storage directory')
    .action(async (names: string[], o: { attach?: boolean; interactive?: boolean; detachKeys?: string; checkpoint?: string; checkpointDir?: string }) => {
      const fromCheckpoint = { checkpoint: o.checkpoint || undefined, 'checkpoint-dir': o.checkpointDir || undefined };
      if ((o.checkpoint || o.checkpointDir) && names.length > 1) throw new StatusError(1, 'you cannot restore multiple containers at once');
      if (o.attach || o.interactive) {
        if (names.length > 1) throw new StatusError(1, 'you cannot start and attach multiple containers at once');
        const status = await attachAndWait(cli, names[0], { stdin: !!o.interactive, start: true, detachKeys: o.detachKeys, sigProxy: true });
        if (status !== 0) throw new StatusError(status);
        return;
      }
      const failed: string[] = [];
      for (const n of names) {
        try {
          await cli.api.call('POST', `/containers/${encodeURIComponent(n)}/start`, { query: fromCheckpoint });
          // As docker's, a restore prints nothing.
          if (!o.checkpoint && !o.checkpointDir) cli.out.write(`${n}\n`);
        } catch (err) {
          cli.err.write(`${describeError(err)}\n`);
          failed.push(n);
        }
      }
      if (failed.length) throw new StatusError(1, `Error: failed to start containers: ${failed.join(', ')}`);
    });
}

export function attachCommand(cli: Cli, name = 'attach'): Command {
  return new BerthCommand(name)
    .description('Attach local standard input, output, and error streams to a running container')
    .argument('<container>')
    .option('--detach-keys <keys>', 'Override the key sequence for detaching a container')
    .option('--no-stdin', 'Do not attach STDIN')
    .option('--sig-proxy <bool>', 'Proxy all received signals to the process', 'true')
    .action(async (name: string, o: { detachKeys?: string; stdin: boolean; sigProxy: string }) => {
      const c = await inspectContainer(cli, name);
      if (!c.State.Running) throw new StatusError(1, 'You cannot attach to a stopped container, start it first');
      if (c.State.Paused) throw new StatusError(1, 'You cannot attach to a paused container, unpause it first');
      const status = await attachAndWait(cli, name, { stdin: o.stdin, start: false, detachKeys: o.detachKeys, sigProxy: o.sigProxy !== 'false' });
      if (status !== 0) throw new StatusError(status);
    });
}

