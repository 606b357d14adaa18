// An in-memory ClusterStore with etcd's semantics, for unit tests (the real one is EtcdStore in
// src/cluster/store/etcd-store.ts): one revision counter, txn conditions, ordered watches from a revision,
// leases (kept alive until revoked or expired by the test) and elections built on leased keys as etcd's are.
import {
  ClusterStore, ELECTION_PREFIX, KeyValue, Lease, LeaseLost, Leadership, StoreConflict, StoreUnavailable, TxnOp, Watch, WatchEvent,
} from '../../src/cluster/store/store';

interface Watcher {
  prefix: string;
  onEvent: (events: WatchEvent[]) => void;
  queue: WatchEvent[][];
  scheduled: boolean;
  cancelled: boolean;
  owner: FakeClusterStore;
}

interface FakeLeaseState {
  id: string;
  ttlSeconds: number;
  keys: Set<string>;
  lostListeners: Array<() => void>;
  owner: FakeClusterStore;
}

interface Candidate {
  key: string;
  lost: Array<() => void>;
  done: boolean;
}

/** The shared state of one fake cluster: what an etcd cluster holds. Clients are FakeClusterStore views. */
class FakeEtcd {
  revision = 1;
  compacted = 0;
  readonly data = new Map<string, KeyValue>();
  /** Every write batch, in order (the fake keeps the whole history unless compact() is called). */
  readonly history: Array<{ revision: number; events: WatchEvent[] }> = [];
  readonly watchers = new Set<Watcher>();
  readonly leases = new Map<string, FakeLeaseState>();
  readonly candidates = new Set<Candidate>();
  readonly electionWaiters = new Set<() => void>();
  nextLease = 0x1000;
  unavailable = false;

  apply(ops: TxnOp[]): number {
    const seen = new Set<string>();
    for (const op of ops) {
      if (seen.has(op.key)) throw new Error('etcdserver: duplicate key given in txn request');
      seen.add(op.key);
    }
    ops.forEach((op, index) => {
      const current = this.data.get(op.key);
      switch (op.op) {
        case 'create':
          if (current) throw new StoreConflict(index, op.key, 'exists');
          break;
        case 'update':
          if (!current) throw new StoreConflict(index, op.key, 'missing');
          if (current.modRevision !== op.expectedModRevision) throw new StoreConflict(index, op.key, 'modified');
          break;
        case 'delete':
          if (op.expectedModRevision !== undefined) {
            if (!current) throw new StoreConflict(index, op.key, 'missing');
            if (current.modRevision !== op.expectedModRevision) throw new StoreConflict(index, op.key, 'modified');
          }
          break;
        case 'put':
          break;
      }
      if ((op.op === 'create' || op.op === 'put') && op.lease !== undefined && !this.leases.has(op.lease)) {
        throw new Error('etcdserver: requested lease not found');
      }
    });
    const changes = ops.filter((op) => op.op !== 'delete' || this.data.has(op.key));
    if (changes.length === 0) return this.revision; // etcd does not move the revision for a txn that changes nothing
    const revision = ++this.revision;
    const events: WatchEvent[] = [];
    for (const op of changes) {
      const current = this.data.get(op.key);
      if (current?.lease !== undefined) this.leases.get(current.lease)?.keys.delete(op.key);
      if (op.op === 'delete') {
        this.data.delete(op.key);
        events.push({ type: 'delete', key: op.key, modRevision: revision });
        continue;
      }
      // an update keeps the key's lease, as etcd's put with IgnoreLease would; create/put set it
      const lease = op.op === 'update' ? current?.lease : op.lease;
      const kv: KeyValue = {
        key: op.key, value: op.value, createRevision: current ? current.createRevision : revision, modRevision: revision,
      };
      if (lease !== undefined) {
        kv.lease = lease;
        this.leases.get(lease)?.keys.add(op.key);
      }
      this.data.set(op.key, kv);
      events.push({ type: 'put', key: op.key, value: op.value, modRevision: revision });
    }
    this.history.push({ revision, events });
    for (const w of this.watchers) this.deliver(w, events);
    this.checkElections();
    return revision;
  }

  deliver(w: Watcher, events: WatchEvent[]): void {
    const mine = events.filter((e) => e.key.startsWith(w.prefix));
    if (mine.length === 0 || w.cancelled) return;
    w.queue.push(mine);
    if (w.scheduled) return;
    w.scheduled = true;
    // asynchronous, as a real watch is: a writer never sees its watchers run inside its own txn call
    setImmediate(() => {
      w.scheduled = false;
      for (const batch of w.queue.splice(0)) {
        if (w.cancelled) return;
        w.onEvent(batch);
      }
    });
  }

  expire(id: string): void {
    const lease = this.leases.get(id);
    if (!lease) return;
    this.leases.delete(id);
    const keys = [...lease.keys];
    if (keys.length > 0) this.apply(keys.map((key) => ({ op: 'delete', key })));
    for (const l of lease.lostListeners.splice(0)) l();
  }

  checkElections(): void {
    for (const c of [...this.candidates]) {
      if (!this.data.has(c.key)) {
        this.candidates.delete(c);
        if (!c.done) {
          c.done = true;
          for (const l of c.lost.splice(0)) l();
        }
      }
    }
    for (const w of [...this.electionWaiters]) w();
  }

