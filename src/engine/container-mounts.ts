// A container's mounts: -v, --mount, --volumes-from and the image's VOLUMEs parsed as moby's linux parser does,
// planned into one list kept on the container record, and set up at start as OCI mounts whose destinations are
// resolved inside the container's view, so a symlink in the image can never point a mount outside the rootfs.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { HostConfig, MountPoint, MountSpec } from '../wire/docker';
import type { RuntimeMount } from '../wire/oci';
import { InvalidParameterError, SystemError, errorMessage } from '../errdefs';
import { tmpfsMounts } from './security';
import { resolveInContainer } from '../host/rootfs';

export type MountType = 'bind' | 'volume' | 'tmpfs';

/** One mount of a container, as kept on its record (moby's volume/mounts.MountPoint). */
export interface ContainerMount {
  type: MountType;
  destination: string;
  /** bind: the host path; volume: the volume's data directory, once attached; tmpfs: "". */
  source: string;
  /** volume: its name. */
  name?: string;
  driver?: string;
  /** The mode as given in -v ("ro", "ro,rslave", ...); Docker shows "z" for local volumes given without one. */
  mode: string;
  rw: boolean;
  propagation: string;
  /** volume: fill it from the image's content at the destination at the next start, if it is empty. */
  copyData?: boolean;
  /** volume: made for this container without a name; `rm -v` and `--rm` remove it. */
  anonymous?: boolean;
  /** bind from -v: a missing source directory is created at start, as Docker does. */
  createSource?: boolean;
  /** bind: `bind-nonrecursive`. */
  nonRecursive?: boolean;
  /** volume: mount this path inside the volume instead of its root (`volume-subpath`). */
  subpath?: string;
  /** tmpfs: mount data ("size=1m,mode=755"). */
  tmpfsData?: string;
}

/** A mount as planned at create, before its volume is looked up or made. */
export interface PlannedMount extends ContainerMount {
  /** volume: create it when missing with these options and labels; `false` (volumes-from) when it must exist. */
  create?: { options: Record<string, string> | null; labels: Record<string, string> | null } | false;
}

/** What the container engine needs of the volume service (engine/volumes.ts). */
export interface ContainerVolumes {
  /** Looks up or creates each volume of `planned` with a reference from the container; fills name, source, driver. */
  attach(planned: PlannedMount[], containerId: string): Promise<ContainerMount[]>;
  /** Drops the container's references; with `removeAnonymous`, removes its anonymous volumes not used elsewhere. */
  release(containerId: string, mounts: ContainerMount[], removeAnonymous: boolean): Promise<void>;
  /** The volume is about to be used by the running container: mounts its device if it has one; its data path. */
  mount(m: ContainerMount, containerId: string): Promise<string>;
  unmount(m: ContainerMount, containerId: string): Promise<void>;
  /** Copy-up: fills the volume from `imageDir` if the volume is empty. */
  populate(m: ContainerMount, imageDir: string): Promise<void>;
  /** At daemon start: the references of every container and the mounts of the running ones. */
  restore(containers: { id: string; running: boolean; mounts: ContainerMount[] }[]): Promise<void>;
}

// ---------- parsing, as moby's linux_parser.go ----------

const RW_MODES = new Set(['rw', 'ro']);
const LABEL_MODES = new Set(['z', 'Z']);
const PROPAGATION_MODES = new Set(['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared']);
const COPY_MODES = new Set(['nocopy']);
const CONSISTENCY_MODES = new Set(['consistent', 'cached', 'delegated']);
export const DEFAULT_PROPAGATION = 'rprivate';

const invalidSpec = (raw: string) => new InvalidParameterError(`invalid volume specification: '${raw}'`);
const invalidMode = (mode: string) => new InvalidParameterError(`invalid mode: ${mode}`);
const mountConfigError = (type: string, msg: string) => new InvalidParameterError(`invalid mount config for type "${type}": ${msg}`);

/** linuxValidMountMode: comma-separated, at most one of each kind (rw/ro, z/Z, propagation, nocopy, consistency). */
export function validMountMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = [0, 0, 0, 0, 0];
  for (const o of mode.split(',')) {
    const kind = [RW_MODES, LABEL_MODES, PROPAGATION_MODES, COPY_MODES, CONSISTENCY_MODES].findIndex((s) => s.has(o));
    if (kind < 0) return false;
    counts[kind]!++;
  }
  return counts.every((n) => n <= 1);
}

