// Mounts: mount(8)/umount(8) spawned for mount(2), /proc/self/mountinfo parsed, overlayfs for container rootfs.
import { execFile } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { InvalidParameterError, NotFoundError, SystemError } from '../errdefs';

/** One line of /proc/<pid>/mountinfo (see proc(5)). */
export interface MountInfo {
  id: number;
  parentId: number;
  /** "major:minor" of the filesystem. */
  device: string;
  /** The path inside the filesystem that is mounted (not "/" for bind mounts and cgroup namespaces). */
  root: string;
  mountPoint: string;
  mountOptions: string[];
  fsType: string;
  source: string;
  superOptions: string[];
}

export interface UmountOptions {
  /** MNT_DETACH: detach now, clean up when the mount is no longer busy. */
  lazy?: boolean;
}

/** The mount operations Berth needs; LinuxMounter does them, a fake under test/fakes records them for unit tests. */
export interface Mounter {
  mount(type: string, source: string, target: string, options?: string[]): Promise<void>;
  /** Throws NotFoundError when `target` is not mounted. */
  umount(target: string, opts?: UmountOptions): Promise<void>;
  isMountPoint(target: string): Promise<boolean>;
  /**
   * Whether `target` is the root of another filesystem than its parent directory's (an overlay or a tmpfs mounted
   * on it). Two stat(2) calls instead of reading the whole mount table, which grows with every container; blind to
   * a bind mount from the same filesystem, so only for places where Berth mounts a filesystem of its own.
   */
  hasOwnFilesystem(target: string): Promise<boolean>;
  /** Mounts overlayfs on `target`; `lowerDirs` are ordered top-most first, as overlayfs wants them. */
  mountOverlay(lowerDirs: string[], upperDir: string, workDir: string, target: string): Promise<void>;
  /** The current mount table. */
  mounts(): Promise<MountInfo[]>;
}

/** The kernel copies at most one page of mount data (the legacy mount(2) API that mount(8) 2.38 uses). */
export const MOUNT_DATA_MAX = 4095;
/** overlayfs refuses more lower layers than this (OVL_MAX_STACK). */
export const OVERLAY_MAX_LOWER = 500;

// mountinfo escapes space, tab, newline and backslash as \ooo octal.
function unescapeMountInfo(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Parses the text of /proc/<pid>/mountinfo; malformed lines are skipped. */
export function parseMountInfo(text: string): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const fields = line.split(' ');
    // Optional fields (shared:N, master:N …) run until a lone "-".
    const sep = fields.indexOf('-', 6);
    if (fields.length < 10 || sep < 0 || fields.length < sep + 4) continue;
    out.push({
      id: Number(fields[0]),
      parentId: Number(fields[1]),
      device: fields[2]!,
      root: unescapeMountInfo(fields[3]!),
      mountPoint: unescapeMountInfo(fields[4]!),
      mountOptions: fields[5]!.split(','),
      fsType: fields[sep + 1]!,
      source: unescapeMountInfo(fields[sep + 2]!),
      superOptions: fields[sep + 3]!.split(','),
    });
  }
  return out;
}

export async function readMountInfo(file = '/proc/self/mountinfo'): Promise<MountInfo[]> {
  return parseMountInfo(await fsp.readFile(file, 'utf8'));
}

/** Whether `target` is the mount point of the last (top-most) mount listed for it. */
export function isMountPointIn(table: MountInfo[], target: string): boolean {
  const want = path.resolve(target);
  return table.some((m) => m.mountPoint === want);
}

/** How mountOverlay will call mount(8): the option string and the directory to run it from. */
export interface OverlayMountPlan {
  options: string;
  /** mount(8) runs from here: the options' relative paths are relative to it. */
  cwd: string;
}

/** Whether overlayfs can take these lower layers, upper and work directories; a clear error naming the problem if not. */
export function checkOverlayLayers(lowerDirs: string[], upperDir: string, workDir: string): void {
  if (lowerDirs.length === 0) throw new InvalidParameterError('overlay needs at least one lower directory');
  if (lowerDirs.length > OVERLAY_MAX_LOWER) {
    throw new InvalidParameterError(`overlay supports at most ${OVERLAY_MAX_LOWER} lower layers, got ${lowerDirs.length}`);
  }
  lowerDirs.forEach((d) => checkOverlayDir(d, 'lowerdir'));
  checkOverlayDir(upperDir, 'upperdir');
  checkOverlayDir(workDir, 'workdir');
}

function checkOverlayDir(dir: string, what: string): void {
  if (!path.isAbsolute(dir)) throw new InvalidParameterError(`overlay ${what} must be an absolute path: ${dir}`);
  // overlayfs splits lowerdir on ':' and mount options on ','; Berth's own paths never hold them.
  if (/[:,\n\\]/.test(dir)) throw new InvalidParameterError(`overlay ${what} has a character overlayfs cannot take (:,\\ or newline): ${dir}`);
}

function overlayOptions(lower: string[], upper: string, work: string): string {
  return `lowerdir=${lower.join(':')},upperdir=${upper},workdir=${work},index=off`;
}