  /** The candidate key with the lowest create revision under the election's prefix leads. */
  leaderKey(election: string): KeyValue | undefined {
    let best: KeyValue | undefined;
    const prefix = `${ELECTION_PREFIX}${election}/`;
    for (const kv of this.data.values()) {
      if (kv.key.startsWith(prefix) && (!best || kv.createRevision < best.createRevision)) best = kv;
    }
    return best;
  }
}

/** One client of a fake cluster; `connect()` makes another client of the same cluster (another node). */
export class FakeClusterStore implements ClusterStore {
  private readonly etcd: FakeEtcd;
  private closed = false;

  constructor(shared?: FakeClusterStore) {
    this.etcd = shared ? shared.etcd : new FakeEtcd();
  }

  connect(): FakeClusterStore {
    return new FakeClusterStore(this);
  }

  // --- test controls ---

  /** The lease is gone at once, as if its TTL passed without keep-alives: its keys are deleted, onLost fires. */
  expireLease(id: string): void {
    this.etcd.expire(id);
  }

  /** Forgets history up to `revision`: a watch from before it gets onReset. */
  compact(revision: number): void {
    this.etcd.compacted = Math.max(this.etcd.compacted, revision);
    const keep = this.etcd.history.filter((h) => h.revision > revision);
    this.etcd.history.splice(0, this.etcd.history.length, ...keep);
  }

  /** While set, every call fails with StoreUnavailable (a cluster without quorum). */
  setUnavailable(unavailable: boolean): void {
    this.etcd.unavailable = unavailable;
  }

  get revision(): number {
    return this.etcd.revision;
  }

  /** The leases this client holds (for tests that kill a node: expire them all). */
  leaseIds(): string[] {
    return [...this.etcd.leases.values()].filter((l) => l.owner === this).map((l) => l.id);
  }

  // --- ClusterStore ---

  async get(key: string): Promise<KeyValue | undefined> {
    this.check();
    const kv = this.etcd.data.get(key);
    return kv && { ...kv };
  }

  async list(prefix: string): Promise<{ items: KeyValue[]; revision: number }> {
    this.check();
    const items = [...this.etcd.data.values()]
      .filter((kv) => kv.key.startsWith(prefix))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map((kv) => ({ ...kv }));
    return { items, revision: this.etcd.revision };
  }

  async txn(ops: TxnOp[]): Promise<number> {
    this.check();
    return this.etcd.apply(ops);
  }

  async watch(prefix: string, afterRevision: number, onEvent: (events: WatchEvent[]) => void, onReset?: () => void): Promise<Watch> {
    this.check();
    const etcd = this.etcd;
    const w: Watcher = { prefix, onEvent, queue: [], scheduled: false, cancelled: false, owner: this };
    if (afterRevision + 1 < etcd.compacted) {
      // etcd: "required revision has been compacted"; the watch ends and the watcher re-lists
      setImmediate(() => { if (!w.cancelled) onReset?.(); });
      return { cancel: async () => { w.cancelled = true; } };
    }
    for (const h of etcd.history) if (h.revision > afterRevision) etcd.deliver(w, h.events);
    etcd.watchers.add(w);
    return {
      cancel: async () => {
        w.cancelled = true;
        etcd.watchers.delete(w);
      },
    };
  }

  async grantLease(ttlSeconds: number): Promise<Lease> {
    this.check();
    const state: FakeLeaseState = {
      id: (this.etcd.nextLease++).toString(16), ttlSeconds, keys: new Set(), lostListeners: [], owner: this,
    };
    this.etcd.leases.set(state.id, state);
    const etcd = this.etcd;
    return {
      id: state.id,
      revoke: async () => {
        state.lostListeners.length = 0; // a revoke is not a loss
        etcd.expire(state.id);
      },
      onLost: (listener) => {
        if (!etcd.leases.has(state.id)) listener();
        else state.lostListeners.push(listener);
      },
    };
  }

  async campaign(election: string, value: string, lease: Lease): Promise<Leadership> {
    this.check();
    const etcd = this.etcd;
    const key = `${ELECTION_PREFIX}${election}/${lease.id}`;
    if (!etcd.leases.has(lease.id)) throw new LeaseLost();
    if (etcd.data.has(key)) etcd.apply([{ op: 'update', key, value, expectedModRevision: etcd.data.get(key)!.modRevision }]);
    else etcd.apply([{ op: 'create', key, value, lease: lease.id }]);
    const candidate: Candidate = { key, lost: [], done: false };
    etcd.candidates.add(candidate);
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!etcd.data.has(key)) {
          etcd.electionWaiters.delete(check);
          reject(new LeaseLost());
        } else if (etcd.leaderKey(election)?.key === key) {
          etcd.electionWaiters.delete(check);
          resolve();
        }
      };
      etcd.electionWaiters.add(check);
      check();
    });
    return {
      resign: async () => {
        candidate.done = true;
        candidate.lost.length = 0;
        etcd.candidates.delete(candidate);
        if (etcd.data.has(key)) etcd.apply([{ op: 'delete', key }]);
      },
      onLost: (listener) => {
        if (candidate.done || !etcd.data.has(key)) listener();
        else candidate.lost.push(listener);
      },
    };
  }

  async leader(election: string): Promise<string | undefined> {
    this.check();
    return this.etcd.leaderKey(election)?.value;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const w of [...this.etcd.watchers]) {
      if (w.owner === this) {
        w.cancelled = true;
        this.etcd.watchers.delete(w);
      }
    }
  }

  private check(): void {
    if (this.closed) throw new Error('cluster store client is closed');
    if (this.etcd.unavailable) throw new StoreUnavailable('etcdserver: request timed out');
  }
}
