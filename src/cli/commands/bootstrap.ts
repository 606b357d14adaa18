// `berth image bootstrap debian:bookworm`: Berth's own verb, POST /images/bootstrap?ref= with progress.
import { Command } from 'commander';
import { BerthCommand, Cli } from '../command';
import { quietSink, showProgress } from './pull';

export function bootstrapCommand(cli: Cli, name = 'bootstrap'): Command {
  return new BerthCommand(name)
    .description("Make a Debian base image (debian:<suite>[-slim]) from Debian's mirror with mmdebstrap, unless it exists")
    .argument('<name>', 'debian:SUITE[-slim], e.g. debian:bookworm or debian:bookworm-slim')
    .option('-q, --quiet', 'Suppress verbose output; print the image ID')
    .action(async (ref: string, o: { quiet?: boolean }) => {
      let id = '';
      const res = await cli.api.request('POST', '/images/bootstrap', { query: { ref } });
      await showProgress(cli, res, o.quiet ? quietSink() : cli.out, (aux) => {
        const v = aux.aux as { ID?: unknown } | undefined;
        if (typeof v?.ID === 'string') id = v.ID;
      });
      if (o.quiet) cli.out.write(`${id}\n`);
    });
}
