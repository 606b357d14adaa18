// Keeps the kernel's cgroup migration lock ready for writers while containers and execs are being started, on
// cgroup v1 and hybrid hosts: the runtime's first cgroup.procs write then skips a wait for an RCU grace period.
//
// Why: to put a new container process (crun create) or an exec's process (crun exec) into its cgroups, the runtime
// writes the pid into cgroup.procs; on v1 and hybrid hosts (no CLONE_INTO_CGROUP) that takes the kernel's global
// cgroup_threadgroup_rwsem for writing, and the first writer after a quiet moment waits for an RCU grace period
// (rcu_sync_enter: 9-25 ms on the 2-core VM, the largest single part of `crun create` and of `crun exec`). A writer
// that comes within about one grace period of the previous one does not wait. berthd therefore writes its own pid
// into the cgroup.procs of the cgroup it is already in (which moves nothing) as soon as a container or an exec is
// created, and every few milliseconds for a short while after: the grace period is waited for on a libuv pool
// thread while the client is still between its create and start requests, and the runtime's write finds the lock
// ready. The kernel's own, permanent answer is the favordynmods mount option (decision 22), which a host
// administrator may choose; this keeps the lock ready only during bursts of starts. See docs/decisions/0028.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cgroupLayoutFrom, type CgroupLayout } from './cgroups';
import { readMountInfo } from './mount';

/**
 * How long the lock is kept ready after a create's warm(): the docker CLI's create-to-start gap (about 10 ms), with
 * room for load. Short on purpose: the lock is the whole host's, and other engines' runtimes should not find it
 * ready because of berthd (nor a benchmark credit berthd's peers with it).
 */
export const HOLD_MS = 40;
/** Between two writes while held: well inside one grace period (a few ms at least), so none is waited for again. */
export const EVERY_MS = 4;

/** What the engine calls around container and exec starts. */
export interface CgroupLockWarmer {
  /** A container or exec was created: its start usually follows within milliseconds. */
  warm(): void;
  /** A start is under way: the lock is kept ready until the returned function is called (after the runtime's call). */
  hold(): () => void;
}

/** The timing, apart from the write itself (unit-tested with a fake clock and writer). */
export interface WarmerClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: WarmerClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref()),
};

/**
 * Runs `write` now and then every `every` ms while a hold() is unreleased or until `holdMs` after the last warm();
 * one write at a time. A failed write ends the warming for good (reported once through `onError`): starts are
 * then only as slow as without it.
 */
export class BurstWarmer implements CgroupLockWarmer {
  /** Writes done so far (tests, and a look from a debugger). */
  writes = 0;
  private until = 0;
  private holds = 0;
  private running = false;
  private broken = false;

  constructor(
    private readonly write: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
    private readonly clock: WarmerClock = realClock,
    private readonly holdMs = HOLD_MS,
    private readonly every = EVERY_MS,
  ) {}

  warm(): void {
    if (this.broken) return;
    this.until = Math.max(this.until, this.clock.now() + this.holdMs);
    if (!this.running) void this.burst();
  }

  hold(): () => void {
    if (this.broken) return () => undefined;
    this.holds++;
    if (!this.running) void this.burst();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
    };
  }

  private async burst(): Promise<void> {
    this.running = true;
    try {
      while (!this.broken && (this.holds > 0 || this.clock.now() < this.until)) {
        try {
          await this.write();
          this.writes++;
        } catch (err) {
          this.broken = true;
          this.onError(err);
          return;
        }
        await this.clock.sleep(this.every);
      }
    } finally {
      this.running = false;
    }
  }
}

/** The cgroup.procs file of the cgroup this process is in, in one v1 hierarchy of `layout` (pids preferred). */
export function ownCgroupProcsFile(layout: CgroupLayout, procSelfCgroup: string): string | undefined {
  const lines = procSelfCgroup.split('\n').map((l) => l.split(':')).filter((p) => p.length >= 3);
  const order = ['pids', ...[...layout.v1.keys()].filter((c) => c !== 'pids' && !c.startsWith('name='))];
  for (const controller of order) {
    const line = lines.find((p) => p[1]!.split(',').includes(controller));
    const mount = layout.v1.get(controller);
    if (!line || !mount) continue;
    const cgroupPath = line.slice(2).join(':');
    // The path is relative to the hierarchy's root; the mount shows the hierarchy from `mount.root` down.
    const rel = path.posix.relative(mount.root, cgroupPath);
    if (rel.startsWith('..')) continue;
    return path.join(mount.mountPoint, rel, 'cgroup.procs');
  }
  return undefined;
}

/** Whether the lock needs warming here: v1 or hybrid, without favordynmods on any cgroup mount. */
export function warmingHelps(layout: CgroupLayout, favordynmods: boolean): boolean {
  return layout.mode !== 'v2' && !favordynmods;
}

/**
 * The warmer berthd runs with: undefined where it does not help (v2 host, favordynmods, BERTH_CGROUP_WARM=0, no
 * v1 hierarchy holding this process). The file is looked up again when the last lookup is HOLD_MS old (about once
 * per burst), so a berthd moved to another cgroup meanwhile is never moved back.
 */
export function hostCgroupLockWarmer(layout: CgroupLayout, o: { favordynmods: boolean; env: NodeJS.ProcessEnv; log: (msg: string) => void }): BurstWarmer | undefined {
  if (o.env.BERTH_CGROUP_WARM === '0' || !warmingHelps(layout, o.favordynmods)) return undefined;
  const pid = String(process.pid);
  const fileNow = () => ownCgroupProcsFile(layout, fs.readFileSync('/proc/self/cgroup', 'utf8'));
  if (!fileNow()) return undefined;
  let file: string | undefined;
  let lookedUp = -Infinity;
  const write = () => new Promise<void>((resolve, reject) => {
    if (performance.now() - lookedUp > HOLD_MS) {
      file = fileNow();
      lookedUp = performance.now();
    }
    if (!file) { reject(new Error('berthd is in no v1 cgroup hierarchy any more')); return; }
    fs.writeFile(file, pid, (err) => (err ? reject(err) : resolve()));
  });
  return new BurstWarmer(write, (err) => o.log(`cgroup lock warming stopped: ${err instanceof Error ? err.message : String(err)}`));
}

/** Reads the host's cgroup mounts and makes the warmer (see hostCgroupLockWarmer). */
export async function createCgroupLockWarmer(o: { env: NodeJS.ProcessEnv; log: (msg: string) => void }): Promise<BurstWarmer | undefined> {
  const mounts = await readMountInfo();
  const favordynmods = mounts.some((m) => (m.fsType === 'cgroup' || m.fsType === 'cgroup2') && m.superOptions.includes('favordynmods'));
  return hostCgroupLockWarmer(cgroupLayoutFrom(mounts, []), { favordynmods, ...o });
}
