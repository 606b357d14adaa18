// The restart supervisor and node health through the manager's passes, with a fake clock: restart
// conditions, the Delay before release, MaxAttempts, drain (no delay) and a node that stops heartbeating.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../helpers/cluster-manager-world';
import { SECOND_NS } from '../../src/wire/swarm';

test('condition any: a failed task is shut down and replaced in its slot, released after the delay', async () => {
  const w = new World();
  await w.addNode('n1');
  const s = await w.createService({ Name: 'web' });
  await w.converge();
  const [first] = await w.tasks(s.ID);
  await w.setState(first!.ID, 'failed', 'task: non-zero exit (1)');
  await w.converge();
  let tasks = await w.tasks(s.ID);
  assert.equal(tasks.length, 2);
  const old = tasks.find((t) => t.ID === first!.ID)!;
  const next = tasks.find((t) => t.ID !== first!.ID)!;
  assert.equal(old.DesiredState, 'shutdown');
  assert.equal(next.Slot, 1);
  assert.equal(next.DesiredState, 'ready', 'held until the restart delay (default 5s) has passed');
  assert.equal(next.Status.State, 'assigned', 'scheduled meanwhile');
  w.clock.advance(4_000);
  await w.converge();
  assert.equal((await w.objects.get<typeof next>('tasks', next.ID))!.DesiredState, 'ready');
  w.clock.advance(1_000);
  await w.converge();
  tasks = await w.tasks(s.ID);
  const released = tasks.find((t) => t.ID === next.ID)!;
  assert.equal(released.DesiredState, 'running');
  assert.equal(released.Status.State, 'running');
});

test('condition on-failure does not restart a task that completed; none never restarts', async () => {
  const w = new World();
  await w.addNode('n1');
  const a = await w.createService({ Name: 'a', TaskTemplate: { ContainerSpec: { Image: 'x' }, RestartPolicy: { Condition: 'on-failure', Delay: 0 } } });
  const b = await w.createService({ Name: 'b', TaskTemplate: { ContainerSpec: { Image: 'x' }, RestartPolicy: { Condition: 'none' } } });
  await w.converge();
  await w.setState((await w.tasks(a.ID))[0]!.ID, 'complete');
  await w.setState((await w.tasks(b.ID))[0]!.ID, 'failed');
  await w.converge();
  w.clock.advance(10_000);
  await w.converge();
  assert.equal((await w.tasks(a.ID)).length, 1);
  assert.equal((await w.tasks(b.ID)).length, 1);
  assert.equal((await w.tasks(b.ID))[0]!.DesiredState, 'shutdown');
  // on-failure restarts a failure
  const c = await w.createService({ Name: 'c', TaskTemplate: { ContainerSpec: { Image: 'x' }, RestartPolicy: { Condition: 'on-failure', Delay: 0 } } });
  await w.converge();
  await w.setState((await w.tasks(c.ID))[0]!.ID, 'failed');
  await w.converge();
  assert.equal((await w.live(c.ID)).length, 1);
  assert.equal((await w.tasks(c.ID)).length, 2);
});

test('MaxAttempts caps the restarts of a slot', async () => {
  const w = new World();
  await w.addNode('n1');
  const s = await w.createService({ Name: 'm', TaskTemplate: { ContainerSpec: { Image: 'x' }, RestartPolicy: { Condition: 'any', Delay: 0, MaxAttempts: 2 } } });
  await w.converge();
  for (let i = 0; i < 3; i++) {
    const live = await w.live(s.ID);
    if (live.length === 0) break;
    await w.setState(live[0]!.ID, 'failed');
    await w.converge();
    w.clock.advance(100);
  }
  const tasks = await w.tasks(s.ID);
  assert.equal(tasks.length, 3, 'the first task and two restarts');
  assert.equal((await w.live(s.ID)).length, 0);
});

test('drain moves replicated tasks to other nodes at once (no restart delay)', async () => {
  const w = new World();
  const n1 = await w.addNode('n1');
  const n2 = await w.addNode('n2');
  const s = await w.createService({ Name: 'web', Mode: { Replicated: { Replicas: 2 } } });
  await w.converge();
  await w.setNode(n1.ID, (n) => { n.Spec.Availability = 'drain'; });
  await w.converge();
  const live = await w.live(s.ID);
  assert.equal(live.length, 2);
  assert.ok(live.every((t) => t.NodeID === n2.ID && t.DesiredState === 'running' && t.Status.State === 'running'));
  const onDrained = (await w.tasks(s.ID)).filter((t) => t.NodeID === n1.ID);
  assert.ok(onDrained.every((t) => t.DesiredState === 'shutdown' && t.Status.State === 'shutdown'));
  // Back to active: nothing is rebalanced.
  await w.setNode(n1.ID, (n) => { n.Spec.Availability = 'active'; });
  await w.converge();
  assert.ok((await w.live(s.ID)).every((t) => t.NodeID === n2.ID));
});

