// Swarm objects over any ClusterStore: JSON documents whose Version is the key's modRevision, the name index
// written in the same transaction, and etcd's conflicts turned into swarmkit's errors.
import { ConflictError, NotFoundError } from '../../errdefs';
import {
  ClusterObjects, NameConflict, ObjectChange, ObjectKind, PREFIX, Stored, UpdateOutOfSequence, nameKey, objectKey,
} from './objects';
import { ClusterStore, KeyValue, StoreConflict, TxnOp, WatchEvent } from './store';

/** How often modify() re-reads and retries after a concurrent write before giving up. */
const MODIFY_ATTEMPTS = 50;

const KINDS: ReadonlySet<string> = new Set<ObjectKind>(['cluster', 'nodes', 'services', 'tasks', 'secrets', 'configs', 'networks']);

export class ObjectsStore implements ClusterObjects {
  constructor(readonly store: ClusterStore) {}

  async get<T extends Stored>(kind: ObjectKind, id: string): Promise<T | undefined> {
    const kv = await this.store.get(objectKey(kind, id));
    return kv && decode<T>(kv.value, kv.modRevision);
  }

  async list<T extends Stored>(kind: ObjectKind): Promise<{ items: T[]; revision: number }> {
    const { items, revision } = await this.store.list(`${PREFIX}${kind}/`);
    return { items: items.map((kv: KeyValue) => decode<T>(kv.value, kv.modRevision)), revision };
  }

  async create<T extends Stored>(kind: ObjectKind, object: Omit<T, 'Version'> & { ID: string }, name?: string): Promise<T> {
    const ops: TxnOp[] = [{ op: 'create', key: objectKey(kind, object.ID), value: encode(object) }];
    if (name !== undefined) ops.push({ op: 'create', key: nameKey(kind, name), value: object.ID });
    try {
      const revision = await this.store.txn(ops);
      return decode<T>(encode(object), revision);
    } catch (err) {
      if (err instanceof StoreConflict) {
        if (err.index === 1 && name !== undefined) throw new NameConflict(kind, name);
        throw new ConflictError(`${kind} ${object.ID} already exists`);
      }
      throw err;
    }
  }

  async update<T extends Stored>(kind: ObjectKind, object: T, expectedVersion: number, name?: { from?: string; to?: string }): Promise<T> {
    const ops: TxnOp[] = [{ op: 'update', key: objectKey(kind, object.ID), value: encode(object), expectedModRevision: expectedVersion }];
    const from = name?.from !== undefined ? nameKey(kind, name.from) : undefined;
    const to = name?.to !== undefined ? nameKey(kind, name.to) : undefined;
    // a rename that only changes case keeps the same index key
    if (from !== to) {
      if (to !== undefined) ops.push({ op: 'create', key: to, value: object.ID });
      if (from !== undefined) ops.push({ op: 'delete', key: from });
    }
    try {
      const revision = await this.store.txn(ops);
      return decode<T>(encode(object), revision);
    } catch (err) {
      if (err instanceof StoreConflict) {
        if (err.index === 0 && err.reason === 'missing') throw new NotFoundError(`${kind} ${object.ID} not found`);
        if (err.index === 0) throw new UpdateOutOfSequence();
        throw new NameConflict(kind, name!.to!);
      }
      throw err;
    }
  }

  async modify<T extends Stored>(kind: ObjectKind, id: string, mutate: (current: T) => T | undefined): Promise<T | undefined> {
    for (let attempt = 0; attempt < MODIFY_ATTEMPTS; attempt++) {
      const current = await this.get<T>(kind, id);
      if (!current) return undefined;
      const next = mutate(structuredClone(current));
      // mutate declines: nothing to write, the current object stands
      if (next === undefined) return current;
      try {
        return await this.update<T>(kind, next, current.Version.Index);
      } catch (err) {
        if (err instanceof UpdateOutOfSequence) continue;
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }
    }
    throw new UpdateOutOfSequence();
  }

  async remove(kind: ObjectKind, id: string, expectedVersion?: number, name?: string): Promise<void> {
    const ops: TxnOp[] = [{ op: 'delete', key: objectKey(kind, id), expectedModRevision: expectedVersion }];
    if (name !== undefined) ops.push({ op: 'delete', key: nameKey(kind, name) });
    try {
      await this.store.txn(ops);
    } catch (err) {
      if (err instanceof StoreConflict && err.index === 0) {
        if (err.reason === 'missing') throw new NotFoundError(`${kind} ${id} not found`);
        throw new UpdateOutOfSequence();
      }
      throw err;
    }
  }

  async watch(
    kinds: ObjectKind[], afterRevision: number, onChange: (changes: ObjectChange<Stored>[]) => void, onReset?: () => void,
  ): Promise<{ cancel(): Promise<void> }> {
    const wanted = new Set<string>(kinds);
    // one prefix watch, filtered here: fewer etcd watchers than one per kind, and events stay in one order
    return this.store.watch(PREFIX, afterRevision, (events: WatchEvent[]) => {
      const changes: ObjectChange<Stored>[] = [];
      for (const e of events) {
        const change = toChange(e);
        if (change && wanted.has(change.kind)) changes.push(change);
      }
      if (changes.length > 0) onChange(changes);
    }, onReset);
  }
}

function toChange(e: WatchEvent): ObjectChange<Stored> | undefined {
  const rest = e.key.slice(PREFIX.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return undefined;
  const kind = rest.slice(0, slash);
  if (!KINDS.has(kind)) return undefined; // the name index and anything else under the prefix
  const id = rest.slice(slash + 1);
  const object = e.type === 'put' && e.value !== undefined ? decode<Stored>(e.value, e.modRevision) : undefined;
  return { kind: kind as ObjectKind, id, object, revision: e.modRevision };
}

/** The document as stored: everything but Version, which is the key's modRevision. */
function encode(object: object): string {
  const { Version: _version, ...doc } = object as { Version?: unknown };
  return JSON.stringify(doc);
}

function decode<T extends Stored>(value: string, modRevision: number): T {
  const { ID, ...rest } = JSON.parse(value) as { ID: string } & Record<string, unknown>;
  // ID then Version first, as moby's JSON of swarm objects
  return { ID, Version: { Index: modRevision }, ...rest } as T;
}
