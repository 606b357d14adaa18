// berthd killed with SIGKILL in the middle of import, load, commit and rmi restarts onto a consistent store:
// only complete images listed, each one's layers and blobs present, no temporary files, no leaked mounts,
// nothing orphaned, and the operation succeeds when repeated. Kills land at every durable step (failpoints,
// BERTH_FAILPOINTS) and after varying delays while a large input streams in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { spawn } from 'node:child_process';
import { TestDaemon, DOCKER, type RunResult } from '../helpers/daemon';
import { makeTar, type TarEntry } from '../unit/image-helpers';
import type { ImageInspect } from '../helpers/api-types';

const d = new TestDaemon('crash');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-crash-work-'));
const bigTarFile = path.join(work, 'big.tar');
const archiveFile = path.join(work, 'ld.tar');

before(async () => {
  await d.startWithBusybox();
  // A 12 MiB rootfs with many small files too: slow enough to be killed mid-stream, mid-unpack.
  const entries: TarEntry[] = [{ name: 'data/', type: 'directory', mode: 0o755 }, { name: 'data/big', data: crypto.randomBytes(12 << 20) }];
  for (let i = 0; i < 300; i++) entries.push({ name: `data/f${i}`, data: `file ${i}\n` });
  fs.writeFileSync(bigTarFile, await makeTar(entries, { mtime: new Date(1_700_000_000_000) }));
  // A stopped container with changes (a few MiB) to commit, and a two-layer image to save and load.
  d.dockerOk(['run', '--name', 'src', 'busybox', 'sh', '-c', 'head -c 4000000 /dev/urandom > /payload; for i in $(seq 1 200); do echo $i > /f$i; done; rm /bin/ls']);
  d.dockerOk(['commit', 'src', 'ld:1']);
  d.dockerOk(['save', '-o', archiveFile, 'ld:1']);
  d.dockerOk(['rmi', 'ld:1']);
});

after(async () => {
  delete process.env.BERTH_FAILPOINTS;
  if (!alive()) await d.start().catch(() => undefined);
  await d.cleanup();
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(path.join(os.tmpdir(), `berth-busybox-${process.pid}.tar`), { force: true });
});

