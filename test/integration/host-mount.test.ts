// Real test of src/host/mount.ts against the kernel: overlay mounts (short relative options, and bare link numbers).
import test, { type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LinuxMounter } from '../../src/host/mount';
import { NotFoundError } from '../../src/errdefs';

const root = process.getuid && process.getuid() === 0;
const mounter = new LinuxMounter();

/** A temp dir whose mounts are undone and which is removed after the test, even when it fails. */
function scratch(t: TestContext) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-mount-it-'));
  t.after(async () => {
    for (const m of (await mounter.mounts()).reverse()) {
      if (m.mountPoint.startsWith(dir + '/')) await mounter.umount(m.mountPoint, { lazy: true }).catch(() => {});
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

function layers(dir: string, count: number) {
  const lower: string[] = [];
  for (let i = 0; i < count; i++) {
    // 64-hex names, like layer chain ids, make the option string long.
    const d = path.join(dir, 'layers', i.toString(16).padStart(64, '0'), 'diff');
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, `layer-${i}`), String(i));
    fs.writeFileSync(path.join(d, 'which'), String(i));
    lower.push(d);
  }
  for (const s of ['upper', 'work', 'merged']) fs.mkdirSync(path.join(dir, 'layers', 'ctr', s), { recursive: true });
  // overlayfs wants the top-most layer first.
  return { lower: lower.reverse(), upper: path.join(dir, 'layers/ctr/upper'), work: path.join(dir, 'layers/ctr/work'), merged: path.join(dir, 'layers/ctr/merged') };
}

for (const [what, count, short] of [['two layers', 2, true], ['120 layers', 120, true], ['400 layers (bare link numbers)', 400, false]] as const) {
  test(`overlay mount and unmount: ${what}`, { skip: !root && 'needs root' }, async (t) => {
    const dir = scratch(t);
    const l = layers(dir, count);
    await mounter.mountOverlay(l.lower, l.upper, l.work, l.merged);
    assert.equal(await mounter.isMountPoint(l.merged), true);
    assert.equal(await mounter.hasOwnFilesystem(l.merged), true, 'an overlay is a device of its own');
    const m = (await mounter.mounts()).find((x) => x.mountPoint === l.merged);
    assert.ok(m);
    assert.equal(m.fsType, 'overlay');
    assert.ok(m.superOptions.some((o) => o.startsWith('lowerdir=')));
    // The kernel shows the data as given: short relative paths, whatever the layers' own paths.
    assert.equal(m.superOptions.includes('upperdir=upper'), short, m.superOptions.join(','));
    // Every layer is visible, and the top-most wins.
    assert.equal(fs.readdirSync(l.merged).filter((n) => n.startsWith('layer-')).length, count);
    assert.equal(fs.readFileSync(path.join(l.merged, 'which'), 'utf8'), String(count - 1));
    fs.writeFileSync(path.join(l.merged, 'new'), 'x');
    assert.equal(fs.readFileSync(path.join(l.upper, 'new'), 'utf8'), 'x');
    // No link directory is left behind.
    assert.deepEqual(fs.readdirSync(path.dirname(l.upper)).filter((n) => n.startsWith('.lower-')), []);

    await mounter.umount(l.merged);
    assert.equal(await mounter.isMountPoint(l.merged), false);
    assert.equal(await mounter.hasOwnFilesystem(l.merged), false);
    await assert.rejects(mounter.umount(l.merged), NotFoundError);
  });
}

test('mount, isMountPoint and lazy umount of a tmpfs', { skip: !root && 'needs root' }, async (t) => {
  const dir = scratch(t);
  const target = path.join(dir, 'tmp');
  fs.mkdirSync(target);
  assert.equal(await mounter.isMountPoint(target), false);
  assert.equal(await mounter.hasOwnFilesystem(target), false);
  await mounter.mount('tmpfs', 'tmpfs', target, ['size=1m', 'mode=0700']);
  assert.equal(await mounter.isMountPoint(target), true);
  assert.equal(await mounter.hasOwnFilesystem(target), true, 'a filesystem of its own: another device than its parent');
  assert.equal(fs.statSync(target).mode & 0o777, 0o700);
  const busy = fs.openSync(path.join(target, 'f'), 'w');
  try {
    await mounter.umount(target, { lazy: true });
  } finally {
    fs.closeSync(busy);
  }
  assert.equal(await mounter.isMountPoint(target), false);
  assert.equal(await mounter.isMountPoint(path.join(dir, 'nonexistent')), false);
  assert.equal(await mounter.hasOwnFilesystem(target), false);
  assert.equal(await mounter.hasOwnFilesystem(path.join(dir, 'nonexistent')), false);
  await assert.rejects(mounter.mount('nosuchfs', 'none', target), /mount nosuchfs on .* failed/);
});
