// Follows one container's local log (conmon's, which `docker logs` reads) and forwards its lines to the container's
// log driver. Never in the container's write path: a destination that is down or slow only fills a bounded buffer;
// past the bound the oldest lines are dropped and counted. Where it got to is kept on disk, so a restarted berthd
// resumes there instead of sending the log again.
import * as fsp from 'node:fs/promises';
import { errorMessage } from '../errdefs';
import { writeFileAtomic } from '../store/atomic';
import { describeEndpoint, type LogDialer, type LogLink } from '../network/log-links';
import { Fifo } from '../util/fifo';
import { readFrom, waitForChange } from './logs';
import type { LogDestination, LogLine } from './log-destinations';

/** What `docker inspect` shows of a container's shipping, under State.LogShipping. */
export interface LogShippingStatus {
  Driver: string;
  Destination: string;
  Connected: boolean;
  /** Lines the destination has had (sent, and the connection still up a moment later). */
  Delivered: number;
  /** Lines given up on: the buffer was full while the destination was down or slower than the container. */
  Dropped: number;
  /** Lines held for the destination now. */
  Buffered: number;
  LastError: string;
}

/** The shipper's position on disk: the log file (inode) and the offset after the last line delivered or dropped. */
interface SavedState { ino: number; offset: number; delivered: number; dropped: number }

export interface LogShipperOptions {
  id: string;
  driver: string;
  logPath: string;
  statePath: string;
  destination: LogDestination;
  dial: LogDialer;
  /** The buffer's bound in bytes of line text. */
  bufferBytes: number;
  /** A bound in lines too (fluentd-buffer-limit). */
  bufferLines?: number;
  running(): boolean;
  /** Settles when the container is not running (at once if it is not). */
  stopped(): Promise<void>;
  log: { info(msg: string): void; error(msg: string): void };
  /**
   * How long a sent line waits before it counts as delivered: a receiver that dies takes what it had not read with
   * it, and a datagram's refusal comes back with the next send, so the lines of this last moment are sent again
   * when the connection breaks (at least once: a few may arrive twice, none is lost unseen).
   */
  confirmMs?: number;
  backoffMs?: { min: number; max: number };
}

interface Pending { line: LogLine; bytes: number; ino: number; end: number; sentAt?: number }

/** Lines longer than this are cut into pieces, as Docker's 16 KiB messages, but larger: one message per piece. */
const MAX_LINE = 256 * 1024;
const BATCH_LINES = 512;
const BATCH_BYTES = 256 * 1024;
const SAVE_EVERY_MS = 1000;
const SLOW_DROPS_EVERY_MS = 5000;
const RETIRE_MS = 5000;

export class LogShipper {
  private readonly queue = new Fifo<Pending>();
  /** Sent, not yet counted delivered (the confirmation window), oldest first. */
  private readonly sent = new Fifo<Pending>();
  private queuedBytes = 0;
  private delivered = 0;
  private dropped = 0;
  private position = { ino: -1, offset: 0 };
  private link?: LogLink;
  private linkSince = 0;
  private lastError = '';
  /** Lines dropped since the destination went down, for the daemon log's note when it returns. */
  private outage?: { since: number; dropped: number; said: boolean };
  private slowDrops = 0;
  private slowDropsSaid = 0;
  private readerIdle = false;
  private retiring = false;
  private closed = false;
  private wakeSender = () => {};
  private wakeReader = () => {};
  private readonly abort = new AbortController();
  private savedJson = '';
  private saveTimer?: NodeJS.Timeout;
  private readonly confirmMs: number;
  private readonly backoff: { min: number; max: number };
  private loops?: Promise<unknown>;

  constructor(private readonly o: LogShipperOptions) {
    this.confirmMs = o.confirmMs ?? 1000;
    this.backoff = o.backoffMs ?? { min: 200, max: 5000 };
  }

  /** Loads the saved position and starts following the log. */
  async start(): Promise<void> {
    const saved = await fsp.readFile(this.o.statePath, 'utf8').then((t) => JSON.parse(t) as SavedState).catch(() => undefined);
    if (saved) {
      this.position = { ino: saved.ino, offset: saved.offset };
      this.delivered = saved.delivered;
      this.dropped = saved.dropped;
      this.savedJson = JSON.stringify(saved);
    }
    this.saveTimer = setInterval(() => void this.save(), SAVE_EVERY_MS);
    this.saveTimer.unref();
    this.loops = Promise.all([this.readLoop(), this.sendLoop()]).catch((e) => this.o.log.error(`log shipping for ${this.o.id}: ${errorMessage(e)}`));
  }

  /** The container runs again: follow its log again. */
  resume(): void {
    this.wakeReader();
  }

