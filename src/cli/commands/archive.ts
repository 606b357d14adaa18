// Container filesystems as tar streams: `export` (GET /containers/{id}/export) and `cp`
// (GET/PUT /containers/{id}/archive), extracting and packing locally.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command } from 'commander';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar-stream';
import { DaemonError } from '../api-client';
import { BerthCommand, Cli, StatusError } from '../command';
import { packPath } from '../tar-context';

export function exportCommand(cli: Cli, name = 'export'): Command {
  return new BerthCommand(name)
    .description("Export a container's filesystem as a tar archive")
    .argument('<container>')
    .option('-o, --output <file>', 'Write to a file, instead of STDOUT')
    .action(async (container: string, o: { output?: string }) => {
      if (!o.output && cli.out.isTTY) throw new StatusError(1, 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
      const res = await cli.api.request('GET', `/containers/${encodeURIComponent(container)}/export`);
      await pipeline(res, o.output ? fs.createWriteStream(o.output) : cli.out);
    });
}

/** "container:path" → [container, path]; local paths (with a slash before any colon) → undefined. */
export function splitCpArg(arg: string): { container?: string; path: string } {
  if (path.isAbsolute(arg) || arg.startsWith('.')) return { path: arg };
  const i = arg.indexOf(':');
  if (i <= 0) return { path: arg };
  return { container: arg.slice(0, i), path: arg.slice(i + 1) };
}

interface PathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }

async function statInContainer(cli: Cli, container: string, p: string): Promise<PathStat | undefined> {
  try {
    const res = await cli.api.request('HEAD', `/containers/${encodeURIComponent(container)}/archive`, { query: { path: p } });
    res.resume();
    const header = res.headers['x-docker-container-path-stat'];
    return header ? JSON.parse(Buffer.from(String(header), 'base64').toString('utf8')) as PathStat : undefined;
  } catch (err) {
    if (err instanceof DaemonError && err.statusCode === 404) return undefined;
    throw err;
  }
}

/** Extracts a tar stream under `dest`, renaming the archive's top entry to `rename` when given. */
async function extractTar(source: NodeJS.ReadableStream, dest: string, rename?: { from: string; to: string }): Promise<void> {
  const extract = tar.extract();
  const root = path.resolve(dest);
  extract.on('entry', (header, stream, next) => {
    let name = header.name.replace(/^\.\//, '').replace(/\/$/, '');
    if (rename && (name === rename.from || name.startsWith(`${rename.from}/`))) name = rename.to + name.slice(rename.from.length);
    const target = path.resolve(root, name);
    if (target !== root && !target.startsWith(`${root}${path.sep}`)) { stream.resume(); next(); return; }
    const done = (err?: Error | null) => { if (err) next(err); else next(); };
    try {
      if (header.type === 'directory') {
        fs.mkdirSync(target, { recursive: true, mode: header.mode });
        stream.resume();
        stream.on('end', () => done());
      } else if (header.type === 'symlink') {
        fs.mkdirSync(path.dirname(target), { recursive: true });
        fs.rmSync(target, { force: true });
        fs.symlinkSync(header.linkname ?? '', target);
        stream.resume();
        stream.on('end', () => done());
      } else if (header.type === 'file' || header.type === 'contiguous-file') {
        fs.mkdirSync(path.dirname(target), { recursive: true });
        const out = fs.createWriteStream(target, { mode: header.mode });
        stream.pipe(out);
        out.on('finish', () => done());
        out.on('error', done);
      } else {
        stream.resume();
        stream.on('end', () => done());
      }
    } catch (err) {
      done(err as Error);
    }
  });
  await new Promise<void>((resolve, reject) => {
    extract.on('finish', () => resolve());
    extract.on('error', reject);
    (source as NodeJS.ReadableStream).on('error', reject);
    source.pipe(extract as unknown as NodeJS.WritableStream);
  });
}

export function cpCommand(cli: Cli, name = 'cp'): Command {
  return new BerthCommand(name)
    .description('Copy files/folders between a container and the local filesystem')
    .usage('[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n       berth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH')
    .argument('<src>')
    .argument('<dest>')
    .option('-a, --archive', 'Archive mode (copy all uid/gid information)')
    .option('-L, --follow-link', 'Always follow symbol link in SRC_PATH')
    .option('-q, --quiet', 'Suppress progress output during copy')
    .action((srcArg: string, destArg: string) => copyFiles(cli, srcArg, destArg));
}

/** `cp`'s work: one side is CONTAINER:PATH, the other a local path or `-` (a tar stream). */
export async function copyFiles(cli: Cli, srcArg: string, destArg: string): Promise<void> {
  const src = splitCpArg(srcArg);
  const dest = splitCpArg(destArg);
  if (src.container && dest.container) throw new StatusError(1, 'copying between containers is not supported');
  if (!src.container && !dest.container) throw new StatusError(1, 'must specify at least one container source');
  if (src.container) {
    const res = await cli.api.request('GET', `/containers/${encodeURIComponent(src.container)}/archive`, { query: { path: src.path } });
    if (dest.path === '-') { await pipeline(res, cli.out); return; }
    const base = path.posix.basename(src.path.replace(/\/+$/, '')) || '/';
    let destIsDir = false;
    try { destIsDir = fs.statSync(dest.path).isDirectory(); } catch { /* does not exist */ }
    if (destIsDir) await extractTar(res, dest.path);
    else await extractTar(res, path.dirname(dest.path), { from: base, to: path.basename(dest.path) });
    return;
  }
  const container = dest.container as string;
  if (src.path === '-') {
    await cli.api.call('PUT', `/containers/${encodeURIComponent(container)}/archive`, {
      query: { path: dest.path }, body: cli.in, headers: { 'Content-Type': 'application/x-tar' },
    });
    return;
  }
  if (!fs.existsSync(src.path)) throw new StatusError(1, `lstat ${path.resolve(src.path)}: no such file or directory`);
  const st = await statInContainer(cli, container, dest.path);
  const destIsDir = st ? (st.mode & 0x80000000) !== 0 || (st.mode & 0o170000) === 0o040000 : false;
  const srcBase = path.basename(path.resolve(src.path));
  const target = destIsDir ? dest.path : path.posix.dirname(dest.path);
  const rootName = destIsDir ? srcBase : path.posix.basename(dest.path);
  await cli.api.call('PUT', `/containers/${encodeURIComponent(container)}/archive`, {
    query: { path: target }, body: packPath(src.path, { rootName }), headers: { 'Content-Type': 'application/x-tar' },
  });
}
