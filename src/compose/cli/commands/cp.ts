// `compose cp`: `SERVICE:PATH` addresses a service's container (--index picks a replica); berth's cp does the copy.
import { Command } from 'commander';
import { BerthCommand, intArg, StatusError } from '../../../cli/command';
import { copyFiles, splitCpArg } from '../../../cli/commands/archive';
import { serviceContainer } from '../containers';
import type { ComposeSession } from '../session';

export function cpCommand(s: ComposeSession): Command {
  return new BerthCommand('cp')
    .description('Copy files/folders between a service container and the local filesystem')
    .usage('[OPTIONS] SERVICE:SRC_PATH DEST_PATH|-\n       docker compose cp [OPTIONS] SRC_PATH|- SERVICE:DEST_PATH')
    .argument('<src>')
    .argument('<dest>')
    .option('-a, --archive', 'Archive mode (copy all uid/gid information)')
    .option('-L, --follow-link', 'Always follow symbol link in SRC_PATH')
    .option('--index <n>', 'Index of the container if service has multiple replicas', intArg('index'))
    .option('--all', 'Include containers created by the run command')
    .action(async (src: string, dest: string, o: { index?: number }) => {
      const from = splitCpArg(src);
      const to = splitCpArg(dest);
      const service = from.container ?? to.container;
      if (!service) throw new StatusError(1, 'one of the arguments must be SERVICE:PATH');
      const project = await s.projectName();
      const c = await serviceContainer(s.cli.api, project, service, o.index, true);
      await copyFiles(s.cli, from.container ? `${c.id}:${from.path}` : src, to.container ? `${c.id}:${to.path}` : dest);
    });
}
