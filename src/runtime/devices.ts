// Host devices given to a container (--device, --privileged): their OCI linux.devices entries and cgroup rules.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { InvalidParameterError } from '../errdefs';

export interface OciDevice { path: string; type: string; major: number; minor: number; fileMode?: number; uid?: number; gid?: number }
export interface DeviceRule { allow: boolean; type?: string; major?: number; minor?: number; access?: string }

// Linux's dev_t encoding (glibc's major()/minor()).
const majorOf = (rdev: number) => Number(((BigInt(rdev) >> 8n) & 0xfffn) | ((BigInt(rdev) >> 32n) & ~0xfffn));
const minorOf = (rdev: number) => Number((BigInt(rdev) & 0xffn) | ((BigInt(rdev) >> 12n) & ~0xffn));

async function deviceAt(hostPath: string, containerPath: string): Promise<OciDevice | null> {
  const st = await fsp.stat(hostPath);
  const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : null;
  if (!type) return null;
  return { path: containerPath, type, major: majorOf(st.rdev), minor: minorOf(st.rdev), fileMode: st.mode & 0o777, uid: st.uid, gid: st.gid };
}

/** --device /dev/x[:/dev/y][:rwm]; a directory gives every device under it, as in Docker. */
export async function requestedDevices(list: { PathOnHost: string; PathInContainer: string; CgroupPermissions: string }[]): Promise<{ devices: OciDevice[]; rules: DeviceRule[] }> {
  const devices: OciDevice[] = [];
  const rules: DeviceRule[] = [];
  for (const d of list) {
    const perms = d.CgroupPermissions || 'rwm';
    if (!/^[rwm]{1,3}$/.test(perms)) throw new InvalidParameterError(`invalid device permissions: ${perms}`);
    const target = d.PathInContainer || d.PathOnHost;
    const st = await fsp.stat(d.PathOnHost).catch(() => { throw new InvalidParameterError(`error gathering device information while adding custom device "${d.PathOnHost}": no such file or directory`); });
    const pairs: [string, string][] = [];
    if (st.isDirectory()) {
      for (const f of await walk(d.PathOnHost)) pairs.push([f, path.join(target, path.relative(d.PathOnHost, f))]);
    } else pairs.push([d.PathOnHost, target]);
    for (const [h, c] of pairs) {
      const dev = await deviceAt(h, c).catch(() => null);
      if (!dev) {
        if (!st.isDirectory()) throw new InvalidParameterError(`error gathering device information while adding custom device "${d.PathOnHost}": not a device node`);
        continue;
      }
      devices.push(dev);
      rules.push({ allow: true, type: dev.type, major: dev.major, minor: dev.minor, access: perms });
    }
  }
  return { devices, rules };
}

/** Every device node under the host's /dev, for --privileged (pts and the container's own console excluded). */
export async function allHostDevices(): Promise<OciDevice[]> {
  const out: OciDevice[] = [];
  for (const f of await walk('/dev', new Set(['/dev/pts', '/dev/shm', '/dev/mqueue']))) {
    if (f === '/dev/console' || f === '/dev/ptmx') continue;
    const d = await deviceAt(f, f).catch(() => null);
    if (d) out.push(d);
  }
  return out;
}

async function walk(dir: string, skip = new Set<string>()): Promise<string[]> {
  const out: string[] = [];
  const entries = await fsp.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (skip.has(p)) continue;
    if (e.isDirectory()) out.push(...(await walk(p, skip)));
    else if (e.isCharacterDevice() || e.isBlockDevice()) out.push(p);
  }
  return out;
}
