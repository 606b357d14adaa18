// The rolling updater through the manager's passes, with a fake clock: parallelism, stop-first and
// start-first, monitor then completed, failure → pause or automatic rollback, manual rollback, and a task
// that cannot be placed named in UpdateStatus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { World } from '../helpers/cluster-manager-world';
import type { Service, ServiceSpec, Task, UpdateConfig } from '../../src/wire/swarm';

const image = (t: Task) => t.Spec.ContainerSpec?.Image;

async function running(w: World, replicas: number, update?: Partial<UpdateConfig>, extra: Partial<ServiceSpec> = {}): Promise<Service> {
  for (let i = 1; i <= 3; i++) await w.addNode(`n${i}`);
  const s = await w.createService({
    Name: 'web', Mode: { Replicated: { Replicas: replicas } }, TaskTemplate: { ContainerSpec: { Image: 'app:1' }, RestartPolicy: { Condition: 'any', Delay: 0 } },
    ...(update ? { UpdateConfig: { Parallelism: 1, MaxFailureRatio: 0, ...update } } : {}), ...extra,
  });
  await w.converge();
  return s;
}

const toImage = (img: string) => (spec: ServiceSpec) => { spec.TaskTemplate.ContainerSpec!.Image = img; };

test('stop-first, parallelism 1: one slot at a time, then update completed after the monitor', async () => {
  const w = new World();
  const s = await running(w, 3);
  await w.updateService(s.ID, toImage('app:2'));
  await w.manager.settle();
  let svc = await w.service(s.ID);
  assert.equal(svc.UpdateStatus?.State, 'updating');
  assert.equal(svc.UpdateStatus?.Message, 'update in progress');
  assert.ok(svc.UpdateStatus?.StartedAt);
  let tasks = await w.tasks(s.ID);
  assert.equal(tasks.filter((t) => t.DesiredState === 'shutdown').length, 1, 'parallelism 1');
  const fresh = tasks.find((t) => image(t) === 'app:2')!;
  assert.equal(fresh.DesiredState, 'ready', 'stop-first: started once the old task has stopped');
  await w.converge();
  tasks = await w.live(s.ID);
  assert.deepEqual(tasks.map(image), ['app:2', 'app:2', 'app:2']);
  assert.ok(tasks.every((t) => t.Status.State === 'running'));
  assert.equal((await w.service(s.ID)).UpdateStatus?.State, 'updating', 'still monitoring');
  w.clock.advance(5_000);
  await w.converge();
  svc = await w.service(s.ID);
  assert.equal(svc.UpdateStatus?.State, 'completed');
  assert.equal(svc.UpdateStatus?.Message, 'update completed');
  assert.ok(svc.UpdateStatus?.CompletedAt);
  assert.equal((await w.tasks(s.ID)).length, 6, 'old tasks kept as history');
});

test('parallelism 2 replaces two slots at once; 0 replaces all', async () => {
  const w = new World();
  const s = await running(w, 4, { Parallelism: 2 });
  await w.updateService(s.ID, toImage('app:2'));
  await w.manager.settle();
  assert.equal((await w.tasks(s.ID)).filter((t) => t.DesiredState === 'shutdown').length, 2);
  const v = new World();
  const all = await running(v, 4, { Parallelism: 0 });
  await v.updateService(all.ID, toImage('app:2'));
  await v.manager.settle();
  assert.equal((await v.tasks(all.ID)).filter((t) => t.DesiredState === 'shutdown').length, 4);
});

test('start-first: the new task runs before the old one is shut down', async () => {
  const w = new World();
  const s = await running(w, 1, { Order: 'start-first' });
  const [old] = await w.tasks(s.ID);
  await w.updateService(s.ID, toImage('app:2'));
  await w.manager.settle();
  let tasks = await w.tasks(s.ID);
  assert.equal(tasks.length, 2);
  assert.ok(tasks.every((t) => t.DesiredState === 'running'), 'both wanted at once');
  await w.converge();
  tasks = await w.tasks(s.ID);
  assert.equal(tasks.find((t) => t.ID === old!.ID)!.DesiredState, 'shutdown');
  assert.equal(tasks.find((t) => t.ID !== old!.ID)!.Status.State, 'running');
});

test('a task that fails during the update pauses it, naming the task', async () => {
  const w = new World();
  const s = await running(w, 2);
  await w.updateService(s.ID, toImage('app:broken'));
  await w.manager.settle();
  const bad = (await w.tasks(s.ID)).find((t) => image(t) === 'app:broken')!;
  await w.setState(bad.ID, 'failed', 'task: non-zero exit (1)');
  await w.converge();
  const svc = await w.service(s.ID);
  assert.equal(svc.UpdateStatus?.State, 'paused');
  assert.equal(svc.UpdateStatus?.Message, `update paused due to failure or early termination of task ${bad.ID}`);
  assert.equal((await w.live(s.ID)).filter((t) => image(t) === 'app:1').length, 1, 'the other slot is left alone');
  w.clock.advance(60_000);
  await w.converge();
  assert.equal((await w.service(s.ID)).UpdateStatus?.State, 'paused', 'stays paused until the next update');
});

