// Stale versions on service updates: a client that read after the last spec change (only the cluster's own status
// writes came since) is accepted; one that read before it is still "update out of sequence".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectedVersionFor, withSpecChange, withoutSpecBase, type SpecVersioned } from '../../src/cluster/store/spec-base';
import { UpdateOutOfSequence } from '../../src/cluster/store/objects';
import type { Service } from '../../src/wire/swarm';
import { World } from '../helpers/cluster-manager-world';

const versioned = (index: number, base?: number): SpecVersioned => ({ ID: 's', Version: { Index: index }, Spec: { Name: 'web' }, ...(base !== undefined ? { SpecBase: base } : {}) } as SpecVersioned);

test('expectedVersionFor: current, newer than the last spec write, or the client\'s own (to be refused)', () => {
  assert.equal(expectedVersionFor(versioned(10, 4), 10), 10);
  assert.equal(expectedVersionFor(versioned(10, 4), 5), 10, 'read after the spec write at 4→5: only status writes since');
  assert.equal(expectedVersionFor(versioned(10, 4), 4), 4, 'read the spec the last write replaced');
  assert.equal(expectedVersionFor(versioned(10, 4), 3), 3);
  assert.equal(expectedVersionFor(versioned(10, 4), 11), 11, 'a version from the future is not current');
  assert.equal(expectedVersionFor(versioned(10), 7), 10, 'never changed since create: any read saw the spec');
  assert.deepEqual(Object.keys(withoutSpecBase(versioned(10, 4))).sort(), ['ID', 'Spec', 'Version']);
});

test('through the store: a status write after an update does not refuse a client that read in between', async () => {
  const w = new World();
  const created = await w.createService({ Name: 'web' });
  // The user's update, as the API writes it.
  const update = async (clientVersion: number, image: string) => {
    const current = (await w.service(created.ID)) as SpecVersioned;
    const next = withSpecChange(current, { ...current, Spec: { ...current.Spec, TaskTemplate: { ContainerSpec: { Image: image } } }, PreviousSpec: current.Spec });
    return w.objects.update<SpecVersioned>('services', next, expectedVersionFor(current, clientVersion));
  };
  const first = await update(created.Version.Index, 'app:2');
  const readByClient = first.Version.Index; // `docker service rollback` inspects here…
  await w.objects.modify<Service>('services', created.ID, (s) => ({ ...s, UpdateStatus: { State: 'updating' } })); // …the cluster writes…
  await update(readByClient, 'app:3'); // …and the client's write is still accepted.
  assert.equal((await w.service(created.ID)).Spec.TaskTemplate.ContainerSpec?.Image, 'app:3');
  await assert.rejects(update(readByClient, 'app:4'), UpdateOutOfSequence, 'a read older than the last spec change is refused');
  assert.equal((await w.service(created.ID)).Spec.TaskTemplate.ContainerSpec?.Image, 'app:3');
});
