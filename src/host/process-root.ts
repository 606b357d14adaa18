// A running container's root as its own mount namespace sees it (and its other /proc/<pid> entries, such as its
// network namespace), held open by berthd: /proc/<pid>/root opened as a directory, reached afterwards through berthd's
// descriptor (/proc/<berthd>/fd/<n>), so a later pid reuse cannot swap another process's root in under an operation.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { readNow } from './procfs';

export interface ProcessRoot {
  /** A path to the root that stays the same directory while open (berthd's descriptor, not the pid's /proc entry). */
  path: string;
  /** The device of the root's own filesystem (the container's overlay): what is on another one is mounted over it. */
  dev: number;
  close(): Promise<void>;
}

/**
 * Whether process `pid` is in the cgroup `cgroupPath` or below it (a container's systemd moves itself into a child),
 * on any hierarchy's line of /proc/<pid>/cgroup ("id:controllers:path").
 */
function processInCgroup(pid: number, cgroupPath: string): boolean {
  // Read synchronously (an exec's start waited on ten thread-pool round trips for these two reads); gone: ''.
  const text = readNow(`/proc/${pid}/cgroup`) ?? '';
  return text.split('\n').some((line) => {
    const at = line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1);
    return at === cgroupPath || at.startsWith(cgroupPath + '/');
  });
}

/**
 * Opens /proc/<pid>/<entry> (`root`, `ns/net`) of process `pid`, checked to be in `cgroupPath` (the container's)
 * before and after the open: a pid that ended and was reused in between would be in another cgroup. Undefined when
 * the process is gone or not there.
 */
export async function openProcessEntry(pid: number, cgroupPath: string, entry: string, flags = fs.constants.O_RDONLY): Promise<fsp.FileHandle | undefined> {
  if (!(pid > 0) || !processInCgroup(pid, cgroupPath)) return undefined;
  const handle = await fsp.open(`/proc/${pid}/${entry}`, flags).catch(() => undefined);
  if (!handle) return undefined;
  if (processInCgroup(pid, cgroupPath)) return handle;
  await handle.close();
  return undefined;
}

/** The root of process `pid`, opened as openProcessEntry does. */
export async function openProcessRoot(pid: number, cgroupPath: string): Promise<ProcessRoot | undefined> {
  const handle = await openProcessEntry(pid, cgroupPath, 'root', fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  if (!handle) return undefined;
  try {
    const st = await handle.stat();
    let closed = false;
    return {
      path: `/proc/${process.pid}/fd/${handle.fd}`,
      dev: st.dev,
      close: async () => { if (!closed) { closed = true; await handle.close(); } },
    };
  } catch {
    await handle.close();
    return undefined;
  }
}
