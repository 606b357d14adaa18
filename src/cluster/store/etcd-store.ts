// ClusterStore over etcd v3 (the `etcd3` gRPC client): raw KV calls with a bounded deadline, so that a cluster
// without quorum or out of reach answers StoreUnavailable in seconds instead of hanging; leases kept alive by the
// client; elections as etcd's recipe (one leased key per candidate, the lowest create revision leads).
// cockatiel is etcd3's own fault-handling library (its dependency): the policies are handed to the client
import { noop, ExponentialBackoff } from 'cockatiel';
import {
  Etcd3, EtcdError, EtcdLeaseInvalidError, GRPCCancelledError, GRPCDeadlineExceededError, GRPCUnavailableError,
  IKeyValue, IRequestOp, ICompare, Lease as EtcdLease, Watcher,
} from 'etcd3';
import {
  ClusterStore, ELECTION_PREFIX, KeyValue, Lease, LeaseLost, Leadership, StoreConflict, StoreUnavailable, TxnOp, Watch, WatchEvent,
} from './store';

export interface EtcdStoreOptions {
  /** Client URLs of the members, e.g. https://10.0.0.1:2379. */
  hosts: string[];
  /** PEM: the cluster CA, and this node's client certificate and key (etcd runs --client-cert-auth). */
  tls?: { ca: Buffer; cert: Buffer; key: Buffer };
  /** How long a call may wait for an answer before StoreUnavailable (default 5 s). */
  timeoutMs?: number;
}

export class EtcdStore implements ClusterStore {
  private readonly client: Etcd3;
  private readonly timeoutMs: number;
  private readonly watchers = new Set<Watcher>();
  private readonly leases = new Set<EtcdLease>();
  private closed = false;

