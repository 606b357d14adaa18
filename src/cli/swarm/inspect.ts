// `inspect` for swarm objects (node, service, secret, config, task): each name fetched, then printed as docker's
// inspect prints (a 4-space indented JSON array, or the -f template once per object); misses reported at the end.
import { DaemonError } from '../api-client';
import { Cli, StatusError } from '../command';
import { Template, unescapeFormat } from '../format/template';

export async function inspectEach(cli: Cli, names: string[], fetch: (name: string) => Promise<unknown>, format?: string, what = 'object'): Promise<void> {
  const found: unknown[] = [];
  const errors: string[] = [];
  for (const name of names) {
    try {
      found.push(await fetch(name));
    } catch (err) {
      if (err instanceof DaemonError && err.statusCode === 404) errors.push(`Error: No such ${what}: ${name}`);
      else throw err;
    }
  }
  if (format && format !== 'json') {
    const tmpl = new Template(unescapeFormat(format));
    for (const obj of found) cli.out.write(`${tmpl.execute(obj)}\n`);
  } else {
    cli.out.write(`${found.length ? JSON.stringify(found, null, 4) : '[]'}\n`);
  }
  if (errors.length) throw new StatusError(1, errors.join('\n'));
}
