// `berth build`: the context tarred (honouring .dockerignore) and streamed to POST /build, the JSON
// stream rendered like the classic builder (stream text, errors in red, the image ID at the end with -q).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { Command } from 'commander';
import * as tar from 'tar-stream';
import type { JsonMessage } from '../../wire/docker';
import { BerthCommand, Cli, collect, StatusError } from '../command';
import { loadConfig } from '../config-file';
import { displayJsonMessages, JsonMessageError } from '../format/progress';
import { labelsFrom } from '../container-options';
import { ramInBytes } from '../../util/units';
import { contextIgnore, packPath } from '../tar-context';
import { quietSink } from './pull';

interface BuildFlags {
  tag?: string[]; file?: string; buildArg?: string[]; target?: string; cache: boolean; label?: string[]; quiet?: boolean;
  iidfile?: string; network?: string; rm: string; forceRm?: boolean; pull?: boolean; platform?: string; memory?: string;
  shmSize?: string; addHost?: string[]; cpuShares?: string; cpusetCpus?: string; squash?: boolean; cacheFrom?: string[];
}

/** Appends a file (the Dockerfile from outside the context or stdin) to a context tar stream. */
export function withExtraFile(context: Readable, name: string, content: Buffer): Readable {
  const extract = tar.extract();
  const pack = tar.pack();
  extract.on('entry', (header, stream, next) => { stream.pipe(pack.entry(header, next)); });
  extract.on('finish', () => { pack.entry({ name, mode: 0o600, size: content.length }, content); pack.finalize(); });
  context.pipe(extract as unknown as NodeJS.WritableStream);
  const out = new PassThrough();
  pack.pipe(out);
  return out;
}

