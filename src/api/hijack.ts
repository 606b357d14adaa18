// Hijacked connections (attach, exec start): the response head dockerd writes, and the request's own body kept
// apart from what follows it. Bytes inside a request's declared body (Content-Length or chunked) are never the
// process's stdin; only bytes after the body are, and not those that came with the request, before the answer:
// dockerd drops them (docs/decisions/0006-exec-and-interactive-sessions.md).
import type * as http from 'node:http';
import { PassThrough, Transform, type Duplex, type Readable } from 'node:stream';
import { InvalidParameterError } from '../errdefs';
import { RAW_STREAM } from './streams';

export interface Hijacked {
  /** The connection: output is written here; its 'close' says the client has gone. */
  socket: Duplex;
  /** What the client sends after its request's body: the stdin of an attach or exec. Resume it when unused. */
  input: Readable;
}

/** One request's body, read at most once: as JSON for the route, or skipped when the connection is taken. */
export class RequestBody {
  private reading?: Promise<Buffer | undefined>;
  /** How many of the bytes read from the raw socket were the body's (its chunk framing included). */
  private bodyBytes = 0;

  /**
   * `socket` is set for a request Node handed over as an upgrade: its body is still on the raw socket, unparsed,
   * and is read here; otherwise Node's parser reads it into `req`.
   */
  constructor(private readonly req: http.IncomingMessage, private readonly socket: Duplex | undefined, private readonly arrivedWithRequest = 0) {}

  /**
   * How many bytes came in the same read as the request, past its body. moby's hijack drops the server's read
   * buffer, so on dockerd such bytes never reach the process: a client writing its request, a body whose length
   * it declared too short and early input in one go gets only what it sends after the answer as stdin.
   */
  earlyBytesPastBody(): number {
    return Math.max(0, this.arrivedWithRequest - this.bodyBytes);
  }

  /** The whole body (up to `max` bytes; more is a 400), or `undefined` when there is none. */
  read(max: number): Promise<Buffer | undefined> {
    this.reading ??= this.consume(max);
    return this.reading;
  }

  /**
   * Settles once the body has gone by, read or thrown away: what the client sends next is stdin. `false` when
   * the body was malformed or cut short: where it ends is unknown, so nothing after it is stdin.
   */
  skip(): Promise<boolean> {
    this.reading ??= this.consume(0);
    return this.reading.then(() => true, () => false);
  }

  /** Reads (keeping up to `max` bytes, 0 to keep none) the body to its end. */
  private async consume(max: number): Promise<Buffer | undefined> {
    const chunks: Buffer[] = [];
    let size = 0;
    const keep = (chunk: Buffer) => {
      if (max === 0) return;
      size += chunk.length;
      if (size > max) throw new InvalidParameterError(`request body is larger than ${max / (1024 * 1024)} MiB`);
      chunks.push(chunk);
    };
    if (this.socket) {
      this.bodyBytes = await readDeclaredBody(this.req.headers, this.socket, keep);
    } else {
      if (this.req.readableEnded) return undefined;
      for await (const chunk of this.req as AsyncIterable<Buffer>) keep(chunk);
    }
    return chunks.length ? Buffer.concat(chunks) : undefined;
  }
}

/** The size of the buffer Python's http.client reads a response head through (io.DEFAULT_BUFFER_SIZE). */
const PYTHON_HEAD_BUFFER = 8192;

/**
 * Ends a response head. docker-py reads the head through http.client's 8 KiB buffered reader, then reads frames
 * from the raw socket: frames that arrived with the head sit in that buffer and are lost (its own
 * test_attach_no_stream fails on dockerd for this, whenever the client is slower than the daemon). For docker-py
 * the head is padded to exactly that buffer's size, so the first read takes the head and nothing after it.
 */
export function responseHead(fields: string, userAgent: string | undefined): string {
  if (!userAgent?.startsWith('docker-sdk-python/')) return `${fields}\r\n`;
  const name = 'X-Berth-Padding: ';
  const pad = PYTHON_HEAD_BUFFER - Buffer.byteLength(fields) - name.length - 4;
  return pad > 0 ? `${fields}${name}${'.'.repeat(pad)}\r\n\r\n` : `${fields}\r\n`;
}

/**
 * Takes over the connection of `req` and writes dockerd's response head: `101 UPGRADED` with `contentType` to a
 * client that asked for an upgrade, else `200 OK` naming a raw stream whatever is sent (as moby does). Output may
 * be written at once; `input` starts after the request's body, once that has gone by.
 */
