// Real test of src/host/filesystem-sync.ts: syncfs(2) through coreutils' sync on a real filesystem.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
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
