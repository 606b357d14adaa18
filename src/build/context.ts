// The build context: the client's tar unpacked into a private directory under the data root, its Dockerfile read,
// .dockerignore applied, and COPY/ADD sources resolved inside it and nowhere else.
import { createHash } from 'node:crypto';
import type * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { InvalidParameterError, errorMessage } from '../errdefs';
import { resolveInRoot } from '../host/rootfs';
import { peek, readUpTo } from '../util/streams';
import type { ContextDirectories, ContextDirectory } from './context-directories';
import { decompressAny, extractTar, ExtractedTree, looksLikeTar } from './untar';

/** Docker's .dockerignore matcher (dockerignore.ts). */
export interface IgnoreMatcher {
  ignores(relPath: string): boolean;
  /** Whether a "!" pattern may re-include something below an ignored directory. */
  mayHaveExceptionsUnder(dir: string): boolean;
}

export type IgnoreParser = (text: string) => IgnoreMatcher;

export const DEFAULT_DOCKERFILE = 'Dockerfile';

/**
 * A context up to this size (decompressed) is read whole before it is unpacked, so that the same upload as a kept
 * directory's last one (a rebuild with nothing changed: the docker CLI's tar is byte for byte the same) is not
 * unpacked at all. A larger one is unpacked as it arrives.
 */
const WHOLE_CONTEXT_LIMIT = 16 << 20;

export class BuildContext {
  private constructor(
    readonly root: string,
    readonly dockerfileText: string,
    readonly dockerfilePath: string,
    private readonly dir: Pick<ContextDirectory, 'tree' | 'sourceHashes'> = { tree: new ExtractedTree(), sourceHashes: new Map() },
    private readonly release?: () => Promise<void>,
  ) {}

  /**
   * Unpacks the uploaded context (a tar, plain or compressed) into a directory from `dirs` (what an earlier build
   * left there is reused where unchanged), reads the Dockerfile at `dockerfile` (a path inside the context) and
   * removes what .dockerignore excludes.
   */
  static async fromUpload(body: Readable, dirs: ContextDirectories, dockerfile: string, parseIgnore: IgnoreParser): Promise<BuildContext> {
    let upload: Awaited<ReturnType<typeof readUpTo>>;
    try {
      upload = await readUpTo((await decompressAny(body)).stream, WHOLE_CONTEXT_LIMIT);
    } catch (err) {
      throw contextError(err);
    }
    const name = dockerfile || DEFAULT_DOCKERFILE;
    const key = 'whole' in upload ? `${createHash('sha256').update(upload.whole).digest('hex')}:${name}` : undefined;
    const dir = await dirs.take(key);
    try {
      if (key !== undefined && dir.upload?.key === key) {
        // What the last build unpacked here from the same bytes, .dockerignore already applied: nothing to do.
        return new BuildContext(dir.root, dir.upload.dockerfileText, dir.upload.dockerfilePath, dir, () => dirs.give(dir));
      }
      dir.upload = undefined;
      dir.sourceHashes.clear();
      const { head, stream: tarStream } = 'whole' in upload ? { head: upload.whole, stream: Readable.from([upload.whole]) } : await peek(upload.stream, 512);
      if (head.length === 0) throw new InvalidParameterError('the build context is empty: send a tar of the context directory');
      if (!looksLikeTar(head)) throw new InvalidParameterError('the build context is not a tar archive');
      await extractTar(tarStream, dir.root, { keepOwnership: false, tree: dir.tree });
      const { text, rel } = await BuildContext.read(dir.root, name, parseIgnore);
      if (key !== undefined) dir.upload = { key, dockerfileText: text, dockerfilePath: rel };
      return new BuildContext(dir.root, text, rel, dir, () => dirs.give(dir));
    } catch (err) {
      await dirs.give(dir);
      throw contextError(err);
    }
  }

  /** A context already on disk at `root` (the directory then belongs to the context and goes with close()). */
  static async open(root: string, dockerfile: string, parseIgnore: IgnoreParser): Promise<BuildContext> {
    const { text, rel } = await BuildContext.read(root, dockerfile, parseIgnore);
    return new BuildContext(root, text, rel);
  }

