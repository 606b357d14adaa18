// Host preparation at berthd start: cgroup layout crun accepts, overlayfs, directories, IP forwarding. Idempotent.
import { execFile } from 'node:child_process';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { SystemError, errorMessage } from '../errdefs';
import { CGROUP_ROOT, CgroupLayout, CgroupMode, readCgroupLayout } from './cgroups';
import { LinuxMounter, Mounter } from './mount';

export interface PrepareHostOptions {
  /** Berth's persistent state (images, containers); made 0711 like /var/lib/docker. */
  dataRoot: string;
  /** Berth's runtime state (sockets, pid files); made 0700. */
  runRoot?: string;
  /** Turn on net.ipv4.ip_forward (bridge networking needs it). */
  ipForward?: boolean;
  mounter?: Mounter;
  /** Where /proc and /sys/fs/cgroup are; tests point these at fixture trees. */
  procRoot?: string;
  cgroupRoot?: string;
  /** Runs modprobe; tests replace it. */
  modprobe?: (module: string) => Promise<void>;
}

export interface HostReport {
  cgroupMode: CgroupMode;
  /** Controllers the cgroup2 hierarchy still holds after preparation (crun 1.8 wants none in hybrid mode). */
  v2Controllers: string[];
  /** v1 hierarchies mounted now so crun accepts a hybrid host, e.g. ["hugetlb"]. */
  mountedControllers: string[];
  overlay: 'present' | 'loaded';
  ipForward: 'enabled' | 'already' | 'skipped';
  /** Directories created or whose mode was corrected. */
  directories: string[];
  /** Every change made, in words, for the daemon log; empty when the host was already prepared. */
  actions: string[];
}

export const DEFAULT_RUN_ROOT = '/run/berth';

// cgroup2 controller names whose v1 subsystem is called differently.
const V1_NAME: Record<string, string> = { io: 'blkio' };

function defaultModprobe(module: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('modprobe', [module], (err, _out, stderr) => {
      if (err) reject(new SystemError(`modprobe ${module}: ${String(stderr).trim() || err.message}`));
      else resolve();
    });
  });
}

/**
 * crun 1.8 refuses a hybrid host whose cgroup2 hierarchy holds any controller ("cgroups in hybrid mode not
 * supported, drop all controllers from cgroupv2"). A controller sits on cgroup2 only while no v1 hierarchy
 * has it, so mounting a v1 hierarchy for it moves it over (the kernel refuses with EBUSY if cgroup2 uses it).
 */
async function fixHybridCgroups(layout: CgroupLayout, mounter: Mounter, report: HostReport): Promise<string[]> {
  let remaining = layout.v2Controllers;
  if (layout.mode !== 'hybrid' || remaining.length === 0) return remaining;
  for (const controller of layout.v2Controllers) {
    const v1Name = V1_NAME[controller] ?? controller;
    if (layout.v1.has(v1Name)) continue; // already on v1: the kernel would not list it on v2, nothing to do
    const target = path.join(layout.root, v1Name);
    try {
      await fsp.mkdir(target, { recursive: true });
      await mounter.mount('cgroup', 'cgroup', target, [v1Name]);
    } catch (err) {
      throw new SystemError(
        `cgroup2 at ${layout.v2Mount} holds the ${controller} controller, which crun 1.8 refuses in hybrid mode; ` +
          `mounting a v1 ${v1Name} hierarchy on ${target} failed: ${errorMessage(err)}`,
      );
    }
    report.mountedControllers.push(v1Name);
    report.actions.push(`mounted cgroup v1 ${v1Name} hierarchy on ${target} (it was on cgroup2, which crun refuses)`);
    remaining = remaining.filter((c) => c !== controller);
  }
  return remaining;
}

async function hasOverlay(procRoot: string): Promise<boolean> {
  const text = await fsp.readFile(path.join(procRoot, 'filesystems'), 'utf8');
  return text.split('\n').some((l) => l.trim().split(/\s+/).pop() === 'overlay');
}

async function ensureDir(dir: string, mode: number, report: HostReport): Promise<void> {
  const made = await fsp.mkdir(dir, { recursive: true, mode });
  const st = await fsp.stat(dir);
  if (made !== undefined || (st.mode & 0o7777) !== mode) {
    await fsp.chmod(dir, mode);
    report.directories.push(dir);
    report.actions.push(`${made !== undefined ? 'created' : 'set mode of'} ${dir} to ${mode.toString(8)}`);
  }
}

/** Makes the host ready for Berth: run once at daemon start; cheap and changes nothing when already done. */
export async function prepareHost(opts: PrepareHostOptions): Promise<HostReport> {
  const procRoot = opts.procRoot ?? '/proc';
  const cgroupRoot = opts.cgroupRoot ?? CGROUP_ROOT;
  const mounter = opts.mounter ?? new LinuxMounter();
  const report: HostReport = {
    cgroupMode: 'v1',
    v2Controllers: [],
    mountedControllers: [],
    overlay: 'present',
    ipForward: 'skipped',
    directories: [],
    actions: [],
  };

  // The mount table comes from the mounter so a fake one sees its own mounts.
  const layout = await readCgroupLayout(cgroupRoot, await mounter.mounts());
  report.cgroupMode = layout.mode;
  report.v2Controllers = await fixHybridCgroups(layout, mounter, report);

  if (!(await hasOverlay(procRoot))) {
    try {
      await (opts.modprobe ?? defaultModprobe)('overlay');
    } catch (err) {
      throw new SystemError(`the overlay filesystem is not available and could not be loaded: ${errorMessage(err)}`);
    }
    if (!(await hasOverlay(procRoot))) throw new SystemError('the overlay filesystem is not available after modprobe overlay');
    report.overlay = 'loaded';
    report.actions.push('loaded the overlay module');
  }

  if (opts.ipForward) {
    const file = path.join(procRoot, 'sys/net/ipv4/ip_forward');
    if ((await fsp.readFile(file, 'utf8')).trim() === '1') {
      report.ipForward = 'already';
    } else {
      await fsp.writeFile(file, '1\n');
      report.ipForward = 'enabled';
      report.actions.push('enabled net.ipv4.ip_forward');
    }
  }

  await ensureDir(opts.runRoot ?? DEFAULT_RUN_ROOT, 0o700, report);
  await ensureDir(opts.dataRoot, 0o711, report);
  return report;
}
