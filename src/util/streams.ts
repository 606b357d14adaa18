// Stream helpers shared by the image unpacker and the builder.
import { Readable } from 'node:stream';

/** Reads the first bytes of a stream without consuming them: the stream returned yields everything. */
export async function peek(source: Readable | AsyncIterable<Buffer>, n: number): Promise<{ head: Buffer; stream: Readable }> {
  const it = (source as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let done = false;
  while (head.length < n) {
    const r = await it.next();
    if (r.done) { done = true; break; }
    head = Buffer.concat([head, Buffer.from(r.value)]);
  }
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    if (done) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      // No copy of what already is a Buffer: a layer's bytes pass through here chunk by chunk.
      yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    }
  }
  return { head, stream: Readable.from(rest(), { objectMode: false }) };
}
