// The cgroup migration lock warmer's timing and lookups, on a fake clock and writer: writes while a create's hold
// period lasts or a start holds, none after; a failed write ends it; the cgroup.procs file is the one berthd is in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BurstWarmer, ownCgroupProcsFile, warmingHelps, type WarmerClock } from '../../src/host/cgroup-lock-warmer';
import type { CgroupLayout } from '../../src/host/cgroups';

/** Time moves only when the warmer sleeps; each sleep ends on a later turn of the event loop. */
function fakeClock(): WarmerClock & { t: number } {
  const c = { t: 0, now: () => c.t, sleep: (ms: number) => new Promise<void>((resolve) => setImmediate(() => { c.t += ms; resolve(); })) };
  return c;
}
/** Lets a warm() burst run to its end (a held one runs 50 sleeps further). */
const settle = async (turns = 50) => { for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve)); };

test('a warm() writes every few ms for its hold period; a hold() keeps writing until released', async () => {
  const clock = fakeClock();
  let writes = 0;
  const w = new BurstWarmer(async () => { writes++; }, () => assert.fail('no error expected'), clock, 40, 4);
  w.warm();
  await settle();
  assert.equal(writes, 10, 'at 0, 4, ... 36 ms');
  assert.equal(w.writes, 10);

  const release = w.hold();
  await settle();
  assert.ok(writes > 40, `still writing while held (${writes})`);
  release();
  release(); // a second call changes nothing
  await settle();
  const after = writes;
  await settle();
  assert.equal(writes, after, 'stopped once released');

  // Two holds at once: writing goes on until both are released; a warm() during them extends past their release.
  const a = w.hold();
  const b = w.hold();
  a();
  await settle(5);
  const midway = writes;
  assert.ok(midway > after);
  w.warm();
  b();
  const t0 = clock.t;
  await settle();
  assert.ok(clock.t >= t0 + 36 && clock.t <= t0 + 44, `ended about 40 ms after the warm (${clock.t - t0})`);
});

test('a failed write ends the warming for good, reported once', async () => {
  const clock = fakeClock();
  const errors: unknown[] = [];
  let writes = 0;
  const w = new BurstWarmer(async () => { writes++; throw new Error('EACCES'); }, (e) => errors.push(e), clock, 40, 4);
  w.warm();
  await settle();
  w.warm();
  const release = w.hold();
  await settle();
  release();
  assert.equal(writes, 1);
  assert.equal(errors.length, 1);
});

const layout = (mode: CgroupLayout['mode'], v1: [string, string, string][]): CgroupLayout => ({
  mode, root: '/sys/fs/cgroup', v2Controllers: [], v1: new Map(v1.map(([c, mountPoint, root]) => [c, { mountPoint, root }])),
});

test('the cgroup.procs file of the cgroup berthd is in: pids first, mount roots taken into account', () => {
  const hybrid = layout('hybrid', [['pids', '/sys/fs/cgroup/pids', '/'], ['memory', '/sys/fs/cgroup/memory', '/'], ['name=systemd', '/sys/fs/cgroup/systemd', '/']]);
  const self = '10:hugetlb:/\n9:name=systemd:/system.slice/berthd.service\n8:pids:/system.slice/berthd.service\n4:memory:/x\n0::/system.slice/berthd.service\n';
  assert.equal(ownCgroupProcsFile(hybrid, self), '/sys/fs/cgroup/pids/system.slice/berthd.service/cgroup.procs');
  // No pids hierarchy: another v1 controller's (never a named one such as name=systemd).
  const noPids = layout('v1', [['memory', '/sys/fs/cgroup/memory', '/'], ['name=systemd', '/sys/fs/cgroup/systemd', '/']]);
  assert.equal(ownCgroupProcsFile(noPids, self), '/sys/fs/cgroup/memory/x/cgroup.procs');
  // A hierarchy mounted from below its root (inside a container): the path is taken relative to that root.
  const nested = layout('hybrid', [['pids', '/sys/fs/cgroup/pids', '/docker/abc']]);
  assert.equal(ownCgroupProcsFile(nested, '8:pids:/docker/abc/inner\n'), '/sys/fs/cgroup/pids/inner/cgroup.procs');
  assert.equal(ownCgroupProcsFile(nested, '8:pids:/elsewhere\n'), undefined, 'outside the mounted part');
  assert.equal(ownCgroupProcsFile(layout('v2', []), '0::/user.slice\n'), undefined);
});

test('warming is for v1 and hybrid hosts without favordynmods', () => {
  assert.equal(warmingHelps(layout('hybrid', []), false), true);
  assert.equal(warmingHelps(layout('v1', []), false), true);
  assert.equal(warmingHelps(layout('hybrid', []), true), false);
  assert.equal(warmingHelps(layout('v2', []), false), false);
});
