// An in-memory CgroupDriver for unit tests (the real drivers are in src/host/cgroups.ts).
import { NotFoundError } from '../../src/errdefs';
import { ALL_STATS_PARTS, CgroupDriver, CgroupMode, CgroupStats, CgroupStatsPart, checkCgroupsPath } from '../../src/host/cgroups';

/** A cgroup a FakeCgroupDriver knows about. */
export interface FakeCgroup {
  stats: CgroupStats;
  oomKilled: boolean;
  frozen: boolean;
  pids: number[];
}

/** An in-memory CgroupDriver for unit tests; add() a cgroup before asking about it. */
export class FakeCgroupDriver implements CgroupDriver {
  readonly cgroups = new Map<string, FakeCgroup>();

  constructor(readonly mode: CgroupMode = 'v2') {}

  add(cgroupsPath: string, init: Partial<FakeCgroup> = {}): FakeCgroup {
    const cg: FakeCgroup = { stats: {}, oomKilled: false, frozen: false, pids: [], ...init };
    this.cgroups.set(checkCgroupsPath(cgroupsPath), cg);
    return cg;
  }

  private get(cgroupsPath: string): FakeCgroup {
    const cg = this.cgroups.get(checkCgroupsPath(cgroupsPath));
    if (!cg) throw new NotFoundError(`cgroup ${cgroupsPath} not found`);
    return cg;
  }

  async stats(cgroupsPath: string, parts: readonly CgroupStatsPart[] = ALL_STATS_PARTS): Promise<CgroupStats> {
    const cg = this.get(cgroupsPath);
    const out: CgroupStats = {};
    for (const p of parts) if (cg.stats[p]) Object.assign(out, { [p]: structuredClone(cg.stats[p]) });
    return out;
  }

  async oomKilled(cgroupsPath: string): Promise<boolean> {
    return this.get(cgroupsPath).oomKilled;
  }

  async freeze(cgroupsPath: string): Promise<void> {
    this.get(cgroupsPath).frozen = true;
  }

  async thaw(cgroupsPath: string): Promise<void> {
    this.get(cgroupsPath).frozen = false;
  }

  async pids(cgroupsPath: string): Promise<number[]> {
    return [...this.get(cgroupsPath).pids];
  }
}
