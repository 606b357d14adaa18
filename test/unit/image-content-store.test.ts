// The content store: digests, verification, nothing kept on mismatch, crash leftovers dropped.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { ContentStore, sha256Digest } from '../../src/image/content-store';

async function withStore(fn: (cs: ContentStore, root: string) => Promise<void>): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cs-'));
  try {
    const cs = new ContentStore(root);
    await cs.init();
    await fn(cs, root);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

test('writes blobs under their digest', () => withStore(async (cs, root) => {
  const data = Buffer.from('hello berth');
  const info = await cs.write(Readable.from([data.subarray(0, 5), data.subarray(5)]));
  assert.equal(info.digest, sha256Digest(data));
  assert.equal(info.size, data.length);
  assert.ok(fs.existsSync(path.join(root, 'blobs/sha256', info.digest.slice(7))));
  assert.deepEqual(await cs.readBlob(info.digest), data);
  assert.deepEqual(await cs.list(), [info.digest]);
  assert.deepEqual(fs.readdirSync(path.join(root, 'ingest')), []);
}));

test('verifies the expected digest and keeps nothing on mismatch', () => withStore(async (cs, root) => {
  const wrong = sha256Digest('other');
  const actual = sha256Digest('content');
  await assert.rejects(cs.write(Readable.from([Buffer.from('content')]), wrong), (err: Error) => {
    assert.equal(err.name, 'InvalidParameterError');
    assert.ok(err.message.includes(wrong) && err.message.includes(actual), err.message);
    return true;
  });
  assert.deepEqual(await cs.list(), []);
  assert.deepEqual(fs.readdirSync(path.join(root, 'ingest')), []);
  const ok = await cs.write(Readable.from([Buffer.from('content')]), actual);
  assert.equal(ok.digest, actual);
}));

test('a failing source leaves nothing behind', () => withStore(async (cs, root) => {
  async function* broken() { yield Buffer.from('part'); throw new Error('connection reset'); }
  await assert.rejects(cs.write(Readable.from(broken())), /connection reset/);
  assert.deepEqual(await cs.list(), []);
  assert.deepEqual(fs.readdirSync(path.join(root, 'ingest')), []);
}));

test('init() drops ingests a crash left', () => withStore(async (cs, root) => {
  fs.writeFileSync(path.join(root, 'ingest', 'deadbeef'), 'half a layer');
  await cs.init();
  assert.deepEqual(fs.readdirSync(path.join(root, 'ingest')), []);
}));
