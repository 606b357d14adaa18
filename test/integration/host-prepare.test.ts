// Real test of src/host/prepare.ts on this host: it is idempotent and leaves a cgroup layout crun accepts.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { prepareHost } from '../../src/host/prepare';
import { readCgroupLayout } from '../../src/host/cgroups';
import { LinuxMounter } from '../../src/host/mount';

test('prepareHost twice: the second run changes nothing and is fast', { skip: process.getuid!() !== 0 && 'needs root' }, async (t) => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-prep-it-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const opts = { dataRoot: path.join(tmp, 'lib/berth'), runRoot: path.join(tmp, 'run/berth') };

  const first = await prepareHost(opts);
  assert.ok(['v1', 'v2', 'hybrid'].includes(first.cgroupMode));
  assert.deepEqual(first.directories, [opts.runRoot, opts.dataRoot]);
  assert.equal(fs.statSync(opts.runRoot).mode & 0o7777, 0o700);
  assert.equal(fs.statSync(opts.dataRoot).mode & 0o7777, 0o711);
  assert.equal(first.ipForward, 'skipped');
  assert.ok(['present', 'loaded'].includes(first.overlay));

  const started = process.hrtime.bigint();
  const second = await prepareHost(opts);
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  assert.deepEqual(second.actions, []);
  assert.deepEqual(second.mountedControllers, []);
  assert.equal(second.cgroupMode, first.cgroupMode);
  assert.ok(ms < 200, `second run took ${ms} ms`);

  // What crun 1.8 needs: on a hybrid host, no controller left on cgroup2, each on its own v1 hierarchy.
  const layout = await readCgroupLayout();
  assert.equal(layout.mode, first.cgroupMode);
  if (layout.mode === 'hybrid') {
    assert.deepEqual(layout.v2Controllers, []);
    assert.deepEqual(second.v2Controllers, []);
    const mounter = new LinuxMounter();
    for (const c of first.mountedControllers) assert.equal(await mounter.isMountPoint(path.join(layout.root, c)), true);
  }
});
