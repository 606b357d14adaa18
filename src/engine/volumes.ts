// Volume use-cases: create, inspect, list, remove, prune; which containers reference and use each volume, and
// the volume events (create, mount, unmount, destroy, prune) with Docker's attributes.
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import type { Volume, VolumeCreateBody, VolumeListResponse, VolumePruneResponse } from '../wire/docker';
import type { SpecialFiles } from '../host/special-files';
import { ConflictError, InvalidParameterError, NotFoundError, errorMessage } from '../errdefs';
import { parseGoBool } from '../wire/go-bool';
import type { EventBus } from './events';
import { labelFiltersMatch } from './filters';
import type { ContainerMount, ContainerVolumes, PlannedMount } from './container-mounts';
import { KeyedMutex } from '../util/mutex';
import { LocalVolumeDriver, needsMount, validateVolumeName, validateVolumeOptions, type LocalVolume, type VolumeMounter } from '../volume/local';
import { copyUp, isEmptyDir } from '../volume/copy-up';
import { dirSize } from '../util/dir-size';
import type { Filters } from '../wire/filters';

/** Docker labels volumes made without a name; `volume prune` without --all removes only these. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';
const DRIVER = 'local';

export interface VolumeServiceOptions {
  /** Berth's data root; volumes live in <root>/volumes. */
  root: string;
  mounter: VolumeMounter;
  events: EventBus;
  special?: SpecialFiles;
  log: { info(msg: string): void; error(msg: string): void };
}

export class VolumeService implements ContainerVolumes {
  private readonly volumes = new Map<string, LocalVolume>();
  /** Containers (running or not) that reference each volume: it cannot be removed while any does. */
  private readonly refs = new Map<string, Set<string>>();
  /** Running containers using each volume: its device stays mounted while any does. */
  private readonly active = new Map<string, Set<string>>();
  private readonly lock = new KeyedMutex();
  private readonly driver: LocalVolumeDriver;
  private pruning = false;

  constructor(private readonly o: VolumeServiceOptions) {
    this.driver = new LocalVolumeDriver(path.join(o.root, 'volumes'), o.mounter);
  }

  async init(): Promise<void> {
    for (const v of await this.driver.init()) this.volumes.set(v.name, v);
  }

  // ---------- the volume API ----------

