// Real test of src/host/memory-filesystem.ts: a tmpfs mounted here is a memory filesystem, a directory not yet made
// under it too (its parent is asked), and the data disk's directories are not.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { onMemoryFilesystem } from '../../src/host/memory-filesystem';

const TMPFS_MAGIC = 0x01021994;

test('onMemoryFilesystem: tmpfs yes, a missing directory as its parent, a disk no', { skip: process.getuid?.() !== 0 && 'needs root' }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-memfs-'));
  const mnt = path.join(dir, 'mnt');
  fs.mkdirSync(mnt);
  try {
    // Before the mount the directory is on whatever holds the temp dir (the cache is per directory: asked once).
    const diskDir = path.join(dir, 'disk');
    fs.mkdirSync(diskDir);
    assert.equal(onMemoryFilesystem(diskDir), fs.statfsSync(dir).type === TMPFS_MAGIC);
    assert.equal(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]).status, 0, 'mount a tmpfs');
    assert.equal(onMemoryFilesystem(mnt), true);
    assert.equal(onMemoryFilesystem(path.join(mnt, 'not', 'made', 'yet')), true, 'a missing directory is asked through its parent');
    assert.equal(onMemoryFilesystem('/proc/self'), false, 'procfs is not where berthd writes');
  } finally {
    spawnSync('umount', ['-l', mnt]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