/** The deepest directory that contains every path in `dirs` (never one of the paths themselves). */
function commonParent(dirs: string[]): string {
  let parts = dirs[0]!.split('/');
  for (const d of dirs.slice(1)) {
    const p = d.split('/');
    let i = 0;
    while (i < parts.length && i < p.length && parts[i] === p[i]) i++;
    parts = parts.slice(0, i);
  }
  const common = parts.join('/') || '/';
  return dirs.includes(common) ? path.dirname(common) : common;
}

const fits = (options: string): boolean => Buffer.byteLength(options) <= MOUNT_DATA_MAX;

/**
 * Chooses the overlay options for lower layers reached through numbered links in `linkDir` (link `i` to
 * `lowerDirs[i]`, top-most first; the mounter makes them and removes them once mounted: overlayfs resolves them
 * at mount time).
 *
 * Short on purpose: the kernel keeps the option strings as given and formats them, escaped character by
 * character, into every read of the mount table, for every overlay in it. crun reads all of /proc/mounts at each
 * create and exec, so with 1,000 containers running, absolute paths (~340 bytes a mount) cost every new container
 * milliseconds (decision 21, 2026-12-07). So mount(8) runs from the directory holding upper, work and the links,
 * with `lowerdir=.lower-XXXXXX/0,upperdir=upper,workdir=work`. When that is over one page (hundreds of layers),
 * it runs from `linkDir` with bare link numbers and absolute upper and work, as dockerd's overlay2 uses short links.
 */
export function planOverlayMount(lowerDirs: string[], upperDir: string, workDir: string, linkDir: string): OverlayMountPlan {
  checkOverlayLayers(lowerDirs, upperDir, workDir);
  const upper = path.resolve(upperDir);
  const work = path.resolve(workDir);
  const links = path.resolve(linkDir);
  const cwd = commonParent([upper, work, links]);
  if (cwd !== '/') {
    const rel = (p: string): string => path.relative(cwd, p);
    const short = overlayOptions(lowerDirs.map((_d, i) => `${rel(links)}/${i}`), rel(upper), rel(work));
    if (fits(short)) return { options: short, cwd };
  }
  const linked = overlayOptions(lowerDirs.map((_d, i) => String(i)), upper, work);
  if (fits(linked)) return { options: linked, cwd: links };
  throw new InvalidParameterError(
    `overlay mount options are ${Buffer.byteLength(linked)} bytes even with short links, over the ` +
      `${MOUNT_DATA_MAX}-byte limit of mount(2); upperdir and workdir paths are too long`,
  );
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], cwd?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(new SystemError(`${file}: ${err.message}`));
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
}

/** The real mounter: spawns mount(8)/umount(8) and reads /proc/self/mountinfo. */
export class LinuxMounter implements Mounter {
  async mount(type: string, source: string, target: string, options: string[] = []): Promise<void> {
    await this.runMount(type, source, target, options.join(','));
  }

  private async runMount(type: string, source: string, target: string, options: string, cwd?: string): Promise<void> {
    const args = ['-t', type];
    if (options) args.push('-o', options);
    // -i: no /sbin/mount.<type> helpers; -n: no /etc/mtab; the kernel's table is the truth.
    args.push('-i', '-n', source, target);
    const r = await run('mount', args, cwd);
    if (r.code !== 0) {
      const msg = r.stderr.trim() || `exit code ${r.code}`;
      throw new SystemError(`mount ${type} on ${target} failed: ${msg}`);
    }
  }

  async umount(target: string, opts: UmountOptions = {}): Promise<void> {
    const args = opts.lazy ? ['-l', '-n', target] : ['-n', target];
    const r = await run('umount', args);
    if (r.code === 0) return;
    const msg = r.stderr.trim() || `exit code ${r.code}`;
    if (/not mounted|no mount point specified|no such file or directory/i.test(msg)) {
      throw new NotFoundError(`${target} is not mounted`);
    }
    throw new SystemError(`umount ${target} failed: ${msg}`);
  }

  async isMountPoint(target: string): Promise<boolean> {
    let real: string;
    try {
      real = await fsp.realpath(target);
    } catch {
      return false;
    }
    return isMountPointIn(await this.mounts(), real);
  }

  async hasOwnFilesystem(target: string): Promise<boolean> {
    const resolved = path.resolve(target);
    const [own, parent] = await Promise.all([fsp.stat(resolved).catch(() => undefined), fsp.stat(path.dirname(resolved)).catch(() => undefined)]);
    return !!own && !!parent && own.dev !== parent.dev;
  }

  async mountOverlay(lowerDirs: string[], upperDir: string, workDir: string, target: string): Promise<void> {
    checkOverlayLayers(lowerDirs, upperDir, workDir);
    // Beside the upper directory (the container's own), so the mount data names everything by short relative paths.
    const linkDir = await fsp.mkdtemp(path.join(path.dirname(path.resolve(upperDir)), '.lower-'));
    try {
      await Promise.all(lowerDirs.map((dir, i) => fsp.symlink(path.resolve(dir), path.join(linkDir, String(i)))));
      const plan = planOverlayMount(lowerDirs, upperDir, workDir, linkDir);
      await this.runMount('overlay', 'overlay', path.resolve(target), plan.options, plan.cwd);
    } finally {
      await fsp.rm(linkDir, { recursive: true, force: true });
    }
  }

  mounts(): Promise<MountInfo[]> {
    return readMountInfo();
  }
}