  /** POST /volumes/create; an existing volume of that name is returned as it is, as Docker does. */
  async create(body: VolumeCreateBody, ref?: string): Promise<Volume> {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new InvalidParameterError('invalid JSON: the volume create body must be an object');
    const driver = body.Driver || DRIVER;
    const anonymous = !body.Name;
    const name = body.Name || randomBytes(32).toString('hex');
    if (driver !== DRIVER) throw new NotFoundError(`create ${name}: error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    const labels = anonymous ? { ...(body.Labels ?? {}), [ANONYMOUS_LABEL]: '' } : body.Labels ?? null;
    const options = body.DriverOpts && Object.keys(body.DriverOpts).length ? body.DriverOpts : null;
    const v = await this.lock.run(name, async () => {
      let vol = this.volumes.get(name);
      if (!vol) {
        try {
          validateVolumeName(name);
          validateVolumeOptions(options);
        } catch (err) {
          throw new InvalidParameterError(`create ${name}: ${errorMessage(err)}`);
        }
        vol = { name, labels, options, createdAt: new Date().toISOString() };
        await this.driver.create(vol);
        this.volumes.set(name, vol);
        this.o.events.publish('volume', 'create', name, { driver: DRIVER });
      }
      if (ref) this.refsOf(name).add(ref);
      return vol;
    });
    return this.view(v);
  }

  /** GET /volumes/{name} */
  inspect(name: string): Volume {
    return this.view(this.get(name));
  }

  /** GET /volumes with filters dangling, name, driver, label. */
  list(filters: Filters): VolumeListResponse {
    const match = this.filter(filters);
    const out = [...this.volumes.values()].filter(match).map((v) => this.view(v));
    return { Volumes: out, Warnings: null };
  }

  /** DELETE /volumes/{name}: refused while a container references it; with force a missing volume is no error. */
  async remove(name: string, opts: { force?: boolean } = {}): Promise<void> {
    if (!this.volumes.has(name)) {
      if (opts.force) return;
      throw new NotFoundError(`get ${name}: no such volume`);
    }
    await this.lock.run(name, () => this.removeLocked(name));
  }

  private async removeLocked(name: string): Promise<void> {
    const v = this.volumes.get(name);
    if (!v) return;
    const users = [...(this.refs.get(name) ?? [])];
    if (users.length) throw new ConflictError(`remove ${name}: volume is in use - [${users.join(', ')}]`);
    await this.driver.remove(v);
    this.volumes.delete(name);
    this.refs.delete(name);
    this.active.delete(name);
    this.o.events.publish('volume', 'destroy', name, { driver: DRIVER });
  }

  /**
   * POST /volumes/prune: unused local volumes without driver options; only anonymous ones unless the filter
   * all=true (API < 1.42 always prunes all: the route adds it).
   */
  async prune(filters: Filters): Promise<VolumePruneResponse> {
    if (this.pruning) throw new ConflictError('a prune operation is already running');
    this.pruning = true;
    try {
      const all = filters.get('all');
      const f = new Map(filters);
      f.delete('all');
      if (all && all.length > 1) throw new InvalidParameterError(`invalid filter 'all=[${all.join(' ')}]': only one value is expected`);
      if (!(all && parseBool(all[0]!, 'all'))) f.set('label', [...(f.get('label') ?? []), ANONYMOUS_LABEL]);
      const match = this.filter(f);
      const deleted: string[] = [];
      let reclaimed = 0;
      for (const v of [...this.volumes.values()]) {
        if (this.refs.get(v.name)?.size || (v.options && Object.keys(v.options).length) || !match(v)) continue;
        const size = await dirSize(this.driver.dataPath(v.name));
        try {
          await this.lock.run(v.name, () => this.removeLocked(v.name));
          deleted.push(v.name);
          reclaimed += size;
        } catch (err) {
          this.o.log.error(`volume prune ${v.name}: ${errorMessage(err)}`);
        }
      }
      this.o.events.publish('volume', 'prune', '', { reclaimed: String(reclaimed) });
      return { VolumesDeleted: deleted, SpaceReclaimed: reclaimed };
    } finally {
      this.pruning = false;
    }
  }

  /** GET /system/df's Volumes: local volumes without options, with their size and reference count. */
  async usage(): Promise<Volume[]> {
    const out: Volume[] = [];
    for (const v of this.volumes.values()) {
      if (v.options && Object.keys(v.options).length) continue;
      out.push({ ...this.view(v), UsageData: { Size: await dirSize(this.driver.dataPath(v.name)), RefCount: this.refs.get(v.name)?.size ?? 0 } });
    }
    return out;
  }

  // ---------- what containers need (ContainerVolumes) ----------

  async attach(planned: PlannedMount[], containerId: string): Promise<ContainerMount[]> {
    const out: ContainerMount[] = [];
    try {
      for (const p of planned) {
        const { create, ...m } = p;
        if (m.type !== 'volume') { out.push(m); continue; }
        let vol: Volume;
        if (create === false) {
          vol = await this.lock.run(m.name!, async () => {
            const v = this.get(m.name!);
            this.refsOf(v.name).add(containerId);
            return this.view(v);
          });
        } else {
          vol = await this.create({ Name: m.anonymous ? '' : m.name, Driver: DRIVER, DriverOpts: create?.options ?? null, Labels: create?.labels ?? null }, containerId);
        }
        out.push({ ...m, name: vol.Name, source: vol.Mountpoint, driver: vol.Driver });
      }
    } catch (err) {
      // The anonymous volumes made for this container so far go with the failed create (moby's cleanupContainer
      // removes them too); volumes-from mounts are never anonymous here, so others' volumes stay.
      await this.release(containerId, out, true);
      throw err;
    }
    return out;
  }

  async release(containerId: string, mounts: ContainerMount[], removeAnonymous: boolean): Promise<void> {
    for (const m of mounts) {
      if (m.type !== 'volume' || !m.name) continue;
      this.refs.get(m.name)?.delete(containerId);
      this.active.get(m.name)?.delete(containerId);
      if (!removeAnonymous || !m.anonymous) continue;
      // A volume another container still uses stays: that is no error (moby ignores "in use" here too).
      await this.lock.run(m.name, async () => {
        if (this.refs.get(m.name!)?.size) return;
        await this.removeLocked(m.name!);
      }).catch((e) => this.o.log.error(`removing volume ${m.name}: ${errorMessage(e)}`));
    }
  }

  async mount(m: ContainerMount, containerId: string): Promise<string> {
    const name = m.name!;
    await this.lock.run(name, async () => {
      const v = this.get(name);
      const users = this.activeOf(name);
      if (needsMount(v) && !users.size) await this.driver.mountDevice(v);
      users.add(containerId);
    });
    this.o.events.publish('volume', 'mount', name, {
      container: containerId, destination: m.destination, driver: DRIVER, propagation: m.propagation, 'read/write': String(m.rw),
    });
    return this.driver.dataPath(name);
  }

  async unmount(m: ContainerMount, containerId: string): Promise<void> {
    const name = m.name!;
    const was = await this.lock.run(name, async () => {
      const users = this.active.get(name);
      if (!users?.delete(containerId)) return false;
      const v = this.volumes.get(name);
      if (v && needsMount(v) && users.size === 0) await this.driver.unmountDevice(v);
      return true;
    });
    if (was) this.o.events.publish('volume', 'unmount', name, { container: containerId, driver: DRIVER });
  }

  async populate(m: ContainerMount, imageDir: string): Promise<void> {
    const data = this.driver.dataPath(m.name!);
    await this.lock.run(m.name!, async () => {
      if (!(await isEmptyDir(data))) return;
      await copyUp(imageDir, data, this.o.special);
    });
  }

  /**
   * Rebuilds references and users after a daemon start. Running containers kept their mounts while berthd was
   * down; a device no running container uses any more is unmounted, and one that is used but gone is mounted again.
   */
  async restore(containers: { id: string; running: boolean; mounts: ContainerMount[] }[]): Promise<void> {
    for (const c of containers) {
      for (const m of c.mounts) {
        if (m.type !== 'volume' || !m.name || !this.volumes.has(m.name)) continue;
        this.refsOf(m.name).add(c.id);
        if (c.running) this.activeOf(m.name).add(c.id);
      }
    }
    for (const v of this.volumes.values()) {
      if (!needsMount(v)) continue;
      const used = !!this.active.get(v.name)?.size;
      const mounted = await this.driver.isDeviceMounted(v);
      try {
        if (used && !mounted) await this.driver.mountDevice(v);
        if (!used && mounted) await this.driver.unmountDevice(v);
      } catch (err) {
        this.o.log.error(`volume ${v.name}: ${errorMessage(err)}`);
      }
    }
  }

  // ---------- helpers ----------

  private get(name: string): LocalVolume {
    const v = this.volumes.get(name);
    if (!v) throw new NotFoundError(`get ${name}: no such volume`);
    return v;
  }

  private refsOf(name: string): Set<string> {
    return setIn(this.refs, name);
  }

  private activeOf(name: string): Set<string> {
    return setIn(this.active, name);
  }

  private view(v: LocalVolume): Volume {
    return {
      CreatedAt: rfc3339(new Date(v.createdAt)),
      Driver: DRIVER,
      Labels: v.labels,
      Mountpoint: this.driver.dataPath(v.name),
      Name: v.name,
      Options: v.options,
      Scope: 'local',
    };
  }

  private filter(filters: ReadonlyMap<string, readonly string[]>): (v: LocalVolume) => boolean {
    const dangling = filters.get('dangling');
    let wantDangling: boolean | undefined;
    if (dangling) {
      const t = dangling.some((d) => d === 'true' || d === '1');
      const f = dangling.some((d) => d === 'false' || d === '0');
      if (t === f) throw new InvalidParameterError(`invalid filter 'dangling=[${dangling.join(' ')}]'`);
      wantDangling = t;
    }
    const names = filters.get('name');
    const drivers = filters.get('driver');
    return (v) => {
      if (drivers && !drivers.includes(DRIVER)) return false;
      if (names && !names.some((n) => n === v.name || regexMatch(n, v.name))) return false;
      if (!labelFiltersMatch(v.labels ?? {}, filters)) return false;
      if (wantDangling !== undefined && wantDangling === !!this.refs.get(v.name)?.size) return false;
      return true;
    };
  }
}

/** The set kept under `key`, made (empty) when there is none yet. */
function setIn(map: Map<string, Set<string>>, key: string): Set<string> {
  let s = map.get(key);
  if (!s) { s = new Set(); map.set(key, s); }
  return s;
}

function parseBool(v: string, key: string): boolean {
  const b = parseGoBool(v);
  if (b !== undefined) return b;
  throw new InvalidParameterError(`invalid filter '${key}': strconv.ParseBool: parsing "${v}": invalid syntax`);
}

function regexMatch(pattern: string, s: string): boolean {
  try {
    return new RegExp(pattern).test(s);
  } catch {
    return false;
  }
}

/** Go's time.Format(time.RFC3339) in the host's zone: "2024-05-31T13:05:48Z" or "...+02:00". */
export function rfc3339(d: Date): string {
  const off = -d.getTimezoneOffset();
  const local = new Date(d.getTime() + off * 60_000);
  const base = local.toISOString().slice(0, 19);
  if (off === 0) return `${base}Z`;
  const a = Math.abs(off);
  return `${base}${off < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

