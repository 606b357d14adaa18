// Gzip for pushed layers that stores incompressible stretches instead of deflating them: the same bytes give the same blob.
import { Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';

const BLOCK = 1024 * 1024;
/**
 * The probe's length. Level-1 deflate runs at ~40 MiB/s of CPU on random bytes and grows faster than linearly with
 * the sample here: a 64 KiB probe per 1 MiB block took 1.5 s of the main thread's CPU per GiB pushed (as much as
 * both of a push's sha256), a 16 KiB one 0.3 s (2026-12-07, issue 15).
 */
export const SAMPLE = 16 * 1024;
/** A sample that level-1 deflate shrinks by less than this is treated as incompressible. */
const WORTH_IT = 0.97;

/**
 * A gzip stream that, per 1 MiB block, probes the block's first SAMPLE bytes with fast deflate: runs of blocks
 * that shrink are deflated at the default level, runs that would not (already-compressed files, random data) are
 * stored (level 0), each run its own gzip member. Concatenated members are one valid gzip file (RFC 1952; Go's,
 * zlib's and Node's readers read them all). Node's deflate spends as long on incompressible bytes as on
 * text; Go's compressors skip them the same way. The choice depends only on the content, so the output is
 * deterministic and a re-push gives the same digest. (zlib's deflateParams would avoid the extra members,
 * but Node 20's params() does not take effect on a gzip stream.)
 */
export class AdaptiveGzip extends Transform {
  private member: zlib.Gzip | null = null;
  private memberLevel = -2;
  private memberEnded: Promise<void> = Promise.resolve();
  private pending: Buffer[] = [];
  private pendingSize = 0;

  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.pending.push(chunk);
    this.pendingSize += chunk.length;
    if (this.pendingSize < BLOCK) { cb(); return; }
    const all = Buffer.concat(this.pending);
    const blocks: Buffer[] = [];
    let off = 0;
    for (; all.length - off >= BLOCK; off += BLOCK) blocks.push(all.subarray(off, off + BLOCK));
    this.pending = off < all.length ? [all.subarray(off)] : [];
    this.pendingSize = all.length - off;
    this.writeBlocks(blocks).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    const rest = this.pendingSize ? [Buffer.concat(this.pending)] : [];
    this.pending = [];
    this.writeBlocks(rest)
      .then(async () => {
        // An empty input is still one (empty) gzip member.
        if (!this.member) this.open(zlib.constants.Z_DEFAULT_COMPRESSION);
        await this.close();
      })
      .then(() => cb(), cb);
  }

  private open(level: number): void {
    const gz = zlib.createGzip({ level, chunkSize: BLOCK });
    gz.on('data', (c: Buffer) => this.push(c));
    this.memberEnded = new Promise((resolve, reject) => {
      gz.once('end', resolve);
      gz.once('error', reject);
    });
    this.member = gz;
    this.memberLevel = level;
  }

  private async close(): Promise<void> {
    if (!this.member) return;
    this.member.end();
    await this.memberEnded;
    this.member = null;
  }

  private async writeBlocks(blocks: Buffer[]): Promise<void> {
    for (const block of blocks) {
      const sample = block.subarray(0, SAMPLE);
      const shrinks = zlib.deflateRawSync(sample, { level: 1 }).length < sample.length * WORTH_IT;
      const level = shrinks ? zlib.constants.Z_DEFAULT_COMPRESSION : 0;
      if (level !== this.memberLevel || !this.member) {
        await this.close();
        this.open(level);
      }
      if (!this.member!.write(block)) await new Promise<void>((resolve) => this.member!.once('drain', resolve));
    }
  }
}
