// Real test of src/runtime/runtime-binary-view.ts: a read-only bind mount of crun that crun runs from without re-executing a copy.
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync, spawn } from 'node:child_process';
import { LinuxMounter } from '../../src/host/mount';
import { RuntimeBinaryViews } from '../../src/runtime/runtime-binary-view';

const CRUN = '/usr/bin/crun';
const skip = process.getuid!() !== 0 ? 'needs root' : !fs.existsSync(CRUN) ? 'needs crun' : false;
const mounter = new LinuxMounter();

function scratch(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-runtime-view-it-'));
  t.after(async () => {
    for (const m of (await mounter.mounts()).reverse()) {
      if (m.mountPoint.startsWith(dir + '/')) await mounter.umount(m.mountPoint, { lazy: true }).catch(() => undefined);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/**
 * The file a running `crun create` executes, read from /proc/<pid>/exe while it waits to open its bundle's
 * config.json (a FIFO nobody writes): a crun that re-executed a private copy of itself shows that copy, not `binary`.
 */
async function executedFile(binary: string, dir: string): Promise<string> {
  const bundle = fs.mkdtempSync(path.join(dir, 'bundle-'));
  execFileSync('mkfifo', [path.join(bundle, 'config.json')]);
  const child = spawn(binary, [`--root=${path.join(dir, 'state')}`, 'create', '--bundle', bundle, 'view-probe'], { stdio: 'ignore' });
  try {
    // The FIFO opens for writing without blocking only once crun holds it open for reading: by then it has re-executed, if it does.
    // The writer stays open while /proc is read: closed, it would give crun end of file, and crun could exit first.
    let writer: number | undefined;
    for (let i = 0; writer === undefined; i++) {
      try {
        writer = fs.openSync(path.join(bundle, 'config.json'), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENXIO' || i > 500) throw e;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    try {
      return fs.readlinkSync(`/proc/${child.pid}/exe`);
    } finally {
      fs.closeSync(writer);
    }
  } finally {
    child.kill('SIGKILL');
  }
}

test('crun runs from its read-only view without re-executing a copy of itself; the view cannot be written', { skip }, async (t) => {
  const dir = scratch(t);
  const views = new RuntimeBinaryViews(path.join(dir, 'runtime-bin'), mounter);
  const errors: string[] = [];
  const { crun: view } = await views.prepare({ crun: CRUN }, { error: (m) => { errors.push(m); } });
  assert.deepEqual(errors, []);
  assert.equal(view, path.join(dir, 'runtime-bin', 'crun', 'crun'));
  assert.equal(execFileSync(view!, ['--version'], { encoding: 'utf8' }), execFileSync(CRUN, ['--version'], { encoding: 'utf8' }));
  assert.throws(() => fs.openSync(view!, 'r+'), { code: 'EROFS' });

  // The same probe shows that crun from its own path does re-execute (else this test could not fail).
  assert.notEqual(await executedFile(CRUN, dir), CRUN);
  assert.equal(await executedFile(view!, dir), view);

  await views.release();
  assert.equal((await mounter.mounts()).some((m) => m.mountPoint === view), false);
});

test('a view a killed daemon left is reused, not stacked', { skip }, async (t) => {
  const dir = scratch(t);
  const first = new RuntimeBinaryViews(path.join(dir, 'runtime-bin'), mounter);
  const log = { error: (m: string) => assert.fail(m) };
  const { crun: view } = await first.prepare({ crun: CRUN }, log);
  const second = new RuntimeBinaryViews(path.join(dir, 'runtime-bin'), mounter);
  assert.equal((await second.prepare({ crun: CRUN }, log)).crun, view);
  assert.equal((await mounter.mounts()).filter((m) => m.mountPoint === view).length, 1);
});
