// `compose version`: Compose v2's one line, --short, --format json.
import { Command } from 'commander';
import { BerthCommand, StatusError } from '../../../cli/command';
import { COMPOSE_VERSION } from '../../model';
import type { ComposeSession } from '../session';

export function printVersion(s: ComposeSession, o: { short?: boolean; format?: string }): void {
  if (o.short) s.cli.out.write(`${COMPOSE_VERSION}\n`);
  else if (o.format === 'json') s.cli.out.write(`${JSON.stringify({ version: `v${COMPOSE_VERSION}` })}\n`);
  else if (!o.format || o.format === 'pretty') s.cli.out.write(`Docker Compose version v${COMPOSE_VERSION}\n`);
  else throw new StatusError(1, `unsupported format "${o.format}"`);
}

export function versionCommand(s: ComposeSession): Command {
  return new BerthCommand('version')
    .description('Show the Docker Compose version information')
    .option('-f, --format <format>', 'Format the output. Values: [pretty | json]')
    .option('--short', "Shows only Compose's version number")
    .action((o: { short?: boolean; format?: string }) => printVersion(s, o));
}