  constructor(options: EtcdStoreOptions) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.client = new Etcd3({
      hosts: options.hosts,
      credentials: options.tls && { rootCertificate: options.tls.ca, certChain: options.tls.cert, privateKey: options.tls.key },
      dialTimeout: this.timeoutMs,
      // no per-host circuit breaker (it turns a sub-second raft election into a ~5 s outage) and no hidden
      // retries: call() retries within its own deadline; watches reconnect within a second
      faultHandling: { host: () => noop, global: noop, watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 1000 }).next() },
    });
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const res = await this.call(true, (deadline) => this.client.kv.range({ key: Buffer.from(key) }, { deadline }));
    return res.kvs[0] && toKeyValue(res.kvs[0]);
  }

  async list(prefix: string): Promise<{ items: KeyValue[]; revision: number }> {
    const res = await this.call(true, (deadline) => this.client.kv.range(
      { key: Buffer.from(prefix), range_end: rangeEnd(prefix), sort_order: 'Ascend', sort_target: 'Key' }, { deadline }));
    return { items: res.kvs.map(toKeyValue), revision: Number(res.header.revision) };
  }

  async txn(ops: TxnOp[]): Promise<number> {
    const compare: ICompare[] = [];
    const success: IRequestOp[] = [];
    for (const op of ops) {
      const key = Buffer.from(op.key);
      switch (op.op) {
        case 'create':
          compare.push({ key, target: 'Create', result: 'Equal', create_revision: 0 });
          success.push({ request_put: { key, value: Buffer.from(op.value), lease: op.lease ?? 0 } });
          break;
        case 'update':
          compare.push({ key, target: 'Mod', result: 'Equal', mod_revision: op.expectedModRevision });
          success.push({ request_put: { key, value: Buffer.from(op.value), ignore_lease: true } });
          break;
        case 'put':
          success.push({ request_put: { key, value: Buffer.from(op.value), lease: op.lease ?? 0 } });
          break;
        case 'delete':
          if (op.expectedModRevision !== undefined) compare.push({ key, target: 'Mod', result: 'Equal', mod_revision: op.expectedModRevision });
          success.push({ request_delete_range: { key } });
          break;
      }
    }
    // on failure, read back every key so the conflict can name the first op whose condition did not hold
    const failure: IRequestOp[] = ops.map((op) => ({ request_range: { key: Buffer.from(op.key) } }));
    // a write is retried only when it was certainly not applied (no connection): see call()
    const res = await this.call(false, (deadline) => this.client.kv.txn({ compare, success, failure }, { deadline }));
    if (res.succeeded) return Number(res.header.revision);
    ops.forEach((op, index) => {
      const kv = res.responses[index]?.response_range?.kvs[0];
      if (op.op === 'create' && kv) throw new StoreConflict(index, op.key, 'exists');
      const expected = op.op === 'update' ? op.expectedModRevision : op.op === 'delete' ? op.expectedModRevision : undefined;
      if (expected !== undefined) {
        if (!kv) throw new StoreConflict(index, op.key, 'missing');
        if (Number(kv.mod_revision) !== expected) throw new StoreConflict(index, op.key, 'modified');
      }
    });
    // the key changed between the txn and the read-back: report the first conditioned op as modified
    const first = ops.findIndex((op) => op.op !== 'put' && (op.op !== 'delete' || op.expectedModRevision !== undefined));
    throw new StoreConflict(Math.max(first, 0), ops[Math.max(first, 0)].key, 'modified');
  }

  watch(prefix: string, afterRevision: number, onEvent: (events: WatchEvent[]) => void, onReset?: () => void): Promise<Watch> {
    return this.watchRange(prefix, true, afterRevision, onEvent, onReset);
  }

  private async watchRange(
    key: string, isPrefix: boolean, afterRevision: number, onEvent: (events: WatchEvent[]) => void, onReset?: () => void,
  ): Promise<Watch> {
    this.open();
    const builder = (isPrefix ? this.client.watch().prefix(key) : this.client.watch().key(key)).startRevision(String(afterRevision + 1));
    const watcher = await this.bounded(builder.create(), 'watch');
    this.watchers.add(watcher);
    let cancelled = false;
    watcher.on('data', (res) => {
      if (cancelled || res.events.length === 0) return;
      onEvent(res.events.map((e) => ({
        type: e.type === 'Delete' ? 'delete' : 'put',
        key: e.kv.key.toString(),
        ...(e.type === 'Delete' ? {} : { value: e.kv.value.toString() }),
        modRevision: Number(e.kv.mod_revision),
      })));
    });
    // the server cancels a watch whose start revision is compacted (and for nothing else we ask for): the
    // watcher's view is now incomplete, it must re-list
    watcher.on('error', () => {
      if (cancelled) return;
      cancelled = true;
      this.watchers.delete(watcher);
      onReset?.();
    });
    return {
      cancel: async () => {
        cancelled = true;
        this.watchers.delete(watcher);
        await watcher.cancel().catch(() => undefined);
      },
    };
  }

  async grantLease(ttlSeconds: number): Promise<Lease> {
    this.open();
    const lease = this.client.lease(ttlSeconds);
    let lostListeners: Array<() => void> = [];
    let gone = false;
    lease.on('lost', () => {
      if (gone) return;
      gone = true;
      this.leases.delete(lease);
      for (const l of lostListeners.splice(0)) l();
    });
    let id: string;
    try {
      id = await this.bounded(lease.grant(), 'lease grant');
    } catch (err) {
      lease.release();
      throw mapError(err);
    }
    this.leases.add(lease);
    return {
      id,
      revoke: async () => {
        gone = true;
        lostListeners = [];
        this.leases.delete(lease);
        try {
          await this.bounded(lease.revoke(), 'lease revoke');
        } catch (err) {
          if (!(err instanceof EtcdLeaseInvalidError)) throw mapError(err);
        }
      },
      onLost: (listener) => {
        if (gone) listener();
        else lostListeners.push(listener);
      },
    };
  }

  async campaign(election: string, value: string, lease: Lease): Promise<Leadership> {
    const prefix = `${ELECTION_PREFIX}${election}/`;
    const key = `${prefix}${lease.id}`;
    try {
      await this.txn([{ op: 'create', key, value, lease: lease.id }]);
    } catch (err) {
      if (!(err instanceof StoreConflict)) throw leaseError(err);
      const current = await this.get(key); // campaigning again with the same lease: keep our place
      if (!current) throw new LeaseLost();
      await this.txn([{ op: 'update', key, value, expectedModRevision: current.modRevision }]);
    }
    let lostListeners: Array<() => void> = [];
    let done = false;
    let rejectWait: ((err: Error) => void) | undefined;
    const lose = () => {
      rejectWait?.(new LeaseLost());
      if (done) return;
      done = true;
      void ownWatch.cancel();
      for (const l of lostListeners.splice(0)) l();
    };
    // our key going (lease expired, someone deleted it) is losing the election, before or after winning
    const ownWatch = await this.watchRange(key, false, (await this.get(key))?.modRevision ?? 0, (events) => {
      if (events.some((e) => e.type === 'delete')) lose();
    }, lose);
    lease.onLost(lose);
    try {
      await new Promise<void>((resolve, reject) => {
        rejectWait = reject;
        const waitTurn = async (): Promise<void> => {
          if (done) return;
          const mine = await this.get(key);
          if (!mine) return reject(new LeaseLost());
          // watch only the candidate just before us: when it goes, look again (no herd on the leader's key)
          const res = await this.call(true, (deadline) => this.client.kv.range({
            key: Buffer.from(prefix), range_end: rangeEnd(prefix), max_create_revision: mine.createRevision - 1,
            sort_order: 'Descend', sort_target: 'Create', limit: 1,
          }, { deadline }));
          const before = res.kvs[0];
          if (!before) return resolve();
          // from the read's revision: a delete between the read and the watch's creation is replayed
          const w = await this.watchRange(before.key.toString(), false, Number(res.header.revision), (events) => {
            if (events.some((e) => e.type === 'delete')) { void w.cancel(); waitTurn().catch(reject); }
          }, () => { void w.cancel(); waitTurn().catch(reject); });
        };
        waitTurn().catch(reject);
      });
    } catch (err) {
      done = true;
      await ownWatch.cancel();
      throw err;
    } finally {
      rejectWait = undefined;
    }
    return {
      resign: async () => {
        done = true;
        lostListeners = [];
        await ownWatch.cancel();
        await this.txn([{ op: 'delete', key }]);
      },
      onLost: (listener) => {
        if (done) listener();
        else lostListeners.push(listener);
      },
    };
  }

  async leader(election: string): Promise<string | undefined> {
    const prefix = `${ELECTION_PREFIX}${election}/`;
    const res = await this.call(true, (deadline) => this.client.kv.range({
      key: Buffer.from(prefix), range_end: rangeEnd(prefix), sort_order: 'Ascend', sort_target: 'Create', limit: 1,
    }, { deadline }));
    return res.kvs[0]?.value.toString();
  }

  /** Discards history up to `revision` (the cluster member does this periodically; tests call it). */
  async compact(revision: number): Promise<void> {
    await this.call(false, (deadline) => this.client.kv.compact({ revision, physical: true }, { deadline }));
  }

  /** Members of the cluster as etcd lists them (the member adapter adds and removes through its own client). */
  get etcd(): Etcd3 {
    return this.client;
  }

  /**
   * Stops watches and keep-alives and closes the connections. Leases are not revoked: their keys go when the
   * TTL passes, as they would if this process died (a caller that leaves on purpose revokes first).
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.watchers].map((w) => w.cancel().catch(() => undefined)));
    this.watchers.clear();
    for (const lease of this.leases) lease.release();
    this.leases.clear();
    this.client.close();
  }

  private open(): void {
    if (this.closed) throw new Error('cluster store client is closed');
  }

  /**
   * One unary call with a deadline. Retried within the same overall deadline while the cluster has no leader or
   * the member is out of reach (an election takes about a second); a write only when it certainly did not apply.
   */
  private async call<T>(idempotent: boolean, fn: (deadline: number) => Promise<T>): Promise<T> {
    this.open();
    const deadline = Date.now() + this.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn(deadline);
      } catch (err) {
        const mapped = mapError(err);
        const retry = mapped instanceof StoreUnavailable && (idempotent || notSent(err)) && !this.closed;
        const pause = Math.min(100 * 2 ** attempt, 500);
        if (!retry || Date.now() + pause >= deadline) throw mapped;
        await new Promise((r) => setTimeout(r, pause));
      }
    }
  }

  /** A promise the client gives no deadline for (watch creation, lease grant): bounded here. */
  private bounded<T>(promise: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailable(`etcd: ${what} timed out after ${this.timeoutMs}ms`)), this.timeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }
}

