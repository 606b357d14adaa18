// /berth/stats' feed over a fake sampler and a manual clock: one sampling per tick for every client, CPU % between
// ticks as docker stats computes it, each client at its own interval, the loop gone with its last client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContainerStatsFeed, type FeedClock, type StatsSource } from '../../src/engine/container-stats-feed';
import type { ContainerRecord } from '../../src/engine/container-record';
import type { StatsJSON } from '../../src/engine/container-stats';
import type { BerthStatsLine } from '../../src/wire/container-stats';

/** Timers that fire only when the test advances the time. */
class ManualClock implements FeedClock {
  private t = 1_000_000;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private nextId = 1;
  now(): number { return this.t; }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(id: unknown): void { this.timers = this.timers.filter((x) => x.id !== id); }
  get pending(): number { return this.timers.length; }
  /** Moves the time on, firing the timers due (and letting the ticks they start finish) in order. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      const due = this.timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
    }
    this.t = end;
    await settle();
  }
}

const settle = () => new Promise<void>((r) => setImmediate(r));

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** A sampler whose containers' CPU counters move by a set share of the host's CPU time between calls. */
class FakeSampler implements StatsSource {
  calls: number[] = [];
  containers: { id: string; name: string; share: number; stopped?: boolean }[] = [];
  /** When true, the next call gives the very samples of the last one (a sample reused, no sampler ran). */
  repeat = false;
  private last: { container: ContainerRecord; sample: StatsJSON }[] = [];
  private system = 0;
  private usage = new Map<string, number>();
  private reads = 0;

  constructor(private readonly clock: ManualClock) {}

