// LinuxNetns against the kernel: a namespace file is live (nsfs, told by statfs) once made, discard unmounts it after
// the call returns and a create of the same ID waits for that, reserve leaves a file a namespace can be made on,
// remove and a second remove leave nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LinuxNetns } from '../../src/network/netns';

test('LinuxNetns: create, exists, discard, create again, remove', { skip: process.getuid?.() !== 0 && 'needs root' }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-netns-'));
  const ns = new LinuxNetns(path.join(dir, 'netns'));
  const id = 'a'.repeat(64);
  const errors: unknown[] = [];
  try {
    assert.equal(await ns.exists(id), false, 'no file yet');
    const file = await ns.create(id);
    assert.equal(file, ns.pathOf(id));
    assert.equal(await ns.exists(id), true);
    assert.equal((await fs.promises.statfs(file)).type, 0x6e736673, 'nsfs mounted on the file');

    ns.discard(id, (e) => errors.push(e));
    // A start again right away: waits for the unmount, then gets a fresh namespace.
    await ns.create(id);
    assert.equal(await ns.exists(id), true);
    assert.deepEqual(await ns.list(), [id]);

    ns.discard(id, (e) => errors.push(e));
    assert.equal(await ns.exists(id), false, 'exists waits for the discard');
    assert.deepEqual(await ns.list(), []);

    // reserve: the file only (replacing a live one), which whoever configures the namespace first makes it on.
    await ns.create(id);
    assert.equal(await ns.reserve(id), file);
    assert.equal(await ns.exists(id), false, 'reserved, not a namespace');
    assert.equal(fs.statSync(file).size, 0);
    assert.deepEqual(await ns.list(), [id]);
    assert.equal(spawnSync('unshare', [`--net=${file}`, 'true']).status, 0);
    assert.equal(await ns.exists(id), true, 'made on the reserved file');
    ns.discard(id, (e) => errors.push(e));
    assert.equal(await ns.exists(id), false);
    assert.deepEqual(await ns.list(), []);
    await ns.remove(id);
    assert.deepEqual(errors, []);
    assert.ok(!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(dir), 'no mount left');
  } finally {
    await ns.remove(id).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
