// Docker's stream framings: the multiplexed stdout/stderr stream and newline-delimited JSON streams.
import type { ServerResponse } from 'node:http';

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