  async current(maxAgeMs: number): Promise<{ container: ContainerRecord; sample: StatsJSON }[]> {
    this.calls.push(maxAgeMs);
    if (this.repeat) return this.last;
    this.system += 2e9; // two CPUs' worth of a second
    const read = new Date(this.clock.now() + this.reads++).toISOString();
    this.last = this.containers.map((c) => {
      const used = (this.usage.get(c.id) ?? 0) + c.share * 1e9;
      this.usage.set(c.id, used);
      const sample = {
        read: c.stopped ? ZERO_TIME : read, name: `/${c.name}`, id: c.id,
        cpu_stats: { cpu_usage: { total_usage: used, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: this.system, online_cpus: 2, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
        memory_stats: { usage: 10_000, limit: 1_000_000, stats: { inactive_file: 4_000 } },
        networks: { eth0: { rx_bytes: 5, tx_bytes: 7 } },
        blkio_stats: { io_service_bytes_recursive: [{ major: 0, minor: 0, op: 'read', value: 11 }, { major: 0, minor: 0, op: 'write', value: 13 }] },
        pids_stats: { current: 3 },
      } as unknown as StatsJSON;
      return { container: { id: c.id, name: c.name } as ContainerRecord, sample };
    });
    return this.last;
  }
}

function setup() {
  const clock = new ManualClock();
  const sampler = new FakeSampler(clock);
  const errors: string[] = [];
  const feed = new ContainerStatsFeed(sampler, { error: (m) => errors.push(m) }, clock);
  return { clock, sampler, feed, errors };
}

function collector(): { lines: BerthStatsLine[]; send: (line: string) => void } {
  const lines: BerthStatsLine[] = [];
  return { lines, send: (line) => { assert.ok(line.endsWith('\n'), 'newline-delimited'); lines.push(JSON.parse(line) as BerthStatsLine); } };
}

test('every client shares one sampling per tick; the figures are docker stats\' (CPU % from the previous tick, memory without the page cache)', async () => {
  const { clock, sampler, feed } = setup();
  sampler.containers = [{ id: 'a'.repeat(64), name: 'web', share: 0.5 }, { id: 'b'.repeat(64), name: 'db', share: 0 }];
  const clients = [collector(), collector(), collector()];
  const leaves = clients.map((c) => feed.subscribe(1000, c.send));
  await clock.advance(0);
  await clock.advance(1000);
  await clock.advance(1000);
  assert.equal(sampler.calls.length, 3, 'three ticks, three samplings, whatever the number of clients');
  assert.deepEqual(sampler.calls, [500, 500, 500], 'a sample younger than half the period is reused');
  for (const c of clients) assert.equal(c.lines.length, 3);
  const [first, , third] = clients[0]!.lines;
  assert.equal(first!.containers[0]!.CPUPercent, 0, 'a container\'s first line has no CPU span');
  // 0.5 s of CPU out of 2 s of the host's two CPUs, times 2 CPUs: docker stats' 50 %.
  assert.deepEqual(third!.containers[0], { Id: 'a'.repeat(64), Name: 'web', CPUPercent: 50, MemoryUsage: 6_000, MemoryLimit: 1_000_000, NetRx: 5, NetTx: 7, BlockRead: 11, BlockWrite: 13, Pids: 3 });
  assert.equal(third!.containers[1]!.CPUPercent, 0);
  assert.equal(third!.time, new Date(clock.now()).toISOString());
  assert.deepEqual(clients[1]!.lines, clients[0]!.lines, 'the same line for everyone');
  leaves.forEach((l) => l());
});

test('a reused sample keeps the last CPU %; a container that stopped between listing and sample is left out', async () => {
  const { clock, sampler, feed } = setup();
  sampler.containers = [{ id: 'a', name: 'web', share: 1 }, { id: 'c', name: 'gone', share: 0, stopped: true }];
  const c = collector();
  const leave = feed.subscribe(1000, c.send);
  await clock.advance(1000);
  sampler.repeat = true;
  await clock.advance(1000);
  assert.deepEqual(c.lines.map((l) => l.containers.map((x) => [x.Name, x.CPUPercent])), [[['web', 0]], [['web', 100]], [['web', 100]]]);
  leave();
});

test('each client at its own interval on one loop at the shortest; the loop slows again when the fast client leaves', async () => {
  const { clock, sampler, feed } = setup();
  sampler.containers = [{ id: 'a', name: 'web', share: 0.1 }];
  const slow = collector();
  const fast = collector();
  const leaveSlow = feed.subscribe(2000, slow.send);
  await clock.advance(0);
  const leaveFast = feed.subscribe(500, fast.send);
  assert.equal(fast.lines.length, 1, 'a client joining a running loop gets its last line at once');
  await clock.advance(2000);
  assert.equal(slow.lines.length, 2, 'the 2 s client: its first line and one 2 s later');
  assert.ok(fast.lines.length >= 4, `the 0.5 s client: a line each 0.5 s (got ${fast.lines.length})`);
  assert.ok(sampler.calls.includes(250), 'the loop samples at the shortest interval');
  leaveFast();
  const before = sampler.calls.length;
  // The tick already planned half a second on comes first; then one each 2 s.
  await clock.advance(4500);
  assert.equal(sampler.calls.length - before, 3, 'back to the 2 s period');
  assert.equal(slow.lines.length, 4);
  leaveSlow();
});

test('the loop stops with its last client and starts afresh with the next; one client\'s failing write is its own', async () => {
  const { clock, sampler, feed, errors } = setup();
  sampler.containers = [{ id: 'a', name: 'web', share: 0.1 }];
  const ok = collector();
  const leaveBroken = feed.subscribe(1000, () => { throw new Error('socket gone'); });
  const leaveOk = feed.subscribe(1000, ok.send);
  await clock.advance(1000);
  assert.equal(ok.lines.length, 2);
  assert.match(errors.join('\n'), /socket gone/);
  leaveBroken();
  leaveOk();
  assert.equal(feed.listeners, 0);
  assert.equal(clock.pending, 0, 'no timer left');
  const calls = sampler.calls.length;
  await clock.advance(5000);
  assert.equal(sampler.calls.length, calls, 'nothing samples when no one listens');
  const next = collector();
  const leave = feed.subscribe(1000, next.send);
  await clock.advance(0);
  assert.equal(next.lines.length, 1);
  assert.equal(next.lines[0]!.containers[0]!.CPUPercent, 0, 'no stale base from the earlier loop');
  leave();
});

test('a client that leaves while a tick samples does not leave a second loop behind', async () => {
  const { clock, sampler, feed } = setup();
  sampler.containers = [{ id: 'a', name: 'web', share: 0.1 }];
  let release!: () => void;
  const slowCurrent = sampler.current.bind(sampler);
  sampler.current = async (age) => { await new Promise<void>((r) => { release = r; }); return slowCurrent(age); };
  const leave = feed.subscribe(1000, () => undefined);
  await clock.advance(0); // the tick is in flight, waiting on the sampler
  leave();
  const c = collector();
  const leave2 = feed.subscribe(1000, c.send);
  release();
  await clock.advance(0);
  sampler.current = slowCurrent;
  await clock.advance(3000);
  assert.equal(c.lines.length, 4, 'one line per second: one loop');
  assert.equal(clock.pending, 1);
  leave2();
});
