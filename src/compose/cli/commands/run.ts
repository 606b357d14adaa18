// `compose run`: a one-off container of a service (the operations create it), then attached as `docker run`
// is: a TTY when stdin is a terminal unless -T, the container's exit code as compose's.
import { Command } from 'commander';
import { BerthCommand, collect, StatusError } from '../../../cli/command';
import { registerWait } from '../../../cli/commands/run';
import { DEFAULT_DETACH_KEYS, holdHijackedConnection, monitorTtySize } from '../../../cli/hijack';
import type { ComposeSession } from '../session';
import { pullPolicy } from './lifecycle';

interface ComposeRunFlags {
  detach?: boolean; name?: string; entrypoint?: string; env?: string[]; label?: string[]; user?: string; workdir?: string;
  publish?: string[]; servicePorts?: boolean; volume?: string[]; rm?: boolean; deps: boolean; tty: boolean; interactive: boolean;
  build?: boolean; pull?: string; quietPull?: boolean; removeOrphans?: boolean;
}

/** `--entrypoint "sh -c"`: split as a shell would split simple words (Compose uses shlex). */
export function splitWords(s: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(s); m; m = re.exec(s)) out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2] ?? m[3]!);
  return out;
}

export function runCommand(s: ComposeSession): Command {
  return new BerthCommand('run')
    .description('Run a one-off command on a service')
    .usage('[OPTIONS] SERVICE [COMMAND] [ARGS...]')
    .argument('<service>')
    .argument('[command...]')
    .passThroughOptions()
    .option('--build', 'Build image before starting container')
    .option('-d, --detach', 'Run container in background and print container ID')
    .option('--entrypoint <cmd>', 'Override the entrypoint of the image')
    .option('-e, --env <env>', 'Set environment variables', collect)
    .option('-i, --interactive', 'Keep STDIN open even if not attached', true)
    .option('-l, --label <label>', 'Add or override a label', collect)
    .option('--name <name>', 'Assign a name to the container')
    .option('-T, --no-TTY', 'Disable pseudo-TTY allocation (default: auto-detected)')
    .option('--no-deps', "Don't start linked services")
    .option('-p, --publish <port>', "Publish a container's port(s) to the host", collect)
    .option('--pull <policy>', 'Pull image before running ("always"|"missing"|"never")', 'policy')
    .option('--quiet-pull', 'Pull without printing progress information')
    .option('--remove-orphans', 'Remove containers for services not defined in the Compose file')
    .option('--rm', 'Automatically remove the container when it exits')
    .option('-P, --service-ports', "Run command with all service's ports enabled and mapped to the host")
    .option('-u, --user <user>', 'Run as specified username or uid')
    .option('-v, --volume <volume>', 'Bind mount a volume', collect)
    .option('-w, --workdir <dir>', 'Working directory inside the container')
    .action(async (service: string, command: string[], o: ComposeRunFlags & { TTY?: boolean }) => {
      const tty = (o.TTY ?? o.tty ?? true) && !!s.cli.in.isTTY && !o.detach;
      const { project } = await s.load({ services: [service] });
      if (!project.services[service] && !project.disabled_services[service]) throw new StatusError(1, `no such service: ${service}`);
      const ops = await s.operations();
      // --build and --pull always act before the one-off is made; otherwise the service's image is built or
      // pulled only when missing, as its policy says.
      if (o.build && project.services[service]?.build) await ops.build([service], { noCache: false, pull: false, quiet: true });
      const pull = pullPolicy(o.pull);
      if (pull === 'always') await ops.pull([service], { ignoreFailures: false, quiet: !!o.quietPull });
      const one = await ops.createOneOff({
        service, command: command.length ? command : undefined, entrypoint: o.entrypoint !== undefined ? splitWords(o.entrypoint) : undefined,
        env: o.env ?? [], name: o.name, user: o.user, workdir: o.workdir, publish: o.publish ?? [], servicePorts: !!o.servicePorts,
        noDeps: !o.deps, remove: !!o.rm, tty, interactive: o.interactive && !o.detach, detach: !!o.detach, labels: o.label ?? [], volumes: o.volume ?? [],
      });
      const api = s.cli.api;
      const path = `/containers/${one.id}`;
      if (o.detach) {
        await api.call('POST', `${path}/start`);
        s.cli.out.write(`${one.name}\n`);
        return;
      }
      const withStdin = o.interactive;
      const conn = await api.hijack('POST', `${path}/attach`, { query: { stream: true, stdin: withStdin || undefined, stdout: true, stderr: true } });
      const wait = registerWait(s.cli, one.id, o.rm ? 'removed' : 'next-exit');
      await wait.registered;
      await api.call('POST', `${path}/start`);
      const stopResize = tty ? monitorTtySize(api, path, s.cli.out) : () => undefined;
      try {
        const result = await holdHijackedConnection(conn, {
          tty, stdin: withStdin ? s.cli.in : null, stdout: s.cli.out, stderr: s.cli.err, detachKeys: DEFAULT_DETACH_KEYS,
        });
        if (result.detached) return;
        const status = await wait.status;
        if (status !== 0) throw new StatusError(status);
      } finally {
        stopResize();
      }
    });
}
