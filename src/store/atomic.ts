// Crash-safe file writes: write a temporary file, fsync it, rename it over the target, fsync the directory.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { failpoint } from './failpoint';

export function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.tmp-${path.basename(target)}-${randomBytes(6).toString('hex')}`);
}

export interface WriteOptions {
  mode?: number;
  /**
   * fsync the file and its directory (default). Without it the rename is still atomic against a crash of the
   * process, which is what state that is re-derived at start-up needs; only a power loss could lose the write.
   */
  durable?: boolean;
  /** The failpoint between the written temporary file and the rename (crash tests; see failpoint.ts). */
  crashPoint?: string;
}

/** Replaces `target` with `data` so that a crash leaves either the old or the new content, never a mix. */
export async function writeFileAtomic(target: string, data: string | Uint8Array, opts: WriteOptions | number = {}): Promise<void> {
  const { mode = 0o644, durable = true, crashPoint } = typeof opts === 'number' ? { mode: opts } as WriteOptions : opts;
  const tmp = tempPathFor(target);
  const fh = await fsp.open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    if (durable) await fh.sync();
  } finally {
    await fh.close();
  }
  if (crashPoint) failpoint(crashPoint);
  try {
    await fsp.rename(tmp, target);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  if (durable) await fsyncDir(path.dirname(target));
}

export async function writeJsonAtomic(target: string, value: unknown, opts: WriteOptions = {}): Promise<void> {
  await writeFileAtomic(target, JSON.stringify(value, null, 1), opts);
}

export async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await fsp.readFile(file, 'utf8')) as T;
}

export async function readJsonIfExists<T>(file: string): Promise<T | undefined> {
  try {
    return await readJson<T>(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    // Some filesystems refuse fsync on directories; the rename is still atomic there.
  } finally {
    await fh?.close();
  }
}

/** Removes temporary files a crash may have left in `dir` (those written by writeFileAtomic). */
export async function removeStaleTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  await Promise.all(names.filter((n) => n.startsWith('.tmp-')).map((n) => fsp.rm(path.join(dir, n), { recursive: true, force: true })));
}