export function buildCommand(cli: Cli, name = 'build'): Command {
  return new BerthCommand(name)
    .description('Build an image from a Dockerfile')
    .argument('<context>', 'PATH | URL | -')
    .option('--add-host <host>', 'Add a custom host-to-IP mapping ("host:ip")', collect)
    .option('--build-arg <arg>', 'Set build-time variables', collect)
    .option('--cache-from <image>', 'Images to consider as cache sources', collect)
    .option('-c, --cpu-shares <n>', 'CPU shares (relative weight)')
    .option('--cpuset-cpus <cpus>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('-f, --file <path>', 'Name of the Dockerfile (Default is "PATH/Dockerfile")')
    .option('--force-rm', 'Always remove intermediate containers')
    .option('--iidfile <file>', 'Write the image ID to the file')
    .option('--label <label>', 'Set metadata for an image', collect)
    .option('-m, --memory <bytes>', 'Memory limit')
    .option('--network <mode>', 'Set the networking mode for the RUN instructions during build')
    .option('--no-cache', 'Do not use cache when building the image')
    .option('--platform <platform>', 'Set platform if server is multi-platform capable')
    .option('--pull', 'Always attempt to pull a newer version of the image')
    .option('-q, --quiet', 'Suppress the build output and print image ID on success')
    .option('--rm <bool>', 'Remove intermediate containers after a successful build', 'true')
    .option('--shm-size <bytes>', 'Size of "/dev/shm"')
    .option('--squash', 'Squash newly built layers into a single new layer')
    .option('-t, --tag <name>', 'Name and optionally a tag in the "name:tag" format', collect)
    .option('--target <stage>', 'Set the target build stage to build')
    .action(async (context: string, o: BuildFlags) => {
      let body: Readable | undefined;
      let remote: string | undefined;
      let dockerfile = o.file;
      if (context === '-') {
        if (o.file === '-') throw new StatusError(1, 'invalid argument: can\'t use stdin for both build context and dockerfile');
        body = cli.in;
      } else if (/^(https?:\/\/|git@|github\.com\/)/.test(context)) {
        remote = context;
      } else {
        if (!fs.existsSync(context) || !fs.statSync(context).isDirectory()) throw new StatusError(1, `unable to prepare context: path "${context}" not found`);
        const root = path.resolve(context);
        let extra: { name: string; content: Buffer } | undefined;
        if (o.file === '-') {
          const chunks: Buffer[] = [];
          for await (const c of cli.in) chunks.push(c as Buffer);
          extra = { name: `.dockerfile.${randomBytes(10).toString('hex')}`, content: Buffer.concat(chunks) };
          dockerfile = extra.name;
        } else if (o.file) {
          const abs = path.resolve(o.file);
          const rel = path.relative(root, abs);
          if (rel.startsWith('..') || path.isAbsolute(rel)) {
            extra = { name: `.dockerfile.${randomBytes(10).toString('hex')}`, content: fs.readFileSync(abs) };
            dockerfile = extra.name;
          } else dockerfile = rel.split(path.sep).join('/');
        } else if (!fs.existsSync(path.join(root, 'Dockerfile')) && !fs.existsSync(path.join(root, 'dockerfile'))) {
          throw new StatusError(1, `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${path.join(root, 'Dockerfile')}: no such file or directory`);
        }
        body = packPath(root, contextIgnore(root, dockerfile ?? 'Dockerfile'));
        if (extra) body = withExtraFile(body, extra.name, extra.content);
      }
      const auths = loadConfig(cli.env).auths ?? {};
      const registryConfig: Record<string, { username?: string; password?: string; serveraddress: string }> = {};
      for (const [server, entry] of Object.entries(auths)) {
        if (!entry.auth) continue;
        const [username, ...rest] = Buffer.from(entry.auth, 'base64').toString('utf8').split(':');
        registryConfig[server] = { username, password: rest.join(':'), serveraddress: server };
      }
      const res = await cli.api.request('POST', '/build', {
        query: {
          t: o.tag, dockerfile, target: o.target, nocache: o.cache === false || undefined, q: o.quiet || undefined,
          buildargs: o.buildArg?.length ? JSON.stringify(Object.fromEntries(o.buildArg.map((a) => {
            const i = a.indexOf('=');
            return i < 0 ? [a, cli.env[a] ?? null] : [a.slice(0, i), a.slice(i + 1)];
          }))) : undefined,
          labels: o.label?.length ? JSON.stringify(labelsFrom(o.label)) : undefined,
          networkmode: o.network, rm: o.rm === 'false' ? false : true, forcerm: o.forceRm || undefined, pull: o.pull || undefined,
          platform: o.platform, memory: o.memory ? ramInBytes(o.memory) : undefined, shmsize: o.shmSize ? ramInBytes(o.shmSize) : undefined,
          extrahosts: o.addHost, cpushares: o.cpuShares, cpusetcpus: o.cpusetCpus, squash: o.squash || undefined,
          cachefrom: o.cacheFrom?.length ? JSON.stringify(o.cacheFrom) : undefined, remote,
        },
        body,
        headers: {
          ...(body ? { 'Content-Type': 'application/x-tar' } : {}),
          'X-Registry-Config': Buffer.from(JSON.stringify(registryConfig)).toString('base64'),
        },
      });
      let imageId = '';
      const onAux = (m: JsonMessage) => {
        const id = (m.aux as { ID?: string } | undefined)?.ID;
        if (id) imageId = id;
      };
      try {
        await displayJsonMessages(res, o.quiet ? quietSink() : cli.out, { isTerminal: !!cli.out.isTTY, columns: cli.out.columns, onAux });
      } catch (err) {
        if (err instanceof JsonMessageError) {
          const msg = cli.err.isTTY ? `\x1b[31m${err.message}\x1b[0m` : err.message;
          throw new StatusError(err.code && err.code > 0 ? err.code : 1, msg);
        }
        throw err;
      }
      if (o.quiet && imageId) cli.out.write(`${imageId}\n`);
      if (o.iidfile && imageId) fs.writeFileSync(o.iidfile, imageId);
    });
}
