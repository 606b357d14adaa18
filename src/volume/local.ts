// The local volume driver: each volume is <dataRoot>/volumes/<name>/_data beside its metadata, optionally
// mounted from a device (`-o type= -o device= -o o=`) while containers use it, as Docker's local driver does.
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { ConflictError, InvalidParameterError, SystemError, errorMessage } from '../errdefs';
import { fsyncDir, readJsonIfExists, writeJsonAtomic } from '../store/atomic';
import { ramInBytes } from '../util/units';

/** The mount operations the driver needs (host/mount.ts's LinuxMounter in production). */
export interface VolumeMounter {
  mount(type: string, source: string, target: string, options?: string[]): Promise<void>;
  umount(target: string, opts?: { lazy?: boolean }): Promise<void>;
  isMountPoint(target: string): Promise<boolean>;
  mounts(): Promise<{ mountPoint: string }[]>;
}

/** What is kept of a volume on disk (volume.json beside _data). */
export interface LocalVolume {
  name: string;
  labels: Record<string, string> | null;
  /** Driver options as given: type, device, o (size is refused: no quota support). */
  options: Record<string, string> | null;
  createdAt: string;
}

export const DATA_DIR = '_data';
const META_FILE = 'volume.json';

/** moby's names.RestrictedNameChars, which the local driver takes for volume names. */
export const RESTRICTED_NAME_CHARS = '[a-zA-Z0-9][a-zA-Z0-9_.-]';
const NAME_PATTERN = new RegExp(`^${RESTRICTED_NAME_CHARS}+$`);

const VALID_OPTS = new Set(['type', 'o', 'device', 'size']);
const MANDATORY_OPTS: Record<string, string[]> = { device: ['type'], type: ['device'], o: ['device', 'type'] };

/** Docker's local driver name check (validateName), with its wording. */
export function validateVolumeName(name: string): void {
  if (name.length === 1) throw new InvalidParameterError('volume name is too short, names should be at least two alphanumeric characters');
  if (!NAME_PATTERN.test(name)) {
    throw new InvalidParameterError(`"${name}" includes invalid characters for a local volume name, only "${RESTRICTED_NAME_CHARS}" are allowed. If you intended to pass a host directory, use absolute path`);
  }
  // The volume's directory, and its staging and removal names (".removing-NAME-xxxxxxxx"), must fit in 255 bytes.
  if (name.length > MAX_NAME) throw new InvalidParameterError(`volume name is too long: at most ${MAX_NAME} characters, got ${name.length}`);
}
const MAX_NAME = 255 - '.removing-'.length - 9;

/** Docker's local driver option check (validateOpts). */
export function validateVolumeOptions(opts: Record<string, string> | null | undefined): void {
  if (!opts || Object.keys(opts).length === 0) return;
  for (const k of Object.keys(opts)) if (!VALID_OPTS.has(k)) throw new InvalidParameterError(`invalid option: "${k}"`);
  if (opts.size !== undefined) {
    let size: number;
    try {
      size = ramInBytes(opts.size);
    } catch {
      throw new InvalidParameterError(`invalid size: '${opts.size}'`);
    }
    // Quotas need XFS project quotas under the data root; Berth's hosts have none, as dockerd answers there.
    if (size > 0) throw new InvalidParameterError('quota size requested but no quota support');
  }
  for (const [opt, required] of Object.entries(MANDATORY_OPTS)) {
    if (opts[opt] === undefined) continue;
    for (const r of required) if (opts[r] === undefined) throw new InvalidParameterError(`missing required option: "${r}"`);
  }
}

/** A volume created with type/device options is a mount of that device while containers use it. */
export function needsMount(v: LocalVolume): boolean {
  return !!v.options && (!!v.options.type || !!v.options.device);
}

export class LocalVolumeDriver {
  constructor(readonly root: string, private readonly mounter: VolumeMounter) {}

  dir(name: string): string { return path.join(this.root, name); }
  dataPath(name: string): string { return path.join(this.root, name, DATA_DIR); }

