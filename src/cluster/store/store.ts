// The cluster's one source of truth, behind one narrow interface: etcd in production (etcd-store.ts), an
// in-memory fake with the same semantics in unit tests (test/fakes/cluster-store.ts). Everything else in
// src/cluster talks to this, never to an etcd client.
//
// Semantics are etcd's: one revision counter for the whole store, each key's modRevision is the revision of
// its last write, so an object's Version.Index is its key's modRevision and an update is a compare-and-swap
// on it (a stale one is Docker's "update out of sequence").
// CONTRACT: the cluster parts code against this; extend it, do not change what is here without saying so.

/** Where elections keep their candidate keys (etcd's recipe: one leased key per candidate, lowest create revision leads). */
export const ELECTION_PREFIX = '/berth/elections/';

export interface KeyValue {
  key: string;
  value: string;
  createRevision: number;
  modRevision: number;
  /** The lease the key is attached to (deleted when the lease expires), if any. */
  lease?: string;
}

/** One operation of an atomic transaction; all of them apply or none. */
export type TxnOp =
  | { op: 'create'; key: string; value: string; lease?: string }
  | { op: 'update'; key: string; value: string; expectedModRevision: number }
  | { op: 'put'; key: string; value: string; lease?: string }
  | { op: 'delete'; key: string; expectedModRevision?: number };

export interface WatchEvent {
  type: 'put' | 'delete';
  key: string;
  /** Absent for deletes. */
  value?: string;
  modRevision: number;
}

export interface Watch {
  /** Stops the watch; no event is delivered after it resolves. */
  cancel(): Promise<void>;
}

/** A lease kept alive by the store client until revoked or lost (its keys then go). */
export interface Lease {
  readonly id: string;
  revoke(): Promise<void>;
  /** Called once if keep-alives fail past the TTL: the keys attached are gone. */
  onLost(listener: () => void): void;
}

/** Leadership won in an election; lost when the lease behind it is lost or it is resigned. */
export interface Leadership {
  resign(): Promise<void>;
  onLost(listener: () => void): void;
}

export interface ClusterStore {
  get(key: string): Promise<KeyValue | undefined>;
  /** Every key under the prefix, in key order, and the store revision they were read at. */
  list(prefix: string): Promise<{ items: KeyValue[]; revision: number }>;
  /**
   * Applies every op atomically. Fails with StoreConflict naming the first op whose condition did not hold
   * (create of an existing key, update/delete whose key's modRevision differs or key is gone).
   * Returns the revision of the write.
   */
  txn(ops: TxnOp[]): Promise<number>;
  /**
   * Calls `onEvent` for every change under the prefix after `afterRevision`, in revision order. If that revision
   * is compacted, `onReset` is called and the watcher must re-list.
   */
  watch(prefix: string, afterRevision: number, onEvent: (events: WatchEvent[]) => void, onReset?: () => void): Promise<Watch>;
  grantLease(ttlSeconds: number): Promise<Lease>;
  /** Waits until this candidate leads the named election (value: who leads, e.g. the node ID). */
  campaign(election: string, value: string, lease: Lease): Promise<Leadership>;
  /** The current leader's value, or undefined when none. */
  leader(election: string): Promise<string | undefined>;
  close(): Promise<void>;
}

/** A transaction's condition failed: op `index` (its key) was not as expected. */
export class StoreConflict extends Error {
  constructor(readonly index: number, readonly key: string, readonly reason: 'exists' | 'modified' | 'missing') {
    super(`store conflict on ${key}: ${reason}`);
    this.name = 'StoreConflict';
  }
}

/** The store cannot be reached or has no quorum. */
export class StoreUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreUnavailable';
  }
}

/** The lease behind a campaign is gone (expired or revoked) before or while campaigning. */
export class LeaseLost extends Error {
  constructor() {
    super('lease lost');
    this.name = 'LeaseLost';
  }
}