export function hijackConnection(req: http.IncomingMessage, res: http.ServerResponse | undefined, upgradeSocket: Duplex | undefined, body: RequestBody, contentType: string): Hijacked {
  const socket: Duplex = upgradeSocket ?? req.socket;
  const upgrade = upgradeSocket !== undefined || req.headers.upgrade !== undefined;
  if (res) res.detachSocket(req.socket);
  socket.write(responseHead(upgrade
    ? `HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n`
    : `HTTP/1.1 200 OK\r\nContent-Type: ${RAW_STREAM}\r\n`, req.headers['user-agent']));
  const input = new PassThrough();
  const endInput = () => { if (!input.writableEnded) input.end(); };
  socket.once('close', endInput);
  void body.skip().then((ok) => {
    if (socket.destroyed) return endInput();
    if (!ok) {
      endInput();
      socket.resume();
      return;
    }
    if (!upgradeSocket) {
      // Node's HTTP parser would read what follows the body as a next request, and end the connection at the
      // client's half-close: the connection is ours now, as Node makes it for an upgrade.
      for (const ev of ['data', 'end'] as const) for (const l of socket.listeners(ev)) socket.removeListener(ev, l as () => void);
    }
    let drop = body.earlyBytesPastBody();
    if (drop === 0) {
      socket.pipe(input);
      return;
    }
    socket.pipe(new Transform({
      transform(chunk: Buffer, _encoding, done) {
        const dropped = Math.min(drop, chunk.length);
        drop -= dropped;
        done(null, dropped === chunk.length ? undefined : chunk.subarray(dropped));
      },
    })).pipe(input);
  });
  return { socket, input };
}

/**
 * Reads a request body (Content-Length or chunked) from a raw socket, leaving what follows it in the socket;
 * returns how many bytes of the socket the body took, its chunk framing included.
 */
async function readDeclaredBody(headers: http.IncomingHttpHeaders, socket: Duplex, onData: (chunk: Buffer) => void): Promise<number> {
  const src = new SocketBytes(socket);
  try {
    if (/(^|,)\s*chunked\s*$/i.test(String(headers['transfer-encoding'] ?? ''))) {
      for (;;) {
        const line = await src.line();
        const size = parseInt(line.split(';', 1)[0]!.trim(), 16);
        if (!Number.isInteger(size) || size < 0 || !/^[0-9a-f]+$/i.test(line.split(';', 1)[0]!.trim())) {
          throw new InvalidParameterError(`invalid chunk size ${JSON.stringify(line)} in the request body`);
        }
        if (size === 0) {
          while ((await src.line()) !== '') { /* trailer fields: not used */ }
          return src.taken;
        }
        await src.take(size, onData);
        if ((await src.line()) !== '') throw new InvalidParameterError('invalid chunk end in the request body');
      }
    }
    const length = Number(headers['content-length'] ?? 0);
    if (!Number.isSafeInteger(length) || length < 0) throw new InvalidParameterError(`invalid Content-Length ${headers['content-length']}`);
    await src.take(length, onData);
    return src.taken;
  } finally {
    src.giveBack();
  }
}

/** A paused socket read a line or a number of bytes at a time; what was read beyond is given back to it. */
class SocketBytes {
  private buf: Buffer = Buffer.alloc(0);
  private read = 0;

  /** The bytes read from the socket and not given back. */
  get taken(): number {
    return this.read - this.buf.length;
  }

  constructor(private readonly socket: Duplex) {}

  async line(): Promise<string> {
    for (;;) {
      const nl = this.buf.indexOf('\r\n');
      if (nl >= 0) {
        const text = this.buf.subarray(0, nl).toString('latin1');
        this.buf = this.buf.subarray(nl + 2);
        return text;
      }
      if (this.buf.length > 8192) throw new InvalidParameterError('chunk header line too long in the request body');
      await this.fill();
    }
  }

  async take(n: number, onData: (chunk: Buffer) => void): Promise<void> {
    while (n > 0) {
      if (this.buf.length === 0) await this.fill();
      const part = this.buf.subarray(0, Math.min(n, this.buf.length));
      this.buf = this.buf.subarray(part.length);
      n -= part.length;
      onData(part);
    }
  }

  giveBack(): void {
    if (this.buf.length && !this.socket.destroyed) this.socket.unshift(this.buf);
    this.buf = Buffer.alloc(0);
  }

  private async fill(): Promise<void> {
    for (;;) {
      const chunk = this.socket.read() as Buffer | null;
      if (chunk !== null) {
        this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
        this.read += chunk.length;
        return;
      }
      if (this.socket.readableEnded || this.socket.destroyed) throw new InvalidParameterError('the request body ended early');
      await new Promise<void>((resolve) => {
        const done = () => {
          this.socket.off('readable', done);
          this.socket.off('end', done);
          this.socket.off('close', done);
          resolve();
        };
        this.socket.on('readable', done);
        this.socket.on('end', done);
        this.socket.on('close', done);
      });
    }
  }
}
