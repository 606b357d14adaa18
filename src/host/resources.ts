// The host's resource facts that container limits are checked against: CPUs, cpuset, swap and blkio weight
// support, the daemon's own rlimits and capabilities, the kernel release.
import * as fsp from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { CGROUP_ROOT } from './cgroups';

export interface HostResources {
  /** Online CPUs, the ceiling of --cpus. */
  cpus: number;
  /** CPUs and memory nodes a container may be pinned to (the cpuset root's lists, "0-3"). */
  cpusetCpus: string;
  cpusetMems: string;
  /** Whether a swap limit can be set (v1 memory.memsw.*, v2 memory.swap.max). */
  swapLimit: boolean;
  /** Whether a block I/O weight can be set (v1 blkio.weight or blkio.bfq.weight, v2 io.weight / io.bfq.weight). */
  blkioWeight: boolean;
  /** berthd's own limits by lower-case name (nofile, nproc, core…), from /proc/self/limits; -1 is unlimited. */
  rlimits: Record<string, { soft: number; hard: number }>;
  /** Whether berthd holds CAP_SYS_RESOURCE, without which no container can get a hard limit above berthd's. */
  canRaiseRlimits: boolean;
  /** Capabilities in berthd's bounding set: the most any container (even --privileged) can have. */
  boundingCapabilities: string[];
  /** uname -r. */
  kernel: string;
}

// /proc/self/limits' row names → the names --ulimit takes.
const LIMIT_ROWS: Record<string, string> = {
  'Max cpu time': 'cpu', 'Max file size': 'fsize', 'Max data size': 'data', 'Max stack size': 'stack',
  'Max core file size': 'core', 'Max resident set': 'rss', 'Max processes': 'nproc', 'Max open files': 'nofile',
  'Max locked memory': 'memlock', 'Max address space': 'as', 'Max file locks': 'locks', 'Max pending signals': 'sigpending',
  'Max msgqueue size': 'msgqueue', 'Max nice priority': 'nice', 'Max realtime priority': 'rtprio', 'Max realtime timeout': 'rttime',
};

/** Parses /proc/<pid>/limits. */
export function parseProcLimits(text: string): Record<string, { soft: number; hard: number }> {
  const out: Record<string, { soft: number; hard: number }> = {};
  for (const line of text.split('\n')) {
    const m = /^(Max [a-z ]+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    const name = m && LIMIT_ROWS[m[1]!];
    if (!m || !name) continue;
    const n = (v: string) => (v === 'unlimited' ? -1 : Number(v));
    out[name] = { soft: n(m[2]!), hard: n(m[3]!) };
  }
  return out;
}

/** The capability names set in a /proc/self/status Cap* mask, in the order of `names` (index = bit). */
export function capabilitiesInMask(hexMask: string, names: readonly string[]): string[] {
  const mask = BigInt(`0x${hexMask.trim()}`);
  return names.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

export async function readHostResources(capabilityNames: readonly string[], root = CGROUP_ROOT): Promise<HostResources> {
  const exists = (p: string) => fsp.access(p).then(() => true, () => false);
  const read = (p: string) => fsp.readFile(p, 'utf8').then((t) => t.trim(), () => '');
  const status = await read('/proc/self/status');
  const capBnd = /^CapBnd:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0';
  const capEff = /^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0';
  const v2 = await exists(path.join(root, 'cgroup.controllers'));
  const cpusetDir = v2 ? root : path.join(root, 'cpuset');
  const cpusetCpus = (await read(path.join(cpusetDir, v2 ? 'cpuset.cpus.effective' : 'cpuset.cpus'))) || `0-${os.cpus().length - 1}`;
  const cpusetMems = (await read(path.join(cpusetDir, v2 ? 'cpuset.mems.effective' : 'cpuset.mems'))) || '0';
  const berthV2 = path.join(root, 'berth');
  const swapLimit = v2
    ? (await exists(path.join(berthV2, 'memory.swap.max'))) || (await exists('/proc/swaps'))
    : await exists(path.join(root, 'memory', 'memory.memsw.limit_in_bytes'));
  const blkioWeight = v2
    ? (await exists(path.join(berthV2, 'io.weight'))) || (await exists(path.join(berthV2, 'io.bfq.weight')))
    : (await exists(path.join(root, 'blkio', 'blkio.weight'))) || (await exists(path.join(root, 'blkio', 'blkio.bfq.weight')));
  return {
    cpus: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    cpusetCpus,
    cpusetMems,
    swapLimit,
    blkioWeight,
    rlimits: parseProcLimits(await read('/proc/self/limits')),
    canRaiseRlimits: capabilitiesInMask(capEff, capabilityNames).includes('CAP_SYS_RESOURCE'),
    boundingCapabilities: capabilitiesInMask(capBnd, capabilityNames),
    kernel: os.release(),
  };
}
