// Running compose as a process: as the docker CLI's plugin (docker's global flags before `compose`, the
// CLI's socket that tells it to stop) or as `berth compose`; exit statuses and a drained stdout.
import { parsePluginArgv, PluginArgvError } from './argv';
import { interrupt } from './interrupt';
import { watchPluginSocket } from './plugin-socket';
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
  // The CLI closing its socket is the user's stop, as Ctrl-C (interrupt.ts counts both ways of one press once).
  watchPluginSocket(process.env.DOCKER_CLI_PLUGIN_SOCKET, () => interrupt('socket'));
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