/** The docker CLI without blocking the event loop (the daemon's exit must be observable meanwhile). */
function dockerAsync(args: string[], inputFile?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(DOCKER, args, { env: d.env, stdio: [inputFile ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c) => { stdout += c; });
    child.stderr!.on('data', (c) => { stderr += c; });
    if (inputFile) {
      child.stdin!.on('error', () => undefined);
      fs.createReadStream(inputFile).pipe(child.stdin!);
    }
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const alive = () => d.proc && d.proc.exitCode === null && !d.proc.signalCode;
const daemonExited = () => new Promise<void>((resolve) => {
  const proc = d.proc;
  if (!proc || !alive()) return resolve();
  // The harness unrefs the child: hold the event loop until its exit is seen.
  proc.ref();
  proc.once('exit', () => { proc.unref(); resolve(); });
});
/** SIGKILL unless already dead (the harness's kill9 does not expect a daemon that died of a signal). */
async function kill9() {
  if (alive()) await d.kill9();
}

/** Restarts berthd with the failpoint armed (or disarmed with `null`). */
async function restart(failpoint: string | null) {
  await kill9();
  if (failpoint) process.env.BERTH_FAILPOINTS = failpoint;
  else delete process.env.BERTH_FAILPOINTS;
  try {
    await d.start();
  } finally {
    delete process.env.BERTH_FAILPOINTS;
  }
}

const imageRoot = () => path.join(d.dataRoot, 'image');
const ls = (...p: string[]) => { const dir = path.join(imageRoot(), ...p); return fs.existsSync(dir) ? fs.readdirSync(dir) : []; };

/**
 * The store after a restart: no temporaries, no mounts, every listed image complete (config, layers with
 * their metadata and diff directory, blobs) and inspectable, nothing on disk that no image uses.
 * Returns the listed image IDs.
 */
function assertConsistent(what: string) {
  assert.ok(d.ping(), `${what}: daemon answers`);
  assert.deepEqual(ls('ingest'), [], `${what}: ingest dir empty`);
  assert.deepEqual(ls('tmp'), [], `${what}: tmp dir empty`);
  assert.deepEqual(ls('layers').filter((n) => n.startsWith('.')), [], `${what}: no temporary layer dirs`);
  assert.deepEqual(ls('images').filter((n) => n !== 'index.json'), [], `${what}: no temporary index files`);
  // A removal answers before its container's root is unmounted (decision 5): a `run --rm` just verified may still
  // be finishing, so the mount table gets a few seconds to settle; a leftover of the crash never goes.
  const mountsUnder = () => fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m) => m && m.startsWith(d.dataRoot));
  let mounts = mountsUnder();
  for (let i = 0; i < 50 && mounts.length; i++) {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    mounts = mountsUnder();
  }
  assert.deepEqual(mounts, [], `${what}: no mounts left under the data root`);

  const ids = d.dockerOk(['images', '-aq', '--no-trunc']).trim().split('\n').filter(Boolean);
  // No operation here makes an untagged image: one would be an rmi or import half done.
  assert.equal(d.dockerOk(['images', '-q', '--filter', 'dangling=true']), '', `${what}: no dangling image`);
  const liveLayers = new Set<string>();
  const liveBlobs = new Set<string>();
  for (const id of ids) {
    const img = (JSON.parse(d.dockerOk(['image', 'inspect', id])) as ImageInspect[])[0];
    assert.equal(img.Id, id);
    liveBlobs.add(id.slice(7));
    let chain: string | null = null;
    for (const diffId of img.RootFS.Layers) {
      chain = chain === null ? diffId : 'sha256:' + crypto.createHash('sha256').update(`${chain} ${diffId}`).digest('hex');
      const dir = path.join(imageRoot(), 'layers', chain.slice(7));
      assert.ok(fs.existsSync(path.join(dir, 'layer.json')) && fs.existsSync(path.join(dir, 'diff')), `${what}: layer ${chain} of ${id} present`);
      // A layer's tar is a blob, or (loaded and pulled layers) a tar-split record beside its files.
      const tarSplit = (JSON.parse(fs.readFileSync(path.join(dir, 'layer.json'), 'utf8')) as { tarSplit?: boolean }).tarSplit === true;
      if (tarSplit) assert.ok(fs.existsSync(path.join(dir, 'tar-split', 'segments.json')), `${what}: tar-split record of layer ${chain} of ${id} present`);
      else assert.ok(fs.existsSync(path.join(imageRoot(), 'blobs', 'sha256', diffId.slice(7))), `${what}: blob ${diffId} of ${id} present`);
      liveLayers.add(chain.slice(7));
      if (!tarSplit) liveBlobs.add(diffId.slice(7));
    }
  }
  assert.deepEqual(ls('layers').filter((n) => !liveLayers.has(n)), [], `${what}: no orphaned layers`);
  assert.deepEqual(ls('blobs', 'sha256').filter((n) => !liveBlobs.has(n)), [], `${what}: no orphaned blobs`);
  return ids;
}

const names = () => d.dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}}']).trim().split('\n').filter(Boolean).sort();
/** ld:1, cm:1 and victim:1 all hold the layer of src's changes: removes those named, so an operation really stores or removes it. */
function removeImages(...refs: string[]) {
  const present = names().filter((n) => refs.includes(n));
  if (present.length) d.dockerOk(['rmi', ...present]);
}

/** The operations, each with what makes it possible again and what proves it worked. */
const ops = {
  import: {
    reset: () => { if (names().includes('big:1')) d.dockerOk(['rmi', 'big:1']); },
    run: () => dockerAsync(['import', '-', 'big:1'], bigTarFile),
    verify: () => assert.equal((JSON.parse(d.dockerOk(['image', 'inspect', 'big:1'])) as ImageInspect[])[0].RootFS.Layers.length, 1),
  },
  load: {
    reset: () => removeImages('ld:1', 'cm:1', 'victim:1'),
    run: () => dockerAsync(['load', '-i', archiveFile]),
    verify: () => assert.equal(d.dockerOk(['run', '--rm', 'ld:1', 'cat', '/f7']), '7\n'),
  },
  commit: {
    reset: () => removeImages('ld:1', 'cm:1', 'victim:1'),
    run: () => dockerAsync(['commit', 'src', 'cm:1']),
    verify: () => assert.equal(d.dockerOk(['run', '--rm', 'cm:1', 'cat', '/f9']), '9\n'),
  },
  rmi: {
    reset: () => {
      removeImages('ld:1', 'cm:1');
      if (!names().includes('victim:1')) d.dockerOk(['commit', 'src', 'victim:1']);
    },
    run: () => dockerAsync(['rmi', 'victim:1']),
    verify: () => assert.ok(!names().includes('victim:1')),
  },
};

