// A pull's blob stream: the kept bytes first, a dropped connection continued by Range, oversize and corrupt
// blobs refused (the stream fails before its end, the partial file goes), a registry refusal not retried.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { BlobRefusedError, downloadBlob } from '../../src/engine/blob-download';
import { sha256Digest } from '../../src/image/content-store';
import { RegistryResponseError, type RegistrySession } from '../../src/registry/client';

interface Served { status: number; range?: string; cutAfter?: number }

/** A registry session serving `blob`: honours Range (unless `ignoreRange`), may cut the first reply after n bytes. */
function fakeSession(blob: Buffer, opts: { cutFirstAfter?: number; ignoreRange?: boolean; refuse?: boolean } = {}): { session: RegistrySession; served: Served[] } {
  const served: Served[] = [];
  const session = {
    async request(_m: string, _p: string, o: { headers?: Record<string, string> }) {
      if (opts.refuse) throw new RegistryResponseError(404, 'BLOB_UNKNOWN', 'blob unknown to registry', 'http://x');
      const m = /^bytes=(\d+)-$/.exec(o.headers?.Range ?? '');
      const start = m && !opts.ignoreRange ? Number(m[1]) : 0;
      const cutAfter = served.length === 0 ? opts.cutFirstAfter : undefined;
      served.push({ status: start ? 206 : 200, ...(o.headers?.Range ? { range: o.headers.Range } : {}), ...(cutAfter ? { cutAfter } : {}) });
      const body = blob.subarray(start);
      const res = Readable.from((async function* () {
        for (let off = 0; off < body.length; off += 4096) {
          if (cutAfter !== undefined && off >= cutAfter) throw new Error('aborted');
          yield body.subarray(off, off + 4096);
        }
      })()) as Readable & { statusCode: number; headers: Record<string, string> };
      res.statusCode = start ? 206 : 200;
      res.headers = start ? { 'content-range': `bytes ${start}-${blob.length - 1}/${blob.length}` } : {};
      return { res, url: new URL('http://x') };
    },
  } as unknown as RegistrySession;
  return { session, served };
}

async function collect(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out);
}

function tmpFile(): { file: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-blob-dl-'));
  return { file: path.join(dir, 'partial', 'blob'), cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

const desc = (blob: Buffer) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256Digest(blob), size: blob.length });

test('a dropped connection is continued with a Range request; every byte reaches the stream once', async () => {
  const blob = randomBytes(100_000);
  const { session, served } = fakeSession(blob, { cutFirstAfter: 40_960 });
  const { file, cleanup } = tmpFile();
  try {
    const d = downloadBlob({ session, url: '/v2/x/blobs/y', scope: '', desc: desc(blob), file, onBytes: () => undefined, retryDelayMs: 1 });
    assert.deepEqual(await collect(d.stream), blob);
    await d.done;
    assert.deepEqual(served.map((s) => s.status), [200, 206]);
    assert.equal(served[1]!.range, 'bytes=40960-');
    assert.deepEqual(fs.readFileSync(file), blob, 'the partial area holds the whole blob until the pull commits');
  } finally {
    cleanup();
  }
});

test('a registry ignoring Range: the bytes already passed on are skipped', async () => {
  const blob = randomBytes(50_000);
  const { session, served } = fakeSession(blob, { cutFirstAfter: 8192, ignoreRange: true });
  const { file, cleanup } = tmpFile();
  try {
    const d = downloadBlob({ session, url: '/v2/x/blobs/y', scope: '', desc: desc(blob), file, onBytes: () => undefined, retryDelayMs: 1 });
    assert.deepEqual(await collect(d.stream), blob);
    await d.done;
    assert.deepEqual(served.map((s) => s.status), [200, 200]);
    assert.deepEqual(fs.readFileSync(file), blob);
  } finally {
    cleanup();
  }
});

test('the bytes an earlier pull kept are used first, and only the rest is asked for', async () => {
  const blob = randomBytes(30_000);
  const { session, served } = fakeSession(blob);
  const { file, cleanup } = tmpFile();
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, blob.subarray(0, 12_345));
    const seen: number[] = [];
    const d = downloadBlob({ session, url: '/v2/x/blobs/y', scope: '', desc: desc(blob), file, onBytes: (n) => seen.push(n) });
    assert.deepEqual(await collect(d.stream), blob);
    await d.done;
    assert.deepEqual(served.map((s) => s.range), ['bytes=12345-']);
    assert.equal(seen[seen.length - 1], blob.length);
  } finally {
    cleanup();
  }
});

test('a corrupt blob fails the stream before its end, names the digest, and the partial file goes', async () => {
  const blob = randomBytes(20_000);
  const bad = Buffer.from(blob);
  bad[bad.length - 5] ^= 0xff;
  const { session } = fakeSession(bad);
  const { file, cleanup } = tmpFile();
  try {
    const d = downloadBlob({ session, url: '/v2/x/blobs/y', scope: '', desc: desc(blob), file, onBytes: () => undefined });
    let ended = false;
    d.stream.on('end', () => { ended = true; });
    await assert.rejects(collect(d.stream), new RegExp(`verification failed for digest ${desc(blob).digest}`));
    await assert.rejects(d.done, /verification failed for digest/);
    assert.equal(ended, false, 'the consumer never saw a clean end');
    assert.equal(fs.existsSync(file), false);
  } finally {
    cleanup();
  }
});

test('more bytes than the descriptor gives are refused as they come; a refusal is not retried', async () => {
  const blob = randomBytes(20_000);
  const { file, cleanup } = tmpFile();
  try {
    const long = fakeSession(Buffer.concat([blob, Buffer.alloc(10)]));
    const d = downloadBlob({ session: long.session, url: '/v2/x/blobs/y', scope: '', desc: desc(blob), file, onBytes: () => undefined });
    await assert.rejects(collect(d.stream), /sent more than the 20000 bytes/);
    await assert.rejects(d.done);
    assert.equal(fs.existsSync(file), false);
    const refusing = fakeSession(blob, { refuse: true });
    const r = downloadBlob({ session: refusing.session, url: '/v2/x/blobs/y', scope: '', desc: desc(blob), file, onBytes: () => undefined });
    await assert.rejects(r.done, (e) => e instanceof BlobRefusedError);
    await assert.rejects(collect(r.stream));
  } finally {
    cleanup();
  }
});

test('a consumer that gives up does not stop the download: done still tells a good blob from a bad one', async () => {
  const blob = randomBytes(200_000);
  const { session } = fakeSession(blob);
  const { file, cleanup } = tmpFile();
  try {
    const d = downloadBlob({ session, url: '/v2/x/blobs/y', scope: '', desc: desc(blob), file, onBytes: () => undefined });
    for await (const _ of d.stream) break; // reads one chunk, then destroys the stream
    await d.done;
    assert.deepEqual(fs.readFileSync(file), blob);
  } finally {
    cleanup();
  }
});