test('failure action rollback: Spec ← PreviousSpec, PreviousSpec dropped, then rollback completed', async () => {
  const w = new World();
  const s = await running(w, 2, { FailureAction: 'rollback' });
  await w.updateService(s.ID, toImage('app:broken'));
  await w.manager.settle();
  const bad = (await w.tasks(s.ID)).find((t) => image(t) === 'app:broken')!;
  await w.setState(bad.ID, 'failed');
  const beforeRollback = (await w.service(s.ID)).Version.Index;
  await w.manager.settle();
  let svc = await w.service(s.ID);
  assert.equal(svc.UpdateStatus?.State, 'rollback_started');
  assert.ok(((svc as { SpecBase?: number }).SpecBase ?? 0) >= beforeRollback, 'the automatic rollback is a spec change: clients that read before it are refused');
  assert.equal(svc.UpdateStatus?.Message, `update rolled back due to failure or early termination of task ${bad.ID}`);
  assert.equal(svc.Spec.TaskTemplate.ContainerSpec?.Image, 'app:1');
  assert.equal(svc.PreviousSpec, undefined);
  await w.converge();
  w.clock.advance(5_000);
  await w.converge();
  svc = await w.service(s.ID);
  assert.equal(svc.UpdateStatus?.State, 'rollback_completed');
  assert.equal(svc.UpdateStatus?.Message, 'rollback completed');
  assert.deepEqual((await w.live(s.ID)).map(image), ['app:1', 'app:1']);
});

test('manual rollback runs with RollbackConfig and ends rollback_completed', async () => {
  const w = new World();
  const s = await running(w, 2, undefined, { RollbackConfig: { Parallelism: 0, MaxFailureRatio: 0 } });
  await w.updateService(s.ID, toImage('app:2'));
  await w.converge();
  w.clock.advance(5_000);
  await w.converge();
  assert.equal((await w.service(s.ID)).UpdateStatus?.State, 'completed');
  await w.rollbackService(s.ID);
  await w.manager.settle();
  assert.equal((await w.tasks(s.ID)).filter((t) => t.DesiredState === 'shutdown' && image(t) === 'app:2').length, 2, 'parallelism 0 from RollbackConfig');
  assert.equal((await w.service(s.ID)).UpdateStatus?.Message, 'manually requested rollback');
  await w.converge();
  w.clock.advance(5_000);
  await w.converge();
  const svc = await w.service(s.ID);
  assert.equal(svc.UpdateStatus?.State, 'rollback_completed');
  assert.equal(svc.UpdateStatus?.Message, 'rollback completed');
  assert.equal(svc.PreviousSpec?.TaskTemplate.ContainerSpec?.Image, 'app:2', 'the specs swapped');
  assert.deepEqual((await w.live(s.ID)).map(image), ['app:1', 'app:1']);
});

test('a task of the update that cannot be placed is named in UpdateStatus.Message', async () => {
  const w = new World();
  const s = await running(w, 1);
  await w.updateService(s.ID, (spec) => { spec.TaskTemplate.Placement = { Constraints: ['node.labels.ssd==true'] }; });
  await w.converge();
  const pending = (await w.tasks(s.ID)).find((t) => t.Status.State === 'pending')!;
  assert.equal(pending.Status.Err, 'no suitable node (scheduling constraints not satisfied on 3 nodes)');
  const svc = await w.service(s.ID);
  assert.equal(svc.UpdateStatus?.State, 'updating');
  assert.equal(svc.UpdateStatus?.Message, `update in progress; task ${pending.ID} cannot be placed: no suitable node (scheduling constraints not satisfied on 3 nodes)`);
});

test('a placement change the nodes still satisfy is not an update', async () => {
  const w = new World();
  const s = await running(w, 2);
  const before = (await w.tasks(s.ID)).map((t) => t.ID).sort();
  await w.updateService(s.ID, (spec) => { spec.TaskTemplate.Placement = { Constraints: ['node.role==worker'] }; });
  await w.converge();
  assert.deepEqual((await w.tasks(s.ID)).map((t) => t.ID).sort(), before);
  assert.equal((await w.service(s.ID)).UpdateStatus, undefined);
});

test('a new task that stops within Monitor of running is a failure; after Monitor it is not', async () => {
  const w = new World();
  const s = await running(w, 1, { Monitor: 10 * 1e9 });
  await w.updateService(s.ID, toImage('app:2'));
  await w.converge();
  const fresh = (await w.live(s.ID))[0]!;
  assert.equal(fresh.Status.State, 'running');
  w.clock.advance(3_000);
  await w.setState(fresh.ID, 'failed');
  await w.converge();
  assert.equal((await w.service(s.ID)).UpdateStatus?.State, 'paused');

  const v = new World();
  const t = await running(v, 1, { Monitor: 2 * 1e9 });
  await v.updateService(t.ID, toImage('app:2'));
  await v.converge();
  v.clock.advance(2_000);
  await v.converge();
  assert.equal((await v.service(t.ID)).UpdateStatus?.State, 'completed');
  await v.setState((await v.live(t.ID))[0]!.ID, 'failed');
  await v.converge();
  assert.equal((await v.service(t.ID)).UpdateStatus?.State, 'completed');
});
