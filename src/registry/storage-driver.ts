// The one interface the registry stores through: objects by slash-separated path, written whole or not at all.
import type { Readable } from 'node:stream';

export interface ObjectInfo {
  /** Slash-separated path from the driver's root, starting with "/". */
  path: string;
  size: number;
  modified: Date;
}

/**
 * A storage backend (filesystem, S3-compatible object storage). Every write is atomic: a reader sees the
 * old object or the complete new one, never a torn one, even when the process dies mid-write.
 */
export interface StorageDriver {
  readonly name: string;
  /** A small object whole, or null when absent. */
  getContent(path: string): Promise<Buffer | null>;
  /** Writes a small object. */
  putContent(path: string, data: Buffer | string): Promise<void>;
  /**
   * Streams `source` into `path`. The object appears only once the stream has ended without error
   * (a source that fails, e.g. a verifier, leaves nothing). Resolves to the number of bytes written.
   */
  putStream(path: string, source: Readable): Promise<number>;
  /** Size and modification time of an object, or null when absent. */
  stat(path: string): Promise<ObjectInfo | null>;
  /** Streams an object from `offset` for `length` bytes (to the end without it); null when absent. */
  reader(path: string, offset?: number, length?: number): Promise<Readable | null>;
  /** The names directly below a directory (objects and sub-directories), sorted; empty when absent. */
  list(dir: string): Promise<string[]>;
  /** Every object below a directory, at any depth. */
  walk(dir: string): AsyncIterable<ObjectInfo>;
  /** Moves an object to another path (replacing what is there). */
  move(from: string, to: string): Promise<void>;
  /** Deletes an object, or a directory with everything below it; absent paths are fine. */
  delete(path: string): Promise<void>;
  /** Releases connections, timers. */
  close?(): Promise<void>;
}

/** Joins path parts into a driver path ("/a/b"), refusing empty, "." and ".." parts. */
export function storagePath(...parts: string[]): string {
  const out: string[] = [];
  for (const p of parts) {
    for (const seg of p.split('/')) {
      if (seg === '') continue;
      if (seg === '.' || seg === '..') throw new Error(`invalid storage path segment ${JSON.stringify(seg)}`);
      out.push(seg);
    }
  }
  return '/' + out.join('/');
}
