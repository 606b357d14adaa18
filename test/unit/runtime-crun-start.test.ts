// releaseCreatedInit against real fifos (mkfifo(1)) and a reader standing in for crun's waiting init; the whole
// path under crun is run by every container test (each start goes through it).
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { releaseCreatedInit } from '../../src/runtime/crun-start';
import { tempDir } from '../helpers/tmp';

test('a waiting reader gets one NUL byte and the fifo is gone, as after crun start', async () => {
  const dir = tempDir('crun-start');
  const fifo = path.join(dir, 'exec.fifo');
  execFileSync('mkfifo', ['-m', '600', fifo]);
  // The init's side: blocked reading the fifo, then reports what it read.
  const init = spawn('od', ['-An', '-tx1', fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
  let read = '';
  init.stdout.on('data', (b) => { read += b; });
  const ended = new Promise((r) => init.once('exit', r));
  let released = false;
  for (let i = 0; i < 50 && !released; i++) {
    released = await releaseCreatedInit(dir);
    if (!released) await new Promise((r) => setTimeout(r, 20)); // until od has opened its end
  }
  assert.equal(released, true);
  await ended;
  assert.equal(read.trim(), '00');
  assert.equal(fs.existsSync(fifo), false);
});

test('no fifo, nobody reading it, or not a fifo: false, and the file is left as it was', async () => {
  const dir = tempDir('crun-start-none');
  assert.equal(await releaseCreatedInit(dir), false);
  execFileSync('mkfifo', [path.join(dir, 'exec.fifo')]);
  assert.equal(await releaseCreatedInit(dir), false, 'no reader: the init is gone');
  assert.equal(fs.existsSync(path.join(dir, 'exec.fifo')), true);
  const other = tempDir('crun-start-file');
  fs.writeFileSync(path.join(other, 'exec.fifo'), '');
  assert.equal(await releaseCreatedInit(other), false);
  assert.equal(fs.existsSync(path.join(other, 'exec.fifo')), true);
});
