// `berth pull` and `berth push`: POST /images/create?fromImage= and POST /images/{name}/push, with progress.
import { Command } from 'commander';
import { Readable, Writable } from 'node:stream';
import * as fs from 'node:fs';
import { BerthCommand, Cli, StatusError } from '../command';
import { readPassphrase } from '../prompt';
import { registryAuthHeader } from '../config-file';
import { displayJsonMessages } from '../format/progress';
import { parseReference, registryOf } from '../reference';

export interface PullOptions {
  platform?: string;
  quiet?: boolean;
  allTags?: boolean;
}

/** Renders a JSON message stream on `out` (a terminal gets in-place progress). */
export function showProgress(cli: Cli, stream: Readable, out: NodeJS.WriteStream, onAux?: Parameters<typeof displayJsonMessages>[2]['onAux']): Promise<void> {
  return displayJsonMessages(stream, out, { isTerminal: !!out.isTTY, columns: out.columns, onAux });
}

/** Pulls `ref`, rendering progress on `out` unless quiet (the stream is still drained for errors). */
export async function pullImage(cli: Cli, ref: string, opts: PullOptions, out: NodeJS.WriteStream): Promise<void> {
  const p = parseReference(ref);
  const res = await cli.api.request('POST', '/images/create', {
    query: { fromImage: p.repository, tag: p.digest ?? (opts.allTags ? undefined : p.tag ?? 'latest'), platform: opts.platform },
    headers: { 'X-Registry-Auth': registryAuthHeader(registryOf(ref), cli.env) },
  });
  await showProgress(cli, res, opts.quiet ? quietSink() : out);
}

export function pullCommand(cli: Cli, name = 'pull'): Command {
  return new BerthCommand(name)
    .description('Download an image from a registry')
    .argument('<name>', 'NAME[:TAG|@DIGEST]')
    .option('-a, --all-tags', 'Download all tagged images in the repository')
    .option('--platform <platform>', 'Set platform if server is multi-platform capable')
    .option('-q, --quiet', 'Suppress verbose output')
    .option('--disable-content-trust', 'Skip image verification (default true)')
    .action(async (ref: string, o: { allTags?: boolean; platform?: string; quiet?: boolean }) => {
      const p = parseReference(ref);
      if (!p.tag && !p.digest && !o.allTags) cli.out.write('Using default tag: latest\n');
      await pullImage(cli, ref, o, cli.out);
      if (o.quiet) cli.out.write(`${ref.includes(':') || ref.includes('@') ? ref : `${ref}:latest`}\n`);
    });
}

export function pushCommand(cli: Cli, name = 'push'): Command {
  return new BerthCommand(name)
    .description('Upload an image to a registry')
    .argument('<name>', 'NAME[:TAG]')
    .option('-a, --all-tags', 'Push all tags of an image to the repository')
    .option('-q, --quiet', 'Suppress verbose output')
    .option('--platform <platform>', 'Push a platform-specific manifest as a single-platform image')
    .option('--disable-content-trust', 'Skip image signing (default true)')
    .option('--sign-by-sigstore-private-key <key>', 'Sign the pushed manifest with this sigstore private key file')
    .option('--sign-passphrase-file <file>', 'Read the signing key\'s passphrase from the first line of this file')
    .action(async (ref: string, o: { allTags?: boolean; quiet?: boolean; platform?: string; signBySigstorePrivateKey?: string; signPassphraseFile?: string }) => {
      const p = parseReference(ref);
      const headers: Record<string, string> = { 'X-Registry-Auth': registryAuthHeader(registryOf(ref), cli.env) };
      if (o.signPassphraseFile !== undefined && o.signBySigstorePrivateKey === undefined) throw new StatusError(1, '--sign-passphrase-file needs --sign-by-sigstore-private-key');
      if (o.signBySigstorePrivateKey !== undefined) {
        // The daemon signs: the key file's text and its passphrase go over the API socket, as X-Registry-Auth's credentials do.
        const privateKey = fs.readFileSync(o.signBySigstorePrivateKey, 'utf8');
        const passphrase = await readPassphrase(cli, `Passphrase for key ${o.signBySigstorePrivateKey}: `, o.signPassphraseFile);
        headers['X-Berth-Sigstore-Sign'] = Buffer.from(JSON.stringify({ privateKey, passphrase })).toString('base64url');
      }
      if (!p.tag && !o.allTags) cli.out.write('Using default tag: latest\n');
      const res = await cli.api.request('POST', `/images/${encodeURIComponent(p.repository)}/push`, {
        query: { tag: o.allTags ? undefined : p.tag ?? 'latest', platform: o.platform }, headers,
      });
      await showProgress(cli, res, o.quiet ? quietSink() : cli.out);
      if (o.quiet) cli.out.write(`${ref}\n`);
    });
}

/** Where progress goes when -q: nowhere, though the stream is still read for its errors. */
export function quietSink(): NodeJS.WriteStream {
  return Object.assign(new Writable({ write: (_c, _e, cb) => cb() }), { isTTY: false }) as unknown as NodeJS.WriteStream;
}
