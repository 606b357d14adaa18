// Tar streams of local files, for `build` contexts and `cp` uploads, streamed from disk (never buffered),
// with docker's .dockerignore matching (patterns, "**", "!" exceptions, parent directories).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import * as tar from 'tar-stream';

/** One .dockerignore pattern compiled to a regular expression over slash-separated relative paths. */
interface IgnorePattern { regex: RegExp; exclusion: boolean }

function globToRegex(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        // "**/" matches zero or more directories; a trailing "**" matches everything below.
        if (pattern[i + 1] === '/') { i++; re += '(?:.*/)?'; } else re += '.*';
      } else re += '[^/]*';
    } else if (ch === '?') re += '[^/]';
    else if (ch === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) { re += '\\['; continue; }
      let cls = pattern.slice(i + 1, end);
      if (cls.startsWith('^') || cls.startsWith('!')) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (ch === '\\' && i + 1 < pattern.length) { re += `\\${pattern[++i]}`; }
    else re += ch.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function cleanPattern(p: string): string {
  let s = path.posix.normalize(p.trim());
  s = s.replace(/^\/+/, '').replace(/\/+$/, '');
  return s === '.' ? '' : s;
}

/** docker's patternmatcher: the last matching pattern wins; a directory excluded excludes its contents. */
export class DockerIgnore {
  private readonly patterns: IgnorePattern[];

  constructor(lines: string[]) {
    this.patterns = [];
    for (const raw of lines) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const exclusion = line.startsWith('!');
      const p = cleanPattern(exclusion ? line.slice(1) : line);
      if (!p) continue;
      this.patterns.push({ regex: globToRegex(p), exclusion });
    }
  }

  static fromFile(file: string): DockerIgnore {
    try {
      return new DockerIgnore(fs.readFileSync(file, 'utf8').split(/\r?\n/));
    } catch {
      return new DockerIgnore([]);
    }
  }

  get hasExclusions(): boolean { return this.patterns.some((p) => p.exclusion); }

  /** Is the slash-separated relative path excluded (by itself or through a parent directory)? */
  matches(rel: string): boolean {
    const parents: string[] = [];
    const parts = rel.split('/');
    for (let i = 1; i <= parts.length; i++) parents.push(parts.slice(0, i).join('/'));
    let matched = false;
    for (const p of this.patterns) {
      if (p.exclusion !== matched) continue;
      if (parents.some((q) => p.regex.test(q))) matched = !p.exclusion;
    }
    return matched;
  }
}

export interface PackOptions {
  /** Excludes a relative path (slash-separated, no leading "./"). */
  exclude?: (rel: string) => boolean;
  /** Entries get this name prefix instead of their path relative to the root (cp renames). */
  rootName?: string;
  /** Forces a file (the Dockerfile) into the archive even when ignored. */
  include?: string[];
}

/** Streams `root` (a directory, or a single file) as a tar archive. */
export function packPath(root: string, opts: PackOptions = {}): Readable {
  const pack = tar.pack();
  const rootStat = fs.lstatSync(root);
  const exclude = opts.exclude ?? (() => false);
  const forced = new Set(opts.include ?? []);
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
      if (exclude(childRel) && !forced.has(childRel)) {
        // An excluded directory may still hold re-included files ("!" patterns): descend without adding it.
        if (st.isDirectory()) await walk(childAbs, childRel);
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
