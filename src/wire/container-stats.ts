// Docker's stats JSON as its readers see it, the figures `docker stats` computes from one sample (CPU %, memory
// without the page cache, network and block I/O totals), and the line of Berth's all-containers stream, /berth/stats.

/** The fields of GET /containers/{id}/stats a reader uses (dockerd's and Berth's samples have more). */
export interface StatsSample {
  id?: string;
  name?: string;
  read: string;
  cpu_stats: { cpu_usage: { total_usage: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
  blkio_stats?: { io_service_bytes_recursive?: { op: string; value: number }[] | null };
  pids_stats?: { current?: number };
}

/** One container's figures as `docker stats` shows them, as numbers (bytes are the cgroup's cumulative counters). */
export interface StatsFigures {
  CPUPercent: number;
  MemoryUsage: number;
  MemoryLimit: number;
  NetRx: number;
  NetTx: number;
  BlockRead: number;
  BlockWrite: number;
  Pids: number;
}

/**
 * The docker CLI's arithmetic (cli/command/container/stats_helpers.go): CPU % is the container's share of the host's
 * CPU time between the sample and its precpu_stats, times the online CPUs; memory leaves out inactive_file (cgroup
 * v2) or total_inactive_file (v1), the page cache the kernel reclaims first.
 */
export function statsFigures(s: StatsSample): StatsFigures {
  const cpuDelta = s.cpu_stats.cpu_usage.total_usage - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const sysDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  const cpus = s.cpu_stats.online_cpus || s.cpu_stats.cpu_usage.percpu_usage?.length || 1;
  const ms = s.memory_stats ?? {};
  const inactive = ms.stats?.inactive_file ?? ms.stats?.total_inactive_file ?? 0;
  let netRx = 0; let netTx = 0;
  for (const n of Object.values(s.networks ?? {})) { netRx += n.rx_bytes; netTx += n.tx_bytes; }
  let blockRead = 0; let blockWrite = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    if (e.op.toLowerCase() === 'read') blockRead += e.value;
    if (e.op.toLowerCase() === 'write') blockWrite += e.value;
  }
  return {
    CPUPercent: sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * cpus * 100 : 0,
    MemoryUsage: Math.max(0, (ms.usage ?? 0) - inactive),
    MemoryLimit: ms.limit ?? 0,
    NetRx: netRx, NetTx: netTx, BlockRead: blockRead, BlockWrite: blockWrite,
    Pids: s.pids_stats?.current ?? 0,
  };
}

/** One container in a /berth/stats line: who it is and its figures. */
export interface BerthStatsEntry extends StatsFigures {
  Id: string;
  /** The container's name without Docker's leading slash. */
  Name: string;
}

/** One line of GET /berth/stats (newline-delimited JSON): every running or paused container at one sampling. */
export interface BerthStatsLine {
  /** When the sampling was taken (RFC 3339). */
  time: string;
  containers: BerthStatsEntry[];
}

/** /berth/stats' `interval` bounds, in milliseconds: faster would cost the host more than a page can show. */
export const BERTH_STATS_MIN_INTERVAL_MS = 500;
export const BERTH_STATS_MAX_INTERVAL_MS = 3_600_000;
export const BERTH_STATS_DEFAULT_INTERVAL_MS = 1000;
