// The cgroup migration lock warmer on this host: on a v1 or hybrid host without favordynmods it writes this
// process's pid into the cgroup.procs of the cgroup it is in, which moves nothing; BERTH_CGROUP_WARM=0 turns it off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createCgroupLockWarmer } from '../../src/host/cgroup-lock-warmer';
import { readCgroupLayout } from '../../src/host/cgroups';

const mountsFavorDynmods = () => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => /\s-\scgroup2?\s/.test(l) && /[ ,]favordynmods(,|$)/.test(l));

test('warming writes our own pid where it already is: the cgroups stay as they were', async (t) => {
  const layout = await readCgroupLayout();
  const logs: string[] = [];
  const warmer = await createCgroupLockWarmer({ env: {}, log: (m) => logs.push(m) });
  if (layout.mode === 'v2' || mountsFavorDynmods()) {
    assert.equal(warmer, undefined, 'nothing to warm on a v2 host or with favordynmods');
    t.skip(`cgroup ${layout.mode}${mountsFavorDynmods() ? ' with favordynmods' : ''}: the runtime waits for no grace period here`);
    return;
  }
  assert.ok(warmer, 'a warmer on a v1 or hybrid host');
  const before = fs.readFileSync('/proc/self/cgroup', 'utf8');
  warmer.warm();
  const release = warmer.hold();
  await new Promise((resolve) => setTimeout(resolve, 100));
  release();
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.ok(warmer.writes >= 2, `the kernel took the writes (${warmer.writes})`);
  assert.deepEqual(logs, [], 'no write failed');
  assert.equal(fs.readFileSync('/proc/self/cgroup', 'utf8'), before, 'not moved in any hierarchy');
  const stopped = warmer.writes;
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(warmer.writes, stopped, 'no writes once the hold is released and the warm period over');

  assert.equal(await createCgroupLockWarmer({ env: { BERTH_CGROUP_WARM: '0' }, log: () => undefined }), undefined);
});
