// Docker's stream framings: the multiplexed stdout/stderr stream and newline-delimited JSON streams.
import type { ServerResponse } from 'node:http';
import { errorMessage } from '../errdefs';
import type { JsonMessage } from '../wire/docker';

export const MULTIPLEXED = 'application/vnd.docker.multiplexed-stream';
export const RAW_STREAM = 'application/vnd.docker.raw-stream';

/** One frame of the multiplexed stream: [stream, 0, 0, 0, size(uint32 BE)] + payload. */
export function frame(stream: 0 | 1 | 2, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head[0] = stream;
  head.writeUInt32BE(payload.length, 4);
  return Buffer.concat([head, payload]);
}

/** Starts a streaming JSON response and sends its headers at once, so clients see them before the first event. */
export function startJsonStream(res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache' });
  res.flushHeaders();
}

export function writeJsonLine(res: ServerResponse, value: unknown): boolean {
  return res.write(JSON.stringify(value) + '\n');
}

/**
 * A JSON message stream (pull, import, load, build) whose headers go out with the first message: an error
 * before that is an ordinary HTTP error, one after it an error message in the stream (as Docker does). Nothing is
 * written once the client has gone.
 */
export class JsonMessageStream {
  private started = false;
  constructor(private readonly res: ServerResponse) {}

  write(msg: JsonMessage): void {
    if (this.res.destroyed || this.res.writableEnded) return;
    this.begin();
    this.res.write(JSON.stringify(msg) + '\r\n');
  }

  /** Sends the 200 and its headers now: from here on an error goes into the stream. */
  begin(): void {
    if (this.started || this.res.destroyed || this.res.writableEnded) return;
    this.res.writeHead(200, { 'Content-Type': 'application/json' });
    this.started = true;
  }

  /**
   * Ends the response; rethrows `err` when nothing was sent yet so the server maps it to a status. `code` goes into
   * the error's errorDetail (a build's failed RUN: its exit status).
   */
  finish(err?: unknown, code?: number): void {
    if (err !== undefined) {
      if (!this.started) throw err;
      const message = errorMessage(err);
      this.write({ errorDetail: code === undefined ? { message } : { code, message }, error: message });
    }
    if (!this.started) this.write({});
    if (!this.res.writableEnded) this.res.end();
  }
}
