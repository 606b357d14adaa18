// Container create-time config: validating the create body, merging it with the image config, and deriving the process env, command and resources.
import type { ContainerConfig, ContainerCreateBody, HostConfig } from '../wire/docker';
import { InvalidParameterError, NotFoundError } from '../errdefs';
import type { LogConfig } from './log-drivers';

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function netMode(mode: string | undefined): 'host' | 'none' | 'private' {
  if (mode === 'host') return 'host';
  if (mode === 'none') return 'none';
  return 'private';
}

export function validateNetworkMode(mode: string | undefined): void {
  if (!mode || ['default', 'bridge', 'none', 'host'].includes(mode)) return;
  throw new NotFoundError(`network ${mode} not found`);
}

/** The create body's meaning checks; its JSON types were checked at the API edge (api/shapes/containers.ts). */
export function checkCreateBody(b: ContainerCreateBody): void {
  if (b.Env) for (const e of b.Env) if (e.startsWith('=')) throw new InvalidParameterError(`invalid environment variable: ${e}`);
}

/**
 * ENTRYPOINT and CMD combined as moby's merge does: without an entrypoint in the request, an empty CMD takes the
 * image's and an absent entrypoint the image's; any entrypoint in the request drops the image's CMD.
 * `--entrypoint ""` (sent as [""]) clears the entrypoint.
 */
export function commandOf(body: Pick<ContainerCreateBody, 'Entrypoint' | 'Cmd'>, image: ContainerConfig): { entrypoint: string[]; cmd: string[] } {
  const asList = (v: string[] | string | null | undefined) => (typeof v === 'string' ? [v] : v ?? undefined);
  let entrypoint = asList(body.Entrypoint);
  let cmd = asList(body.Cmd) ?? [];
  if (!entrypoint || entrypoint.length === 0) {
    if (cmd.length === 0) cmd = image.Cmd ?? [];
    if (entrypoint === undefined) entrypoint = image.Entrypoint ?? [];
  }
  if (entrypoint.length === 1 && entrypoint[0] === '') entrypoint = [];
  return { entrypoint, cmd };
}

/**
 * The container's effective config, as `docker inspect` shows it: the request over the image's config.
 * Env follows moby's merge: the request's variables first, then the image's whose names the request does not set.
 */
export function mergeConfig(body: ContainerCreateBody, image: ContainerConfig): ContainerConfig {
  const userEnv = body.Env ?? [];
  const userKeys = new Set(userEnv.map(envKey));
  const env = userEnv.length ? [...userEnv, ...(image.Env ?? []).filter((e) => !userKeys.has(envKey(e)))] : [...(image.Env ?? [])];
  const labels = { ...(image.Labels ?? {}), ...(body.Labels ?? {}) };
  return {
    Hostname: body.Hostname ?? '',
    Domainname: body.Domainname ?? '',
    User: body.User || image.User || '',
    AttachStdin: !!body.AttachStdin,
    AttachStdout: !!body.AttachStdout,
    AttachStderr: !!body.AttachStderr,
    ...(body.ExposedPorts || image.ExposedPorts ? { ExposedPorts: { ...(image.ExposedPorts ?? {}), ...(body.ExposedPorts ?? {}) } } : {}),
    Tty: !!body.Tty,
    OpenStdin: !!body.OpenStdin,
    StdinOnce: !!body.StdinOnce,
    Env: env.length ? env : null,
    Cmd: null,
    ...(body.Healthcheck || image.Healthcheck ? { Healthcheck: body.Healthcheck ?? image.Healthcheck } : {}),
    Image: body.Image,
    // moby's merge: the image's volumes and the request's together.
    Volumes: body.Volumes || image.Volumes ? { ...(image.Volumes ?? {}), ...(body.Volumes ?? {}) } : null,
    WorkingDir: body.WorkingDir || image.WorkingDir || '',
    Entrypoint: null,
    OnBuild: image.OnBuild ?? null,
    Labels: labels,
    ...(body.StopSignal || image.StopSignal ? { StopSignal: body.StopSignal || image.StopSignal } : {}),
    ...(body.StopTimeout !== undefined ? { StopTimeout: body.StopTimeout } : {}),
  };
}

function envKey(e: string): string {
  const i = e.indexOf('=');
  return i < 0 ? e : e.slice(0, i);
}

/**
 * The process environment (moby's CreateDaemonEnvironment): PATH, HOSTNAME and, with a TTY, TERM=xterm, each
 * replaced by the container's own value when it sets one; then HOME from the user's passwd entry if still unset.
 * A bare name in Env ("FOO") removes the variable, as in Docker.
 */
export function processEnv(cfg: ContainerConfig, home: string): string[] {
  const env = new Map<string, string>();
  env.set('PATH', DEFAULT_PATH);
  env.set('HOSTNAME', `HOSTNAME=${cfg.Hostname ?? ''}`);
  if (cfg.Tty) env.set('TERM', 'TERM=xterm');
  for (const e of cfg.Env ?? []) {
    if (e.includes('=')) env.set(envKey(e), e);
    else env.delete(e);
  }
  if (!env.has('HOME')) env.set('HOME', `HOME=${home || '/'}`);
  return [...env.values()];
}

export function normalizeHostConfig(hc: HostConfig, runtime: string, logConfig: LogConfig): HostConfig {
  return {
    ...hc,
    NetworkMode: !hc.NetworkMode || hc.NetworkMode === 'default' ? 'bridge' : hc.NetworkMode,
    RestartPolicy: hc.RestartPolicy ?? { Name: 'no', MaximumRetryCount: 0 },
    LogConfig: logConfig,
    Runtime: runtime,
  };
}

export function resourcesOf(hc: HostConfig) {
  const r: NonNullable<NonNullable<import('../wire/oci').RuntimeSpec['linux']>['resources']> = {};
  if (hc.Memory || hc.MemoryReservation || hc.MemorySwap) {
    r.memory = {};
    if (hc.Memory) r.memory.limit = hc.Memory;
    if (hc.MemoryReservation) r.memory.reservation = hc.MemoryReservation;
    if (hc.MemorySwap) r.memory.swap = hc.MemorySwap;
  }
  if (hc.NanoCpus || hc.CpuShares || hc.CpuQuota || hc.CpusetCpus || hc.CpusetMems) {
    r.cpu = {};
    if (hc.CpuShares) r.cpu.shares = hc.CpuShares;
    if (hc.NanoCpus) { r.cpu.period = 100000; r.cpu.quota = Math.round(hc.NanoCpus / 1e9 * 100000); }
    if (hc.CpuQuota) r.cpu.quota = hc.CpuQuota;
    if (hc.CpuPeriod) r.cpu.period = hc.CpuPeriod;
    if (hc.CpusetCpus) r.cpu.cpus = hc.CpusetCpus;
    if (hc.CpusetMems) r.cpu.mems = hc.CpusetMems;
  }
  if (hc.PidsLimit && hc.PidsLimit > 0) r.pids = { limit: hc.PidsLimit };
  if (hc.BlkioWeight) r.blockIO = { weight: hc.BlkioWeight };
  return r;
}
