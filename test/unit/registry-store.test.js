'use strict';
// RegistryStore over the filesystem driver: upload state held in memory stays bounded, and an upload whose state was dropped still completes.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { Readable } = require('node:stream');
const { tempDir } = require('../helpers/tmp');
const { FilesystemDriver } = require('../../dist/registry/storage-fs');
const { RegistryStore, MAX_UPLOAD_SESSIONS } = require('../../dist/registry/store');

const sha256 = (b) => 'sha256:' + crypto.createHash('sha256').update(b).digest('hex');

test('abandoned uploads do not pile up in memory; an upload whose state was dropped resumes and is verified', async () => {
  const driver = new FilesystemDriver(tempDir('berth-regstore-'), false);
  await driver.init();
  const store = new RegistryStore(driver);
  const a = Buffer.from('first chunk, ');
  const b = Buffer.from('second chunk');
  const id = await store.startUpload('lru/x');
  assert.equal(await store.appendUpload('lru/x', id, Readable.from([a]), undefined, a.length), a.length);
  for (let i = 0; i < MAX_UPLOAD_SESSIONS + 10; i++) await store.startUpload('lru/abandoned');
  assert.ok(store.sessions.size <= MAX_UPLOAD_SESSIONS, `${store.sessions.size} upload states in memory`);
  assert.ok(!store.sessions.has(`lru/x\0${id}`), 'the oldest upload state was dropped');
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
  assert.ok(!store.sessions.has(`lru/x\0${id2}`));
  await assert.rejects(store.completeUpload('lru/x', id2, sha256(b)), { code: 'DIGEST_INVALID' });
  assert.equal(await store.statBlob('lru/x', sha256(b)), null);
  await assert.rejects(store.uploadOffset('lru/x', id2), { code: 'BLOB_UPLOAD_UNKNOWN' });
});
