// One registry blob as a stream for a pull's single pass: the bytes an earlier pull kept first, then the network,
// continued with Range requests when a connection drops; kept in the partial area for the next pull, hashed as
// they pass, and refused when they run past the descriptor's size or do not hash to its digest.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { PassThrough, type Readable } from 'node:stream';
import { once } from 'node:events';
import * as path from 'node:path';
import { InvalidParameterError, SystemError, errorMessage } from '../errdefs';
import { RegistryResponseError, type RegistrySession } from '../registry/client';
import type { Descriptor } from '../wire/oci';
import { ChunkGatherer, GATHER_BLOCK } from '../util/streams';

/** A dropped download is continued with a Range request this many times before the pull fails. */
const DOWNLOAD_ATTEMPTS = 5;
/** Reads of the bytes an earlier pull kept, and the blocks network bytes are gathered into before they go on. */
const BLOCK = GATHER_BLOCK;

export interface BlobDownloadOptions {
  session: RegistrySession;
  /** "/v2/<name>/blobs/<digest>". */
  url: string;
  scope: string;
  desc: Descriptor;
  /** The partial-area file: what is there is used first, what arrives is appended. */
  file: string;
  /** Bytes received so far (local ones included), for the progress bar. */
  onBytes: (received: number) => void;
  /** Each chunk that came from the registry (not from the partial area): the metrics' pulled bytes. */
  onNetworkBytes?: (n: number) => void;
  /** Backoff between attempts, ms (tests shorten it). */
  retryDelayMs?: number;
}

/** A registry refusal (not a dropped connection): not worth another attempt. */
export class BlobRefusedError extends Error {
  constructor(readonly refusal: RegistryResponseError) { super(refusal.message); }
}

/**
 * Resolves when `w` drains or closes, and takes both listeners off again: a race of two once() calls left the
 * loser's listeners behind at every wait, thousands per layer, each later removal scanning them all.
 */
function drainedOrClosed(w: PassThrough): Promise<void> {
  return new Promise((resolve) => {
    const settle = () => {
      w.off('drain', settle).off('close', settle);
      resolve();
    };
    w.on('drain', settle).on('close', settle);
  });
}

/**
 * Starts the download. `stream` yields the blob's bytes once each, in order (a consumer that stops reading
 * slows the download: backpressure); it fails with the download's error, and a digest mismatch fails it
 * before its end, so nothing downstream ever commits unverified content. `done` settles when every byte
 * arrived and was checked, even after the consumer gave up: a consumer's error (a gzip CRC) can then be told
 * apart from a corrupt or cut download.
 */
export function downloadBlob(o: BlobDownloadOptions): { stream: Readable; done: Promise<void> } {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  let consumerGone = false;
  out.on('close', () => { consumerGone = true; });
  out.on('error', () => { consumerGone = true; });
  const hash = createHash('sha256');
  let received = 0;

  const forward = async (chunk: Buffer): Promise<void> => {
    hash.update(chunk);
    received += chunk.length;
    o.onBytes(received);
    if (consumerGone) return;
    if (!out.write(chunk)) await drainedOrClosed(out);
  };

  // The socket's reads gathered into 1 MiB blocks before every stage downstream (the partial file, gunzip, the tar
  // parser, the unpacked files' writes).
  const batch = new ChunkGatherer(BLOCK);
  const flush = async (sink: fs.WriteStream): Promise<void> => {
    const block = batch.take();
    if (!block) return;
    if (!sink.write(block)) await once(sink, 'drain');
    await forward(block);
  };

  const run = async (): Promise<void> => {
    const { desc, file } = o;
    await fsp.mkdir(path.dirname(file), { recursive: true });
    // What an earlier pull kept (more than the blob's size is not this blob: start over).
    const have = await fsp.stat(file).then((st) => st.size, () => 0);
    if (have > desc.size) await fsp.truncate(file, 0);
    else if (have > 0) {
      for await (const c of fs.createReadStream(file, { highWaterMark: BLOCK })) await forward(c as Buffer);
    }
    let lastError: unknown;
    for (let attempt = 0; attempt < DOWNLOAD_ATTEMPTS && received < desc.size; attempt++) {
      const offset = received;
      const sink = fs.createWriteStream(file, { flags: offset > 0 ? 'a' : 'w' });
      // Set when what was kept is not this blob: the file goes once the sink has closed (the sink opens its file
      // asynchronously, so a removal before that would see the file made again behind it).
      let discard = false;
      try {
        const reply = await o.session.request('GET', o.url, {
          scope: o.scope, headers: offset > 0 ? { Range: `bytes=${offset}-` } : {}, ok: (st) => st === 200 || st === 206,
        });
        const res = reply.res;
        let start = 0;
        if (res.statusCode === 206) {
          const m = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''));
          start = m ? Number(m[1]) : -1;
        }
        if (res.statusCode === 206 && start !== offset) { res.resume(); continue; }
        // A 200 to a Range request: the bytes already passed on are skipped, not sent again.
        let skip = offset - start;
        for await (const c of res) {
          let chunk = c as Buffer;
          if (skip > 0) {
            if (chunk.length <= skip) { skip -= chunk.length; continue; }
            chunk = chunk.subarray(skip);
            skip = 0;
          }
          // Refused as it happens: a registry sending more than the manifest says must not fill the disk first.
          if (received + batch.size + chunk.length > desc.size) {
            batch.clear();
            discard = true;
            throw new SystemError(`failed to download layer ${desc.digest}: the registry sent more than the ${desc.size} bytes its manifest gives for ${desc.digest}`);
          }
          o.onNetworkBytes?.(chunk.length);
          if (batch.add(chunk)) await flush(sink);
        }
        lastError = undefined;
      } catch (err) {
        lastError = err;
        if (err instanceof SystemError) throw err;
        if (err instanceof RegistryResponseError) throw new BlobRefusedError(err);
        await new Promise((r) => setTimeout(r, (o.retryDelayMs ?? 200) * (attempt + 1)));
      } finally {
        // What arrived before a drop is a good prefix: kept and passed on, the next attempt continues after it.
        await flush(sink).catch((err: unknown) => { lastError ??= err; });
        sink.end();
        await once(sink, 'close').catch(() => undefined);
        if (discard) await fsp.rm(file, { force: true });
      }
    }
    if (received !== desc.size) {
      throw new SystemError(`failed to download layer ${desc.digest}: got ${received} of ${desc.size} bytes${lastError ? `: ${errorMessage(lastError)}` : ''}`);
    }
    const actual = 'sha256:' + hash.digest('hex');
    if (actual !== desc.digest) {
      await fsp.rm(file, { force: true });
      throw new InvalidParameterError(`filesystem layer verification failed for digest ${desc.digest}: got ${actual}`);
    }
  };

  const done = run();
  done.then(() => out.end(), (err: unknown) => out.destroy(err as Error));
  return { stream: out, done };
}
