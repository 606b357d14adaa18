// `docker stats` and `docker top`: a running container's cgroup figures in Docker's stats JSON, and ps filtered to its cgroup.
import { cgroupPathOf, hasProcess, type ContainerRecord } from './container-record';
import type { ContainerService } from './containers';
import { NotFoundError, StateError, errorMessage } from '../errdefs';
import type { CgroupDriver, CgroupStats } from '../host/cgroups';
import { hostMemory, netDev, onlineCpus, parsePsOutput, runPs, systemCpuNanos, type NetDevCounters } from '../host/procfs';

const ZERO_TIME = '0001-01-01T00:00:00Z';

interface CpuStats {
  cpu_usage: { total_usage: number; usage_in_kernelmode: number; usage_in_usermode: number };
  system_cpu_usage?: number;
  online_cpus?: number;
  throttling_data: { periods: number; throttled_periods: number; throttled_time: number };
}

export interface StatsJSON {
  read: string;
  preread: string;
  pids_stats: { current?: number; limit?: number };
  blkio_stats: { io_service_bytes_recursive: { major: number; minor: number; op: string; value: number }[] | null };
  num_procs: number;
  storage_stats: Record<string, never>;
  cpu_stats: CpuStats;
  precpu_stats: CpuStats;
  memory_stats: { usage?: number; limit?: number; stats?: Record<string, number> };
  name: string;
  id: string;
  networks?: Record<string, NetDevCounters>;
}

const emptyCpu = (): CpuStats => ({ cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } });

/** How long one read of /proc/stat serves every sample: moby's collector also reads it once per tick for all. */
const SYSTEM_CPU_TTL_MS = 100;

/** Containers the collector samples at once: each sample reads several cgroup files. */
const SAMPLE_CONCURRENCY = 4;

/**
 * A one-off stats request (stream=false) needs a base for its CPU figures: a sample of the same container taken at
 * least BASE_MIN_AGE_MS and at most BASE_MAX_AGE_MS ago serves as it, whoever took it (a stream's tick, an earlier
 * request); so `docker stats --no-stream` of 1,000 containers, asked again, answers from one read each and no wait.
 */
const BASE_MIN_AGE_MS = 100;
const BASE_MAX_AGE_MS = 5000;

/**
 * Without such a base, the request takes one and waits this long before its sample (dockerd waits for its collector's
 * next tick, about a second): the host's CPU time (/proc/stat, in 10 ms ticks on 2 CPUs and more) moves enough in a
 * quarter second for a percentage, and `docker stats --no-stream` waits for the slowest of its requests.
 */
const COLD_BASE_WINDOW_MS = 250;

/** One stream's mailbox: the latest sample (or the error of its tick) and who waits for it. */
interface Subscriber { latest?: StatsJSON | Error; wake?: () => void }

export class ContainerStats {
  private systemCpu?: { at: number; value: Promise<number> };
  private readonly watched = new Map<string, { c: ContainerRecord; subscribers: Set<Subscriber> }>();
  private ticking?: NodeJS.Timeout;
  private inTick = false;
  /** Every sample, streamed or not, goes through it: the host reads in flight stay bounded. */
  private readonly limiter = new Limiter(SAMPLE_CONCURRENCY);
  /**
   * The latest sample of each container with the time it was taken, oldest first (re-inserted on update), so the
   * stale ones are dropped from the front as new ones come: the bases of one-off requests.
   */
  private readonly recent = new Map<string, { at: number; sample: StatsJSON }>();

  constructor(private readonly containers: ContainerService, private readonly cgroups: CgroupDriver, private readonly log?: { error(msg: string): void }) {}

  /** The host's CPU time, shared by the samples of one tick (100 streams cost one open of /proc/stat, not 100). */
  private systemCpuNanos(): Promise<number> {
    const now = Date.now();
    if (!this.systemCpu || now - this.systemCpu.at > SYSTEM_CPU_TTL_MS) {
      const value = systemCpuNanos();
      this.systemCpu = { at: now, value };
      value.catch(() => { if (this.systemCpu?.value === value) this.systemCpu = undefined; });
    }
    return this.systemCpu.value;
  }

  private cgroupsPath(c: ContainerRecord): string { return cgroupPathOf(c); }

  /** One sample; `prev` becomes its precpu_stats. A container that is not running gives Docker's zeroed sample. */
  async sample(c: ContainerRecord, prev?: StatsJSON): Promise<StatsJSON> {
    return withPrev(await this.limiter.run(() => this.rawSample(c)), prev);
  }

  /** A sample kept as a base for later one-off requests (only real ones: a zeroed sample has no CPU figures). */
  private remember(c: ContainerRecord, s: StatsJSON): void {
    const now = Date.now();
    this.recent.delete(c.id);
    if (s.read !== ZERO_TIME) this.recent.set(c.id, { at: now, sample: s });
    for (const [id, r] of this.recent) {
      if (now - r.at <= BASE_MAX_AGE_MS) break;
      this.recent.delete(id);
    }
  }