/** One crash: arm (or time) the kill, run the operation, restart, check, repeat the operation, check. */
/** How to crash: at a failpoint of the daemon's, or by a kill after a delay. */
interface CrashHow {
  failpoint?: string;
  delay?: number;
}

async function crashOnce(opName: keyof typeof ops, how: CrashHow) {
  const op = ops[opName];
  const what = `${opName} killed ${how.failpoint ? `at failpoint ${how.failpoint}` : `after ${how.delay} ms`}`;
  op.reset();
  await restart(how.failpoint ?? null);
  const exited = daemonExited();
  const running = op.run();
  if (how.failpoint) {
    // The operation fails because the daemon died; give the exit a moment to be reported.
    await Promise.race([exited, running.then(() => Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]))]);
  } else {
    await new Promise((r) => setTimeout(r, how.delay));
    await kill9();
  }
  const res = await running;
  const died = d.proc?.signalCode === 'SIGKILL';
  assert.ok(died, `${what}: the daemon was killed (operation exited ${res.code}: ${res.stderr})`);
  await restart(null);
  const ids = assertConsistent(`${what}, after restart`);
  // An image that survived is whole: it runs.
  if (names().includes('victim:1')) {
    assert.ok(ids.length >= 2, 'victim and its parent both listed');
    assert.equal(d.dockerOk(['run', '--rm', 'victim:1', 'cat', '/f3']), '3\n');
  }
  // The operation completes when repeated (an rmi that had finished before dying has nothing left to do;
  // an import or commit that had finished is undone first, so that the repeat leaves no dangling image).
  if (opName === 'import' || opName === 'commit') op.reset();
  if (opName !== 'rmi' || names().includes('victim:1')) {
    const again = await op.run();
    assert.equal(again.code, 0, `${what}: repeating it failed: ${again.stderr}`);
  }
  op.verify();
  assertConsistent(`${what}, after repeating it`);
  return res;
}

const failpoints: Record<keyof typeof ops, string[]> = {
  import: ['ingest-written', 'blob-committed', 'layer-unpacked', 'layer-committed', 'import-layer', 'ingest-written:2', 'image-config', 'index-temp', 'import-done'],
  // load: the layers already here are not stored again, so load-layer fires once (for the layer of src's changes);
  // the ingest and blob steps are the config's (a loaded layer keeps a tar-split record, not a blob).
  load: ['load-staged', 'layer-unpacked', 'layer-committed', 'load-layer', 'ingest-written', 'blob-committed', 'image-config', 'index-temp'],
  commit: ['ingest-written', 'layer-unpacked', 'layer-committed', 'commit-layer', 'image-config', 'index-temp', 'commit-done'],
  rmi: ['index-temp', 'rmi-deleted', 'layer-doomed', 'sweep-blob'],
};

for (const [opName, points] of Object.entries(failpoints) as [keyof typeof ops, string[]][]) {
  test(`${opName}: SIGKILL at each durable step leaves a consistent store`, async () => {
    for (const fp of points) await crashOnce(opName, { failpoint: fp });
  });
}

test('SIGKILL after varying delays while import, load, commit and rmi run', async () => {
  const delays: Record<keyof typeof ops, number[]> = { import: [0, 100, 400], load: [0, 200], commit: [0, 100], rmi: [0, 30] };
  for (const [opName, list] of Object.entries(delays) as [keyof typeof ops, number[]][]) {
    for (const delay of list) await crashOnce(opName, { delay });
  }
});
