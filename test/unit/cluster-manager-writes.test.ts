// The manager's writes: independent writes go out together (bounded), all are waited for, the first failure is
// thrown after; a pass's task creations and assignments are no longer one round trip after the other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManagerWrites, WRITES_IN_FLIGHT } from '../../src/cluster/manager/writes';
import { ObjectsStore } from '../../src/cluster/store/objects-store';
import { FakeClusterStore } from '../fakes/cluster-store';
import { World } from '../helpers/cluster-manager-world';

test('each() keeps at most WRITES_IN_FLIGHT writes in flight, waits for all, then throws the first failure', async () => {
  const writes = new ManagerWrites(new ObjectsStore(new FakeClusterStore()), () => 0);
  let inFlight = 0;
  let most = 0;
  const done: number[] = [];
  const items = Array.from({ length: 40 }, (_, i) => i);
  await assert.rejects(writes.each(items, async (i) => {
    inFlight++;
    most = Math.max(most, inFlight);
    await new Promise((r) => setTimeout(r, 1 + (i % 3)));
    inFlight--;
    if (i === 5 || i === 7) throw new Error(`write ${i} failed`);
    done.push(i);
  }), /write [57] failed/);
  assert.equal(most, WRITES_IN_FLIGHT);
  assert.equal(done.length, 38, 'a failure does not stop the other writes');
  assert.equal(inFlight, 0, 'nothing left running');
  await writes.each([], async () => assert.fail('no items, no calls'));
});

test('a service of 30 replicas: created and placed over the nodes in one convergence', async () => {
  const w = new World();
  for (const n of ['n1', 'n2', 'n3']) await w.addNode(n);
  const s = await w.createService({ Name: 'many', Mode: { Replicated: { Replicas: 30 } } });
  await w.converge();
  const live = await w.live(s.ID);
  assert.equal(live.length, 30);
  assert.deepEqual([...new Set(live.map((t) => t.Slot))].sort((a, b) => a! - b!), Array.from({ length: 30 }, (_, i) => i + 1));
  const per = new Map<string, number>();
  for (const t of live) per.set(t.NodeID!, (per.get(t.NodeID!) ?? 0) + 1);
  assert.deepEqual([...per.values()], [10, 10, 10], 'spread evenly although the assignments went out together');
});
