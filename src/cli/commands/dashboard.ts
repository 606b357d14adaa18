// `berth dashboard`: serves the web dashboard (src/dashboard) in this process, a client of berthd like the CLI;
// prints the URL with its sign-in token and runs until SIGINT/SIGTERM.
import { Command, Option } from 'commander';
import { resolveHost } from '../api-client';
import { BerthCommand, Cli, StatusError } from '../command';

export function dashboardCommand(cli: Cli): Command {
  return new BerthCommand('dashboard')
    .description('Serve a web dashboard of this Berth (containers, logs, terminals, images, cluster) on loopback')
    .option('--addr <host:port>', 'Address to listen on (port 0: any free port); anything but loopback needs TLS', '127.0.0.1:7475')
    .option('--tls-cert <file>', 'TLS certificate (PEM)')
    .option('--tls-key <file>', 'TLS private key (PEM)')
    // For development and tests: the page's files from elsewhere than the built dist/dashboard.
    .addOption(new Option('--web-root <dir>', 'Directory of the page\'s built files').hideHelp())
    .action(async (o: { addr: string; tlsCert?: string; tlsKey?: string; webRoot?: string }) => {
      const { serveDashboard } = require('../../dashboard/server/serve') as typeof import('../../dashboard/server/serve');
      const log = (line: string) => cli.err.write(`${new Date().toISOString()} ${line}\n`);
      let running: Awaited<ReturnType<typeof serveDashboard>>;
      try {
        running = await serveDashboard({ ...o, daemonHost: resolveHost(cli.hostFlag, cli.env), log });
      } catch (e) {
        throw new StatusError(1, `berth dashboard: ${e instanceof Error ? e.message : String(e)}`);
      }
      cli.out.write(`Dashboard: ${running.url}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => { void running.close().finally(resolve); };
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
    });
}
