// Docker's stdcopy framing for non-TTY streams: an 8-byte header (stream type, 3 zero bytes, big-endian
// uint32 length) before each payload. Used by attach, exec and logs.
import { Writable } from 'node:stream';

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
/** Docker's "systemerr" frame: the daemon reports an error in the middle of a stream. */
export const SYSTEMERR = 3;

export class StreamFrameError extends Error {}

/** A Writable that splits framed bytes into stdout and stderr, honouring both targets' backpressure. */
export class StreamDemultiplexer extends Writable {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly stdout: NodeJS.WritableStream, private readonly stderr: NodeJS.WritableStream) {
    super();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    // One wait per target with a full buffer, however many frames this chunk held.
    const full = new Set<NodeJS.WritableStream>();
    try {
      for (;;) {
        if (this.pending.length < 8) break;
        const type = this.pending[0];
        const length = this.pending.readUInt32BE(4);
        if (this.pending.length < 8 + length) break;
        const payload = this.pending.subarray(8, 8 + length);
        this.pending = this.pending.subarray(8 + length);
        if (type === SYSTEMERR) throw new StreamFrameError(`error from daemon in stream: ${payload.toString('utf8')}`);
        if (type !== STDIN && type !== STDOUT && type !== STDERR) throw new StreamFrameError(`Unrecognized input header: ${type}`);
        const target = type === STDERR ? this.stderr : this.stdout;
        if (!target.write(payload)) full.add(target);
      }
    } catch (err) {
      done(err as Error);
      return;
    }
    if (full.size) Promise.all([...full].map((t) => new Promise<void>((r) => t.once('drain', () => r())))).then(() => done(), done);
    else done();
  }
}

/** Splits a complete framed buffer into frames (for tests and small bodies). */
export function demultiplex(buf: Buffer): { stream: number; data: Buffer }[] {
  const frames: { stream: number; data: Buffer }[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const length = buf.readUInt32BE(off + 4);
    frames.push({ stream: buf[off], data: buf.subarray(off + 8, off + 8 + length) });
    off += 8 + length;
  }
  return frames;
}

/** Frames one payload (used by tests and fakes). */
export function frame(stream: number, data: Buffer | string): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}
