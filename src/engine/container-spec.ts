// The OCI runtime spec of a container about to start: its user, environment and working directory read against its
// root filesystem, its /etc files, namespaces, security options, limits and mounts (runtime/spec.ts writes the JSON).
import * as fsp from 'node:fs/promises';
import { SystemError } from '../errdefs';
import type { HostResources } from '../host/resources';
import { mkdirInRoot, readFileInRoot, resolveInRoot } from '../host/rootfs';
import { initMounts, withInit } from '../runtime/init';
import { DEFAULT_CAPABILITIES, buildSpec, effectiveCapabilities } from '../runtime/spec';
import type { RuntimeMount, RuntimeSpec } from '../wire/oci';
import { netMode, processEnv, resourcesOf } from './container-config';
import { writeEtcFiles, type EtcFilesContext } from './container-etc-files';
import { cgroupPathOf, type ContainerRecord } from './container-record';
import { securitySpecOf, tmpfsMounts } from './security';
import { resolveUser } from './user';

const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

export interface SpecContext extends EtcFilesContext {
  /** The host's kernel, that security options are checked against. */
  hostResources?: HostResources;
}

export async function containerSpec(c: ContainerRecord, rootfs: string, mounts: RuntimeMount[], ctx: SpecContext): Promise<RuntimeSpec> {
  const cfg = c.config;
  const hc = c.hostConfig;
  const cwd = cfg.WorkingDir || '/';
  const net = netMode(hc.NetworkMode);
  // Without the host's figures (unit tests), "ALL" is Docker's default set.
  const hostCapabilities = ctx.hostResources?.boundingCapabilities ?? DEFAULT_CAPABILITIES;
  const capabilities = effectiveCapabilities(hc.CapAdd ?? [], hc.CapDrop ?? [], hostCapabilities);
  // Independent reads and writes, side by side: every start waits for them.
  const [passwd, group, security] = await Promise.all([
    readFileInRoot(rootfs, '/etc/passwd'),
    readFileInRoot(rootfs, '/etc/group'),
    securitySpecOf(hc, hc.Privileged ? [] : capabilities, ctx.hostResources?.kernel ?? ''),
    writeEtcFiles(c, ctx),
    cwd === '/' ? undefined : mkdirInRoot(rootfs, cwd).catch(async (e) => {
      const st = await fsp.stat(await resolveInRoot(rootfs, cwd)).catch(() => undefined);
      throw st && !st.isDirectory() ? new SystemError(`Cannot mkdir: ${cwd} is not a directory`) : e;
    }),
  ]);
  const user = resolveUser(cfg.User ?? '', passwd, group, hc.GroupAdd ?? []);
  // Legacy --link variables come first; the container's own Env overrides them, as in moby.
  const linkEnv = ctx.networks?.dns.linkEnv(c) ?? [];
  const env = processEnv(linkEnv.length ? { ...cfg, Env: [...linkEnv, ...(cfg.Env ?? [])] } : cfg, user.home);
  return buildSpec({
    id: c.id,
    rootfs,
    readonlyRootfs: !!hc.ReadonlyRootfs,
    args: withInit(hc.Init, [c.path, ...c.args]),
    env,
    cwd,
    user,
    hostname: net === 'host' ? (await fsp.readFile('/etc/hostname', 'utf8').catch(() => 'localhost')).trim() : cfg.Hostname ?? c.id.slice(0, 12),
    terminal: !!cfg.Tty,
    network: ctx.networks ? ctx.networks.endpoints.specNetwork(c) : net === 'host' ? 'host' : 'private',
    etcFiles: { hosts: ctx.etcPath(c, 'hosts'), hostname: ctx.etcPath(c, 'hostname'), resolvConf: ctx.etcPath(c, 'resolv.conf') },
    extraMounts: [...initMounts(hc.Init), ...tmpfsMounts(hc.Tmpfs), ...mounts],
    cgroupsPath: cgroupPathOf(c),
    shmSize: hc.ShmSize || DEFAULT_SHM_SIZE,
    privileged: !!hc.Privileged,
    capabilities,
    hostCapabilities,
    ...security,
    rlimits: (hc.Ulimits ?? []).map((u) => ({ type: `RLIMIT_${u.Name.toUpperCase()}`, soft: u.Soft, hard: u.Hard })),
    sysctl: hc.Sysctls ?? {},
    resources: resourcesOf(hc),
    annotations: { 'org.berth.container.name': c.name },
  });
}
