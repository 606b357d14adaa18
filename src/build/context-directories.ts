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
}

export interface ContextDirectoryLimits {
  /** Directories kept for reuse (one per build that may run at once is enough). */
  spares: number;
  /** A context larger than this is removed after its build rather than kept on disk. */
  bytes: number;
}

const DEFAULT_LIMITS: ContextDirectoryLimits = { spares: 2, bytes: 256 << 20 };

export class ContextDirectories {
  private readonly spares: ContextDirectory[] = [];

  /** `dir` is the directories' own (kept apart from the build's scratch space): emptied by init(). */
  constructor(private readonly dir: string, private readonly limits = DEFAULT_LIMITS) {}

  /** What a daemon that stopped left is of no use: what it holds is not known any more. */
  async init(): Promise<void> {
    this.spares.length = 0;
    await fsp.rm(this.dir, { recursive: true, force: true });
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  /** A directory for one build's context, its own until given back: the last one given back, else a new one. */
  async take(): Promise<ContextDirectory> {
    const spare = this.spares.pop();
    if (spare) return spare;
    const root = path.join(this.dir, `context-${randomBytes(8).toString('hex')}`);
    await fsp.mkdir(root, { recursive: true, mode: 0o700 });
    return { root, tree: new ExtractedTree() };
  }

  /**
   * Takes a directory back after its build: kept when its extraction completed (its tree says what it holds) and
   * it is small enough, else removed.
   */
  async give(dir: ContextDirectory): Promise<void> {
    if (dir.tree.populated && this.spares.length < this.limits.spares && dir.tree.bytes <= this.limits.bytes) {
      this.spares.push(dir);
      return;
    }
    await fsp.rm(dir.root, { recursive: true, force: true });
  }

  /** Removes the directories kept for reuse (`docker builder prune`): contexts in use stay until given back. */
  async clear(): Promise<void> {
    for (const d of this.spares.splice(0)) await fsp.rm(d.root, { recursive: true, force: true });
  }
}
