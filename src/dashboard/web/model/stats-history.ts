// The last minutes of every running container's stats, from the one shared stream (GET /berth/stats): a ring of
// ticks shared by all containers, each container a row of fixed-size typed arrays (no allocation per tick), and
// counters (network, block I/O) turned into rates as they arrive.
import type { BerthStatsEntry, BerthStatsLine } from '../../../wire/container-stats';

/** One container in one tick, and the tick: the wire shapes of GET /berth/stats. */
export type ContainerSample = BerthStatsEntry;
export type StatsTick = BerthStatsLine;

export const METRICS = ['cpu', 'mem', 'memLimit', 'netRx', 'netTx', 'blkRead', 'blkWrite'] as const;
export type Metric = (typeof METRICS)[number];

/** A container's series, oldest first, aligned on `time` (seconds); null where it had no sample (uPlot's gap). */
export type Series = { time: number[] } & Record<Metric, (number | null)[]>;

interface Row {
  values: Record<Metric, Float32Array>;
  counters?: { at: number; netRx: number; netTx: number; blkRead: number; blkWrite: number };
  lastSeen: number;
  latest?: ContainerSample;
}

const COUNTERS = [['netRx', 'NetRx'], ['netTx', 'NetTx'], ['blkRead', 'BlockRead'], ['blkWrite', 'BlockWrite']] as const;

export class StatsHistory {
  private readonly times: Float64Array;
  private readonly rows = new Map<string, Row>();
  private head = -1;
  private count = 0;
  private ticks = 0;

  /** capacity: ticks kept (at one a second, 300 is five minutes). */
  constructor(readonly capacity: number) {
    this.times = new Float64Array(capacity);
  }

  push(tick: StatsTick): void {
    const at = Date.parse(tick.time) / 1000;
    if (!Number.isFinite(at)) return;
    this.head = (this.head + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
    this.ticks++;
    this.times[this.head] = at;
    for (const row of this.rows.values()) for (const m of METRICS) row.values[m][this.head] = NaN;
    for (const s of tick.containers ?? []) {
      if (typeof s?.Id !== 'string') continue;
      let row = this.rows.get(s.Id);
      if (!row) this.rows.set(s.Id, (row = this.newRow()));
      const v = row.values;
      v.cpu[this.head] = finite(s.CPUPercent);
      v.mem[this.head] = finite(s.MemoryUsage);
      v.memLimit[this.head] = finite(s.MemoryLimit);
      const prev = row.counters;
      for (const [metric, field] of COUNTERS) {
        const now = finite(s[field]);
        const before = prev?.[metric];
        // A counter that went down (the container restarted) or a first sample gives no rate for this tick.
        v[metric][this.head] = prev && before !== undefined && now >= before && at > prev.at ? (now - before) / (at - prev.at) : NaN;
      }
      row.counters = { at, netRx: finite(s.NetRx), netTx: finite(s.NetTx), blkRead: finite(s.BlockRead), blkWrite: finite(s.BlockWrite) };
      row.lastSeen = this.ticks;
      row.latest = s;
    }
    // A container absent for the whole window (gone, or stopped a while ago) has nothing left to show.
    for (const [id, row] of this.rows) if (this.ticks - row.lastSeen >= this.capacity) this.rows.delete(id);
  }

  /** The newest sample of a container if it was in the last tick (a stopped container has none). */
  latest(id: string): ContainerSample | undefined {
    const row = this.rows.get(id);
    return row && row.lastSeen === this.ticks ? row.latest : undefined;
  }

  /** The container's series over the window, oldest first (empty when it was never sampled). */
  series(id: string, last = this.capacity): Series {
    const n = Math.min(last, this.count);
    const row = this.rows.get(id);
    const out = { time: [] as number[] } as Series;
    for (const m of METRICS) out[m] = [];
    if (!row) return out;
    for (let i = n - 1; i >= 0; i--) {
      const slot = (this.head - i + this.capacity) % this.capacity;
      out.time.push(this.times[slot]!);
      for (const m of METRICS) {
        const x = row.values[m][slot]!;
        out[m].push(Number.isNaN(x) ? null : x);
      }
    }
    return out;
  }

  /** IDs with a row (sampled within the window). */
  ids(): string[] {
    return [...this.rows.keys()];
  }

  private newRow(): Row {
    const values = {} as Record<Metric, Float32Array>;
    for (const m of METRICS) values[m] = new Float32Array(this.capacity).fill(NaN);
    return { values, lastSeen: this.ticks };
  }
}

function finite(x: unknown): number {
  return typeof x === 'number' && Number.isFinite(x) ? x : NaN;
}

/** How many points a series has (what a plot draws). */
export function pointsIn(values: readonly (number | null)[]): number {
  let n = 0;
  for (const v of values) if (v !== null) n++;
  return n;
}
