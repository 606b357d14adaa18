// Image tarballs: import (a root filesystem), save (GET /images/get) and load (POST /images/load).
import * as fs from 'node:fs';
import { Command } from 'commander';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { BerthCommand, Cli, collect, StatusError } from '../command';
import { parseReference } from '../reference';
import { quietSink, showProgress } from './pull';

export function importCommand(cli: Cli, name = 'import'): Command {
  return new BerthCommand(name)
    .description('Import the contents from a tarball to create a filesystem image')
    .argument('<file>', 'file|URL|-')
    .argument('[repository]', 'REPOSITORY[:TAG]')
    .option('-c, --change <instruction>', 'Apply Dockerfile instruction to the created image', collect)
    .option('-m, --message <message>', 'Set commit message for imported image')
    .option('--platform <platform>', 'Set platform if server is multi-platform capable')
    .action(async (source: string, repository: string | undefined, o: { change?: string[]; message?: string; platform?: string }) => {
      const isUrl = /^(https?:\/\/)/.test(source);
      let body: Readable | undefined;
      if (source === '-') body = cli.in;
      else if (!isUrl) body = fs.createReadStream(source);
      const ref = repository ? parseReference(repository) : undefined;
      const res = await cli.api.request('POST', '/images/create', {
        query: {
          fromSrc: isUrl ? source : '-', repo: ref?.repository, tag: ref ? ref.tag ?? 'latest' : undefined,
          message: o.message, changes: o.change, platform: o.platform,
        },
        body,
        headers: body ? { 'Content-Type': 'application/x-tar' } : {},
      });
      await showProgress(cli, res, cli.out);
    });
}

export function saveCommand(cli: Cli, name = 'save'): Command {
  return new BerthCommand(name)
    .description('Save one or more images to a tar archive (streamed to STDOUT by default)')
    .argument('<images...>')
    .option('-o, --output <file>', 'Write to a file, instead of STDOUT')
    .option('--platform <platform>', 'Save only the given platform variant')
    .action(async (images: string[], o: { output?: string; platform?: string }) => {
      if (!o.output && cli.out.isTTY) {
        throw new StatusError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
      }
      const res = await cli.api.request('GET', '/images/get', { query: { names: images, platform: o.platform } });
      if (o.output) {
        // Write to a temporary name first so a failed save leaves no truncated archive behind.
        const tmp = `${o.output}.berth-tmp`;
        try {
          await pipeline(res, fs.createWriteStream(tmp));
          fs.renameSync(tmp, o.output);
        } catch (err) {
          fs.rmSync(tmp, { force: true });
          throw new StatusError(1, `failed to save image: ${(err as Error).message}`);
        }
      } else {
        await pipeline(res, cli.out);
      }
    });
}

export function loadCommand(cli: Cli, name = 'load'): Command {
  return new BerthCommand(name)
    .description('Load an image from a tar archive or STDIN')
    .option('-i, --input <file>', 'Read from tar archive file, instead of STDIN')
    .option('-q, --quiet', 'Suppress the load output')
    .option('--platform <platform>', 'Load only the given platform variant')
    .action(async (o: { input?: string; quiet?: boolean; platform?: string }) => {
      if (!o.input && cli.in.isTTY) {
        throw new StatusError(1, 'requested load from stdin, but stdin is empty');
      }
      const body = o.input ? fs.createReadStream(o.input) : cli.in;
      const res = await cli.api.request('POST', '/images/load', {
        query: { quiet: o.quiet || !cli.out.isTTY || undefined, platform: o.platform },
        body,
        headers: { 'Content-Type': 'application/x-tar' },
      });
      if (String(res.headers['content-type'] ?? '').includes('application/json')) {
        await showProgress(cli, res, o.quiet ? quietSink() : cli.out);
      } else {
        await pipeline(res, cli.out);
      }
    });
}

export function commitCommand(cli: Cli, name = 'commit'): Command {
  return new BerthCommand(name)
    .description("Create a new image from a container's changes")
    .argument('<container>')
    .argument('[repository]', 'REPOSITORY[:TAG]')
    .option('-a, --author <author>', 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
    .option('-c, --change <instruction>', 'Apply Dockerfile instruction to the created image', collect)
    .option('-m, --message <message>', 'Commit message')
    .option('-p, --pause <bool>', 'Pause container during commit', 'true')
    .option('--no-pause', 'Do not pause the container during commit')
    .action(async (container: string, repository: string | undefined, o: { author?: string; change?: string[]; message?: string; pause: string | boolean }) => {
      const ref = repository ? parseReference(repository) : undefined;
      if (ref?.digest) throw new StatusError(1, 'refusing to create a tag with a digest reference');
      const pause = o.pause !== false && o.pause !== 'false';
      const r = await cli.api.json<{ Id: string }>('POST', '/commit', {
        query: {
          author: o.author, changes: o.change, comment: o.message, container,
          pause: pause ? undefined : false, repo: ref?.repository, tag: ref ? ref.tag ?? 'latest' : undefined,
        },
        body: null,
      });
      cli.out.write(`${r.Id}\n`);
    });
}
