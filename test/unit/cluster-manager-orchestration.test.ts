// The orchestrators and reaper through the manager's passes on the in-memory store: scale up and down,
// global services on node add/drain, jobs, service deletion, history retention.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../helpers/cluster-manager-world';
import type { Service } from '../../src/wire/swarm';

const bySlot = (a: { Slot?: number }, b: { Slot?: number }) => (a.Slot ?? 0) - (b.Slot ?? 0);

test('replicated: tasks in slots 1..N, spread, assigned, then scale down removes and deletes the surplus', async () => {
  const w = new World();
  const nodes = [await w.addNode('n1'), await w.addNode('n2'), await w.addNode('n3')];
  const s = await w.createService({ Name: 'web', Mode: { Replicated: { Replicas: 6 } } });
  await w.converge();
  let tasks = (await w.tasks(s.ID)).sort(bySlot);
  assert.deepEqual(tasks.map((t) => t.Slot), [1, 2, 3, 4, 5, 6]);
  assert.ok(tasks.every((t) => t.Status.State === 'running' && t.DesiredState === 'running'));
  for (const n of nodes) assert.equal(tasks.filter((t) => t.NodeID === n.ID).length, 2);

  await w.updateService(s.ID, (spec) => { spec.Mode = { Replicated: { Replicas: 3 } }; });
  await w.converge();
  tasks = await w.tasks(s.ID);
  assert.equal(tasks.length, 3, 'removed tasks are deleted once stopped, not kept as history');
  for (const n of nodes) assert.equal(tasks.filter((t) => t.NodeID === n.ID).length, 1, 'scale-down takes from the nodes with the most');
  assert.equal((await w.service(s.ID)).UpdateStatus, undefined, 'a scale leaves UpdateStatus null');

  await w.updateService(s.ID, (spec) => { spec.Mode = { Replicated: { Replicas: 5 } }; });
  await w.converge();
  const slots = (await w.tasks(s.ID)).map((t) => t.Slot!).sort((a, b) => a - b);
  assert.equal(slots.length, 5);
  assert.equal(new Set(slots).size, 5);
});

test('scale down removes slots not yet running first', async () => {
  const w = new World();
  await w.addNode('n1');
  const s = await w.createService({ Name: 'web', Mode: { Replicated: { Replicas: 2 } } });
  await w.converge();
  await w.updateService(s.ID, (spec) => { spec.Mode = { Replicated: { Replicas: 3 } }; });
  await w.manager.settle(); // slot 3 is assigned, not running
  await w.updateService(s.ID, (spec) => { spec.Mode = { Replicated: { Replicas: 2 } }; });
  await w.manager.settle();
  const removed = (await w.tasks(s.ID)).filter((t) => t.DesiredState === 'remove').map((t) => t.Slot);
  assert.deepEqual(removed, [3]);
});

test('a task no node fits stays pending and says why', async () => {
  const w = new World();
  await w.addNode('n1');
  const s = await w.createService({ Name: 'c', TaskTemplate: { ContainerSpec: { Image: 'x' }, Placement: { Constraints: ['node.labels.gpu==yes'] } } });
  await w.converge();
  const [t] = await w.tasks(s.ID);
  assert.equal(t!.Status.State, 'pending');
  assert.equal(t!.Status.Message, 'pending task scheduling');
  assert.equal(t!.Status.Err, 'no suitable node (scheduling constraints not satisfied on 1 node)');
  const n2 = await w.addNode('n2', { labels: { gpu: 'yes' } });
  await w.converge();
  const [u] = await w.tasks(s.ID);
  assert.equal(u!.NodeID, n2.ID);
  assert.equal(u!.Status.State, 'running');
  assert.equal(u!.Status.Err, undefined);
});

test('global: one task per node; a new node gets one; a drained node loses its task without replacement', async () => {
  const w = new World();
  const n1 = await w.addNode('n1');
  const n2 = await w.addNode('n2');
  const s = await w.createService({ Name: 'agent', Mode: { Global: {} } });
  await w.converge();
  let tasks = await w.tasks(s.ID);
  assert.deepEqual(tasks.map((t) => t.NodeID).sort(), [n1.ID, n2.ID].sort());
  assert.ok(tasks.every((t) => t.Slot === undefined && t.Status.State === 'running'));
  assert.ok(tasks.every((t) => t.Status.Message === 'running'));

  const n3 = await w.addNode('n3');
  await w.converge();
  assert.equal((await w.live(s.ID)).filter((t) => t.NodeID === n3.ID).length, 1);

  await w.setNode(n2.ID, (n) => { n.Spec.Availability = 'drain'; });
  await w.converge();
  tasks = await w.live(s.ID);
  assert.deepEqual(tasks.map((t) => t.NodeID).sort(), [n1.ID, n3.ID].sort());
  const old = (await w.tasks(s.ID)).find((t) => t.NodeID === n2.ID)!;
  assert.equal(old.DesiredState, 'shutdown');
  assert.equal(old.Status.State, 'shutdown');
});

test('replicated job: MaxConcurrent at a time until TotalCompletions, 0-based slots, desired complete', async () => {
  const w = new World();
  await w.addNode('n1');
  const s = await w.createService({ Name: 'job', Mode: { ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 3 } } });
  await w.manager.settle();
  let tasks = await w.tasks(s.ID);
  assert.deepEqual(tasks.map((t) => t.Slot).sort(), [0, 1]);
  assert.ok(tasks.every((t) => t.DesiredState === 'complete' && t.JobIteration?.Index === 0));
  for (const t of tasks) await w.setState(t.ID, 'complete');
  await w.manager.settle();
  tasks = await w.tasks(s.ID);
  assert.equal(tasks.length, 3);
  const third = tasks.find((t) => t.Status.State !== 'complete')!;
  assert.equal(third.Slot, 2);
  await w.setState(third.ID, 'complete');
  await w.manager.settle();
  assert.equal((await w.tasks(s.ID)).length, 3, 'done: nothing more, and job tasks are not reaped');
});

test('deleting a service marks its tasks remove and the reaper deletes them once stopped', async () => {
  const w = new World();
  await w.addNode('n1');
  const s = await w.createService({ Name: 'gone', Mode: { Replicated: { Replicas: 2 } } });
  await w.converge();
  await w.objects.remove('services', s.ID, undefined, 'gone');
  await w.manager.settle();
  assert.ok((await w.tasks(s.ID)).every((t) => t.DesiredState === 'remove'));
  await w.converge();
  assert.equal((await w.tasks(s.ID)).length, 0);
});

test('history retention keeps TaskHistoryRetentionLimit tasks per slot', async () => {
  const w = new World();
  await w.addNode('n1');
  const at = new Date(w.clock.now()).toISOString();
  await w.objects.create('cluster', {
    ID: 'c1', CreatedAt: at, UpdatedAt: at, Spec: { Labels: {}, Orchestration: { TaskHistoryRetentionLimit: 3 } },
  } as never);
  const s: Service = await w.createService({ Name: 'crashy', TaskTemplate: { ContainerSpec: { Image: 'x' }, RestartPolicy: { Condition: 'any', Delay: 0 } } });
  await w.converge();
  for (let i = 0; i < 5; i++) {
    const live = (await w.live(s.ID))[0]!;
    await w.setState(live.ID, 'failed', 'task: non-zero exit (1)');
    await w.converge();
    w.clock.advance(1000);
  }
  const tasks = await w.tasks(s.ID);
  assert.equal(tasks.length, 3);
  assert.equal(tasks.filter((t) => t.DesiredState === 'running').length, 1);
});