function readWrite(mode: string): boolean {
  return validMountMode(mode) && !mode.split(',').includes('ro');
}

function propagationIn(mode: string): string | undefined {
  return mode.split(',').find((o) => PROPAGATION_MODES.has(o));
}

function cleanPath(p: string): string {
  return path.posix.normalize(p).replace(/(.)\/+$/, '$1');
}

function checkTarget(type: string, target: string): void {
  if (!target) throw mountConfigError(type, 'field Target must not be empty');
  if (cleanPath(target.replace(/\\/g, '/')) === '/') throw mountConfigError(type, 'invalid specification: destination can\'t be \'/\'');
  if (!target.replace(/\\/g, '/').startsWith('/')) throw mountConfigError(type, `invalid mount path: '${target}' mount path must be absolute`);
}

/** One HostConfig.Binds entry ("name:/dst", "/src:/dst:ro", "/dst"), as ParseMountRaw. */
export function parseBind(raw: string, volumeDriver = ''): PlannedMount {
  const arr = splitN(raw, ':', 4);
  if (arr[0] === '') throw invalidSpec(raw);
  let source = '';
  let target: string;
  let mode = '';
  switch (arr.length) {
    case 1: target = arr[0]!; break;
    case 2:
      // A destination and a mode is not a volume: "/foo:rw".
      if (validMountMode(arr[1]!)) throw invalidSpec(raw);
      [source, target] = [arr[0]!, arr[1]!];
      break;
    case 3: [source, target, mode] = [arr[0]!, arr[1]!, arr[2]!]; break;
    default: throw invalidSpec(raw);
  }
  if (!validMountMode(mode)) throw invalidMode(mode);
  const type: MountType = source.startsWith('/') ? 'bind' : 'volume';
  try {
    checkTarget(type, target);
  } catch (err) {
    throw new InvalidParameterError(`invalid volume specification: '${raw}': ${errorMessage(err)}`);
  }
  const rw = readWrite(mode);
  const destination = cleanPath(target);
  if (type === 'bind') {
    return { type, source: cleanPath(source), destination, mode, rw, propagation: propagationIn(mode) ?? DEFAULT_PROPAGATION, createSource: true };
  }
  if (volumeDriver && volumeDriver !== 'local') checkDriver(volumeDriver);
  const noCopy = mode.split(',').includes('nocopy');
  return {
    type, source: '', destination, mode: mode || 'z', rw, propagation: propagationIn(mode) ?? '',
    ...(source ? { name: source } : { anonymous: true }),
    copyData: !noCopy, create: { options: null, labels: null },
  };
}