  /** A remembered sample of `c` old enough to be a base and not too old, if there is one. */
  private recentBase(c: ContainerRecord): StatsJSON | undefined {
    const r = this.recent.get(c.id);
    const age = r ? Date.now() - r.at : -1;
    return r && age >= BASE_MIN_AGE_MS && age <= BASE_MAX_AGE_MS ? r.sample : undefined;
  }

  /** A sample taken now (through the limiter) and remembered. */
  private async freshSample(c: ContainerRecord): Promise<StatsJSON> {
    const s = await this.limiter.run(() => this.rawSample(c));
    this.remember(c, s);
    return s;
  }

  /** A sample without its precpu_stats (each stream adds its own, as moby's stats route does). */
  private async rawSample(c: ContainerRecord): Promise<StatsJSON> {
    const base: StatsJSON = {
      read: ZERO_TIME, preread: ZERO_TIME, pids_stats: {}, blkio_stats: { io_service_bytes_recursive: null },
      num_procs: 0, storage_stats: {}, cpu_stats: emptyCpu(), precpu_stats: emptyCpu(), memory_stats: {},
      name: `/${c.name}`, id: c.id,
    };
    if (c.state.status !== 'running' && c.state.status !== 'paused') return base;
    let s: CgroupStats;
    try {
      s = await this.cgroups.stats(this.cgroupsPath(c));
    } catch (e) {
      // The cgroup is gone (the container is just stopping): Docker's zeroed sample. Any other failure (EMFILE)
      // is the host's, and a zeroed sample would show the container as using nothing.
      if (e instanceof NotFoundError) return base;
      throw e;
    }
    const [system, networks] = await Promise.all([this.systemCpuNanos(), c.state.pid ? netDev(c.state.pid) : undefined]);
    base.read = new Date().toISOString();
    base.cpu_stats = { ...emptyCpu(), cpu_usage: { total_usage: s.cpu?.usageNanos ?? 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, system_cpu_usage: system, online_cpus: onlineCpus() };
    if (s.memory) base.memory_stats = { usage: s.memory.usage, limit: s.memory.limit ?? hostMemory(), stats: s.memory.stat };
    if (s.pids) base.pids_stats = { current: s.pids.current, ...(s.pids.limit !== null ? { limit: s.pids.limit } : {}) };
    if (s.blkio) {
      base.blkio_stats.io_service_bytes_recursive = [
        { major: 0, minor: 0, op: 'read', value: s.blkio.readBytes },
        { major: 0, minor: 0, op: 'write', value: s.blkio.writeBytes },
      ];
    }
    if (networks) base.networks = networks;
    return base;
  }

  /**
   * Docker's GET /containers/{id}/stats: `stream` sends a sample each second until the container is removed or the
   * client leaves; without it one sample whose CPU figures have a base (unless `oneShot`): a recent sample of the
   * container, else one taken COLD_BASE_WINDOW_MS before.
   */
  stats(ref: string, o: { stream: boolean; oneShot: boolean; signal: AbortSignal }): AsyncGenerator<StatsJSON> {
    const c = this.containers.get(ref);
    return o.stream ? this.follow(c, o.signal) : this.once(c, o);
  }

  private async *once(c: ContainerRecord, o: { oneShot: boolean; signal: AbortSignal }): AsyncGenerator<StatsJSON> {
    let prev: StatsJSON | undefined;
    if (!o.oneShot && c.state.status === 'running') {
      prev = this.recentBase(c);
      if (!prev) {
        prev = await this.freshSample(c);
        await sleep(COLD_BASE_WINDOW_MS, o.signal);
      }
    }
    yield withPrev(await this.freshSample(c), prev);
  }

  /**
   * A sample of every running (or paused) container for a metrics scrape, from this same sampler: a sample the
   * collector's tick, a `docker stats` request or an earlier scrape took in the last `maxAgeMs` serves as it is,
   * the others are taken now through the limiter (and serve `docker stats --no-stream` in turn). A container whose
   * sample fails is left out of this scrape, said once per scrape in the log.
   */
  async current(maxAgeMs: number): Promise<{ container: ContainerRecord; sample: StatsJSON }[]> {
    const live = this.containers.all().filter((c) => hasProcess(c.state.status));
    const now = Date.now();
    let failures = 0;
    let firstFailure = '';
    const taken = await Promise.all(live.map(async (container) => {
      const r = this.recent.get(container.id);
      if (r && now - r.at < maxAgeMs) return { container, sample: r.sample };
      const sample = await this.sampleOrError(container);
      if (!(sample instanceof Error)) return { container, sample };
      if (!failures++) firstFailure = `${container.id}: ${errorMessage(sample)}`;
      return undefined;
    }));
    if (failures) this.log?.error(`metrics: ${failures} container samples failed and are left out of this scrape (first: ${firstFailure})`);
    return taken.filter((t) => t !== undefined);
  }

  /** A collector's sample, or the error that kept it from being taken. */
  private sampleOrError(c: ContainerRecord): Promise<StatsJSON | Error> {
    return this.freshSample(c).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
  }

  /** A stream: the collector's samples of `c`, each with the stream's previous one as its precpu_stats. */
  private async *follow(c: ContainerRecord, signal: AbortSignal): AsyncGenerator<StatsJSON> {
    // The first sample at once (`docker stats` waits for one of each container before it shows its table), the
    // next ones from the collector's ticks.
    const sub: Subscriber = { latest: await this.sampleOrError(c) };
    const leave = this.subscribe(c, sub);
    let prev: StatsJSON | undefined;
    let failed = false;
    try {
      while (!signal.aborted) {
        const r = await nextSample(sub, signal);
        if (r === undefined) return;
        if (r instanceof Error) {
          // A host read that failed (EMFILE under load) costs this tick, not the stream (moby sends an empty
          // sample instead, which reads as "0 B used"). Said once per stream, not every second.
          if (!failed) this.log?.error(`stats of ${c.id}: ${errorMessage(r)} (the sample is skipped)`);
          failed = true;
        } else {
          yield withPrev(r, prev);
          prev = r;
        }
        // As moby's: a stopped container's stream goes on with zeroed samples (and real ones again if it is
        // started), and ends when the container is removed.
        if (!this.containers.find(c.id)) return;
      }
    } finally {
      leave();
    }
  }

  /**
   * moby's stats collector: while anyone streams, one loop samples every streamed container once a second,
   * SAMPLE_CONCURRENCY at a time, and hands the sample to each of its streams. Many clients cost one sample per
   * container, and the host reads (files open at once) stay bounded however many streams there are.
   */
  private subscribe(c: ContainerRecord, sub: Subscriber): () => void {
    let w = this.watched.get(c.id);
    if (!w) this.watched.set(c.id, (w = { c, subscribers: new Set() }));
    w.subscribers.add(sub);
    if (!this.ticking && !this.inTick) this.ticking = setTimeout(() => void this.tick(), 1000);
    return () => {
      const cur = this.watched.get(c.id);
      if (!cur) return;
      cur.subscribers.delete(sub);
      if (cur.subscribers.size === 0) this.watched.delete(c.id);
      if (this.watched.size === 0 && this.ticking) {
        clearTimeout(this.ticking);
        this.ticking = undefined;
      }
    };
  }

  private async tick(): Promise<void> {
    this.ticking = undefined;
    this.inTick = true;
    const started = Date.now();
    try {
      await Promise.all([...this.watched.values()].map(async (w) => {
        const r = await this.sampleOrError(w.c);
        for (const sub of w.subscribers) { sub.latest = r; sub.wake?.(); }
      }));
    } catch (e) {
      this.log?.error(`stats collector: ${errorMessage(e)}`);
    } finally {
      // Whatever happened in this tick, the streams get the next one.
      this.inTick = false;
      if (this.watched.size) this.ticking = setTimeout(() => void this.tick(), Math.max(0, 1000 - (Date.now() - started)));
    }
  }

  /** Docker's GET /containers/{id}/top: host ps with the user's arguments, rows of the container's cgroup only. */
  async top(ref: string, psArgs: string): Promise<{ Titles: string[]; Processes: string[][] }> {
    const c = this.containers.get(ref);
    if (c.state.status !== 'running' && c.state.status !== 'paused') throw new StateError(`Container ${c.id} is not running`);
    const pids = await this.cgroups.pids(this.cgroupsPath(c));
    const out = await runPs((psArgs || '-ef').split(/\s+/).filter(Boolean));
    const result = parsePsOutput(out, pids);
    this.containers.emit(c, 'top');
    return result;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** The next sample for a stream (only the latest is kept: a slow stream skips, never queues); undefined once aborted. */
function nextSample(sub: Subscriber, signal: AbortSignal): Promise<StatsJSON | Error | undefined> {
  const take = () => { const v = sub.latest; sub.latest = undefined; return v; };
  if (sub.latest) return Promise.resolve(take());
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const onAbort = () => { sub.wake = undefined; resolve(undefined); };
    sub.wake = () => { sub.wake = undefined; signal.removeEventListener('abort', onAbort); resolve(take()); };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A sample as one stream sends it: its previous sample's CPU figures and read time (moby's getStatJSON). */
function withPrev(s: StatsJSON, prev?: StatsJSON): StatsJSON {
  return { ...s, preread: prev?.read ?? ZERO_TIME, precpu_stats: prev?.cpu_stats ?? emptyCpu() };
}

/** Runs at most `n` tasks at a time; the others wait their turn in order. */
class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly n: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.n) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      // The slot passes to the next waiter as it is, or is given back.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
