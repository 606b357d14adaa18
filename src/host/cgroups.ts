// Cgroups: the host's cgroup layout (v1, v2 or hybrid) and one CgroupDriver over v1 and v2 for container stats and freezing.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { InvalidParameterError, NotFoundError, SystemError } from '../errdefs';
import { MountInfo, readMountInfo } from './mount';

/** 'hybrid' is crun's meaning: v1 controllers under /sys/fs/cgroup plus a cgroup2 at /sys/fs/cgroup/unified. */
export type CgroupMode = 'v1' | 'v2' | 'hybrid';

export const CGROUP_ROOT = '/sys/fs/cgroup';

export interface CgroupLayout {
  mode: CgroupMode;
  root: string;
  /** v1 controller ("memory", "name=systemd" …) → its hierarchy's mount point and mounted root. */
  v1: Map<string, { mountPoint: string; root: string }>;
  /** Where cgroup2 is mounted: the root in v2 mode, root/unified in hybrid mode. */
  v2Mount?: string;
  /** The controllers the cgroup2 hierarchy holds (its root's cgroup.controllers). */
  v2Controllers: string[];
}

// Mount options of a v1 cgroup mount that are not controller names.
const V1_NON_CONTROLLER = new Set(['rw', 'ro', 'noprefix', 'clone_children', 'xattr', 'cpuset_v2_mode', 'favordynmods', 'none', 'all']);

/** The controllers a v1 cgroup mount holds, from its super options ("rw,cpu,cpuacct" → cpu, cpuacct). */
export function v1Controllers(m: MountInfo): string[] {
  return m.superOptions.filter((o) => !V1_NON_CONTROLLER.has(o) && (!o.includes('=') || o.startsWith('name=')));
}

/** Works out the layout from the mount table the way crun does (only root and root/unified count for cgroup2). */
export function cgroupLayoutFrom(mounts: MountInfo[], v2Controllers: string[], root = CGROUP_ROOT): CgroupLayout {
  const at = (p: string): MountInfo | undefined => mounts.filter((m) => m.mountPoint === p).pop();
  const v1 = new Map<string, { mountPoint: string; root: string }>();
  for (const m of mounts) {
    if (m.fsType !== 'cgroup') continue;
    for (const c of v1Controllers(m)) {
      // Prefer the hierarchy mounted under the cgroup root; the kernel lets one be mounted many times.
      const known = v1.get(c);
      if (!known || (!known.mountPoint.startsWith(root + '/') && m.mountPoint.startsWith(root + '/'))) {
        v1.set(c, { mountPoint: m.mountPoint, root: m.root });
      }
    }
  }
  if (at(root)?.fsType === 'cgroup2') return { mode: 'v2', root, v1, v2Mount: root, v2Controllers };
  const unified = path.join(root, 'unified');
  if (at(unified)?.fsType === 'cgroup2') return { mode: 'hybrid', root, v1, v2Mount: unified, v2Controllers };
  if (v1.size === 0) throw new SystemError(`no cgroup filesystem is mounted at ${root}`);
  return { mode: 'v1', root, v1, v2Controllers: [] };
}

/** The host's layout; `mounts` defaults to /proc/self/mountinfo. */
export async function readCgroupLayout(root = CGROUP_ROOT, mounts?: MountInfo[]): Promise<CgroupLayout> {
  const probe = cgroupLayoutFrom(mounts ?? (await readMountInfo()), [], root);
  if (!probe.v2Mount) return probe;
  const text = await fsp.readFile(path.join(probe.v2Mount, 'cgroup.controllers'), 'utf8');
  return { ...probe, v2Controllers: text.split(/\s+/).filter(Boolean) };
}

// ---- parsing of cgroup files (pure, unit-tested with fixtures) ----