test('a node that stops heartbeating is marked down and its tasks are rescheduled elsewhere', async () => {
  const w = new World();
  const n1 = await w.addNode('n1');
  const n2 = await w.addNode('n2');
  const n3 = await w.addNode('n3');
  const s = await w.createService({ Name: 'web', Mode: { Replicated: { Replicas: 3 } }, TaskTemplate: { ContainerSpec: { Image: 'x' }, RestartPolicy: { Delay: 1 * SECOND_NS } } });
  await w.converge();
  const lost = (await w.tasks(s.ID)).find((t) => t.NodeID === n1.ID)!;
  await w.stopHeartbeat(n1.ID);
  const down = new Set([n1.ID]);
  await w.converge(down);
  assert.equal((await w.objects.get<typeof n1>('nodes', n1.ID))!.Status.State, 'ready', 'within the grace');
  w.clock.advance(1_000);
  await w.converge(down);
  const node = (await w.objects.get<typeof n1>('nodes', n1.ID))!;
  assert.equal(node.Status.State, 'down');
  assert.equal(node.Status.Message, 'heartbeat failure');
  const old = (await w.objects.get<typeof lost>('tasks', lost.ID))!;
  assert.equal(old.DesiredState, 'shutdown');
  assert.equal(old.Status.State, 'running', 'the observed state of a task on a down node is left as it was');
  const replacement = (await w.live(s.ID)).find((t) => t.Slot === lost.Slot)!;
  assert.ok([n2.ID, n3.ID].includes(replacement.NodeID!));
  assert.equal(replacement.DesiredState, 'running', 'no restart delay and no wait for the task on the down node');
  assert.equal(replacement.Status.State, 'running', 'started in the same convergence');
  // The heartbeat comes back: ready again.
  await w.startHeartbeat(n1.ID);
  await w.converge();
  const back = (await w.objects.get<typeof n1>('nodes', n1.ID))!;
  assert.equal(back.Status.State, 'ready');
  assert.equal(back.Status.Message, undefined);
});

test('a down node: replacements start without the default 5 s restart delay; a failed task keeps it', async () => {
  const w = new World();
  const n1 = await w.addNode('n1');
  await w.addNode('n2');
  const s = await w.createService({ Name: 'web', Mode: { Replicated: { Replicas: 4 } } });
  await w.converge();
  const lost = (await w.tasks(s.ID)).filter((t) => t.NodeID === n1.ID);
  assert.equal(lost.length, 2);
  await w.stopHeartbeat(n1.ID);
  const down = new Set([n1.ID]);
  await w.converge(down);
  w.clock.advance(1_000);
  await w.converge(down);
  const live = await w.live(s.ID);
  assert.equal(live.length, 4);
  assert.ok(live.every((t) => t.NodeID !== n1.ID && t.DesiredState === 'running' && t.Status.State === 'running'), JSON.stringify(live.map((t) => [t.NodeID, t.DesiredState, t.Status.State])));
  assert.ok(lost.every((t) => live.some((r) => r.Slot === t.Slot)), 'each lost slot replaced');
  // A task that fails on a live node is still held for its delay.
  await w.setState(live[0]!.ID, 'failed', 'task: non-zero exit (1)');
  await w.converge(down);
  const held = (await w.tasks(s.ID)).find((t) => t.Slot === live[0]!.Slot && t.DesiredState === 'ready');
  assert.ok(held, 'the failed task\'s replacement is held at ready');
  w.clock.advance(5_000);
  await w.converge(down);
  assert.equal((await w.objects.get<typeof held>('tasks', held.ID))!.DesiredState, 'running');
});

test('the manager runs on its own: watches drive passes and timers release delayed restarts', async () => {
  const w = new World();
  await w.addNode('n1');
  await w.manager.start();
  try {
    const s = await w.createService({ Name: 'auto', Mode: { Replicated: { Replicas: 2 } } });
    const until = async (check: () => Promise<boolean>) => {
      for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 5));
      assert.ok(await check());
    };
    await until(async () => (await w.tasks(s.ID)).filter((t) => t.Status.State === 'assigned').length === 2);
    const [t] = await w.tasks(s.ID);
    await w.setState(t!.ID, 'failed');
    await until(async () => (await w.tasks(s.ID)).some((x) => x.DesiredState === 'ready'));
    w.clock.advance(5_000);
    await until(async () => (await w.tasks(s.ID)).filter((x) => x.DesiredState === 'running').length === 2);
  } finally {
    await w.manager.stop();
  }
});
