// The registry's storage drivers against one contract: the filesystem driver, and the S3 driver against s3rver (in process, on loopback).
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { tempDir } from '../helpers/tmp';
import { FakeFilesystemSync } from '../fakes/filesystem-sync';
import { FilesystemDriver } from '../../src/registry/storage-fs';
import { S3Driver } from '../../src/registry/storage-s3';
import { storagePath, type StorageDriver } from '../../src/registry/storage-driver';
import S3rver from 's3rver';

async function readAll(r: Readable | null): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r!) chunks.push(c);
  return Buffer.concat(chunks);
}

/** A source that sends `good` and then fails, as a client that hangs up mid-upload. */
function failingSource(good: string): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) { sent = true; this.push(Buffer.from(good)); return; }
      this.destroy(new Error('client went away'));
    },
  });
}

function contract(label: string, open: () => Promise<StorageDriver>) {
  test(`${label}: put, get, stat and ranged reads`, async () => {
    const d = await open();
    await d.putContent('/a/b/small', 'hello world');
    assert.deepEqual(await d.getContent('/a/b/small'), Buffer.from('hello world'));
    assert.equal((await d.stat('/a/b/small'))!.size, 11);
    assert.equal(await d.stat('/a/b/none'), null);
    assert.equal(await d.getContent('/a/b/none'), null);
    assert.equal(await d.reader('/a/b/none'), null);
    assert.equal((await readAll(await d.reader('/a/b/small', 6))).toString(), 'world');
    assert.equal((await readAll(await d.reader('/a/b/small', 2, 3))).toString(), 'llo');
    assert.equal((await readAll(await d.reader('/a/b/small', 0, 0))).toString(), '');
  });

  test(`${label}: putStream writes whole objects and leaves nothing when its source fails`, async () => {
    const d = await open();
    const big = Buffer.alloc(3 * 1024 * 1024 + 7, 'x');
    assert.equal(await d.putStream('/s/big', Readable.from([big.subarray(0, 1000), big.subarray(1000)])), big.length);
    assert.deepEqual(await d.getContent('/s/big'), big);
    await assert.rejects(d.putStream('/s/torn', failingSource('partial')), /client went away/);
    assert.equal(await d.stat('/s/torn'), null);
    // A failure at the very end (a digest check) must not publish the object either.
    const verifier = new Transform({ transform(c, _e, cb) { cb(null, c); }, flush(cb) { cb(new Error('digest mismatch')); } });
    await assert.rejects(d.putStream('/s/unverified', Readable.from([Buffer.from('data')]).pipe(verifier)), /digest mismatch/);
    assert.equal(await d.stat('/s/unverified'), null);
    // Replacing keeps either the old or the new content.
    await d.putStream('/s/big', Readable.from([Buffer.from('new')]));
    assert.equal((await d.getContent('/s/big'))!.toString(), 'new');
  });

  test(`${label}: list, walk, move and delete`, async () => {
    const d = await open();
    await d.putContent('/r/x/one', '1');
    await d.putContent('/r/x/deep/two', '22');
    await d.putContent('/r/y/three', '333');
    await d.putContent('/r/file', 'f');
    assert.deepEqual(await d.list('/r'), ['file', 'x', 'y']);
    assert.deepEqual(await d.list('/r/x'), ['deep', 'one']);
    assert.deepEqual(await d.list('/r/none'), []);
    const walked: Array<[string, number]> = [];
    for await (const o of d.walk('/r')) walked.push([o.path, o.size]);
    walked.sort();
    assert.deepEqual(walked, [['/r/file', 1], ['/r/x/deep/two', 2], ['/r/x/one', 1], ['/r/y/three', 3]]);
    await d.move('/r/y/three', '/r/z/moved');
    assert.equal(await d.stat('/r/y/three'), null);
    assert.equal((await d.getContent('/r/z/moved'))!.toString(), '333');
    await d.delete('/r/x');
    assert.deepEqual(await d.list('/r'), ['file', 'z']);
    await d.delete('/r/nothing-here');
  });
}

contract('filesystem', async () => {
  const d = new FilesystemDriver(tempDir('berth-reg-fs-'));
  await d.init();
  return d;
});

test('filesystem: temporary files stay out of the tree and stale ones are dropped at start', async () => {
  const root = tempDir('berth-reg-fs-');
  const d = new FilesystemDriver(root);
  await d.init();
  await assert.rejects(d.putStream('/blob', failingSource('x')));
  assert.deepEqual(fs.readdirSync(path.join(root, '.tmp')), []);
  fs.writeFileSync(path.join(root, '.tmp', 'left-by-a-crash'), 'x');
  const old = new Date(Date.now() - 2 * 24 * 3600_000);
  fs.utimesSync(path.join(root, '.tmp', 'left-by-a-crash'), old, old);
  await new FilesystemDriver(root).init();
  assert.deepEqual(fs.readdirSync(path.join(root, '.tmp')), []);
  assert.deepEqual(await d.list('/'), []);
});

test('filesystem: a streamed object\'s file is flushed while it is written, not only at the end', async () => {
  const root = tempDir('berth-reg-fs-');
  const sync = new FakeFilesystemSync();
  const d = new FilesystemDriver(root, true, sync, 1 << 20);
  await d.init();
  const chunks = Array.from({ length: 12 }, (_, i) => Buffer.alloc(256 * 1024, i));
  assert.equal(await d.putStream('/blob', Readable.from(chunks)), 3 << 20);
  assert.deepEqual(await d.getContent('/blob'), Buffer.concat(chunks));
  // Every 1 MiB streamed, one flush of the temporary file then being written (the object's own, under .tmp).
  assert.ok(sync.syncedFiles.length >= 2, `flushes: ${JSON.stringify(sync.syncedFiles)}`);
  for (const files of sync.syncedFiles) {
    assert.equal(files.length, 1);
    assert.equal(path.dirname(files[0]!), path.join(root, '.tmp'));
  }
  // Not durable (the floor's benchmarks): no flush at all.
  const quiet = new FakeFilesystemSync();
  const fast = new FilesystemDriver(tempDir('berth-reg-fs-'), false, quiet, 1 << 20);
  await fast.init();
  await fast.putStream('/blob', Readable.from(chunks));
  assert.deepEqual(quiet.syncedFiles, []);
});

test('storage paths refuse . and .. segments', () => {
  assert.equal(storagePath('/a', 'b/c'), '/a/b/c');
  assert.throws(() => storagePath('/a', '../b'));
  assert.throws(() => storagePath('/a/./b'));
});

// S3: s3rver in this process, on a free loopback port.
let s3server: S3rver | undefined;
let s3endpoint: string;
test.before(async () => {
  s3server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: tempDir('berth-s3rver-'), configureBuckets: [{ name: 'reg' }] });
  const addr = await s3server.run();
  s3endpoint = `http://127.0.0.1:${addr.port}`;
});
test.after(async () => { if (s3server) await s3server.close(); });

let prefixes = 0;
contract('s3', async () => {
  const d = new S3Driver({ bucket: 'reg', endpoint: s3endpoint, prefix: `t${prefixes++}`, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', partSize: 5 * 1024 * 1024 });
  await d.init();
  return d;
});
