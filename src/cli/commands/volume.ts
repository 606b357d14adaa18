// `berth volume ls|create|rm|inspect|prune`.
import { Command } from 'commander';
import { encodeFilters } from '../api-client';
import { BerthCommand, Cli, collect, forEach } from '../command';
import { labelsFrom } from '../container-options';
import { renderRows } from '../format/table';
import { confirm } from '../prompt';
import { typedInspectCommand } from './inspect';
import { printPruned } from './lifecycle';

interface Volume { Name: string; Driver: string; Mountpoint: string; Scope: string; Labels?: Record<string, string> | null; CreatedAt?: string }

export function volumeCommand(cli: Cli): Command {
  const vol = new BerthCommand('volume').description('Manage volumes');
  vol.addCommand(new BerthCommand('ls').alias('list')
    .description('List volumes')
    .option('-f, --filter <filter>', 'Provide filter values (e.g. "dangling=true")', collect)
    .option('--format <format>', 'Format output using a custom template')
    .option('-q, --quiet', 'Only display volume names')
    .action(async (o: { filter?: string[]; format?: string; quiet?: boolean }) => {
      const r = await cli.api.json<{ Volumes: Volume[] | null; Warnings?: string[] | null }>('GET', '/volumes', { query: { filters: encodeFilters(o.filter ?? []) } });
      const rows = (r.Volumes ?? []).sort((a, b) => a.Name.localeCompare(b.Name)).map((v) => ({
        Name: v.Name, Driver: v.Driver, Scope: v.Scope, Mountpoint: v.Mountpoint, CreatedAt: v.CreatedAt ?? '',
        Labels: Object.keys(v.Labels ?? {}).sort().map((k) => `${k}=${v.Labels?.[k]}`).join(','),
      }));
      cli.out.write(renderRows(rows, {
        format: o.format ?? '', defaultFormat: 'table {{.Driver}}\t{{.Name}}', quiet: o.quiet, quietFormat: '{{.Name}}',
        headers: { Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', CreatedAt: 'CREATED AT', Labels: 'LABELS' },
      }));
      for (const w of r.Warnings ?? []) cli.err.write(`${w}\n`);
    }));
  vol.addCommand(new BerthCommand('create')
    .description('Create a volume')
    .argument('[name]')
    .option('-d, --driver <driver>', 'Specify volume driver name', 'local')
    .option('--label <label>', 'Set metadata for a volume', collect)
    .option('-o, --opt <opt>', 'Set driver specific options', collect)
    .option('--name <name>', 'Specify volume name')
    .action(async (name: string | undefined, o: { driver: string; label?: string[]; opt?: string[]; name?: string }) => {
      const body: Record<string, unknown> = { Driver: o.driver, Labels: labelsFrom(o.label ?? []), Name: name ?? o.name ?? '' };
      if (o.opt?.length) body.DriverOpts = labelsFrom(o.opt);
      const r = await cli.api.json<Volume>('POST', '/volumes/create', { body });
      cli.out.write(`${r.Name}\n`);
    }));
  vol.addCommand(new BerthCommand('rm').alias('remove')
    .description('Remove one or more volumes')
    .argument('<volumes...>')
    .option('-f, --force', 'Force the removal of one or more volumes')
    .action(async (names: string[], o: { force?: boolean }) => {
      await forEach(cli, names, async (n) => { await cli.api.call('DELETE', `/volumes/${encodeURIComponent(n)}`, { query: { force: o.force || undefined } }); });
    }));
  vol.addCommand(typedInspectCommand(cli, 'volume'));
  vol.addCommand(new BerthCommand('prune')
    .description('Remove unused local volumes')
    .option('-a, --all', 'Remove all unused volumes, not just anonymous ones')
    .option('--filter <filter>', 'Provide filter values (e.g. "label=<label>")', collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (o: { all?: boolean; filter?: string[]; force?: boolean }) => {
      if (!o.force && !(await confirm(cli, `WARNING! This will remove ${o.all ? 'all' : 'anonymous'} local volumes not used by at least one container.\nAre you sure you want to continue?`))) return;
      const filters = [...(o.filter ?? [])];
      if (o.all) filters.push('all=true');
      const r = await cli.api.json<{ VolumesDeleted?: string[] | null; SpaceReclaimed?: number }>('POST', '/volumes/prune', { query: { filters: encodeFilters(filters) } });
      printPruned(cli, 'Deleted Volumes:', r.VolumesDeleted, r.SpaceReclaimed);
    }));
  return vol;
}
