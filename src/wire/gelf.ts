// GELF 1.1 as Docker's gelf driver sends it (moby daemon/logger/gelf through go-gelf): the JSON message, its
// compression (gzip, zlib or none) and chunking for UDP, null-delimited frames for TCP.
import * as zlib from 'node:zlib';

export type GelfCompression = 'gzip' | 'zlib' | 'none';

export interface GelfFields {
  host: string;
  shortMessage: string;
  /** Seconds since the epoch, with the fraction. */
  timestamp: number;
  /** 6 (info) for stdout, 3 (err) for stderr, as Docker's. */
  level: number;
  /** Additional fields without their leading underscore: _container_id, _tag, labels/env extras. */
  extra: Record<string, string>;
}

export function gelfMessage(f: GelfFields): Buffer {
  const msg: Record<string, string | number> = { version: '1.1', host: f.host, short_message: f.shortMessage, timestamp: f.timestamp, level: f.level };
  // GELF forbids _id; Docker's fields never use it, an extra named so is dropped rather than sent invalid.
  for (const [k, v] of Object.entries(f.extra)) if (k !== 'id') msg[`_${k}`] = v;
  return Buffer.from(JSON.stringify(msg));
}

export function compressGelf(message: Buffer, type: GelfCompression, level: number): Buffer {
  if (type === 'none') return message;
  return type === 'gzip' ? zlib.gzipSync(message, { level }) : zlib.deflateSync(message, { level });
}

/** go-gelf's chunk size: what fits an Ethernet frame's UDP payload on the way. */
export const GELF_CHUNK_SIZE = 1420;
/** The chunk header: magic 0x1e 0x0f, an 8-byte message ID, the sequence number and count. */
export const GELF_CHUNK_HEADER = 12;
export const GELF_MAX_CHUNKS = 128;

/**
 * The datagrams of one (compressed) message: itself when it fits, else chunks of at most `chunkSize` bytes with
 * GELF's header. A message that needs more than 128 chunks cannot be sent; `undefined` says so.
 */
export function gelfDatagrams(payload: Buffer, messageId: Buffer, chunkSize = GELF_CHUNK_SIZE): Buffer[] | undefined {
  if (payload.length <= chunkSize) return [payload];
  const room = chunkSize - GELF_CHUNK_HEADER;
  const count = Math.ceil(payload.length / room);
  if (count > GELF_MAX_CHUNKS) return undefined;
  const out: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const header = Buffer.alloc(GELF_CHUNK_HEADER);
    header[0] = 0x1e;
    header[1] = 0x0f;
    messageId.copy(header, 2, 0, 8);
    header[10] = i;
    header[11] = count;
    out.push(Buffer.concat([header, payload.subarray(i * room, (i + 1) * room)]));
  }
  return out;
}

/** GELF over TCP: the uncompressed JSON and a null byte. */
export function gelfTcpFrame(message: Buffer): Buffer {
  return Buffer.concat([message, Buffer.from([0])]);
}
