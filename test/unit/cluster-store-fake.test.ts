// The in-memory ClusterStore against the shared contract (the same suite runs against etcd in
// test/integration/cluster-etcd.test.ts), and the fake's own test controls.
import test from 'node:test';
import assert from 'node:assert/strict';
import { FakeClusterStore } from '../fakes/cluster-store';
import { clusterStoreContract } from '../helpers/cluster-store-contract';
import { StoreUnavailable } from '../../src/cluster/store/store';

clusterStoreContract('in-memory fake', async () => {
  const store = new FakeClusterStore();
  return {
    store,
    connect: async () => store.connect(),
    expireLease: async (id) => store.expireLease(id),
    compact: async (revision) => store.compact(revision),
    cleanup: () => store.close(),
  };
});

test('an unavailable fake fails every call with StoreUnavailable until it is back', async () => {
  const store = new FakeClusterStore();
  store.setUnavailable(true);
  await assert.rejects(store.get('/a'), StoreUnavailable);
  await assert.rejects(store.txn([{ op: 'put', key: '/a', value: '1' }]), StoreUnavailable);
  store.setUnavailable(false);
  await store.txn([{ op: 'put', key: '/a', value: '1' }]);
});

test('a txn naming one key twice is refused, as etcd does', async () => {
  const store = new FakeClusterStore();
  await assert.rejects(store.txn([{ op: 'put', key: '/a', value: '1' }, { op: 'delete', key: '/a' }]), /duplicate key/);
  assert.equal(store.revision, 1);
});

test('leaseIds lists the leases one client holds (a test kills a node by expiring them)', async () => {
  const a = new FakeClusterStore();
  const b = a.connect();
  const la = await a.grantLease(5);
  await b.grantLease(5);
  assert.deepEqual(a.leaseIds(), [la.id]);
  for (const id of a.leaseIds()) a.expireLease(id);
  assert.deepEqual(a.leaseIds(), []);
  assert.equal(b.leaseIds().length, 1);
});
