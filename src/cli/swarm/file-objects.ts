// `berth secret` and `berth config`: the same verbs over /secrets and /configs (create from a file or stdin,
// ls, inspect, rm); only the noun, the data-in-inspect rule and the size limits differ, and the daemon checks those.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { encodeFilters, readAll } from '../api-client';
import { BerthCommand, Cli, collect, forEach } from '../command';
import { labelsFrom } from '../container-options';
import { renderRows } from '../format/table';
import { timeAgo } from '../../util/units';
import type { Secret } from '../../wire/swarm';
import { inspectEach } from './inspect';
import { prettyTime } from './render';

type Noun = 'secret' | 'config';

/** docker's secretInspectPrettyTemplate / configInspectPrettyTemplate. */
function prettyFileObject(noun: Noun, s: Secret): string {
  const labels = Object.entries(s.Spec.Labels ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => ` - ${k}${v ? `=${v}` : ''}\n`).join('');
  const labelLines = labels ? `Labels:\n${labels}` : '';
  if (noun === 'secret') {
    return `ID:              ${s.ID}\nName:              ${s.Spec.Name ?? ''}\n${labelLines}Driver:            ${s.Spec.Driver?.Name ?? ''}\n`
      + `Created at:        ${prettyTime(s.CreatedAt)}\nUpdated at:        ${prettyTime(s.UpdatedAt)}\n`;
  }
  const data = s.Spec.Data ? Buffer.from(s.Spec.Data, 'base64').toString('utf8') : '';
  return `ID:\t\t\t${s.ID}\nName:\t\t\t${s.Spec.Name ?? ''}\n${labelLines}Created at:            \t${prettyTime(s.CreatedAt)}\n`
    + `Updated at:            \t${prettyTime(s.UpdatedAt)}\nData:\n${data}\n`;
}

export function fileObjectCommand(cli: Cli, noun: Noun): Command {
  const plural = `${noun}s`;
  const cmd = new BerthCommand(noun).description(`Manage Swarm ${plural}`);
  cmd.addCommand(new BerthCommand('create')
    .description(`Create a ${noun} from a file or STDIN as content`)
    .argument('<name>')
    .argument('[file]')
    .option('-l, --label <label>', `${noun === 'secret' ? 'Secret' : 'Config'} labels`, collect)
    .option('-d, --driver <driver>', 'Secret driver')
    .option('--template-driver <driver>', 'Template driver')
    .action(async (name: string, file: string | undefined, o: { label?: string[]; driver?: string; templateDriver?: string }) => {
      if (file === undefined && !(noun === 'secret' && o.driver)) throw new Error(`"berth ${noun} create" requires exactly 2 arguments.`);
      const data = file === undefined ? Buffer.alloc(0) : file === '-' ? await readAll(cli.in) : readFileSync(file);
      const body: Record<string, unknown> = { Name: name, Labels: labelsFrom(o.label ?? []), Data: data.toString('base64') };
      if (o.driver) body.Driver = { Name: o.driver };
      if (o.templateDriver) body.Templating = { Name: o.templateDriver };
      const r = await cli.api.json<{ ID: string }>('POST', `/${plural}/create`, { body });
      cli.out.write(`${r.ID}\n`);
    }));
  cmd.addCommand(new BerthCommand('ls').alias('list')
    .description(`List ${plural}`)
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
    .option('--format <format>', 'Format output using a custom template')
    .option('-q, --quiet', 'Only display IDs')
    .action(async (o: { filter?: string[]; format?: string; quiet?: boolean }) => {
      const list = await cli.api.json<Secret[]>('GET', `/${plural}`, { query: { filters: encodeFilters(o.filter ?? []) } });
      const collator = new Intl.Collator('en', { numeric: true });
      list.sort((a, b) => collator.compare(a.Spec.Name ?? '', b.Spec.Name ?? ''));
      const rows = list.map((s) => ({
        ID: s.ID, Name: s.Spec.Name ?? '', Driver: s.Spec.Driver?.Name ?? '',
        CreatedAt: timeAgo(Date.parse(s.CreatedAt) / 1000), UpdatedAt: timeAgo(Date.parse(s.UpdatedAt) / 1000),
        Labels: Object.entries(s.Spec.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
      }));
      const defaultFormat = noun === 'secret'
        ? 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.CreatedAt}}\t{{.UpdatedAt}}'
        : 'table {{.ID}}\t{{.Name}}\t{{.CreatedAt}}\t{{.UpdatedAt}}';
      cli.out.write(renderRows(rows, {
        format: o.format ?? '', defaultFormat, quiet: o.quiet,
        headers: { ID: 'ID', Name: 'NAME', Driver: 'DRIVER', CreatedAt: 'CREATED', UpdatedAt: 'UPDATED', Labels: 'LABELS' },
      }));
    }));
  cmd.addCommand(new BerthCommand('inspect')
    .description(`Display detailed information on one or more ${plural}`)
    .argument(`<${plural}...>`)
    .option('-f, --format <format>', 'Format output using a custom template')
    .option('--pretty', 'Print the information in a human friendly format')
    .action(async (refs: string[], o: { format?: string; pretty?: boolean }) => {
      const get = (r: string) => cli.api.json<Secret>('GET', `/${plural}/${encodeURIComponent(r)}`);
      if (o.pretty) {
        for (const r of refs) {
          const s = await get(r);
          cli.out.write(prettyFileObject(noun, s));
        }
        return;
      }
      await inspectEach(cli, refs, get, o.format, noun);
    }));
  cmd.addCommand(new BerthCommand('rm').alias('remove')
    .description(`Remove one or more ${plural}`)
    .argument(`<${plural}...>`)
    .action(async (refs: string[]) => {
      await forEach(cli, refs, async (r) => { await cli.api.call('DELETE', `/${plural}/${encodeURIComponent(r)}`); });
    }));
  return cmd;
}
