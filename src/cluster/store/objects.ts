// Swarm objects in the store: one JSON document per object under /berth/swarm/v1/<kind>/<id>, names kept unique
// (case-insensitively, as swarmkit's store) by an index key /berth/swarm/v1/names/<kind>/<lowercased name> written
// in the same transaction. Version.Index is the object key's modRevision and is not stored in the document.
// CONTRACT: the cluster parts code against this; implemented over ClusterStore by the store work.
import type { ClusterStore, WatchEvent } from './store';

export const PREFIX = '/berth/swarm/v1/';

export type ObjectKind = 'cluster' | 'nodes' | 'services' | 'tasks' | 'secrets' | 'configs' | 'networks';

export function objectKey(kind: ObjectKind, id: string): string {
  return `${PREFIX}${kind}/${id}`;
}

export function nameKey(kind: ObjectKind, name: string): string {
  return `${PREFIX}names/${kind}/${name.toLowerCase()}`;
}

/** A stored object: the document plus ID and Version (from the key's modRevision). */
export interface Stored { ID: string; Version: { Index: number } }

export interface ObjectChange<T> {
  kind: ObjectKind;
  id: string;
  /** The object after the change; undefined when deleted. */
  object: T | undefined;
  revision: number;
}

export interface ClusterObjects {
  readonly store: ClusterStore;
  get<T extends Stored>(kind: ObjectKind, id: string): Promise<T | undefined>;
  list<T extends Stored>(kind: ObjectKind): Promise<{ items: T[]; revision: number }>;
  /**
   * Stores a new object (its ID given in the document). `name`, when given, must be free for the kind:
   * else NameConflict. Returns the object with its Version.
   */
  create<T extends Stored>(kind: ObjectKind, object: Omit<T, 'Version'> & { ID: string }, name?: string): Promise<T>;
  /**
   * Replaces an object if it is still at `expectedVersion` (else UpdateOutOfSequence); a changed `name`
   * moves the name index in the same transaction.
   */
  update<T extends Stored>(kind: ObjectKind, object: T, expectedVersion: number, name?: { from?: string; to?: string }): Promise<T>;
  /** Reads, applies `mutate`, writes with compare-and-swap; retries on a concurrent write (for loops, not the API). */
  modify<T extends Stored>(kind: ObjectKind, id: string, mutate: (current: T) => T | undefined): Promise<T | undefined>;
  remove(kind: ObjectKind, id: string, expectedVersion?: number, name?: string): Promise<void>;
  /** Changes to any of the kinds after `afterRevision`, in order. */
  watch(kinds: ObjectKind[], afterRevision: number, onChange: (changes: ObjectChange<Stored>[]) => void, onReset?: () => void): Promise<{ cancel(): Promise<void> }>;
}

/** Swarmkit's words for a stale version; the API maps it to 500 as dockerd does. */
export class UpdateOutOfSequence extends Error {
  constructor() {
    super('rpc error: code = Unknown desc = update out of sequence');
    this.name = 'UpdateOutOfSequence';
  }
}

export class NameConflict extends Error {
  constructor(readonly kind: ObjectKind, readonly objectName: string) {
    super(`name conflicts with an existing object: ${kind} ${objectName}`);
    this.name = 'NameConflict';
  }
}

export type { WatchEvent };
