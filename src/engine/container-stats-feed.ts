// Berth's all-containers stats stream (GET /berth/stats): one sampling of every running container per tick, from the
// shared sampler, made into one line that every client of the stream receives (a dashboard's one stream per page).
import { errorMessage } from '../errdefs';
import type { ContainerRecord } from './container-record';
import type { StatsJSON } from './container-stats';
import { statsFigures, type BerthStatsEntry, type BerthStatsLine } from '../wire/container-stats';

/** Where the samples come from: ContainerStats.current (the sampler `docker stats` and /metrics use). */
export interface StatsSource {
  current(maxAgeMs: number): Promise<{ container: ContainerRecord; sample: StatsJSON }[]>;
}

/** Timers, replaceable in unit tests. */
export interface FeedClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: FeedClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** Docker's zeroed sample (a container that stopped between the listing and its sample) has this read time. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

interface Subscriber {
  intervalMs: number;
  /** When this subscriber was last sent a line (0: never). */
  lastSent: number;
  send(line: string): void;
}

/**
 * While anyone listens, one loop takes a sampling of all running containers every `period` (the shortest interval a
 * subscriber asked for) and sends each subscriber the line when its own interval has passed. CPU % is over the time
 * between this sampling and the previous one (docker stats' is over its collector's second); a container's first
 * line has 0, as docker stats' first row has.
 */
export class ContainerStatsFeed {
  private readonly subscribers = new Set<Subscriber>();
  private timer: unknown;
  private running = false;
  private period = 0;
  /** When the last tick started. */
  private lastTick = 0;
  /** The previous sampling of each container: the base of its CPU %. */
  private previous = new Map<string, { sample: StatsJSON; cpuPercent: number }>();
  /** The last line, sent at once to a subscriber who arrives while the loop runs. */
  private lastLine: string | undefined;

  constructor(private readonly source: StatsSource, private readonly log?: { error(msg: string): void }, private readonly clock: FeedClock = realClock) {}

  /** Sends `send` a line every `intervalMs` until the returned function is called. */
  subscribe(intervalMs: number, send: (line: string) => void): () => void {
    const sub: Subscriber = { intervalMs, lastSent: 0, send };
    this.subscribers.add(sub);
    if (this.lastLine !== undefined) this.deliver(sub, this.lastLine, this.clock.now());
    const shortest = Math.min(...[...this.subscribers].map((s) => s.intervalMs));
    if (!this.running) {
      this.period = shortest;
      this.running = true;
      this.timer = this.clock.setTimeout(() => void this.tick(), 0);
    } else if (shortest < this.period) {
      // The loop speeds up at once (a pending tick is brought forward); a slower subscriber does not slow it down
      // until the faster ones go.
      this.period = shortest;
      if (this.timer !== undefined) {
        this.clock.clearTimeout(this.timer);
        this.timer = this.clock.setTimeout(() => void this.tick(), Math.max(0, this.period - (this.clock.now() - this.lastTick)));
      }
    }
    return () => this.unsubscribe(sub);
  }

  /** How many clients listen (what a test, or a log line, can look at). */
  get listeners(): number { return this.subscribers.size; }

  private unsubscribe(sub: Subscriber): void {
    if (!this.subscribers.delete(sub)) return;
    if (this.subscribers.size === 0) {
      // A tick in flight ends the loop itself (its `finally`); a pending one is called off here.
      if (this.timer !== undefined) {
        this.clock.clearTimeout(this.timer);
        this.stop();
      }
      return;
    }
    this.period = Math.min(...[...this.subscribers].map((s) => s.intervalMs));
  }

  /** No one listens: the loop ends and forgets its bases (a later client starts afresh). */
  private stop(): void {
    this.timer = undefined;
    this.running = false;
    this.previous = new Map();
    this.lastLine = undefined;
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    const started = this.clock.now();
    this.lastTick = started;
    try {
      this.lastLine = JSON.stringify(await this.sampling()) + '\n';
      const now = this.clock.now();
      for (const sub of [...this.subscribers]) {
        // Half a period of slack: a 2 s subscriber on a 1 s loop gets every other line, not every third.
        if (now - sub.lastSent >= sub.intervalMs - this.period / 2) this.deliver(sub, this.lastLine, now);
      }
    } catch (e) {
      this.log?.error(`berth stats: ${errorMessage(e)} (this tick's line is skipped)`);
    } finally {
      if (this.subscribers.size === 0) this.stop();
      else this.timer = this.clock.setTimeout(() => void this.tick(), Math.max(0, this.period - (this.clock.now() - started)));
    }
  }

  private deliver(sub: Subscriber, line: string, now: number): void {
    sub.lastSent = now;
    try {
      sub.send(line);
    } catch (e) {
      // One client's broken response is that client's: the others still get the line.
      this.log?.error(`berth stats: a client's write failed: ${errorMessage(e)}`);
    }
  }

  /**
   * The line of one tick. A sample younger than half a period is used as it is (a `docker stats` stream's, a
   * scrape's): its read time is still later than the previous tick's sample, so CPU % always has a time span.
   */
  private async sampling(): Promise<BerthStatsLine> {
    const taken = await this.source.current(this.period / 2);
    const previous = this.previous;
    this.previous = new Map();
    const containers: BerthStatsEntry[] = [];
    for (const { container, sample } of taken) {
      if (sample.read === ZERO_TIME) continue;
      const prev = previous.get(container.id);
      const figures = statsFigures({ ...sample, precpu_stats: (prev?.sample ?? sample).cpu_stats });
      // The very sample of last tick (no sampler ran since): no time span, so last tick's CPU % stands.
      if (prev && prev.sample.read === sample.read) figures.CPUPercent = prev.cpuPercent;
      this.previous.set(container.id, { sample, cpuPercent: figures.CPUPercent });
      containers.push({ Id: container.id, Name: container.name, ...figures });
    }
    return { time: new Date(this.clock.now()).toISOString(), containers };
  }
}