/** Parses "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control, cgroup.events). */
export function parseFlatKeyed(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

// v1 reports "no limit" as PAGE_COUNTER_MAX pages in bytes (9223372036854771712 on x86-64).
const V1_UNLIMITED = 2 ** 62;

/** A single-value limit file: "max" (v2), a near-2^63 value (v1) or "-1" mean no limit → null. */
export function parseLimit(text: string): number | null {
  const t = text.trim();
  if (t === 'max' || t === '-1' || t === '') return null;
  const n = Number(t);
  if (!Number.isFinite(n)) throw new SystemError(`unexpected cgroup limit value: ${t}`);
  return n >= V1_UNLIMITED ? null : n;
}

export interface IoBytes {
  readBytes: number;
  writeBytes: number;
}

/** Sums v1 blkio "*io_service_bytes*" files ("8:0 Read 4096" lines, "Total N" skipped). Null if no device lines. */
export function parseBlkioServiceBytes(text: string): IoBytes | null {
  let readBytes = 0;
  let writeBytes = 0;
  let devices = 0;
  for (const line of text.split('\n')) {
    const [dev, op, value] = line.trim().split(/\s+/);
    if (!dev || !op || value === undefined || !dev.includes(':')) continue;
    devices++;
    if (op === 'Read') readBytes += Number(value);
    else if (op === 'Write') writeBytes += Number(value);
  }
  return devices ? { readBytes, writeBytes } : null;
}

/** Sums v2 io.stat ("8:0 rbytes=1 wbytes=2 rios=…"). */
export function parseIoStat(text: string): IoBytes {
  let readBytes = 0;
  let writeBytes = 0;
  for (const line of text.split('\n')) {
    for (const kv of line.trim().split(/\s+/).slice(1)) {
      const [k, v] = kv.split('=');
      if (k === 'rbytes') readBytes += Number(v);
      else if (k === 'wbytes') writeBytes += Number(v);
    }
  }
  return { readBytes, writeBytes };
}

export function parseProcs(text: string): number[] {
  return text.split('\n').filter((l) => /^\d+$/.test(l.trim())).map(Number);
}

// ---- the driver ----

export interface CgroupStats {
  cpu?: { usageNanos: number };
  memory?: {
    usage: number;
    /** null: no limit. */
    limit: number | null;
    /** Page cache: v1 total_cache, v2 file. */
    cache: number;
    /** memory.stat as read, for Docker's memory_stats.stats (the CLI subtracts inactive_file). */
    stat: Record<string, number>;
  };
  pids?: { current: number; limit: number | null };
  blkio?: IoBytes;
}

export type CgroupStatsPart = keyof CgroupStats;
export const ALL_STATS_PARTS: readonly CgroupStatsPart[] = ['cpu', 'memory', 'pids', 'blkio'];

/**
 * A container's cgroup, named by its OCI linux.cgroupsPath ("/berth/<id>"). stats() returns the parts asked
 * for whose controller the host has; a missing cgroup is a NotFoundError.
 */
export interface CgroupDriver {
  readonly mode: CgroupMode;
  stats(cgroupsPath: string, parts?: readonly CgroupStatsPart[]): Promise<CgroupStats>;
  /** Whether the kernel OOM killer has killed a process of this cgroup. */
  oomKilled(cgroupsPath: string): Promise<boolean>;
  /** Freezes every process of the cgroup; resolves once the kernel reports it frozen. */
  freeze(cgroupsPath: string): Promise<void>;
  thaw(cgroupsPath: string): Promise<void>;
  /** The process ids in the cgroup (cgroup.procs). */
  pids(cgroupsPath: string): Promise<number[]>;
}

export function checkCgroupsPath(p: string): string {
  if (!p.startsWith('/') || p.split('/').includes('..')) {
    throw new InvalidParameterError(`cgroupsPath must be an absolute cgroupfs path like /berth/<id>: ${p}`);
  }
  return path.posix.normalize(p);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const FREEZE_TIMEOUT_MS = 10_000;

/** Reads and writes files of one cgroup directory; ENOENT becomes NotFoundError for the cgroup or null for a file. */
abstract class CgroupFiles {
  protected async read(dir: string, cgroupsPath: string, file: string): Promise<string | null> {
    try {
      // One synchronous read: cgroup files are a few hundred bytes made by the kernel on the spot, and the
      // promise API's open/fstat/read/close round trips through the thread pool cost `docker stats` of 100
      // containers several times more CPU than the reads themselves.
      return fs.readFileSync(path.join(dir, file), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await this.exists(dir, cgroupsPath);
      return null;
    }
  }

  protected async mustRead(dir: string, cgroupsPath: string, file: string): Promise<string> {
    const text = await this.read(dir, cgroupsPath, file);
    if (text === null) throw new SystemError(`cgroup ${cgroupsPath} has no ${file}`);
    return text;
  }

  protected async write(dir: string, cgroupsPath: string, file: string, value: string): Promise<void> {
    try {
      await fsp.writeFile(path.join(dir, file), value);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      await this.exists(dir, cgroupsPath);
      throw new SystemError(`cgroup ${cgroupsPath} has no ${file}`);
    }
  }

  private async exists(dir: string, cgroupsPath: string): Promise<void> {
    try {
      await fsp.access(dir);
    } catch {
      throw new NotFoundError(`cgroup ${cgroupsPath} not found`);
    }
  }

  /** Polls `check` until true; the freezer moves through FREEZING before FROZEN. */
  protected async waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + FREEZE_TIMEOUT_MS;
    for (let delay = 1; !(await check()); delay = Math.min(delay * 2, 50)) {
      if (Date.now() > deadline) throw new SystemError(`timed out waiting for ${what}`);
      await sleep(delay);
    }
  }
}

/** cgroup v1: one hierarchy per controller (also used for the controllers of a hybrid host, as crun does). */
export class CgroupV1Driver extends CgroupFiles implements CgroupDriver {
  readonly mode: CgroupMode;

  /**
   * The blkio files the kernel does not make (CFQ's counters are gone from kernels since 5.0): which files a blkio
   * cgroup has depends on the policies the kernel has, not on the cgroup, and each miss costs a second look at the
   * directory to tell it from a removed cgroup — per sample, 1,000 of them for `docker stats` of 1,000 containers.
   */
  private readonly absentBlkioFiles = new Set<string>();

  constructor(private readonly layout: CgroupLayout) {
    super();
    this.mode = layout.mode;
  }

  /** The directory of `cgroupsPath` in the hierarchy of `controller`, or null if the host lacks it. */
  dir(controller: string, cgroupsPath: string): string | null {
    const h = this.layout.v1.get(controller);
    if (!h) return null;
    const p = checkCgroupsPath(cgroupsPath);
    // In a cgroup namespace the hierarchy's visible root is not "/"; crun's paths are then relative to it.
    const rel = h.root !== '/' && (p === h.root || p.startsWith(h.root + '/')) ? p.slice(h.root.length) : p;
    return path.join(h.mountPoint, rel);
  }

  private must(controller: string, cgroupsPath: string): string {
    const d = this.dir(controller, cgroupsPath);
    if (!d) throw new SystemError(`the cgroup v1 ${controller} controller is not mounted`);
    return d;
  }

  async stats(cgroupsPath: string, parts: readonly CgroupStatsPart[] = ALL_STATS_PARTS): Promise<CgroupStats> {
    const out: CgroupStats = {};
    await Promise.all(parts.map(async (part) => {
      switch (part) {
        case 'cpu': {
          const d = this.dir('cpuacct', cgroupsPath);
          if (d) out.cpu = { usageNanos: Number(await this.mustRead(d, cgroupsPath, 'cpuacct.usage')) };
          break;
        }
        case 'memory': {
          const d = this.dir('memory', cgroupsPath);
          if (!d) break;
          const [usage, limit, stat] = await Promise.all(
            ['memory.usage_in_bytes', 'memory.limit_in_bytes', 'memory.stat'].map((f) => this.mustRead(d, cgroupsPath, f)),
          );
          const s = parseFlatKeyed(stat!);
          out.memory = { usage: Number(usage), limit: parseLimit(limit!), cache: s.total_cache ?? s.cache ?? 0, stat: s };
          break;
        }
        case 'pids': {
          const d = this.dir('pids', cgroupsPath);
          if (!d) break;
          const [current, max] = await Promise.all([this.mustRead(d, cgroupsPath, 'pids.current'), this.mustRead(d, cgroupsPath, 'pids.max')]);
          out.pids = { current: Number(current), limit: parseLimit(max) };
          break;
        }
        case 'blkio': {
          const d = this.dir('blkio', cgroupsPath);
          if (!d) break;
          // Like dockerd: the CFQ/BFQ counters when the scheduler keeps them, else the throttle layer's.
          out.blkio = { readBytes: 0, writeBytes: 0 };
          for (const f of ['blkio.io_service_bytes_recursive', 'blkio.throttle.io_service_bytes_recursive']) {
            if (this.absentBlkioFiles.has(f)) continue;
            const text = await this.read(d, cgroupsPath, f);
            if (text === null) this.absentBlkioFiles.add(f);
            const bytes = text === null ? null : parseBlkioServiceBytes(text);
            if (bytes) {
              out.blkio = bytes;
              break;
            }
          }
          break;
        }
      }
    }));
    if (parts.length && Object.keys(out).length === 0) await this.anyExisting(cgroupsPath);
    return out;
  }

  // With no controller to read, still tell a missing cgroup apart from an empty answer.
  private async anyExisting(cgroupsPath: string): Promise<void> {
    const d = this.dir('name=systemd', cgroupsPath) ?? this.dir([...this.layout.v1.keys()][0] ?? '', cgroupsPath);
    if (d) await this.read(d, cgroupsPath, 'cgroup.procs');
  }

  async oomKilled(cgroupsPath: string): Promise<boolean> {
    const text = await this.mustRead(this.must('memory', cgroupsPath), cgroupsPath, 'memory.oom_control');
    return (parseFlatKeyed(text).oom_kill ?? 0) > 0;
  }

  async freeze(cgroupsPath: string): Promise<void> {
    await this.setFreezer(cgroupsPath, 'FROZEN');
  }

  async thaw(cgroupsPath: string): Promise<void> {
    await this.setFreezer(cgroupsPath, 'THAWED');
  }

  private async setFreezer(cgroupsPath: string, state: 'FROZEN' | 'THAWED'): Promise<void> {
    const d = this.must('freezer', cgroupsPath);
    await this.write(d, cgroupsPath, 'freezer.state', state);
    await this.waitFor(`cgroup ${cgroupsPath} to be ${state}`, async () => {
      const now = (await this.mustRead(d, cgroupsPath, 'freezer.state')).trim();
      // Writing FROZEN again re-kicks a freeze stuck in FREEZING (as runc does).
      if (now !== state && state === 'FROZEN') await this.write(d, cgroupsPath, 'freezer.state', state);
      return now === state;
    });
  }

  async pids(cgroupsPath: string): Promise<number[]> {
    const controller = ['pids', 'memory', 'freezer', 'name=systemd'].find((c) => this.layout.v1.has(c)) ?? [...this.layout.v1.keys()][0];
    if (!controller) throw new SystemError('no cgroup v1 hierarchy is mounted');
    return parseProcs(await this.mustRead(this.must(controller, cgroupsPath), cgroupsPath, 'cgroup.procs'));
  }
}

/** cgroup v2: one unified hierarchy. */
export class CgroupV2Driver extends CgroupFiles implements CgroupDriver {
  readonly mode: CgroupMode = 'v2';
  private readonly mount: string;

  constructor(layout: CgroupLayout) {
    super();
    if (!layout.v2Mount) throw new SystemError('no cgroup2 hierarchy is mounted');
    this.mount = layout.v2Mount;
  }

  dir(cgroupsPath: string): string {
    return path.join(this.mount, checkCgroupsPath(cgroupsPath));
  }

  async stats(cgroupsPath: string, parts: readonly CgroupStatsPart[] = ALL_STATS_PARTS): Promise<CgroupStats> {
    const d = this.dir(cgroupsPath);
    const out: CgroupStats = {};
    await Promise.all(parts.map(async (part) => {
      switch (part) {
        case 'cpu': {
          // cpu.stat's usage_usec is kept by the core even without the cpu controller.
          const s = parseFlatKeyed(await this.mustRead(d, cgroupsPath, 'cpu.stat'));
          out.cpu = { usageNanos: (s.usage_usec ?? 0) * 1000 };
          break;
        }
        case 'memory': {
          const [usage, max, stat] = await Promise.all(['memory.current', 'memory.max', 'memory.stat'].map((f) => this.read(d, cgroupsPath, f)));
          if (usage == null || max == null || stat == null) break; // memory controller not enabled for this cgroup
          const s = parseFlatKeyed(stat);
          out.memory = { usage: Number(usage), limit: parseLimit(max), cache: s.file ?? 0, stat: s };
          break;
        }
        case 'pids': {
          const [current, max] = await Promise.all([this.read(d, cgroupsPath, 'pids.current'), this.read(d, cgroupsPath, 'pids.max')]);
          if (current != null && max != null) out.pids = { current: Number(current), limit: parseLimit(max) };
          break;
        }
        case 'blkio': {
          const text = await this.read(d, cgroupsPath, 'io.stat');
          if (text != null) out.blkio = parseIoStat(text);
          break;
        }
      }
    }));
    if (parts.length && Object.keys(out).length === 0) await this.read(d, cgroupsPath, 'cgroup.procs');
    return out;
  }

  async oomKilled(cgroupsPath: string): Promise<boolean> {
    const text = await this.read(this.dir(cgroupsPath), cgroupsPath, 'memory.events');
    return text !== null && (parseFlatKeyed(text).oom_kill ?? 0) > 0;
  }

  async freeze(cgroupsPath: string): Promise<void> {
    await this.setFrozen(cgroupsPath, 1);
  }

  async thaw(cgroupsPath: string): Promise<void> {
    await this.setFrozen(cgroupsPath, 0);
  }

  private async setFrozen(cgroupsPath: string, frozen: 0 | 1): Promise<void> {
    const d = this.dir(cgroupsPath);
    await this.write(d, cgroupsPath, 'cgroup.freeze', String(frozen));
    await this.waitFor(`cgroup ${cgroupsPath} to be ${frozen ? 'frozen' : 'thawed'}`, async () =>
      parseFlatKeyed(await this.mustRead(d, cgroupsPath, 'cgroup.events')).frozen === frozen);
  }

  async pids(cgroupsPath: string): Promise<number[]> {
    return parseProcs(await this.mustRead(this.dir(cgroupsPath), cgroupsPath, 'cgroup.procs'));
  }
}

/** The driver for the host: v2 on a pure cgroup2 host, v1 otherwise (hybrid hosts keep controllers on v1). */
export function cgroupDriverFor(layout: CgroupLayout): CgroupDriver {
  return layout.mode === 'v2' ? new CgroupV2Driver(layout) : new CgroupV1Driver(layout);
}

export async function createCgroupDriver(root = CGROUP_ROOT): Promise<CgroupDriver> {
  return cgroupDriverFor(await readCgroupLayout(root));
}
