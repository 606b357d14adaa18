// Docker's multiplexed log/attach stream (stdcopy): 8-byte headers [stream, 0, 0, 0, size BE32] before each frame,
// cut into frames as bytes arrive in chunks of any size, then into lines per stream.

export type LogStream = 'stdout' | 'stderr';

/** One frame's payload and the stream it belongs to. */
export interface StreamFrame {
  stream: LogStream;
  data: Uint8Array;
}

const HEADER = 8;

/** Cuts a multiplexed byte stream into frames; keeps a partial header or payload until the rest arrives. */
export class StdcopyDemuxer {
  private pending = new Uint8Array(0);

  push(chunk: Uint8Array): StreamFrame[] {
    const buf = this.pending.length ? concat(this.pending, chunk) : chunk;
    const frames: StreamFrame[] = [];
    let at = 0;
    while (buf.length - at >= HEADER) {
      const kind = buf[at]!;
      const size = ((buf[at + 4]! << 24) >>> 0) + (buf[at + 5]! << 16) + (buf[at + 6]! << 8) + buf[at + 7]!;
      if (kind > 2 || buf[at + 1] !== 0 || buf[at + 2] !== 0 || buf[at + 3] !== 0) {
        throw new Error(`not a multiplexed stream: header byte ${kind} at offset ${at}`);
      }
      if (buf.length - at - HEADER < size) break;
      // Stream 0 (stdin) only appears when a TTY is echoed; show it with stdout as docker logs does.
      frames.push({ stream: kind === 2 ? 'stderr' : 'stdout', data: buf.subarray(at + HEADER, at + HEADER + size) });
      at += HEADER + size;
    }
    this.pending = buf.slice(at);
    return frames;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** One line of a container's log, its timestamp split off when the stream carried timestamps. */
export interface LogLine {
  stream: LogStream;
  time: string;
  text: string;
}

const TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) /;

/** Splits a line into Docker's RFC 3339 timestamp prefix (as `logs?timestamps=1` writes it) and the text. */
export function splitTimestamp(line: string): { time: string; text: string } {
  const m = TIMESTAMP.exec(line);
  return m ? { time: m[1]!, text: line.slice(m[0].length) } : { time: '', text: line };
}

/** Assembles lines per stream from frames (or raw TTY bytes), decoding UTF-8 across chunk boundaries. */
export class LogLineAssembler {
  private readonly decoders = new Map<LogStream, InstanceType<typeof TextDecoder>>();
  private readonly partial = new Map<LogStream, string>();

  push(stream: LogStream, data: Uint8Array): LogLine[] {
    let decoder = this.decoders.get(stream);
    if (!decoder) this.decoders.set(stream, (decoder = new TextDecoder()));
    const text = (this.partial.get(stream) ?? '') + decoder.decode(data, { stream: true });
    const parts = text.split('\n');
    this.partial.set(stream, parts.pop()!);
    return parts.map((raw) => ({ stream, ...splitTimestamp(raw.endsWith('\r') ? raw.slice(0, -1) : raw) }));
  }

  /** The unterminated last lines, when the stream ends. */
  flush(): LogLine[] {
    const out: LogLine[] = [];
    for (const [stream, rest] of this.partial) if (rest) out.push({ stream, ...splitTimestamp(rest) });
    this.partial.clear();
    return out;
  }
}
