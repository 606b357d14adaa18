// Real test of src/host/cgroups.ts: stats, freeze, pids and OOM of crun containers with linux.cgroupsPath /berth/<id>.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { createCgroupDriver, readCgroupLayout } from '../../src/host/cgroups';
import { crunSkip, prepareHostForCrun, runContainer } from '../helpers/crun-container';
import { NotFoundError } from '../../src/errdefs';

const skip = crunSkip;
const MiB = 1024 * 1024;

test.before(async () => {
  if (!skip) await prepareHostForCrun();
});

test('stats, pids, freeze and thaw of a running container with limits', { skip }, async (t) => {
  const c = runContainer(t, ['sleep', '60'], { memory: { limit: 64 * MiB }, pids: { limit: 64 } });
  const layout = await readCgroupLayout();
  const driver = await createCgroupDriver();

  // Where crun's cgroupfs manager put it: per controller on v1/hybrid, one directory on v2.
  const dirs = layout.mode === 'v2'
    ? [path.join(layout.v2Mount!, c.cgroupsPath)]
    : ['memory', 'pids', 'cpuacct', 'freezer'].map((ctl) => path.join(layout.v1.get(ctl)!.mountPoint, c.cgroupsPath));
  for (const d of dirs) assert.ok(fs.existsSync(d), `${d} exists`);

  const s = await driver.stats(c.cgroupsPath);
  assert.equal(s.memory!.limit, 64 * MiB);
  assert.ok(s.memory!.usage > 0);
  assert.equal(typeof s.memory!.cache, 'number');
  assert.deepEqual(s.pids, { current: 1, limit: 64 });
  assert.ok(s.cpu!.usageNanos > 0);
  assert.equal(typeof s.blkio!.readBytes, 'number');
  assert.deepEqual(Object.keys(await driver.stats(c.cgroupsPath, ['memory'])), ['memory']);

  const pid = c.state().pid;
  assert.deepEqual(await driver.pids(c.cgroupsPath), [pid]);
  assert.equal(await driver.oomKilled(c.cgroupsPath), false);

  await driver.freeze(c.cgroupsPath);
  const state = () => (layout.mode === 'v2'
    ? fs.readFileSync(path.join(layout.v2Mount!, c.cgroupsPath, 'cgroup.freeze'), 'utf8').trim() === '1'
    : fs.readFileSync(path.join(layout.v1.get('freezer')!.mountPoint, c.cgroupsPath, 'freezer.state'), 'utf8').trim() === 'FROZEN');
  assert.equal(state(), true);
  assert.equal(c.state().status, 'paused');
  await driver.thaw(c.cgroupsPath);
  assert.equal(state(), false);
  assert.equal(c.state().status, 'running');

  execFileSync('crun', ['delete', '-f', c.id]);
  await assert.rejects(driver.stats(c.cgroupsPath), NotFoundError);
  await assert.rejects(driver.oomKilled(c.cgroupsPath), NotFoundError);
});

test('oomKilled after the kernel OOM-kills the container process', { skip }, async (t) => {
  // The string doubles until the 16 MiB limit (swap included) is hit.
  const c = runContainer(t, ['sh', '-c', 'a=0123456789abcdef; while true; do a=$a$a; done'],
    { memory: { limit: 16 * MiB, swap: 16 * MiB } });
  const driver = await createCgroupDriver();
  const deadline = Date.now() + 20000;
  while (c.state().status !== 'stopped') {
    assert.ok(Date.now() < deadline, 'container did not stop');
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(await driver.oomKilled(c.cgroupsPath), true);
});