/** One HostConfig.Mounts entry, as ParseMountSpec (a bind source must exist unless CreateMountpoint). */
export function parseMountSpec(cfg: MountSpec, sourceExists: (p: string) => boolean): PlannedMount {
  if (!cfg || typeof cfg !== 'object') throw new InvalidParameterError('invalid mount config: expected an object');
  const type = cfg.Type as string;
  const extra = (field: string) => mountConfigError(type, `field ${field} must not be specified`);
  if (type !== 'bind' && cfg.BindOptions) throw extra('BindOptions');
  if (type !== 'volume' && cfg.VolumeOptions) throw extra('VolumeOptions');
  if (type !== 'tmpfs' && cfg.TmpfsOptions) throw extra('TmpfsOptions');
  checkTarget(type, cfg.Target ?? '');
  const destination = cleanPath(cfg.Target);
  const rw = !cfg.ReadOnly;
  switch (type) {
    case 'bind': {
      const source = cfg.Source ?? '';
      if (!source) throw mountConfigError(type, 'field Source must not be empty');
      const prop = cfg.BindOptions?.Propagation;
      if (prop && !PROPAGATION_MODES.has(prop)) throw mountConfigError(type, `invalid propagation mode: ${prop}`);
      if (!source.startsWith('/')) throw mountConfigError(type, `invalid mount path: '${source}' mount path must be absolute`);
      const create = !!cfg.BindOptions?.CreateMountpoint;
      if (!create && !sourceExists(source)) throw mountConfigError(type, `bind source path does not exist: ${source}`);
      return {
        type, source: cleanPath(source), destination, mode: '', rw, propagation: prop || DEFAULT_PROPAGATION,
        ...(create ? { createSource: true } : {}), ...(cfg.BindOptions?.NonRecursive ? { nonRecursive: true } : {}),
      };
    }
    case 'volume': {
      const name = cfg.Source ?? '';
      const vo = cfg.VolumeOptions;
      if (vo?.Subpath) {
        if (!name) throw mountConfigError(type, 'must not set Subpath when using anonymous volumes');
        if (vo.Subpath.startsWith('/') || cleanPath(vo.Subpath).split('/').includes('..')) {
          throw mountConfigError(type, 'subpath must be a relative path within the volume');
        }
      }
      const driver = vo?.DriverConfig?.Name;
      if (driver && driver !== 'local') checkDriver(driver);
      return {
        type, source: '', destination, mode: 'z', rw, propagation: '',
        ...(name ? { name } : { anonymous: true }),
        ...(vo?.Subpath ? { subpath: cleanPath(vo.Subpath) } : {}),
        copyData: !vo?.NoCopy,
        create: { options: vo?.DriverConfig?.Options ?? null, labels: vo?.Labels ?? null },
      };
    }
    case 'tmpfs': {
      if (cfg.Source) throw mountConfigError(type, 'field Source must not be specified');
      return { type, source: '', destination, mode: '', rw, propagation: '', tmpfsData: tmpfsData(cfg.TmpfsOptions, !rw, type) };
    }
    default:
      throw mountConfigError(type ?? '', 'mount type unknown');
  }
}

/** ConvertTmpfsOptions: "ro", "mode=<octal>", "size=<n>[kmg]", then exec/noexec options. */
function tmpfsData(opt: MountSpec['TmpfsOptions'], readOnly: boolean, type: string): string {
  const raw: string[] = [];
  if (readOnly) raw.push('ro');
  if (opt?.Mode) raw.push(`mode=${opt.Mode.toString(8)}`);
  if (opt?.SizeBytes) {
    let size = opt.SizeBytes;
    let suffix = '';
    for (const [s, d] of [['g', 2 ** 30], ['m', 2 ** 20], ['k', 2 ** 10]] as const) {
      if (size % d === 0) { size /= d; suffix = s; break; }
    }
    raw.push(`size=${size}${suffix}`);
  }
  for (const o of opt?.Options ?? []) {
    if (!Array.isArray(o) || o.length < 1 || o.length > 2) throw mountConfigError(type, 'invalid option array length');
    if (!['exec', 'noexec'].includes(o[0]!)) throw mountConfigError(type, `invalid option: ${o[0]}`);
    raw.push(o.length === 1 ? o[0]! : `${o[0]}=${o[1]}`);
  }
  return raw.join(',');
}

/** --volumes-from "container[:mode]"; propagation and copy modes are refused. */
export function parseVolumesFrom(spec: string): { container: string; mode: string } {
  if (!spec) throw new InvalidParameterError('volumes-from specification cannot be an empty string');
  const i = spec.indexOf(':');
  const container = i < 0 ? spec : spec.slice(0, i);
  const mode = i < 0 ? '' : spec.slice(i + 1);
  if (!mode) return { container, mode: 'rw' };
  if (!validMountMode(mode) || propagationIn(mode) || mode.split(',').includes('nocopy')) throw invalidMode(mode);
  return { container, mode };
}

function checkDriver(name: string): void {
  throw new InvalidParameterError(`error looking up volume plugin ${name}: plugin "${name}" not found`);
}

