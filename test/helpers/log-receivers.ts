// Test receivers for the forwarding log drivers whose servers Debian does not package: the fluentd forward protocol
// and GELF (UDP chunked and compressed, TCP null-delimited). Each decodes the wire format STRICTLY (a malformed
// message fails the receiver, which the test sees as missing lines and a message on stderr) and appends what it
// received, one JSON object a line, to a file. Also run as its own process, so a test can kill -9 it mid-stream:
//   node log-receivers.js fluentd|gelf-udp|gelf-tcp PORT OUTFILE
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as zlib from 'node:zlib';
import { Decoder, ExtData } from '@msgpack/msgpack';

export interface ForwardRecord { tag: string; timeNano: string; record: Record<string, string> }

/** One decoded forward-protocol Message Mode entry, checked strictly: [tag, time, record(, option)]. */
export function checkForwardMessage(msg: unknown): ForwardRecord {
  if (!Array.isArray(msg) || msg.length < 3 || msg.length > 4) throw new Error(`forward: not a Message Mode array: ${JSON.stringify(msg)}`);
  const [tag, time, record, option] = msg as unknown[];
  if (typeof tag !== 'string' || !tag) throw new Error('forward: tag is not a non-empty string');
  let timeNano: bigint;
  if (typeof time === 'number' && Number.isInteger(time) && time > 0) timeNano = BigInt(time) * 1_000_000_000n;
  else if (time instanceof ExtData && time.type === 0 && time.data instanceof Uint8Array && time.data.length === 8) {
    const v = new DataView(time.data.buffer, time.data.byteOffset, 8);
    const nanos = v.getUint32(4);
    if (nanos >= 1e9) throw new Error('forward: EventTime nanoseconds out of range');
    timeNano = BigInt(v.getUint32(0)) * 1_000_000_000n + BigInt(nanos);
  } else throw new Error(`forward: time is neither an integer nor an EventTime: ${String(time)}`);
  if (!record || typeof record !== 'object' || Array.isArray(record) || record instanceof Uint8Array) throw new Error('forward: record is not a map');
  for (const [k, v] of Object.entries(record)) if (typeof v !== 'string') throw new Error(`forward: record field ${k} is not a string`);
  if (option !== undefined && option !== null && (typeof option !== 'object' || Array.isArray(option))) throw new Error('forward: option is not a map');
  return { tag, timeNano: timeNano.toString(), record: record as Record<string, string> };
}

export interface GelfRecord { [field: string]: string | number }

/** A GELF payload (gzip, zlib or plain JSON, told apart by their magic bytes) decoded and checked against GELF 1.1. */
export function decodeGelfPayload(payload: Buffer, compressed: boolean): GelfRecord {
  let json: Buffer;
  if (payload[0] === 0x1f && payload[1] === 0x8b) json = zlib.gunzipSync(payload);
  else if (payload[0] === 0x78) json = zlib.inflateSync(payload);
  else if (payload[0] === 0x7b) json = payload;
  else throw new Error(`gelf: payload is neither gzip, zlib nor JSON (first byte ${payload[0]})`);
  if (!compressed && json !== payload) throw new Error('gelf: a compressed message over TCP');
  const msg = JSON.parse(json.toString('utf8')) as GelfRecord;
  if (msg.version !== '1.1') throw new Error(`gelf: version ${String(msg.version)}`);
  if (typeof msg.host !== 'string' || !msg.host) throw new Error('gelf: host missing');
  if (typeof msg.short_message !== 'string') throw new Error('gelf: short_message missing');
  if (typeof msg.timestamp !== 'number' || typeof msg.level !== 'number') throw new Error('gelf: timestamp or level not numbers');
  for (const k of Object.keys(msg)) {
    if (['version', 'host', 'short_message', 'full_message', 'timestamp', 'level'].includes(k)) continue;
    if (!/^_[\w.-]+$/.test(k) || k === '_id') throw new Error(`gelf: field ${k} is not a valid additional field`);
  }
  return msg;
}

/** GELF UDP chunk reassembly: 0x1e 0x0f, 8-byte ID, sequence number, count (at most 128); whole messages as they are. */
export class GelfChunks {
  private readonly pending = new Map<string, { parts: (Buffer | undefined)[]; got: number }>();

  /** The complete payload this datagram finishes, if any. */
  add(datagram: Buffer): Buffer | undefined {
    if (datagram[0] !== 0x1e || datagram[1] !== 0x0f) return datagram;
    if (datagram.length < 13) throw new Error('gelf: chunk shorter than its header');
    const id = datagram.subarray(2, 10).toString('hex');
    const seq = datagram[10]!;
    const count = datagram[11]!;
    if (count < 1 || count > 128 || seq >= count) throw new Error(`gelf: chunk ${seq}/${count} out of range`);
    let p = this.pending.get(id);
    if (!p) this.pending.set(id, p = { parts: new Array<Buffer | undefined>(count).fill(undefined), got: 0 });
    if (p.parts.length !== count) throw new Error('gelf: chunks of one message disagree on the count');
    if (p.parts[seq]) throw new Error(`gelf: chunk ${seq} of ${id} twice`);
    p.parts[seq] = datagram.subarray(12);
    if (++p.got < count) return undefined;
    this.pending.delete(id);
    return Buffer.concat(p.parts as Buffer[]);
  }
}

function append(out: string, rec: unknown): void {
  fs.appendFileSync(out, `${JSON.stringify(rec)}\n`);
}

function fail(err: unknown): never {
  process.stderr.write(`receiver: ${(err as Error).message}\n`);
  process.exit(3);
}

export function serveFluentd(port: number, out: string): net.Server {
  const server = net.createServer((sock) => {
    void (async () => {
      const decoder = new Decoder();
      try {
        for await (const msg of decoder.decodeStream(sock)) append(out, checkForwardMessage(msg));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ECONNRESET') return;
        fail(err);
      }
    })();
  });
  server.listen(port, '127.0.0.1');
  return server;
}

export function serveGelfUdp(port: number, out: string): dgram.Socket {
  const chunks = new GelfChunks();
  // As GELF servers are set up (Graylog's recv_buffer_size): the burst of a backlog sent when the receiver returns
  // must not overflow a receiver still starting (UDP loses that unseen by the sender: decision 24).
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
  sock.on('message', (d) => {
    try {
      const payload = chunks.add(d);
      if (payload) append(out, decodeGelfPayload(payload, true));
    } catch (err) { fail(err); }
  });
  sock.bind(port, '127.0.0.1');
  return sock;
}

export function serveGelfTcp(port: number, out: string): net.Server {
  const server = net.createServer((sock) => {
    let carry = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      carry = Buffer.concat([carry, d]);
      for (let z = carry.indexOf(0); z >= 0; z = carry.indexOf(0)) {
        try { append(out, decodeGelfPayload(carry.subarray(0, z), false)); } catch (err) { fail(err); }
        carry = carry.subarray(z + 1);
      }
    });
    sock.on('error', () => undefined);
  });
  server.listen(port, '127.0.0.1');
  return server;
}

if (require.main === module) {
  const [kind, port, out] = process.argv.slice(2);
  const p = Number(port);
  const server = kind === 'fluentd' ? serveFluentd(p, out!) : kind === 'gelf-udp' ? serveGelfUdp(p, out!) : kind === 'gelf-tcp' ? serveGelfTcp(p, out!) : fail(new Error(`unknown receiver ${kind}`));
  server.once('listening', () => setImmediate(() => process.stdout.write('listening\n')));
}
