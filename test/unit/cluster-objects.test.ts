// ObjectsStore on the in-memory store: documents, Version, name index, errors, modify and watch mapping
// (the contract suite runs its shared part against etcd too).
import test from 'node:test';
import assert from 'node:assert/strict';
import { FakeClusterStore } from '../fakes/cluster-store';
import { ObjectsStore } from '../../src/cluster/store/objects-store';
import { NameConflict, ObjectChange, Stored, UpdateOutOfSequence, nameKey, objectKey } from '../../src/cluster/store/objects';
import { ConflictError, NotFoundError } from '../../src/errdefs';
import { until } from '../helpers/wait';

interface Secret extends Stored { Spec: { Name: string; Labels?: Record<string, string> } }

function setup() {
  const store = new FakeClusterStore();
  return { store, objects: new ObjectsStore(store) };
}

test('the stored document has no Version; the object read back has Version = the key\'s modRevision', async () => {
  const { store, objects } = setup();
  const s = await objects.create<Secret>('secrets', { ID: 's1', Spec: { Name: 'pw' } }, 'pw');
  const kv = await store.get(objectKey('secrets', 's1'));
  assert.deepEqual(JSON.parse(kv!.value), { ID: 's1', Spec: { Name: 'pw' } });
  assert.equal(s.Version.Index, kv!.modRevision);
  assert.equal((await store.get(nameKey('secrets', 'PW')))?.value, 's1');
  const { items, revision } = await objects.list<Secret>('secrets');
  assert.deepEqual(items, [s]);
  assert.equal(revision, store.revision);
});

test('a second object with the same ID is a ConflictError; with the same name (any case) a NameConflict', async () => {
  const { objects } = setup();
  await objects.create<Secret>('secrets', { ID: 's1', Spec: { Name: 'pw' } }, 'pw');
  await assert.rejects(objects.create<Secret>('secrets', { ID: 's1', Spec: { Name: 'other' } }, 'other'), ConflictError);
  await assert.rejects(objects.create<Secret>('secrets', { ID: 's2', Spec: { Name: 'PW' } }, 'PW'),
    (e: unknown) => e instanceof NameConflict && e.message === 'name conflicts with an existing object: secrets PW');
  // the same name in another kind is fine
  await objects.create('configs', { ID: 'c1' }, 'pw');
  assert.equal((await objects.list('secrets')).items.length, 1);
});

test('update: stale version → UpdateOutOfSequence, missing object → NotFound, rename onto a taken name → NameConflict', async () => {
  const { objects } = setup();
  const a = await objects.create<Secret>('secrets', { ID: 'a', Spec: { Name: 'a' } }, 'a');
  await objects.create<Secret>('secrets', { ID: 'b', Spec: { Name: 'b' } }, 'b');
  const a2 = await objects.update<Secret>('secrets', { ...a, Spec: { Name: 'a', Labels: { x: '1' } } }, a.Version.Index);
  await assert.rejects(objects.update<Secret>('secrets', a, a.Version.Index), (e: unknown) =>
    e instanceof UpdateOutOfSequence && e.message === 'rpc error: code = Unknown desc = update out of sequence');
  await assert.rejects(objects.update<Secret>('secrets', { ...a, ID: 'zz' }, 1), NotFoundError);
  await assert.rejects(objects.update<Secret>('secrets', { ...a2, Spec: { Name: 'B' } }, a2.Version.Index, { from: 'a', to: 'B' }), NameConflict);
  // a rename in case only keeps the index entry
  const a3 = await objects.update<Secret>('secrets', { ...a2, Spec: { Name: 'A' } }, a2.Version.Index, { from: 'a', to: 'A' });
  await assert.rejects(objects.create('secrets', { ID: 'c' }, 'a'), NameConflict);
  await objects.remove('secrets', 'a', a3.Version.Index, 'A');
  await objects.create('secrets', { ID: 'c' }, 'a');
});

test('remove: a stale version is UpdateOutOfSequence, a missing object NotFound', async () => {
  const { objects } = setup();
  const a = await objects.create<Secret>('secrets', { ID: 'a', Spec: { Name: 'a' } }, 'a');
  await assert.rejects(objects.remove('secrets', 'a', a.Version.Index - 1, 'a'), UpdateOutOfSequence);
  assert.ok(await objects.get('secrets', 'a'));
  await objects.remove('secrets', 'a');
  await assert.rejects(objects.remove('secrets', 'a', a.Version.Index), NotFoundError);
});

test('modify retries on a concurrent write, gives undefined for a missing object, writes nothing when mutate declines', async () => {
  const { store, objects } = setup();
  const a = await objects.create<Secret>('secrets', { ID: 'a', Spec: { Name: 'a', Labels: {} } });
  let calls = 0;
  const out = await objects.modify<Secret>('secrets', 'a', (s) => {
    calls++;
    if (calls === 1) {
      // someone else writes between our read and our write
      void store.txn([{ op: 'put', key: objectKey('secrets', 'a'), value: JSON.stringify({ ID: 'a', Spec: { Name: 'a', Labels: { other: '1' } } }) }]);
    }
    s.Spec.Labels = { ...s.Spec.Labels, mine: '1' };
    return s;
  });
  assert.equal(calls, 2);
  assert.deepEqual(out?.Spec.Labels, { other: '1', mine: '1' });
  const before = store.revision;
  const same = await objects.modify<Secret>('secrets', 'a', () => undefined);
  assert.equal(store.revision, before);
  assert.equal(same?.Version.Index, before);
  assert.equal(await objects.modify('secrets', 'nope', (s) => s), undefined);
  assert.ok(a);
});

test('watch maps the kinds asked for to ObjectChanges, skips the name index and other kinds', async () => {
  const { store, objects } = setup();
  const changes: ObjectChange<Stored>[] = [];
  const w = await objects.watch(['tasks', 'nodes'], store.revision, (cs) => changes.push(...cs));
  await objects.create('services', { ID: 'svc' }, 'web');
  const t = await objects.create('tasks', { ID: 't1' });
  await objects.create('nodes', { ID: 'n1' }, 'host');
  await objects.remove('tasks', 't1', t.Version.Index);
  await until(() => changes.length === 3, 'three changes');
  assert.deepEqual(changes.map((c) => [c.kind, c.id, c.object?.Version.Index, c.revision]), [
    ['tasks', 't1', 3, 3], ['nodes', 'n1', 4, 4], ['tasks', 't1', undefined, 5],
  ]);
  await w.cancel();
});
