// Reads and follows a container's log, written by conmon in the k8s-file format ("<RFC3339Nano> <stream> <P|F> <text>").
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';

export interface LogEntry {
  /** The timestamp text as conmon wrote it (RFC3339 with nanoseconds). */
  time: string;
  /** Nanoseconds since the epoch, for --since/--until. */
  timeNano: bigint;
  stream: 'stdout' | 'stderr';
  /** The bytes of the line, with the newline unless the line was partial. */
  data: Buffer;
  /** Where the line ends in the file (read from a file; the log shipper's position). */
  end?: number;
  /** Whether conmon marked the line partial (more of it follows in the next entry). */
  partial?: boolean;
}

/** The last whole second parsed: a log's lines come many to a second (the shipper reads thousands a second). */
let lastSecond = { text: '', secs: 0n };

export function parseTimeNano(ts: string): bigint {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(ts);
  if (!m) return 0n;
  const whole = `${m[1]}${m[3]}`;
  if (whole !== lastSecond.text) lastSecond = { text: whole, secs: BigInt(Math.floor(Date.parse(whole) / 1000)) };
  const secs = lastSecond.secs;
  const frac = BigInt(((m[2] ?? '') + '000000000').slice(0, 9));
  return secs * 1_000_000_000n + frac;
}

/** Docker prints log timestamps as RFC3339Nano in UTC with trailing zeros trimmed. */
export function dockerTimestamp(nano: bigint): string {
  const secs = nano / 1_000_000_000n;
  const frac = (nano % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return new Date(Number(secs) * 1000).toISOString().replace(/\.\d{3}Z$/, frac ? `.${frac}Z` : 'Z');
}

export function parseLogLine(line: Buffer): LogEntry | undefined {
  const s1 = line.indexOf(0x20);
  const s2 = s1 < 0 ? -1 : line.indexOf(0x20, s1 + 1);
  const s3 = s2 < 0 ? -1 : line.indexOf(0x20, s2 + 1);
  if (s3 < 0) return undefined;
  const time = line.subarray(0, s1).toString();
  const stream = line.subarray(s1 + 1, s2).toString();
  const tag = line.subarray(s2 + 1, s3).toString();
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const text = line.subarray(s3 + 1);
  const full = tag.split(',').includes('F');
  return { time, timeNano: parseTimeNano(time), stream, data: full ? Buffer.concat([text, Buffer.from('\n')]) : Buffer.from(text), partial: !full };
}

/** A point in a log file: its byte offset in the file of that inode (-1: the file did not exist). */
export interface LogPosition { offset: number; ino: number }

/** The current end of a log, where an attach made now begins (the start of a log not yet written). */
export async function logEnd(path: string): Promise<LogPosition> {
  const st = await fsp.stat(path).catch(() => undefined);
  return st ? { offset: st.size, ino: st.ino } : { offset: 0, ino: -1 };
}

export interface ReadOptions {
  follow: boolean;
  /** Start here (attach: the end of the log when the attach was made) instead of at the beginning. */
  from?: LogPosition;
  sinceNano?: bigint;
  untilNano?: bigint;
  /** Only the last N entries of what exists now; undefined for all. */
  tail?: number;
  /** Resolves when following should stop (the container exited); the rest of the file is drained first. */
  stopped?: Promise<void>;
  signal?: AbortSignal;
}

/** Yields log entries; with `follow`, waits for more until `stopped` resolves or `signal` aborts. */
export async function* readLog(path: string, o: ReadOptions): AsyncGenerator<LogEntry> {
  let offset = 0;
  let ino = -1;
  if (o.from) {
    offset = o.from.offset;
    ino = o.from.ino;
  } else if (o.tail !== undefined) {
    const all: LogEntry[] = [];
    const r = await readFrom(path, 0);
    for (const e of r.entries) all.push(e);
    offset = r.offset;
    ino = r.ino;
    const start = o.tail <= 0 ? all.length : Math.max(0, all.length - o.tail);
    for (const e of all.slice(start)) if (inWindow(e, o)) yield e;
    if (!o.follow) return;
  }
  let stoppedFlag = false;
  o.stopped?.then(() => { stoppedFlag = true; }, () => { stoppedFlag = true; });
  for (;;) {
    const r = await readFrom(path, offset, ino);
    offset = r.offset;
    ino = r.ino;
    for (const e of r.entries) {
      if (o.untilNano !== undefined && e.timeNano > o.untilNano) return;
      if (inWindow(e, o)) yield e;
    }
    if (!o.follow || o.signal?.aborted) return;
    if (stoppedFlag) {
      // One more read after the stop, for what conmon wrote just before the exit file.
      const last = await readFrom(path, offset, ino);
      for (const e of last.entries) if (inWindow(e, o)) yield e;
      return;
    }
    await waitForChange(path, o);
  }
}

function inWindow(e: LogEntry, o: ReadOptions): boolean {
  if (o.sinceNano !== undefined && e.timeNano < o.sinceNano) return false;
  if (o.untilNano !== undefined && e.timeNano > o.untilNano) return false;
  return true;
}

/**
 * Reads the complete lines after `offset` (each entry with its end offset); a rotated (replaced or truncated) file is
 * read from its start, which `rotated` says.
 */
export async function readFrom(path: string, offset: number, ino = -1): Promise<{ entries: LogEntry[]; offset: number; ino: number; rotated?: boolean }> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, 'r');
  } catch {
    return { entries: [], offset, ino };
  }
  try {
    const st = await fh.stat();
    const rotated = (ino !== -1 && st.ino !== ino) || st.size < offset;
    if (rotated) offset = 0;
    if (st.size === offset) return { entries: [], offset, ino: st.ino, rotated };
    const entries: LogEntry[] = [];
    const chunkSize = 1 << 20;
    let carry = Buffer.alloc(0);
    let pos = offset;
    let consumed = offset;
    while (pos < st.size) {
      const buf = Buffer.allocUnsafe(Math.min(chunkSize, st.size - pos));
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      let data = carry.length ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
      let start = 0;
      for (let nl = data.indexOf(10); nl >= 0; nl = data.indexOf(10, start)) {
        const entry = parseLogLine(data.subarray(start, nl));
        consumed += nl - start + 1;
        if (entry) {
          entry.end = consumed;
          entries.push(entry);
        }
        start = nl + 1;
      }
      carry = Buffer.from(data.subarray(start));
      data = Buffer.alloc(0);
    }
    return { entries, offset: consumed, ino: st.ino, rotated };
  } finally {
    await fh.close();
  }
}

/** Resolves when the log may have grown (inotify), after 250 ms at most, or when following should stop. */
export function waitForChange(path: string, o: Pick<ReadOptions, 'signal' | 'stopped'>): Promise<void> {
  return new Promise((resolve) => {
    let watcher: fs.FSWatcher | undefined;
    const done = () => {
      clearTimeout(timer);
      watcher?.close();
      o.signal?.removeEventListener('abort', done);
      resolve();
    };
    // inotify wakes us at once; the timer covers a file replaced by rotation or not yet created.
    const timer = setTimeout(done, 250);
    try {
      watcher = fs.watch(path, { persistent: false }, done);
      watcher.on('error', done);
    } catch { /* file missing: rely on the timer */ }
    o.signal?.addEventListener('abort', done);
    o.stopped?.then(done, done);
  });
}