  /** The Dockerfile's text and path, read before what .dockerignore excludes is removed (it may list the Dockerfile). */
  private static async read(root: string, dockerfile: string, parseIgnore: IgnoreParser): Promise<{ text: string; rel: string }> {
    const ignoreText = await fsp.readFile(path.join(root, '.dockerignore'), 'utf8').catch(() => undefined);
    const ignore = ignoreText === undefined ? undefined : parseIgnore(ignoreText);
    let rel = cleanContextPath(dockerfile);
    let text = await readInContext(root, rel);
    if (text === undefined && dockerfile === DEFAULT_DOCKERFILE) {
      rel = 'dockerfile';
      text = await readInContext(root, rel);
    }
    if (text === undefined) throw new InvalidParameterError(`Cannot locate specified Dockerfile: ${dockerfile}`);
    if (ignore) await prune(root, ignore);
    return { text, rel };
  }

  /**
   * The sha256 of a context file recorded when it was unpacked, if `st` (its lstat now) shows it untouched since:
   * COPY then need not read it again.
   */
  knownDigest(abs: string, st: fs.Stats): string | undefined {
    const rel = path.relative(this.root, abs);
    if (!rel || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
    return this.dir.tree.digestOf(rel, st);
  }

  /**
   * The checksum of the COPY source `abs` (a path in the context) under `variant` (what else decides it, such
   * as the mtime clamp): computed by `compute` once per content of the directory. A kept directory keeps them
   * while an identical upload finds it unchanged, so a rebuild with nothing changed reads no source again.
   */
  async sourceHash(abs: string, variant: string, compute: () => Promise<string>): Promise<string> {
    const key = `${variant}\0${abs}`;
    const known = this.dir.sourceHashes.get(key);
    if (known !== undefined) return known;
    const hash = await compute();
    this.dir.sourceHashes.set(key, hash);
    return hash;
  }

  /**
   * A COPY/ADD source path (already expanded, wildcards not) resolved inside the context: "../x" and anything
   * whose symlinks lead out are refused as Docker refuses them.
   */
  async resolve(src: string): Promise<string> {
    const rel = src.replace(/^\/+/, '').replace(/^\.\/+/, '');
    if (escapes(rel)) throw new InvalidParameterError(`forbidden path outside the build context: ${src} ()`);
    return resolveInRoot(this.root, rel);
  }

  /** Gives the directory back for the next build (or removes it, for a context opened on disk). */
  async close(): Promise<void> {
    if (this.release) await this.release();
    else await fsp.rm(this.root, { recursive: true, force: true });
  }
}

/** True when a relative path climbs above its root through "..". */
export function escapes(rel: string): boolean {
  let depth = 0;
  for (const part of rel.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') { if (--depth < 0) return true; } else depth++;
  }
  return false;
}

function cleanContextPath(p: string): string {
  const rel = path.posix.normalize(p.replace(/\\/g, '/')).replace(/^\/+/, '');
  if (escapes(rel) || rel.startsWith('..')) throw new InvalidParameterError(`forbidden path outside the build context: ${p} ()`);
  return rel;
}

async function readInContext(root: string, rel: string): Promise<string | undefined> {
  const abs = await resolveInRoot(root, rel);
  const st = await fsp.stat(abs).catch(() => undefined);
  if (!st?.isFile()) return undefined;
  return fsp.readFile(abs, 'utf8');
}

/** Removes what .dockerignore excludes (the client normally left it out already; other clients may not). */
async function prune(root: string, ignore: IgnoreMatcher): Promise<void> {
  const walk = async (relDir: string): Promise<void> => {
    const abs = relDir ? path.join(root, relDir) : root;
    const entries = await fsp.readdir(abs, { withFileTypes: true });
    for (const e of entries) {
      const rel = relDir ? `${relDir}/${e.name}` : e.name;
      const isDir = e.isDirectory();
      if (ignore.ignores(rel)) {
        if (isDir && ignore.mayHaveExceptionsUnder(rel)) { await walk(rel); continue; }
        await fsp.rm(path.join(root, rel), { recursive: true, force: true });
        continue;
      }
      if (isDir) await walk(rel);
    }
  };
  await walk('');
}

/** A corrupt or cut compressed stream (zlib's Z_* codes) is the client's upload, not a daemon fault. */
function contextError(err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && code.startsWith('Z_')) return new InvalidParameterError(`the build context is not a valid compressed archive: ${errorMessage(err)}`);
  return err;
}
