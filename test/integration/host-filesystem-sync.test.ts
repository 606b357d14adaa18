// Real test of src/host/filesystem-sync.ts: syncfs(2) through coreutils' sync and fdatasync(2) of named files, on a real filesystem.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { HostFilesystemSync } from '../../src/host/filesystem-sync';
import { SystemError } from '../../src/errdefs';

test('syncs the filesystem holding a path; a path that does not exist is an error naming it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-syncfs-it-'));
  try {
    fs.writeFileSync(path.join(dir, 'f'), Buffer.alloc(1 << 20, 1));
    const sync = new HostFilesystemSync();
    await sync.syncFilesystem(dir);
    const missing = path.join(dir, 'absent');
    await assert.rejects(sync.syncFilesystem(missing), (e: unknown) => e instanceof SystemError && e.message.includes(missing));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A small ext4 of its own on a loop device: its block device's write count shows what a flush sent to the disk. */
function withLoopFilesystem(run: (dir: string, writtenSectors: () => number) => Promise<void>): Promise<void> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-syncfiles-it-'));
  const image = path.join(base, 'fs.img');
  const dir = path.join(base, 'mnt');
  fs.mkdirSync(dir);
  fs.writeFileSync(image, '');
  fs.truncateSync(image, 64 << 20);
  execFileSync('mkfs.ext4', ['-q', image]);
  execFileSync('mount', ['-o', 'loop', image, dir]);
  const device = path.basename(execFileSync('findmnt', ['-n', '-o', 'SOURCE', dir], { encoding: 'utf8' }).trim());
  // Field 7 of /sys/block/DEV/stat: sectors written.
  const writtenSectors = () => Number(fs.readFileSync(`/sys/block/${device}/stat`, 'utf8').trim().split(/\s+/)[6]);
  return run(dir, writtenSectors).finally(() => {
    execFileSync('umount', [dir]);
    fs.rmSync(base, { recursive: true, force: true });
  });
}

test('flushes the named files only: their dirty pages reach the disk, a file beside them stays in the page cache', async () => {
  await withLoopFilesystem(async (dir, writtenSectors) => {
    const named = path.join(dir, 'named');
    const beside = path.join(dir, 'beside');
    fs.writeFileSync(named, Buffer.alloc(8 << 20, 1));
    fs.writeFileSync(beside, Buffer.alloc(8 << 20, 2));
    const before = writtenSectors();
    await new HostFilesystemSync().syncFiles([named, path.join(dir, 'gone')]);
    const sent = (writtenSectors() - before) * 512;
    assert.ok(sent >= 8 << 20, `the named file's 8 MiB were not written: ${sent} bytes`);
    assert.ok(sent < 12 << 20, `more than the named file was written (the file beside it too?): ${sent} bytes`);
    await assert.rejects(new HostFilesystemSync().syncFiles([path.join(named, 'below-a-file')]), (e: unknown) => e instanceof SystemError && e.message.includes('below-a-file'));
  });
});
