// `compose exec`: a command in a service's running container (--index picks the replica); a TTY unless -T
// or stdin is not a terminal; the command's exit code is compose's.
import { Command } from 'commander';
import { BerthCommand, collect, intArg, StatusError } from '../../../cli/command';
import { execInContainer } from '../../../cli/commands/exec';
import { serviceContainer } from '../containers';
import type { ComposeSession } from '../session';

interface ComposeExecFlags {
  detach?: boolean; env?: string[]; index?: number; privileged?: boolean; user?: string; tty: boolean; workdir?: string; interactive: boolean;
}

export function execCommand(s: ComposeSession): Command {
  return new BerthCommand('exec')
    .description('Execute a command in a running container')
    .usage('[OPTIONS] SERVICE COMMAND [ARGS...]')
    .argument('<service>')
    .argument('<command...>')
    .passThroughOptions()
    .option('-d, --detach', 'Detached mode: Run command in the background')
    .option('-e, --env <env>', 'Set environment variables', collect)
    .option('--index <n>', 'Index of the container if service has multiple replicas', intArg('index'))
    .option('--privileged', 'Give extended privileges to the process')
    .option('-u, --user <user>', 'Run the command as this user')
    .option('-T, --no-tty', "Disable pseudo-TTY allocation. By default 'docker compose exec' allocates a TTY.")
    .option('-w, --workdir <dir>', 'Path to workdir directory for this command')
    .option('-i, --interactive', 'Keep STDIN open even if not attached (default true)', true)
    .action(async (service: string, command: string[], o: ComposeExecFlags) => {
      const project = await s.projectName();
      const c = await serviceContainer(s.cli.api, project, service, o.index).catch((err: Error) => {
        throw new StatusError(1, err.message);
      });
      // Compose's default: a TTY when its output is a terminal (-T turns it off).
      const tty = o.tty && !!s.cli.out.isTTY && !!s.cli.in.isTTY;
      const env = (o.env ?? []).map((e) => (e.includes('=') || s.env[e] === undefined ? e : `${e}=${s.env[e]}`));
      await execInContainer(s.cli, c.id, command, {
        detach: o.detach, env, privileged: o.privileged, user: o.user, workdir: o.workdir, tty,
        interactive: o.interactive && !o.detach,
      });
    });
}
