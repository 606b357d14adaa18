// The ClusterStore contract as a test suite, run against the in-memory fake (unit) and EtcdStore over a real
// etcd (integration), so the fake cannot drift from etcd's semantics unnoticed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterStore, KeyValue, StoreConflict, WatchEvent } from '../../src/cluster/store/store';
import { ObjectsStore } from '../../src/cluster/store/objects-store';
import { NameConflict, Stored, UpdateOutOfSequence } from '../../src/cluster/store/objects';
import { NotFoundError } from '../../src/errdefs';
import { until } from './wait';

export interface ContractSubject {
  store: ClusterStore;
  /** Another client of the same cluster (another node). */
  connect(): Promise<ClusterStore>;
  /** Makes a lease go at once, as if its holder died and the TTL passed. */
  expireLease(id: string): Promise<void>;
  /** Forgets history up to `revision`, when the subject can. */
  compact?(revision: number): Promise<void>;
  cleanup(): Promise<void>;
}

let unique = 0;

/** Registers the contract's tests against the subject the factory makes (one subject shared by all). */
export function clusterStoreContract(name: string, factory: () => Promise<ContractSubject>): void {
  describe(`ClusterStore contract: ${name}`, () => {
    let subject: ContractSubject;
    let store: ClusterStore;
    const others: ClusterStore[] = [];
    const prefix = () => `/contract/${process.pid}-${Date.now()}-${unique++}/`;
    const connect = async () => {
      const s = await subject.connect();
      others.push(s);
      return s;
    };

    before(async () => {
      subject = await factory();
      store = subject.store;
    });
    after(async () => {
      for (const s of others) await s.close();
      await subject.cleanup();
    });

    test('a create moves the one revision counter; the key\'s create and mod revisions are that revision', async () => {
      const p = prefix();
      assert.equal(await store.get(`${p}a`), undefined);
      const r1 = await store.txn([{ op: 'create', key: `${p}a`, value: '1' }]);
      const r2 = await store.txn([{ op: 'create', key: `${p}b`, value: '2' }, { op: 'put', key: `${p}c`, value: '3' }]);
      assert.ok(r2 > r1);
      const a = await store.get(`${p}a`);
      assert.deepEqual(pick(a), { key: `${p}a`, value: '1', createRevision: r1, modRevision: r1 });
      assert.equal((await store.get(`${p}c`))?.modRevision, r2);
    });

    test('txn conditions: create of an existing key, update or delete of a stale or missing one fail with StoreConflict naming the op', async () => {
      const p = prefix();
      const r1 = await store.txn([{ op: 'create', key: `${p}a`, value: '1' }]);
      await assert.rejects(store.txn([{ op: 'put', key: `${p}x`, value: 'x' }, { op: 'create', key: `${p}a`, value: '2' }]),
        (e: unknown) => e instanceof StoreConflict && e.index === 1 && e.key === `${p}a` && e.reason === 'exists');
      await assert.rejects(store.txn([{ op: 'update', key: `${p}a`, value: '2', expectedModRevision: r1 - 1 }]),
        (e: unknown) => e instanceof StoreConflict && e.index === 0 && e.reason === 'modified');
      await assert.rejects(store.txn([{ op: 'update', key: `${p}nope`, value: '2', expectedModRevision: r1 }]),
        (e: unknown) => e instanceof StoreConflict && e.reason === 'missing');
      await assert.rejects(store.txn([{ op: 'delete', key: `${p}a`, expectedModRevision: r1 + 1000 }]),
        (e: unknown) => e instanceof StoreConflict && e.reason === 'modified');
      await assert.rejects(store.txn([{ op: 'delete', key: `${p}nope`, expectedModRevision: r1 }]),
        (e: unknown) => e instanceof StoreConflict && e.reason === 'missing');
      // all or nothing: the put in the failed txn did not happen
      assert.equal(await store.get(`${p}x`), undefined);
      const r2 = await store.txn([{ op: 'update', key: `${p}a`, value: '2', expectedModRevision: r1 }]);
      assert.deepEqual(pick(await store.get(`${p}a`)), { key: `${p}a`, value: '2', createRevision: r1, modRevision: r2 });
      await store.txn([{ op: 'delete', key: `${p}a`, expectedModRevision: r2 }]);
      assert.equal(await store.get(`${p}a`), undefined);
      await store.txn([{ op: 'delete', key: `${p}gone` }]); // an unconditional delete of nothing is no error
    });

    test('list gives the keys under a prefix in key order and the revision read at', async () => {
      const p = prefix();
      const r = await store.txn([
        { op: 'put', key: `${p}b`, value: 'b' }, { op: 'put', key: `${p}a`, value: 'a' }, { op: 'put', key: `${p}c/d`, value: 'd' },
      ]);
      await store.txn([{ op: 'put', key: `${p.slice(0, -1)}x`, value: 'outside' }]);
      const { items, revision } = await store.list(p);
      assert.deepEqual(items.map((kv) => kv.key), [`${p}a`, `${p}b`, `${p}c/d`]);
      assert.ok(revision >= r);
    });

    test('a watch from a revision gets every later change under its prefix, in order, then live ones; cancel stops it', async () => {
      const p = prefix();
      const r0 = await store.txn([{ op: 'put', key: `${p}before`, value: '0' }]);
      const r1 = await store.txn([{ op: 'create', key: `${p}a`, value: '1' }, { op: 'create', key: `${p}b`, value: '1' }]);
      const seen: WatchEvent[] = [];
      const w = await store.watch(p, r0, (events) => seen.push(...events));
      const r2 = await store.txn([{ op: 'update', key: `${p}a`, value: '2', expectedModRevision: r1 }]);
      await store.txn([{ op: 'put', key: `/contract-outside/${unique++}`, value: 'x' }]);
      const r3 = await store.txn([{ op: 'delete', key: `${p}b` }]);
      await until(() => seen.length >= 4, 'watch events');
      assert.deepEqual(seen, [
        { type: 'put', key: `${p}a`, value: '1', modRevision: r1 },
        { type: 'put', key: `${p}b`, value: '1', modRevision: r1 },
        { type: 'put', key: `${p}a`, value: '2', modRevision: r2 },
        { type: 'delete', key: `${p}b`, modRevision: r3 },
      ]);
      await w.cancel();
      await store.txn([{ op: 'put', key: `${p}after`, value: 'x' }]);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(seen.length, 4);
    });

    test('a second client sees the first one\'s writes and watches them', async () => {
      const p = prefix();
      const other = await connect();
      const seen: WatchEvent[] = [];
      const { revision } = await other.list(p);
      const w = await other.watch(p, revision, (events) => seen.push(...events));
      await store.txn([{ op: 'put', key: `${p}k`, value: 'v' }]);
      await until(() => seen.length === 1, 'the other client\'s watch');
      assert.equal((await other.get(`${p}k`))?.value, 'v');
      await w.cancel();
    });

    test('a leased key goes when its lease expires; onLost fires; a revoke deletes the keys without onLost', async () => {
      const p = prefix();
      const lease = await store.grantLease(5);
      let lost = 0;
      lease.onLost(() => lost++);
      await store.txn([{ op: 'create', key: `${p}node`, value: 'up', lease: lease.id }, { op: 'put', key: `${p}plain`, value: 'x' }]);
      assert.equal((await store.get(`${p}node`))?.lease, lease.id);
      const deletes: WatchEvent[] = [];
      const w = await store.watch(p, (await store.list(p)).revision, (events) => deletes.push(...events));
      await subject.expireLease(lease.id);
      await until(() => lost === 1, 'onLost after the lease expired');
      await until(async () => (await store.get(`${p}node`)) === undefined, 'the leased key deleted');
      await until(() => deletes.some((e) => e.type === 'delete' && e.key === `${p}node`), 'the delete watched');
      assert.equal((await store.get(`${p}plain`))?.value, 'x');
      await w.cancel();

      const second = await store.grantLease(5);
      let lost2 = 0;
      second.onLost(() => lost2++);
      await store.txn([{ op: 'put', key: `${p}node2`, value: 'up', lease: second.id }]);
      await second.revoke();
      assert.equal(await store.get(`${p}node2`), undefined);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(lost2, 0);
    });

    test('campaign: the first candidate leads, the next one waits and wins when the leader\'s lease goes; resign hands over', async () => {
      const election = `contract-${process.pid}-${unique++}`;
      const other = await connect();
      const third = await connect();
      assert.equal(await store.leader(election), undefined);
      const leaseA = await store.grantLease(5);
      const a = await store.campaign(election, 'node-a', leaseA);
      assert.equal(await store.leader(election), 'node-a');
      let aLost = 0;
      a.onLost(() => aLost++);

      const leaseB = await other.grantLease(5);
      let bWon = false;
      const bCampaign = other.campaign(election, 'node-b', leaseB).then((l) => { bWon = true; return l; });
      const leaseC = await third.grantLease(5);
      const cCampaign = third.campaign(election, 'node-c', leaseC);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(bWon, false);

      await subject.expireLease(leaseA.id);
      const b = await bCampaign;
      await until(() => aLost === 1, 'the old leader\'s onLost');
      assert.equal(await other.leader(election), 'node-b');

      let bLost = 0;
      b.onLost(() => bLost++);
      await b.resign();
      const c = await cCampaign;
      assert.equal(await store.leader(election), 'node-c');
      await c.resign();
      assert.equal(await store.leader(election), undefined);
      assert.equal(bLost, 0);
      await leaseB.revoke();
      await leaseC.revoke();
    });

    test('a watch from a compacted revision is reset', async (t) => {
      if (!subject.compact) return t.skip('the subject cannot compact');
      const p = prefix();
      const r1 = await store.txn([{ op: 'put', key: `${p}a`, value: '1' }]);
      await store.txn([{ op: 'put', key: `${p}a`, value: '2' }]);
      const r3 = await store.txn([{ op: 'put', key: `${p}a`, value: '3' }]);
      await subject.compact(r3);
      let reset = 0;
      const w = await store.watch(p, r1, () => assert.fail('no events after a reset'), () => reset++);
      await until(() => reset === 1, 'onReset');
      await w.cancel();
    });

    test('objects over the store: Version is the modRevision, updates are compare-and-swap, names unique case-insensitively', async () => {
      const objects = new ObjectsStore(store);
      const id = `svc${process.pid}x${unique++}`;
      const name = `Web-${id}`;
      interface Svc extends Stored { Spec: { Name: string; Replicas: number } }
      const created = await objects.create<Svc>('services', { ID: id, Spec: { Name: name, Replicas: 1 } }, name);
      assert.deepEqual(Object.keys(created), ['ID', 'Version', 'Spec']);
      assert.deepEqual(await objects.get<Svc>('services', id), created);
      await assert.rejects(objects.create<Svc>('services', { ID: `${id}2`, Spec: { Name: name.toUpperCase(), Replicas: 1 } }, name.toUpperCase()),
        NameConflict);
      const updated = await objects.update<Svc>('services', { ...created, Spec: { Name: name, Replicas: 3 } }, created.Version.Index);
      assert.ok(updated.Version.Index > created.Version.Index);
      await assert.rejects(objects.update<Svc>('services', { ...created }, created.Version.Index), UpdateOutOfSequence);

      const changes: Array<{ id: string; replicas?: number }> = [];
      const w = await objects.watch(['services'], updated.Version.Index, (cs) => {
        for (const c of cs) changes.push({ id: c.id, replicas: (c.object as Svc | undefined)?.Spec.Replicas });
      });
      const bumped = await Promise.all([1, 2, 3].map(() => objects.modify<Svc>('services', id, (s) => ({ ...s, Spec: { ...s.Spec, Replicas: s.Spec.Replicas + 1 } }))));
      assert.equal(Math.max(...bumped.map((s) => s!.Spec.Replicas)), 6);
      const renamed = await objects.update<Svc>('services', { ...bumped.sort((x, y) => x!.Version.Index - y!.Version.Index)[2]!, Spec: { Name: `${name}-2`, Replicas: 6 } },
        (await objects.get<Svc>('services', id))!.Version.Index, { from: name, to: `${name}-2` });
      // the old name is free again
      const other = await objects.create<Svc>('services', { ID: `${id}b`, Spec: { Name: name, Replicas: 1 } }, name);
      await objects.remove('services', other.ID, other.Version.Index, name);
      await objects.remove('services', id, renamed.Version.Index, `${name}-2`);
      await assert.rejects(objects.remove('services', id, renamed.Version.Index), NotFoundError);
      assert.equal(await objects.get('services', id), undefined);
      await until(() => changes.length >= 7, 'object changes');
      assert.deepEqual(changes.filter((c) => c.id === id), [
        { id, replicas: 4 }, { id, replicas: 5 }, { id, replicas: 6 }, { id, replicas: 6 }, { id, replicas: undefined },
      ]);
      await w.cancel();
      const left = (await store.list(`/berth/swarm/v1/names/services/${name.toLowerCase()}`)).items;
      assert.deepEqual(left, []);
    });
  });
}

function pick(kv: KeyValue | undefined): Omit<KeyValue, 'lease'> | undefined {
  return kv && { key: kv.key, value: kv.value, createRevision: kv.createRevision, modRevision: kv.modRevision };
}
