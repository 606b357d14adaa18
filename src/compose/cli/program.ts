// Running compose as a process: as the docker CLI's plugin (docker's global flags before `compose`, the
// CLI's socket that tells it to stop) or as `berth compose`; exit statuses and a drained stdout.
import { parsePluginArgv, PluginArgvError } from './argv';
import { interrupt } from './interrupt';
import { watchPluginSocket } from './plugin-socket';
import { runCompose, type ComposeRunOptions } from './main';
import { exitWhenDone } from '../../cli/process-exit';

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
  exitWhenDone(() => runCompose(args, options));
}
