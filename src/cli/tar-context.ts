// Tar streams of local files, for `build` contexts and `cp` uploads, streamed from disk (never buffered),
// leaving out what .dockerignore excludes (patterns, "**", "!" exceptions, parent directories).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { dockerignoreMatcher, parseDockerignore, patternsForUpload } from '../build/dockerignore';

/**
 * What `berth build` leaves out of a context, with the daemon's own .dockerignore rules (src/build/dockerignore.ts,
 * Docker's matcher): the Dockerfile and .dockerignore are sent even when excluded, as the docker CLI does; an excluded
 * directory is walked only when an exception may re-include something below it.
 */
export function contextIgnore(root: string, dockerfile: string): Pick<PackOptions, 'exclude' | 'descend'> {
  let text = '';
  try {
    text = fs.readFileSync(path.join(root, '.dockerignore'), 'utf8');
  } catch {
    // No .dockerignore: nothing is left out.
  }
  const m = dockerignoreMatcher(patternsForUpload(parseDockerignore(text), dockerfile));
  return { exclude: (rel) => m.ignores(rel), descend: (rel) => m.mayHaveExceptionsUnder(rel) };
}

export interface PackOptions {
  /** Excludes a relative path (slash-separated, no leading "./"). */
  exclude?: (rel: string) => boolean;
  /** Whether to walk into an excluded directory, for what an exception re-includes below it (default: always). */
  descend?: (rel: string) => boolean;
  /** Entries get this name prefix instead of their path relative to the root (cp renames). */
  rootName?: string;
}

/** Streams `root` (a directory, or a single file) as a tar archive. */
export function packPath(root: string, opts: PackOptions = {}): Readable {
  const pack = tar.pack();
  const rootStat = fs.lstatSync(root);
  const exclude = opts.exclude ?? (() => false);
  const descend = opts.descend ?? (() => true);
  const entryName = (rel: string) => {
    if (opts.rootName !== undefined) return rel ? `${opts.rootName}/${rel}` : opts.rootName;
    return rel;
  };
  const addEntry = (abs: string, rel: string, st: fs.Stats): Promise<void> => new Promise((resolve, reject) => {
    const header = {
      name: entryName(rel), mode: st.mode & 0o7777, mtime: st.mtime, uid: st.uid, gid: st.gid,
    };
    if (st.isDirectory()) { pack.entry({ ...header, type: 'directory' }, (e) => (e ? reject(e) : resolve())); return; }
    if (st.isSymbolicLink()) { pack.entry({ ...header, type: 'symlink', linkname: fs.readlinkSync(abs) }, (e) => (e ? reject(e) : resolve())); return; }
    if (!st.isFile()) { resolve(); return; }
    const entry = pack.entry({ ...header, type: 'file', size: st.size }, (e) => (e ? reject(e) : resolve()));
    fs.createReadStream(abs).on('error', reject).pipe(entry);
  });
  const walk = async (abs: string, rel: string): Promise<void> => {
    const names = fs.readdirSync(abs).sort();
    for (const n of names) {
      const childRel = rel ? `${rel}/${n}` : n;
      const childAbs = path.join(abs, n);
      const st = fs.lstatSync(childAbs);
      if (exclude(childRel)) {
        // An excluded directory may still hold re-included files ("!" patterns): descend without adding it.
        if (st.isDirectory() && descend(childRel)) await walk(childAbs, childRel);
        continue;
      }
      await addEntry(childAbs, childRel, st);
      if (st.isDirectory()) await walk(childAbs, childRel);
    }
  };
  (async () => {
    if (rootStat.isDirectory()) {
      if (opts.rootName !== undefined) await addEntry(root, '', rootStat);
      await walk(root, '');
    } else {
      await addEntry(root, '', rootStat);
    }
    pack.finalize();
  })().catch((err: Error) => pack.destroy(err));
  // tar-stream's streams are streamx ones; hand out a Node stream.
  const out = new PassThrough();
  pack.on('error', (err: Error) => out.destroy(err));
  pack.pipe(out);
  return out;
}