/** Connection-level failures the store cannot answer through: no quorum, no leader, no member reachable. */
function mapError(err: unknown): unknown {
  if (err instanceof StoreUnavailable || err instanceof StoreConflict) return err;
  if (err instanceof GRPCDeadlineExceededError || err instanceof GRPCUnavailableError || err instanceof GRPCCancelledError) {
    return new StoreUnavailable(`etcd: ${firstLine(err)}`);
  }
  if (err instanceof Error && /no leader|request timed out|leader changed|timed out|deadline exceeded|not capable|too many requests|connect|unavailable|ECONNREFUSED/i.test(err.message)
    && !(err instanceof EtcdLeaseInvalidError)) {
    return new StoreUnavailable(`etcd: ${firstLine(err)}`);
  }
  if (err instanceof EtcdError && /lease not found/.test(err.message)) return new LeaseLost();
  return err;
}

/** A write may be retried only when the request never reached a member. */
function notSent(err: unknown): boolean {
  return err instanceof Error && /ECONNREFUSED|connect|No connection established|failed to connect/i.test(err.message);
}

function leaseError(err: unknown): unknown {
  return err instanceof Error && /lease not found/.test(err.message) ? new LeaseLost() : err;
}

function firstLine(err: Error): string {
  return err.message.split('\n')[0];
}

function toKeyValue(kv: IKeyValue): KeyValue {
  const out: KeyValue = {
    key: kv.key.toString(), value: kv.value.toString(),
    createRevision: Number(kv.create_revision), modRevision: Number(kv.mod_revision),
  };
  if (kv.lease && kv.lease !== '0') out.lease = kv.lease;
  return out;
}

/** etcd's range end for "every key with this prefix": the prefix with its last byte incremented. */
function rangeEnd(prefix: string): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}
