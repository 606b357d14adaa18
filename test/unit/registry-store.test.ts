// RegistryStore over the filesystem driver: upload state held in memory stays bounded, and an upload whose state was dropped still completes.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { tempDir } from '../helpers/tmp';
import { FilesystemDriver } from '../../src/registry/storage-fs';
import { RegistryStore, MAX_UPLOAD_SESSIONS } from '../../src/registry/store';

const sha256 = (b: Buffer) => 'sha256:' + crypto.createHash('sha256').update(b).digest('hex');

/** The upload states the store holds in memory (private: what the test watches). */
const sessionsOf = (store: RegistryStore) => (store as unknown as { sessions: Map<string, unknown> }).sessions;

test('abandoned uploads do not pile up in memory; an upload whose state was dropped resumes and is verified', async () => {
  const driver = new FilesystemDriver(tempDir('berth-regstore-'), false);
  await driver.init();
  const store = new RegistryStore(driver);
  const a = Buffer.from('first chunk, ');
  const b = Buffer.from('second chunk');
  const id = await store.startUpload('lru/x');
  assert.equal(await store.appendUpload('lru/x', id, Readable.from([a]), undefined, a.length), a.length);
  for (let i = 0; i < MAX_UPLOAD_SESSIONS + 10; i++) await store.startUpload('lru/abandoned');
  assert.ok(sessionsOf(store).size <= MAX_UPLOAD_SESSIONS, `${sessionsOf(store).size} upload states in memory`);
  assert.ok(!sessionsOf(store).has(`lru/x\0${id}`), 'the oldest upload state was dropped');
  // Rebuilt from storage: the offset and the bytes are those stored.
  assert.equal(await store.uploadOffset('lru/x', id), a.length);
  assert.equal(await store.appendUpload('lru/x', id, Readable.from([b]), { start: a.length, end: a.length + b.length - 1 }, b.length), a.length + b.length);
  const digest = sha256(Buffer.concat([a, b]));
  await assert.rejects(store.completeUpload('lru/y', id, digest), { code: 'BLOB_UPLOAD_UNKNOWN' });
  assert.equal(await store.completeUpload('lru/x', id, digest), a.length + b.length);
  assert.equal(await store.statBlob('lru/x', digest), a.length + b.length);

  // A wrong digest on a dropped state is still refused and keeps nothing.
  const id2 = await store.startUpload('lru/x');
  await store.appendUpload('lru/x', id2, Readable.from([a]), undefined, a.length);
  for (let i = 0; i < MAX_UPLOAD_SESSIONS; i++) await store.startUpload('lru/abandoned');
  assert.ok(!sessionsOf(store).has(`lru/x\0${id2}`));
  await assert.rejects(store.completeUpload('lru/x', id2, sha256(b)), { code: 'DIGEST_INVALID' });
  assert.equal(await store.statBlob('lru/x', sha256(b)), null);
  await assert.rejects(store.uploadOffset('lru/x', id2), { code: 'BLOB_UPLOAD_UNKNOWN' });
});

test('a failed write of an assembled multi-chunk blob closes the chunk being read', async () => {
  const fsDriver = new FilesystemDriver(tempDir('berth-regstore-'), false);
  await fsDriver.init();
  const opened: Readable[] = [];
  // The filesystem driver, except that writing a blob's data reads a little and then fails (a full disk).
  const driver: FilesystemDriver = Object.create(fsDriver);
  driver.reader = async (p, offset, length) => {
    const r = await fsDriver.reader(p, offset, length);
    if (r && p.includes('/_uploads/')) opened.push(r);
    return r;
  };
  driver.putStream = async (p, source) => {
    if (!p.endsWith('/data')) return fsDriver.putStream(p, source);
    for await (const _ of source) break;
    throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
  };
  const store = new RegistryStore(driver);
  const chunks = [crypto.randomBytes(300 * 1024), crypto.randomBytes(300 * 1024), crypto.randomBytes(300 * 1024)];
  const id = await store.startUpload('leak/x');
  let offset = 0;
  for (const c of chunks) {
    await store.appendUpload('leak/x', id, Readable.from([c]), { start: offset, end: offset + c.length - 1 }, c.length);
    offset += c.length;
  }
  await assert.rejects(store.completeUpload('leak/x', id, sha256(Buffer.concat(chunks))), { code: 'ENOSPC' });
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(opened.length >= 1, 'a chunk was read');
  assert.deepEqual(opened.map((r) => r.destroyed), opened.map(() => true), 'every chunk reader opened is closed');
});
