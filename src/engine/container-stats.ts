// `docker stats` and `docker top`: a running container's cgroup figures in Docker's stats JSON, and ps filtered to its cgroup.
import type { ContainerRecord } from './container-record';
import type { ContainerService } from './containers';
import { StateError } from './errors';
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

export class ContainerStats {
  constructor(private readonly containers: ContainerService, private readonly cgroups: CgroupDriver) {}

  private cgroupsPath(c: ContainerRecord): string { return `/berth/${c.id}`; }

  /** One sample; `prev` becomes its precpu_stats. A container that is not running gives Docker's zeroed sample. */
  async sample(c: ContainerRecord, prev?: StatsJSON): Promise<StatsJSON> {
    const base: StatsJSON = {
      read: ZERO_TIME, preread: prev?.read ?? ZERO_TIME, pids_stats: {}, blkio_stats: { io_service_bytes_recursive: null },
      num_procs: 0, storage_stats: {}, cpu_stats: emptyCpu(), precpu_stats: prev?.cpu_stats ?? emptyCpu(), memory_stats: {},
      name: `/${c.name}`, id: c.id,
    };
    if (c.state.status !== 'running' && c.state.status !== 'paused') return base;
    let s: CgroupStats;
    try {
      s = await this.cgroups.stats(this.cgroupsPath(c));
    } catch {
      return base;
    }
    const [system, networks] = await Promise.all([systemCpuNanos(), c.state.pid ? netDev(c.state.pid) : undefined]);
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
   * Docker's GET /containers/{id}/stats: `stream` sends a sample each second until the container stops or the
   * client leaves; without it one sample, taken a second after a first so the CPU figures have a base (unless `oneShot`).
   */
  stats(ref: string, o: { stream: boolean; oneShot: boolean; signal: AbortSignal }): AsyncGenerator<StatsJSON> {
    return this.samples(this.containers.get(ref), o);
  }

  private async *samples(c: ContainerRecord, o: { stream: boolean; oneShot: boolean; signal: AbortSignal }): AsyncGenerator<StatsJSON> {
    let prev: StatsJSON | undefined;
    if (!o.stream) {
      if (!o.oneShot && c.state.status === 'running') {
        prev = await this.sample(c);
        await sleep(1000, o.signal);
      }
      yield await this.sample(c, prev);
      return;
    }
    while (!o.signal.aborted) {
      const s = await this.sample(c, prev);
      yield s;
      if (c.state.status !== 'running' && c.state.status !== 'paused') return;
      prev = s;
      await sleep(1000, o.signal);
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
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() { clearTimeout(t); signal.removeEventListener('abort', done); resolve(); }
    signal.addEventListener('abort', done, { once: true });
  });
}
