// Build context directories kept from one build to the next: the next upload of the same context rewrites only
// the files that changed (untar's ExtractedTree) instead of creating every file and removing them all afterwards.
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { ExtractedTree } from './untar';

/** A directory a context is unpacked into, and what it holds. */
export interface ContextDirectory {
  root: string;
  tree: ExtractedTree;
  /**
   * The upload it holds, when that tar was read whole before unpacking: `key` is its sha256 (decompressed) with
   * the Dockerfile path asked for, and the Dockerfile as read then (.dockerignore may have removed the file
   * since). An upload with the same key finds everything already in place.
   */
  upload?: { key: string; dockerfileText: string; dockerfilePath: string };
  /** COPY sources' checksums computed on what it holds now (BuildContext.sourceHash); emptied whenever it is unpacked into. */
  sourceHashes: Map<string, string>;
}

export interface ContextDirectoryLimits {
  /** Directories kept for reuse (one per build that may run at once is enough). */
  spares: number;
  /** A context larger than this is removed after its build rather than kept on disk. */
  bytes: number;
}

const DEFAULT_LIMITS: ContextDirectoryLimits = { spares: 2, bytes: 256 << 20 };

/** A kept directory as `docker system df` shows it: a build cache record of its own. */
export interface KeptContext {
  root: string;
  bytes: number;
  /** When its build gave it back (its last use). */
  keptAt: Date;
}

export class ContextDirectories {
  private readonly spares: ContextDirectory[] = [];
  private readonly keptAt = new WeakMap<ContextDirectory, Date>();

  /** `dir` is the directories' own (kept apart from the build's scratch space): emptied by init(). */
  constructor(private readonly dir: string, private readonly limits = DEFAULT_LIMITS) {}

  /** What a daemon that stopped left is of no use: what it holds is not known any more. */
  async init(): Promise<void> {
    this.spares.length = 0;
    await fsp.rm(this.dir, { recursive: true, force: true });
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  /**
   * A directory for one build's context, its own until given back: the one that holds the upload `uploadKey`
   * when one does, else the last one given back, else a new one.
   */
  async take(uploadKey?: string): Promise<ContextDirectory> {
    const same = uploadKey === undefined ? -1 : this.spares.findIndex((d) => d.upload?.key === uploadKey);
    const spare = same >= 0 ? this.spares.splice(same, 1)[0] : this.spares.pop();
    if (spare) return spare;
    const root = path.join(this.dir, `context-${randomBytes(8).toString('hex')}`);
    await fsp.mkdir(root, { recursive: true, mode: 0o700 });
    return { root, tree: new ExtractedTree(), sourceHashes: new Map() };
  }

  /**
   * Takes a directory back after its build: kept when its extraction completed (its tree says what it holds) and
   * it is small enough, else removed.
   */
  async give(dir: ContextDirectory): Promise<void> {
    if (dir.tree.populated && this.spares.length < this.limits.spares && dir.tree.bytes <= this.limits.bytes) {
      this.spares.push(dir);
      this.keptAt.set(dir, new Date());
      return;
    }
    await fsp.rm(dir.root, { recursive: true, force: true });
  }

  /** The directories kept for reuse, with what they hold (the disk they take is the build cache's too). */
  kept(): KeptContext[] {
    return this.spares.map((d) => ({ root: d.root, bytes: d.tree.bytes, keptAt: this.keptAt.get(d) ?? new Date() }));
  }

  /** Removes the directories kept for reuse (`docker builder prune`), saying how many bytes they held: contexts in use stay until given back. */
  async clear(): Promise<number> {
    let bytes = 0;
    for (const d of this.spares.splice(0)) {
      bytes += d.tree.bytes;
      await fsp.rm(d.root, { recursive: true, force: true });
    }
    return bytes;
  }
}
