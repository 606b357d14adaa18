// The node's role reconciling (docker node promote/demote of this node): a request written while a change runs is
// acted on after it, changes never overlap, a failed change that left the node as it was is tried again, an
// unreadable store is read again, and a node that left stops reconciling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RoleReconciler, type NodeRole, type RoleChangeOutcome } from '../../src/cluster/node/role-reconciler';

/** A node whose Node object says `stored`, running as `running`; each change waits for the test to let it finish. */
function node(initial: NodeRole) {
  const n = {
    stored: initial as NodeRole,
    running: initial,
    live: true,
    readFailures: 0,
    changes: [] as NodeRole[],
    overlapping: 0,
    outcomes: [] as RoleChangeOutcome[],
    finish: [] as (() => void)[],
    inChange: 0,
  };
  const reconciler = new RoleReconciler({
    desired: async () => {
      if (n.readFailures > 0) { n.readFailures--; throw new Error('store unavailable'); }
      return n.stored;
    },
    running: () => n.running,
    live: () => n.live,
    change: async (role) => {
      n.changes.push(role);
      if (++n.inChange > 1) n.overlapping++;
      await new Promise<void>((r) => n.finish.push(r));
      n.inChange--;
      const outcome = n.outcomes.shift() ?? 'done';
      if (outcome === 'done') n.running = role;
      return outcome;
    },
  }, 0, async () => undefined);
  return { n, reconciler };
}

const tick = () => new Promise((r) => setImmediate(r));

async function finishChanges(n: ReturnType<typeof node>['n'], reconciler: RoleReconciler): Promise<void> {
  for (let i = 0; i < 50; i++) {
    await tick();
    n.finish.shift()?.();
  }
  await reconciler.idle();
}

test('a demotion written while the promotion still runs is acted on once it is done', async () => {
  const { n, reconciler } = node('worker');
  n.stored = 'manager';
  reconciler.poke();
  await tick();
  assert.deepEqual(n.changes, ['manager']);
  // The demotion arrives (its watch event, or none at all: it may come before the new watch starts).
  n.stored = 'worker';
  reconciler.poke();
  await finishChanges(n, reconciler);
  assert.deepEqual(n.changes, ['manager', 'worker']);
  assert.equal(n.running, 'worker');
  assert.equal(n.overlapping, 0);
});

test('with no event at all, the check after a change sees a role written meanwhile', async () => {
  const { n, reconciler } = node('worker');
  n.stored = 'manager';
  reconciler.poke();
  await tick();
  n.stored = 'worker';
  await finishChanges(n, reconciler);
  assert.deepEqual(n.changes, ['manager', 'worker']);
  assert.equal(n.running, 'worker');
});

test('nothing to do when the roles agree; pokes during a change do not start a second one', async () => {
  const { n, reconciler } = node('manager');
  reconciler.poke();
  await reconciler.idle();
  assert.deepEqual(n.changes, []);
  n.stored = 'worker';
  for (let i = 0; i < 5; i++) reconciler.poke();
  await finishChanges(n, reconciler);
  assert.deepEqual(n.changes, ['worker']);
  assert.equal(n.overlapping, 0);
});

test('a change that failed and left the node as it was is tried again; one that left it down is not', async () => {
  const { n, reconciler } = node('worker');
  n.stored = 'manager';
  n.outcomes.push('retry', 'retry');
  reconciler.poke();
  await finishChanges(n, reconciler);
  assert.deepEqual(n.changes, ['manager', 'manager', 'manager']);
  assert.equal(n.running, 'manager');

  const down = node('manager');
  down.n.stored = 'worker';
  down.n.outcomes.push('failed');
  down.reconciler.poke();
  await finishChanges(down.n, down.reconciler);
  assert.deepEqual(down.n.changes, ['worker']);
  assert.equal(down.n.running, 'manager');
});

test('an unreadable store is read again; a node that left stops reconciling', async () => {
  const { n, reconciler } = node('worker');
  n.stored = 'manager';
  n.readFailures = 2;
  reconciler.poke();
  await finishChanges(n, reconciler);
  assert.deepEqual(n.changes, ['manager']);

  const gone = node('worker');
  gone.n.stored = 'manager';
  gone.n.live = false;
  gone.reconciler.poke();
  await gone.reconciler.idle();
  assert.deepEqual(gone.n.changes, []);
});