  /** Loads every volume; leftovers of a crash during create or remove are deleted. */
  async init(): Promise<LocalVolume[]> {
    await fsp.mkdir(this.root, { recursive: true, mode: 0o701 });
    const out: LocalVolume[] = [];
    for (const entry of await fsp.readdir(this.root, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const dir = path.join(this.root, entry.name);
      if (entry.name.startsWith('.tmp-') || entry.name.startsWith('.removing-')) {
        await this.removeTree(dir).catch(() => undefined);
        continue;
      }
      const meta = await readJsonIfExists<LocalVolume>(path.join(dir, META_FILE)).catch(() => undefined);
      if (meta && meta.name === entry.name) {
        out.push(meta);
        continue;
      }
      // A directory with _data but no readable metadata (written by hand, or by an older layout) is still a volume.
      const st = await fsp.stat(path.join(dir, DATA_DIR)).catch(() => undefined);
      if (st?.isDirectory()) out.push({ name: entry.name, labels: null, options: null, createdAt: st.ctime.toISOString() });
    }
    return out;
  }

  /** Creates the volume's directories and metadata; a crash leaves either nothing or the whole volume. */
  async create(v: LocalVolume): Promise<void> {
    const staging = path.join(this.root, `.tmp-${v.name}-${randomBytes(6).toString('hex')}`);
    await fsp.mkdir(staging, { mode: 0o701 });
    try {
      await fsp.mkdir(path.join(staging, DATA_DIR), { mode: 0o755 });
      await writeJsonAtomic(path.join(staging, META_FILE), v);
      await fsp.rename(staging, this.dir(v.name));
    } catch (err) {
      await fsp.rm(staging, { recursive: true, force: true });
      if (['EEXIST', 'ENOTEMPTY'].includes((err as NodeJS.ErrnoException).code ?? '')) {
        throw new ConflictError(`create ${v.name}: volume name must be unique`);
      }
      throw new SystemError(`error while creating volume root path '${this.dir(v.name)}': ${errorMessage(err)}`);
    }
    await fsyncDir(this.root);
  }

  /** Deletes the volume and its data; never while anything is still mounted inside it. */
  async remove(v: LocalVolume): Promise<void> {
    const dir = this.dir(v.name);
    if (await this.mounter.isMountPoint(this.dataPath(v.name))) await this.unmountDevice(v);
    await this.refuseMountsUnder(dir);
    const doomed = path.join(this.root, `.removing-${v.name}-${randomBytes(4).toString('hex')}`);
    try {
      await fsp.rename(dir, doomed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new SystemError(`remove ${v.name}: ${errorMessage(err)}`);
    }
    await this.removeTree(doomed);
  }

  /** Mounts the volume's device on _data (volumes with type/device options). */
  async mountDevice(v: LocalVolume): Promise<void> {
    if (!needsMount(v)) return;
    const target = this.dataPath(v.name);
    if (await this.mounter.isMountPoint(target)) return;
    const device = v.options?.device ?? '';
    if (!device) throw new SystemError(`failed to mount local volume: missing device in volume options`);
    const opts = v.options?.o ? v.options.o.split(',').filter(Boolean) : [];
    try {
      await this.mounter.mount(v.options?.type || 'none', device, target, opts);
    } catch (err) {
      throw new SystemError(`failed to mount local volume: ${hidePassword(errorMessage(err), v.options?.o ?? '')}`);
    }
  }

  async unmountDevice(v: LocalVolume): Promise<void> {
    const target = this.dataPath(v.name);
    if (!(await this.mounter.isMountPoint(target))) return;
    try {
      await this.mounter.umount(target);
    } catch (err) {
      if (await this.mounter.isMountPoint(target)) throw new SystemError(`unmount volume ${v.name}: ${errorMessage(err)}`);
    }
  }

  isDeviceMounted(v: LocalVolume): Promise<boolean> {
    return this.mounter.isMountPoint(this.dataPath(v.name));
  }

  private async refuseMountsUnder(dir: string): Promise<void> {
    const real = await fsp.realpath(dir).catch(() => dir);
    const inside = (await this.mounter.mounts()).filter((m) => m.mountPoint === real || m.mountPoint.startsWith(real + '/'));
    if (inside.length) throw new SystemError(`remove ${path.basename(dir)}: ${inside[0]!.mountPoint} is still mounted`);
  }

  private async removeTree(dir: string): Promise<void> {
    await this.refuseMountsUnder(dir);
    await fsp.rm(dir, { recursive: true, force: true });
  }
}

function hidePassword(message: string, o: string): string {
  const pw = /(?:^|,)password=([^,]*)/.exec(o)?.[1];
  return pw ? message.split(`password=${pw}`).join('password=********') : message;
}