  status(): LogShippingStatus {
    return {
      Driver: this.o.driver, Destination: describeEndpoint(this.o.destination.endpoint), Connected: !!this.link,
      Delivered: this.delivered, Dropped: this.dropped, Buffered: this.queue.length + this.sent.length, LastError: this.lastError,
    };
  }

  /**
   * The container is being removed (`docker rm`, `--rm`): what the log holds is read one last time and sent for up
   * to `ms` (a container removed at its exit still gets its last lines out), then the shipper stops for good, its
   * position going with the container's directory.
   */
  async retire(ms = RETIRE_MS): Promise<void> {
    this.retiring = true;
    this.wakeReader();
    const deadline = Date.now() + ms;
    while (!this.closed && Date.now() < deadline && (!this.readerIdle || this.queue.length)) await sleep(20);
    await this.close(false);
  }

  /** Stops and saves the position (what is still buffered is read again from the log by the next berthd). */
  async close(save = true): Promise<void> {
    this.closed = true;
    this.abort.abort();
    this.wakeReader();
    this.wakeSender();
    clearInterval(this.saveTimer);
    this.link?.close();
    this.link = undefined;
    await this.loops;
    if (save) await this.save();
  }

  /** Settles once everything read so far has been delivered or dropped (tests, bench). */
  async idle(): Promise<void> {
    while (!this.closed && (this.queue.length || this.sent.length || !this.readerIdle)) await sleep(20);
  }

  // ---------- reading the local log ----------

  private async readLoop(): Promise<void> {
    let { ino, offset } = this.position;
    const partial: Partial<Record<LogLine['stream'], LogLine>> = {};
    while (!this.closed) {
      // Seen before the read: a container that stopped has written all it will, so this read drains its log.
      const wasStopped = this.retiring || !this.o.running();
      const stopped = this.o.stopped();
      const r = await readFrom(this.o.logPath, offset, ino);
      if (r.rotated && offset > 0) this.o.log.info(`log shipping for ${this.o.id}: the log was started afresh (size cap); following the new one`);
      offset = r.offset;
      ino = r.ino;
      for (const e of r.entries) {
        const end = e.end ?? r.offset;
        // conmon cuts a long line into partial entries, and the other stream's lines may come between them: each
        // stream's pieces are joined on their own, into the one line the container wrote.
        const prev = partial[e.stream];
        const text = e.data.toString('utf8');
        const line: LogLine = prev ? { ...prev, text: prev.text + text } : { timeNano: e.timeNano, stream: e.stream, text };
        if (!e.partial || line.text.length >= MAX_LINE) {
          this.enqueue({ ...line, text: line.text.replace(/\n$/, '') }, ino, end);
          partial[e.stream] = undefined;
        } else partial[e.stream] = line;
      }
      if (r.entries.length) continue;
      if (wasStopped) {
        for (const stream of ['stdout', 'stderr'] as const) {
          const rest = partial[stream];
          if (rest) this.enqueue(rest, ino, offset);
          partial[stream] = undefined;
        }
        this.readerIdle = true;
        this.wakeSender();
        if (this.retiring) return;
        // Nothing more comes until the container starts again (resume) or the shipper closes.
        await new Promise<void>((resolve) => { this.wakeReader = resolve; });
        this.readerIdle = false;
        continue;
      }
      await waitForChange(this.o.logPath, { stopped, signal: this.abort.signal });
    }
  }

  private enqueue(line: LogLine, ino: number, end: number): void {
    const p: Pending = { line, bytes: line.text.length + 64, ino, end };
    this.queue.push(p);
    this.queuedBytes += p.bytes;
    this.enforceBound();
    this.wakeSender();
  }

  /** Drops the oldest lines while the buffer is over its bound, counting them. */
  private enforceBound(): void {
    const overLines = () => this.o.bufferLines !== undefined && this.o.bufferLines > 0 && this.queue.length + this.sent.length > this.o.bufferLines;
    let n = 0;
    while (this.queue.length > 1 && (this.queuedBytes > this.o.bufferBytes || overLines())) {
      const p = this.queue.shift()!;
      this.queuedBytes -= p.bytes;
      this.dropped++;
      n++;
      if (!this.sent.length) this.position = { ino: p.ino, offset: p.end };
    }
    if (!n) return;
    if (!this.link) {
      this.outage ??= { since: Date.now(), dropped: 0, said: false };
      if (this.outage.dropped === 0) this.o.log.error(`log shipping for ${this.o.id}: buffer full (${this.o.bufferBytes} bytes) while ${this.describe()} is not connected: dropping the oldest lines`);
      this.outage.dropped += n;
    } else {
      // The destination is up but slower than the container: said once every few seconds, with the count.
      this.slowDrops += n;
      if (Date.now() - this.slowDropsSaid < SLOW_DROPS_EVERY_MS) return;
      this.o.log.error(`log shipping for ${this.o.id}: ${this.slowDrops} lines dropped: ${this.describe()} takes them slower than the container writes`);
      this.slowDrops = 0;
      this.slowDropsSaid = Date.now();
    }
  }

