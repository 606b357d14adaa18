// AdaptiveGzip: valid gzip that any reader takes whole (members included), deterministic, stored where deflate would not shrink.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { AdaptiveGzip, SAMPLE } from '../../src/image/gzip';

async function gz(data: Buffer, chunk = 300_000): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunk) parts.push(data.subarray(i, i + chunk));
  const out: Buffer[] = [];
  for await (const c of Readable.from(parts).pipe(new AdaptiveGzip())) out.push(c);
  return Buffer.concat(out);
}

test('compressible, incompressible and mixed content round-trip through zlib and Debian\'s gzip, deterministically', async () => {
  const text = Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(80_000));
  const random = crypto.randomBytes(3 * 1024 * 1024);
  const mixed = Buffer.concat([text, random, text]);
  for (const [name, data] of <Array<[string, Buffer]>>[['text', text], ['random', random], ['mixed', mixed], ['empty', Buffer.alloc(0)], ['small', Buffer.from('x')]]) {
    const out = await gz(data);
    assert.ok(zlib.gunzipSync(out).equals(data), `${name}: zlib reads it back`);
    assert.ok(execFileSync('gzip', ['-dc'], { input: out, maxBuffer: 64 << 20 }).equals(data), `${name}: gzip(1) reads it back`);
    assert.ok((await gz(data, 77_777)).equals(out), `${name}: the same bytes give the same blob, however they are chunked`);
  }
  // Text is deflated as plain gzip would; random bytes are stored, not deflated.
  assert.ok((await gz(text)).equals(zlib.gzipSync(text, { chunkSize: 1 << 20 })));
  const r = await gz(random);
  assert.ok(r.length > random.length && r.length < random.length + 1024);
  assert.ok((await gz(mixed)).length < mixed.length * 0.5);
});

test('each 1 MiB block is judged by its first SAMPLE bytes only: random bytes there store the whole block', async () => {
  const text = Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(30_000)).subarray(0, (1 << 20) - SAMPLE);
  // Stored: the probe saw only random bytes, though most of the block is text a larger probe would have deflated.
  const randomHead = Buffer.concat([crypto.randomBytes(SAMPLE), text]);
  const stored = await gz(randomHead);
  assert.ok(zlib.gunzipSync(stored).equals(randomHead));
  assert.ok(stored.length > randomHead.length, `stored: ${stored.length} bytes for ${randomHead.length}`);
  // Deflated: the same block with the text first.
  const textHead = Buffer.concat([text.subarray(0, SAMPLE), crypto.randomBytes(SAMPLE), text.subarray(SAMPLE)]);
  assert.ok((await gz(textHead)).length < textHead.length * 0.2);
});
