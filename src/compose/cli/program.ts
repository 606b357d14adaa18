// Running compose as a process: as the docker CLI's plugin (docker's global flags before `compose`, the
// CLI's socket that tells it to stop) or as `berth compose`; exit statuses and a drained stdout.
import * as net from 'node:net';
import { parsePluginArgv, PluginArgvError } from './argv';
import { interrupt } from './interrupt';
import { runCompose, type ComposeRunOptions } from './main';

/** The plugin's process: argv as the docker CLI gives it (without node and the script). */
export function runAsPlugin(argv: string[]): void {
  let parsed;
  try {
    parsed = parsePluginArgv(argv);
  } catch (err) {
    if (!(err instanceof PluginArgvError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  const { args, debug: _debug, ...daemon } = parsed;
  watchPluginSocket(process.env.DOCKER_CLI_PLUGIN_SOCKET);
  runAsProcess(args, { daemon, programName: 'docker compose' });
}

/** Runs compose to the end and exits with its status, once piped output is flushed. */
export function runAsProcess(args: string[], options: ComposeRunOptions): void {
  for (const out of [process.stdout, process.stderr]) {
    out.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(141);
      throw err;
    });
  }
  runCompose(args, options).then((code) => {
    process.exitCode = code;
    if (process.stdout.writableLength === 0) process.exit(code);
    process.stdout.once('drain', () => process.exit(code));
  }, (err: unknown) => {
    process.stderr.write(`${String(err)}\n`);
    process.exit(1);
  });
}

/**
 * The docker CLI's plugin socket (an abstract unix socket, "@name"): when the CLI closes it, the user
 * asked the CLI to stop, and compose stops as on Ctrl-C (interrupt.ts counts both ways of one press once).
 */
function watchPluginSocket(address: string | undefined): void {
  if (!address) return;
  const path = address.startsWith('@') ? `\0${address.slice(1)}` : address;
  const socket = net.connect({ path });
  socket.on('error', () => { /* the CLI may not offer it: nothing to watch */ });
  socket.on('close', (hadError) => {
    if (!hadError) interrupt('socket');
  });
  socket.unref();
}