  // ---------- sending ----------

  private async sendLoop(): Promise<void> {
    let backoff = this.backoff.min;
    while (!this.closed) {
      this.confirm();
      if (!this.queue.length) {
        if (this.readerIdle && !this.sent.length && this.link) {
          // All delivered and the container stopped: no connection is held for a container that writes nothing.
          this.link.close();
          this.link = undefined;
        }
        await this.waitForWork(this.sent.length ? this.confirmMs : undefined);
        continue;
      }
      if (!this.link) {
        try {
          const link = await this.o.dial(this.o.destination.endpoint);
          if (this.closed) { link.close(); return; }
          this.link = link;
          this.linkSince = Date.now();
          void link.broken.then((err) => { if (this.link === link) this.broke(err); });
        } catch (err) {
          this.noteDown(err);
          await this.waitForWork(backoff, true);
          backoff = Math.min(backoff * 2, this.backoff.max);
          continue;
        }
      }
      // A link that held for a while is a receiver that is back: the next failure starts the backoff afresh.
      if (Date.now() - this.linkSince > this.confirmMs) backoff = this.backoff.min;
      const batch: Pending[] = [];
      let bytes = 0;
      while (this.queue.length && batch.length < BATCH_LINES && bytes < BATCH_BYTES) {
        const p = this.queue.shift()!;
        this.queuedBytes -= p.bytes;
        bytes += p.bytes;
        batch.push(p);
      }
      const link = this.link;
      try {
        await link.send(batch.map((p) => this.o.destination.encode(p.line)));
        const now = Date.now();
        for (const p of batch) p.sentAt = now;
        this.sent.push(...batch);
        if (this.outage && this.link === link) this.noteBack();
      } catch (err) {
        this.queue.unshift(batch);
        this.queuedBytes += bytes;
        if (this.link === link) this.broke(err);
        await this.waitForWork(backoff, true);
        backoff = Math.min(backoff * 2, this.backoff.max);
      }
    }
  }

  /** Lines sent long enough ago on a link still up count as delivered; the position moves past them. */
  private confirm(): void {
    const cutoff = Date.now() - this.confirmMs;
    let n = 0;
    while (this.sent.length && (this.sent.peek()!.sentAt ?? 0) <= cutoff) {
      const p = this.sent.shift()!;
      this.position = { ino: p.ino, offset: p.end };
      n++;
    }
    this.delivered += n;
  }

  /** The link broke: what was sent in the last moment goes back to the front of the buffer, to be sent again. */
  private broke(err: unknown): void {
    this.link?.close();
    this.link = undefined;
    if (this.sent.length) {
      const again = this.sent.drain();
      for (const p of again) { p.sentAt = undefined; this.queuedBytes += p.bytes; }
      this.queue.unshift(again);
    }
    this.noteDown(err);
    this.enforceBound();
    this.wakeSender();
  }

  private noteDown(err: unknown): void {
    this.lastError = errorMessage(err);
    this.outage ??= { since: Date.now(), dropped: 0, said: false };
    if (this.outage.said) return;
    this.outage.said = true;
    this.o.log.error(`log shipping for ${this.o.id}: ${this.describe()}: ${this.lastError}; buffering up to ${this.o.bufferBytes} bytes and retrying`);
  }

  private noteBack(): void {
    const o = this.outage!;
    this.outage = undefined;
    this.o.log.info(`log shipping for ${this.o.id}: ${this.describe()} reachable again after ${Date.now() - o.since} ms; ${o.dropped} lines dropped meanwhile`);
  }

  private describe(): string {
    return `${this.o.driver} ${describeEndpoint(this.o.destination.endpoint)}`;
  }

  /** Waits for a line to send, or `ms` (a retry's backoff, a confirmation due); `timerOnly` ignores new lines. */
  private waitForWork(ms?: number, timerOnly = false): Promise<void> {
    return new Promise((resolve) => {
      const done = () => { clearTimeout(timer); this.wakeSender = () => {}; resolve(); };
      const timer = ms === undefined ? undefined : setTimeout(done, ms);
      this.wakeSender = timerOnly ? () => { if (this.closed) done(); } : done;
    });
  }

  private async save(): Promise<void> {
    const state: SavedState = { ...this.position, delivered: this.delivered, dropped: this.dropped };
    const json = JSON.stringify(state);
    if (json === this.savedJson) return;
    this.savedJson = json;
    // Not fsynced: a power loss costs a resend of at most a second of lines, never a loss.
    await writeFileAtomic(this.o.statePath, json, { durable: false }).catch((e) => {
      this.savedJson = '';
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.o.log.error(`log shipping for ${this.o.id}: saving its position: ${errorMessage(e)}`);
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
