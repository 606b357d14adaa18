// `berth checkpoint create|ls|rm` (CRIU checkpoints of running containers; `berth start --checkpoint` restores).
import { Command } from 'commander';
import { BerthCommand, Cli } from '../command';
import { renderRows } from '../format/table';

export function checkpointCommand(cli: Cli): Command {
  const cp = new BerthCommand('checkpoint').description('Manage checkpoints');
  cp.addCommand(new BerthCommand('create')
    .description('Create a checkpoint from a running container')
    .argument('<container>').argument('<checkpoint>')
    .option('--checkpoint-dir <dir>', 'Use a custom checkpoint storage directory')
    .option('--leave-running', 'Leave the container running after checkpoint')
    .action(async (container: string, name: string, o: { checkpointDir?: string; leaveRunning?: boolean }) => {
      await cli.api.call('POST', `/containers/${encodeURIComponent(container)}/checkpoints`, {
        body: { CheckpointID: name, CheckpointDir: o.checkpointDir ?? '', Exit: !o.leaveRunning },
      });
      cli.out.write(`${name}\n`);
    }));
  cp.addCommand(new BerthCommand('ls').alias('list')
    .description('List checkpoints for a container')
    .argument('<container>')
    .option('--checkpoint-dir <dir>', 'Use a custom checkpoint storage directory')
    .action(async (container: string, o: { checkpointDir?: string }) => {
      const list = await cli.api.json<{ Name: string }[]>('GET', `/containers/${encodeURIComponent(container)}/checkpoints`, { query: { dir: o.checkpointDir || undefined } });
      cli.out.write(renderRows(list.map((c) => ({ Name: c.Name })), { format: '', defaultFormat: 'table {{.Name}}', headers: { Name: 'CHECKPOINT NAME' } }));
    }));
  cp.addCommand(new BerthCommand('rm').alias('remove')
    .description('Remove a checkpoint')
    .argument('<container>').argument('<checkpoint>')
    .option('--checkpoint-dir <dir>', 'Use a custom checkpoint storage directory')
    .action(async (container: string, name: string, o: { checkpointDir?: string }) => {
      await cli.api.call('DELETE', `/containers/${encodeURIComponent(container)}/checkpoints/${encodeURIComponent(name)}`, { query: { dir: o.checkpointDir || undefined } });
    }));
  return cp;
}