function splitN(s: string, sep: string, n: number): string[] {
  const parts = s.split(sep);
  return parts.length <= n ? parts : [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
}

export interface MountInputs {
  hostConfig: Pick<HostConfig, 'Binds' | 'Mounts' | 'VolumesFrom' | 'VolumeDriver' | 'Tmpfs'>;
  /** The container's Config.Volumes (the image's VOLUMEs and `-v /path`). */
  volumes: Record<string, object> | null | undefined;
  /** The mounts of a --volumes-from container (throws for an unknown one). */
  mountsOf(container: string): ContainerMount[];
  /** Whether a --mount bind source exists on the host. */
  sourceExists(p: string): boolean;
}

/**
 * The container's mounts, as registerMountPoints and the image-volume step of create do: volumes of other
 * containers first, then -v binds and --mount (a second mount on one destination is an error), then an anonymous
 * volume for each Config.Volumes path nothing else mounts. Sorted so parents come before what is mounted inside them.
 */
export function planMounts(i: MountInputs): PlannedMount[] {
  const byDest = new Map<string, PlannedMount>();
  const explicit = new Set<string>();
  const hc = i.hostConfig;
  const tmpfs = new Set(Object.keys(hc.Tmpfs ?? {}).map(cleanPath));
  const duplicate = (d: string) => new InvalidParameterError(`Duplicate mount point: ${d}`);

  for (const spec of hc.VolumesFrom ?? []) {
    const { container, mode } = parseVolumesFrom(spec);
    for (const m of i.mountsOf(container)) {
      const copy: PlannedMount = { ...m, rw: m.rw && readWrite(mode), copyData: false, create: false };
      delete copy.anonymous;
      if (m.type === 'bind') delete copy.createSource;
      byDest.set(m.destination, copy);
    }
  }
  for (const raw of hc.Binds ?? []) {
    const m = parseBind(raw, hc.VolumeDriver ?? '');
    if (explicit.has(m.destination) || tmpfs.has(m.destination)) throw duplicate(m.destination);
    explicit.add(m.destination);
    byDest.set(m.destination, m);
  }
  for (const cfg of hc.Mounts ?? []) {
    const m = parseMountSpec(cfg, i.sourceExists);
    if (explicit.has(m.destination) || tmpfs.has(m.destination)) throw duplicate(cfg.Target);
    explicit.add(m.destination);
    byDest.set(m.destination, m);
  }
  for (const spec of Object.keys(i.volumes ?? {})) {
    const destination = cleanPath(path.posix.join('/', spec));
    if (byDest.has(destination) || tmpfs.has(destination)) continue;
    if (destination === '/') throw new InvalidParameterError('invalid specification: destination can\'t be \'/\'');
    byDest.set(destination, {
      type: 'volume', source: '', destination, mode: '', rw: true, propagation: '', anonymous: true, copyData: true,
      create: { options: null, labels: null },
    });
  }
  return sortMounts([...byDest.values()]);
}

/** Parents before children (moby sorts mounts by the number of path components of the destination). */
export function sortMounts<T extends { destination: string }>(mounts: T[]): T[] {
  const depth = (d: string) => d.split('/').filter(Boolean).length;
  return [...mounts].sort((a, b) => depth(a.destination) - depth(b.destination));
}

/** The Mounts of `docker inspect` and `docker ps` (moby's types.MountPoint). */
export function mountPointsOf(mounts: ContainerMount[] | undefined): MountPoint[] {
  return (mounts ?? []).map((m) => ({
    Type: m.type,
    ...(m.name ? { Name: m.name } : {}),
    Source: m.source,
    Destination: m.destination,
    ...(m.driver ? { Driver: m.driver } : {}),
    Mode: m.mode,
    RW: m.rw,
    Propagation: m.propagation,
  }));
}

/** Whether a container uses the volume or path in its mounts (`ps --filter volume=`). */
export function usesVolume(mounts: ContainerMount[] | undefined, value: string): boolean {
  return (mounts ?? []).some((m) => m.destination === value || (m.name ? m.name === value : m.source === value));
}

// ---------- paths as the container sees them ----------

/** The container's bind and volume mounts with a host source, as resolveInContainer takes them. */
export function sourceMounts(mounts: ContainerMount[] | undefined): { destination: string; source: string }[] {
  return (mounts ?? []).filter((m) => m.type !== 'tmpfs' && m.source).map((m) => ({
    destination: m.destination, source: m.subpath ? path.join(m.source, m.subpath) : m.source,
  }));
}

// ---------- start and stop ----------

/** Sets up and tears down a container's mounts around its runs. */
export class ContainerMountSetup {
  constructor(private readonly volumes: ContainerVolumes) {}

  /**
   * Before the container runs: mounts its volumes' devices, fills empty volumes from the image, creates missing
   * -v sources and every mount point inside the rootfs, and returns the OCI mounts with resolved destinations.
   * On failure nothing stays mounted.
   */
  async setup(id: string, mounts: ContainerMount[] | undefined, rootfs: string): Promise<RuntimeMount[]> {
    const out: RuntimeMount[] = [];
    const placed: { destination: string; source: string }[] = [];
    const used: ContainerMount[] = [];
    try {
      for (const m of sortMounts(mounts ?? [])) {
        let source = m.source;
        // Where the mount goes; before a volume goes over it, that is also the image's content for copy-up.
        const where = await resolveInContainer(rootfs, placed, m.destination);
        if (m.type === 'volume') {
          used.push(m);
          source = await this.volumes.mount(m, id);
          if (m.copyData) {
            const st = await fsp.stat(where.hostPath).catch(() => undefined);
            if (st?.isDirectory()) await this.volumes.populate(m, where.hostPath);
          }
          if (m.subpath) {
            source = (await resolveInContainer(source, [], m.subpath)).hostPath;
            if (!fs.existsSync(source)) throw new SystemError(`cannot access path ${source}: no such file or directory`);
          }
        } else if (m.type === 'bind' && m.createSource) {
          await fsp.mkdir(source, { recursive: true, mode: 0o755 }).catch((e: NodeJS.ErrnoException) => {
            if (e.code !== 'ENOTDIR' && e.code !== 'EEXIST') throw new SystemError(`error while creating mount source path '${source}': ${e.message}`);
          });
        }
        await makeMountPoint(where.hostPath, m.type === 'tmpfs' ? true : await isDirectory(source), m.destination);
        out.push(ociMount(m, where.containerPath, source));
        if (m.type !== 'tmpfs') placed.push({ destination: where.containerPath, source });
      }
    } catch (err) {
      for (const m of used) await this.volumes.unmount(m, id).catch(() => undefined);
      throw err;
    }
    return out;
  }

  /** After a run: releases the volumes' device mounts (the last user out unmounts). */
  async teardown(id: string, mounts: ContainerMount[] | undefined): Promise<void> {
    for (const m of mounts ?? []) if (m.type === 'volume') await this.volumes.unmount(m, id);
  }

  /** After the first start: copy-up happens once, as Docker's happens at create. */
  copiedUp(mounts: ContainerMount[] | undefined): void {
    for (const m of mounts ?? []) if (m.copyData) m.copyData = false;
  }
}

async function isDirectory(p: string): Promise<boolean> {
  const st = await fsp.stat(p).catch(() => undefined);
  return !st || st.isDirectory();
}

/** The mount point inside the rootfs (or inside an outer mount): a directory, or an empty file for a file bind. */
async function makeMountPoint(hostPath: string, dir: boolean, destination: string): Promise<void> {
  const st = await fsp.lstat(hostPath).catch(() => undefined);
  if (st) {
    if (dir && !st.isDirectory()) throw new SystemError(`cannot mount volume over existing file, file exists ${destination}`);
    return;
  }
  if (dir) {
    await fsp.mkdir(hostPath, { recursive: true, mode: 0o755 });
  } else {
    await fsp.mkdir(path.dirname(hostPath), { recursive: true, mode: 0o755 });
    await fsp.writeFile(hostPath, '', { flag: 'a', mode: 0o644 });
  }
}

/** One OCI mount: binds and volumes as rbind (ro when read-only), tmpfs with Docker's noexec,nosuid,nodev. */
export function ociMount(m: ContainerMount, destination: string, source: string): RuntimeMount {
  if (m.type === 'tmpfs') {
    const mount = tmpfsMounts({ [destination]: m.tmpfsData ?? '' })[0]!;
    return { ...mount, options: [...(mount.options ?? []), DEFAULT_PROPAGATION].filter((o, i, all) => all.indexOf(o) === i) };
  }
  const options = [m.nonRecursive ? 'bind' : 'rbind'];
  if (!m.rw) options.push('ro');
  options.push(m.propagation || DEFAULT_PROPAGATION);
  return { destination, type: 'bind', source, options };
}
