// `berth inspect`: docker's generic inspect — each name is looked up as a container, then an image,
// network and volume (or only --type), printed as a JSON array or through -f/--format.
import { Command } from 'commander';
import { DaemonError } from '../api-client';
import { BerthCommand, Cli, StatusError } from '../command';
import { Template, unescapeFormat } from '../format/template';

type ObjectType = 'container' | 'image' | 'network' | 'volume';
const ORDER: ObjectType[] = ['container', 'image', 'network', 'volume'];

function endpoint(type: ObjectType, name: string, size: boolean): { path: string; query?: Record<string, string | boolean | undefined> } {
  const n = encodeURIComponent(name);
  switch (type) {
    case 'container': return { path: `/containers/${n}/json`, query: { size: size || undefined } };
    case 'image': return { path: `/images/${n}/json` };
    case 'network': return { path: `/networks/${n}` };
    case 'volume': return { path: `/volumes/${n}` };
  }
}

/** Fetches one object, trying each type in docker's order; undefined when nothing has that name. */
async function lookup(cli: Cli, name: string, types: ObjectType[], size: boolean): Promise<unknown> {
  for (const type of types) {
    const e = endpoint(type, name, size);
    try {
      return await cli.api.json('GET', e.path, { query: e.query });
    } catch (err) {
      if (err instanceof DaemonError && err.statusCode === 404) continue;
      throw err;
    }
  }
  return undefined;
}

/** Prints objects as docker's inspect does: a 4-space indented JSON array, or one template line each. */
export async function inspectObjects(cli: Cli, names: string[], types: ObjectType[], opts: { format?: string; size?: boolean; what?: string }): Promise<void> {
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const name of names) {
    const obj = await lookup(cli, name, types, !!opts.size);
    if (obj === undefined) errors.push(`Error: No such ${opts.what ?? 'object'}: ${name}`);
    else found.push(obj);
  }
  if (opts.format && opts.format !== 'json') {
    const tmpl = new Template(unescapeFormat(opts.format));
    for (const obj of found) cli.out.write(`${tmpl.execute(obj)}\n`);
  } else if (found.length || errors.length) {
    cli.out.write(`${found.length ? JSON.stringify(found, null, 4) : '[]'}\n`);
  }
  if (errors.length) throw new StatusError(1, errors.join('\n'));
}

export function inspectCommand(cli: Cli, name = 'inspect'): Command {
  return new BerthCommand(name)
    .description('Return low-level information on Docker objects')
    .argument('<names...>')
    .option('-f, --format <format>', 'Format output using a custom template')
    .option('-s, --size', 'Display total file sizes if the type is container')
    .option('--type <type>', 'Only inspect objects of the given type')
    .action(async (names: string[], o: { format?: string; size?: boolean; type?: string }) => {
      if (o.type && !ORDER.includes(o.type as ObjectType)) throw new StatusError(1, `"${o.type}" is not a valid value for --type`);
      await inspectObjects(cli, names, o.type ? [o.type as ObjectType] : ORDER, { format: o.format, size: o.size });
    });
}

/** `container inspect`, `image inspect`, `network inspect`, `volume inspect`: one type only. */
export function typedInspectCommand(cli: Cli, type: ObjectType, name = 'inspect'): Command {
  const cmd = new BerthCommand(name)
    .description(`Display detailed information on one or more ${type}s`)
    .argument('<names...>')
    .option('-f, --format <format>', 'Format output using a custom template');
  if (type === 'container') cmd.option('-s, --size', 'Display total file sizes');
  return cmd.action(async (names: string[], o: { format?: string; size?: boolean }) => {
    await inspectObjects(cli, names, [type], { format: o.format, size: o.size, what: type });
  });
}
