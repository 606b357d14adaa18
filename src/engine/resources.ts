// Checks a container's resource limits against the host before it is created, with Docker's messages (moby's
// verifyPlatformContainerResources): out-of-range values are a 400; what the kernel cannot do is dropped with a warning.
import type { HostConfig } from '../wire/docker';
import type { HostResources } from '../host/resources';
import { InvalidParameterError } from '../errdefs';

const MIN_MEMORY = 6 * 1024 * 1024;

/** The --ulimit names Docker (go-units) knows. */
export const ULIMIT_NAMES = ['core', 'cpu', 'data', 'fsize', 'locks', 'memlock', 'msgqueue', 'nice', 'nofile', 'nproc', 'rss', 'rtprio', 'rttime', 'sigpending', 'stack', 'as'];

/**
 * Validates `hc` in place against `host`: throws InvalidParameterError for what Docker refuses, clears what this
 * kernel cannot enforce (swap limit, blkio weight) and returns the warnings Docker gives for it.
 */
export function checkResources(hc: HostConfig, host: HostResources | undefined): string[] {
  const warnings: string[] = [];
  const bad = (m: string): never => { throw new InvalidParameterError(m); };
  const memory = hc.Memory ?? 0;
  const swap = hc.MemorySwap ?? 0;
  const reservation = hc.MemoryReservation ?? 0;
  if (memory < 0) bad('invalid memory limit: must not be negative');
  if (memory !== 0 && memory < MIN_MEMORY) bad('Minimum memory limit allowed is 6MB');
  if (memory > 0 && swap > 0 && swap < memory) bad('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (memory === 0 && swap > 0) bad('You should always set the Memory limit when using Memoryswap limit, see usage');
  if (memory > 0 && swap !== 0 && swap !== -1 && host && !host.swapLimit) {
    warnings.push('Your kernel does not support swap limit capabilities or the cgroup is not mounted. Memory limited without swap.');
    hc.MemorySwap = 0;
  }
  if (swap !== 0 && host && !host.swapLimit) hc.MemorySwap = 0;
  if (reservation !== 0 && reservation < MIN_MEMORY) bad('Minimum memory reservation allowed is 6MB');
  if (memory > 0 && reservation > 0 && memory < reservation) bad('Minimum memory limit can not be less than memory reservation limit, see usage');
  const swappiness = hc.MemorySwappiness;
  if (swappiness !== undefined && swappiness !== null && swappiness !== -1 && (swappiness < 0 || swappiness > 100)) {
    bad(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  }
  if (hc.OomKillDisable && memory === 0) {
    warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');
  }

  const nano = hc.NanoCpus ?? 0;
  if (nano > 0 && (hc.CpuPeriod ?? 0) > 0) bad('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && (hc.CpuQuota ?? 0) > 0) bad('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (host && (nano < 0 || nano > host.cpus * 1e9)) {
    bad(`Range of CPUs is from 0.01 to ${host.cpus}.00, as there are only ${host.cpus} CPUs available`);
  }
  if ((hc.CpuShares ?? 0) < 0) bad('invalid CPU shares: must not be negative');
  const period = hc.CpuPeriod ?? 0;
  if (period !== 0 && (period < 1000 || period > 1000000)) bad('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  const quota = hc.CpuQuota ?? 0;
  if (quota > 0 && quota < 1000) bad('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (hc.CpusetCpus) checkCpuset(hc.CpusetCpus, host?.cpusetCpus, 'cpus', 'CPUs');
  if (hc.CpusetMems) checkCpuset(hc.CpusetMems, host?.cpusetMems, 'mems', 'memory nodes');

  const weight = hc.BlkioWeight ?? 0;
  if (weight > 0 && host && !host.blkioWeight) {
    warnings.push('Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded.');
    hc.BlkioWeight = 0;
  } else if (weight !== 0 && (weight < 10 || weight > 1000)) {
    bad('Range of blkio weight is from 10 to 1000');
  }
  // Docker treats 0 and negative pids limits as "unlimited".
  if (hc.PidsLimit !== undefined && hc.PidsLimit !== null && hc.PidsLimit <= 0) hc.PidsLimit = 0;
  if ((hc.ShmSize ?? 0) < 0) bad('SHM size can not be less than 0');
  checkUlimits(hc, host);
  return warnings;
}

/**
 * --ulimit: names Docker knows, soft ≤ hard, and — a Berth rule, since the runtime's setrlimit would fail later
 * with a bare EPERM — a hard limit above berthd's own is refused unless berthd holds CAP_SYS_RESOURCE.
 */
function checkUlimits(hc: HostConfig, host: HostResources | undefined): void {
  const seen = new Set<string>();
  for (const u of hc.Ulimits ?? []) {
    if (!u || typeof u.Name !== 'string' || !ULIMIT_NAMES.includes(u.Name)) throw new InvalidParameterError(`invalid ulimit type: ${u?.Name}`);
    if (seen.has(u.Name)) throw new InvalidParameterError(`ulimit ${u.Name} is given more than once`);
    seen.add(u.Name);
    if (!Number.isInteger(u.Soft) || !Number.isInteger(u.Hard)) throw new InvalidParameterError(`invalid ulimit ${u.Name}: soft and hard limits must be integers`);
    const unl = (n: number) => (n < 0 ? Infinity : n);
    if (unl(u.Soft) > unl(u.Hard)) throw new InvalidParameterError(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
    const own = host?.rlimits[u.Name];
    if (!host || !own || host.canRaiseRlimits) continue;
    if (unl(u.Hard) > unl(own.hard)) {
      throw new InvalidParameterError(`ulimit ${u.Name}=${u.Soft}:${u.Hard}: the hard limit ${u.Hard < 0 ? 'unlimited' : u.Hard} is above the daemon's own hard limit ${own.hard < 0 ? 'unlimited' : own.hard}, which it cannot raise without CAP_SYS_RESOURCE`);
    }
  }
}

/** A cpuset list ("0-2,4"): well formed (else "Invalid value") and within the host's (else "not available"). */
function checkCpuset(value: string, available: string | undefined, field: string, what: string): void {
  const wanted = parseCpuList(value);
  if (!wanted) throw new InvalidParameterError(`Invalid value ${value} for cpuset ${field}`);
  if (available === undefined) return;
  const have = parseCpuList(available) ?? new Set<number>();
  for (const n of wanted) {
    if (!have.has(n)) throw new InvalidParameterError(`Requested ${what} are not available - requested ${value}, available: ${available}`);
  }
}

/** "0-2,4" → {0,1,2,4}; null when malformed. */
export function parseCpuList(s: string): Set<number> | null {
  const out = new Set<number>();
  if (s.trim() === '') return out;
  for (const part of s.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return null;
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (hi < lo || hi - lo > 1 << 16) return null;
    for (let i = lo; i <= hi; i++) out.add(i);
  }
  return out;
}
