// Container use-cases: create, start, stop, kill, wait, remove, rename, list, inspect, logs, attach, prune, commit. Create-time config merging and validation is in container-config.ts.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { ContainerConfig, ContainerCreateBody, HostConfig } from '../wire/docker';
import type { ImageConfig } from '../wire/oci';
import { BerthError, ConflictError, InvalidParameterError, NotFoundError, NotImplementedError, StateError, SystemError, errorMessage } from '../errdefs';
import type { EventBus } from './events';
import { ContainerRecordStore, ZERO_TIME, type ContainerRecord, type ContainerStatus } from './container-record';
import { randomContainerName, validateContainerName } from './names';
import { parseSignal } from '../wire/signals';
import { logEnd, readLog, type LogEntry, type ReadOptions } from './logs';
import { AttachedReaders } from './attach';
import { checkLogConfig, conmonLogCap, logsReadable, presentedLogConfig } from './log-drivers';
import { resolveUser } from './user';
import { buildSpec, effectiveCapabilities } from '../runtime/spec';
import { checkSecurity, securitySpecOf, tmpfsMounts } from './security';
import { checkResources } from './resources';
import type { HostResources } from '../host/resources';
import { initMounts, withInit } from '../runtime/init';
import type { OciRuntime } from '../runtime/oci-runtime';
import { ExitMonitor } from '../runtime/exit-monitor';
import { resizeConsole } from '../runtime/console';
import { readFileInRoot, mkdirInRoot, resolveInRoot } from '../host/rootfs';
import { KeyedMutex } from '../util/mutex';
import { RootfsUsers } from './rootfs-users';
import { ContainerMountSetup, planMounts, type ContainerVolumes } from './container-mounts';
import type { RuntimeMount } from '../wire/oci';
import { parseLink, type NetworkDns } from './network-dns';
import type { NetworkEndpoints } from './network-endpoints';
import { checkCreateBody, commandOf, mergeConfig, netMode, normalizeHostConfig, processEnv, resourcesOf, validateNetworkMode } from './container-config';
export { commandOf, mergeConfig, processEnv, resourcesOf } from './container-config';

export interface ImageRef { id: string; config: ImageConfig; repoTags: string[] }

/** What the container engine needs of the image service. */
export interface ImageLookup {
  resolve(ref: string): Promise<ImageRef>;
  lowerDirs(image: ImageRef): string[];
  commit(o: {
    upperDir: string; parent: ImageRef | null; containerId: string; containerConfig: ContainerConfig;
    repo?: string; tag?: string; comment?: string; author?: string; changes?: string[];
  }): Promise<string>;
  changes(upperDir: string, image: ImageRef): Promise<{ Path: string; Kind: number }[]>;
  exportRootfs(mergedDir: string): Readable;
}

/** The overlay mounts of container root filesystems (host/mount.ts in production). */
export interface RootfsMounter {
  mountOverlay(lowerDirs: string[], upperDir: string, workDir: string, target: string): Promise<void>;
  umount(target: string): Promise<void>;
  isMountPoint(target: string): Promise<boolean>;
}

/** Connects a readable stream to a running container's stdin (runtime/stdin.ts in production). */
export type StdinConnector = (attachSocketPath: string, input: Readable) => Promise<void>;

/** Cgroup facts read after a container exits (host/cgroups.ts in production). */
export interface CgroupProbe {
  oomKilled(cgroupsPath: string): Promise<boolean>;
}

export interface ContainerServiceOptions {
  root: string;
  runRoot: string;
  images: ImageLookup;
  runtime: OciRuntime;
  mounter: RootfsMounter;
  events: EventBus;
  stdin: StdinConnector;
  cgroups?: CgroupProbe;
  /** The host's CPUs, cgroup features and berthd's own limits, that resource limits are checked against. */
  hostResources?: HostResources;
  defaultRuntime: string;
  /** The host's resolver configuration, copied into containers. */
  hostResolvConf: string;
  hostHosts: string;
  /** Size cap of each container's log before conmon starts it afresh (0 = none). */
  logSizeMax: number;
  log: { info(msg: string): void; error(msg: string): void };
  /** Volumes for the containers' mounts (engine/volumes.ts in production). */
  volumes: ContainerVolumes;
  /**
   * Bridge networks: endpoints with addresses and published ports (engine/network-endpoints.ts), names and links
   * (engine/network-dns.ts); without them a container gets loopback only.
   */
  networks?: { endpoints: NetworkEndpoints; dns: NetworkDns };
}

/** Someone waiting for a container's next exit; attach streams also end when a start fails. */
interface ExitWaiter { resolve(code: number): void; startFailure: boolean }

export interface WaitResult { StatusCode: number; Error: { Message: string } | null }
type WaitCondition = 'not-running' | 'next-exit' | 'removed';

const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;
const DEFAULT_STOP_TIMEOUT = 10;

export class ContainerService {
  private readonly records = new Map<string, ContainerRecord>();
  private readonly store: ContainerRecordStore;
  private readonly lock = new KeyedMutex();
  private readonly exitWaiters = new Map<string, ExitWaiter[]>();
  private readonly removeWaiters = new Map<string, (() => void)[]>();
  private readonly exits: ExitMonitor;
  private readonly exitDir: string;
  private readonly socketDir: string;
  private readonly mounts: ContainerMountSetup;
  private readonly attached = new AttachedReaders();
  /** A stopped container's root, mounted while `docker cp` or an export reads or writes it. */
  readonly rootfsUsers: RootfsUsers;

  constructor(private readonly o: ContainerServiceOptions) {
    this.mounts = new ContainerMountSetup(o.volumes);
    this.store = new ContainerRecordStore(path.join(o.root, 'containers'));
    this.exitDir = path.join(o.runRoot, 'exits');
    this.socketDir = path.join(o.runRoot, 'sockets');
    this.exits = new ExitMonitor(this.exitDir, (id, code, exitedAt) => this.onExit(id, code, '', exitedAt));
    this.rootfsUsers = new RootfsUsers(o.mounter, {
      mergedDir: (c) => this.mergedDir(c), upperDir: (c) => this.upperDir(c), workDir: (c) => this.workDir(c),
      running: (c) => isRunning(c.state.status),
    });
  }

  // ---------- start-up and reconciliation ----------

  /** Loads containers and reconciles them with reality: exits recorded while berthd was down, dead supervisors. */
  async init(): Promise<void> {
    await this.store.init();
    await this.store.removeLeftovers();
    for (const c of await this.store.loadAll()) {
      c.hostConfig.LogConfig = presentedLogConfig(c.hostConfig.LogConfig);
      this.records.set(c.id, c);
    }
    await this.o.volumes.restore([...this.records.values()].map((c) => ({ id: c.id, running: c.state.status === 'running' || c.state.status === 'paused', mounts: c.mounts ?? [] })));
    await this.exits.start();
    for (const c of this.records.values()) {
      if (c.state.status === 'removing') {
        await this.finishRemoval(c).catch((e) => this.o.log.error(`removing ${c.id}: ${errorMessage(e)}`));
        continue;
      }
      if (c.state.status !== 'running' && c.state.status !== 'paused' && c.state.status !== 'restarting') continue;
      const code = await this.exits.read(c.id);
      if (code !== undefined) continue; // scanAll below reports it
      if (!processAlive(c.state.conmonPid) && (await this.exits.read(c.id)) === undefined) {
        // The supervisor died without recording an exit: the container is gone with it.
        await this.onExit(c.id, 255, 'container supervisor (conmon) exited unexpectedly');
      }
    }
    await this.exits.scanAll();
    for (const c of this.records.values()) {
      if (c.hostConfig.AutoRemove && (c.state.status === 'exited' || c.state.status === 'dead')) {
        await this.remove(c.id, { force: true, volumes: true }).catch(() => undefined);
      }
    }
  }

  shutdown(): void {
    this.exits.stop();
  }

  // ---------- lookup ----------

  /** Finds a container by full ID, name (with or without "/"), or unique ID prefix. */
  get(ref: string): ContainerRecord {
    const c = this.find(ref);
    if (!c) throw new NotFoundError(`No such container: ${ref}`);
    return c;
  }

  find(ref: string): ContainerRecord | undefined {
    if (!ref) return undefined;
    const direct = this.records.get(ref);
    if (direct) return direct;
    const name = ref.replace(/^\//, '');
    for (const c of this.records.values()) if (c.name === name) return c;
    // A legacy link's name, "/parent/alias", names the linked container, as in moby's name index.
    const link = /^([^/]+)\/([^/]+)$/.exec(name);
    if (link) return this.linkedBy(link[1]!, link[2]!);
    if (/^[0-9a-f]+$/.test(ref)) {
      const matches = [...this.records.values()].filter((c) => c.id.startsWith(ref));
      if (matches.length === 1) return matches[0];
      if (matches.length > 1) throw new InvalidParameterError(`multiple IDs found with provided prefix: ${ref}`);
    }
    return undefined;
  }

  /** The container `parentName` links to as `alias` (its --link), if it exists. */
  private linkedBy(parentName: string, alias: string): ContainerRecord | undefined {
    const parent = [...this.records.values()].find((c) => c.name === parentName);
    const link = (parent?.hostConfig.Links ?? []).map(parseLink).find((l) => l.alias === alias);
    // A link to a link name is not followed: two of them could name each other.
    return link && !link.name.includes('/') ? this.find(link.name) : undefined;
  }

  /** The legacy link names ("/parent/alias") of every linked container, by ID: moby lists them among its Names. */
  linkNames(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const parent of this.records.values()) {
      for (const { name, alias } of (parent.hostConfig.Links ?? []).map(parseLink)) {
        const target = this.find(name);
        if (target) out.set(target.id, [...(out.get(target.id) ?? []), `/${parent.name}/${alias}`]);
      }
    }
    return out;
  }

  all(): ContainerRecord[] {
    return [...this.records.values()].sort((a, b) => (a.created < b.created ? 1 : -1));
  }

  /** IDs of containers created from an image (for rmi's conflict errors). */
  usersOfImage(imageId: string): ContainerRecord[] {
    return [...this.records.values()].filter((c) => c.imageId === imageId);
  }

  dirOf(c: ContainerRecord): string { return this.store.dir(c.id); }
  upperDir(c: ContainerRecord): string { return path.join(this.dirOf(c), 'upper'); }
  mergedDir(c: ContainerRecord): string { return path.join(this.dirOf(c), 'merged'); }
  workDir(c: ContainerRecord): string { return path.join(this.dirOf(c), 'work'); }
  logPath(c: ContainerRecord): string { return path.join(this.dirOf(c), 'container.log'); }
  etcPath(c: ContainerRecord, file: 'hosts' | 'hostname' | 'resolv.conf'): string { return path.join(this.dirOf(c), file); }

  // ---------- create ----------

  async create(body: ContainerCreateBody, nameParam?: string): Promise<{ Id: string; Warnings: string[] }> {
    if (!body || typeof body !== 'object') throw new InvalidParameterError('config cannot be empty in order to create a container');
    if (Array.isArray(body)) throw new InvalidParameterError('invalid JSON: the container config must be an object, not an array');
    checkCreateBody(body);
    if (!body.Image) throw new InvalidParameterError('No command specified');
    const hostConfig: HostConfig = { ...(body.HostConfig ?? {}) };
    const logConfig = checkLogConfig(hostConfig.LogConfig);
    const name = nameParam ? validateContainerName(nameParam) : randomContainerName((n) => this.nameTaken(n));
    const image = await this.o.images.resolve(body.Image);
    const imageCfg: ContainerConfig = image.config.config ?? {};
    const config = mergeConfig(body, imageCfg);
    const { entrypoint, cmd } = commandOf(body, imageCfg);
    const argv = [...entrypoint, ...cmd];
    if (argv.length === 0) throw new InvalidParameterError('No command specified');
    const runtime = hostConfig.Runtime || this.o.defaultRuntime;
    this.o.runtime.runtimePath(runtime);
    if (hostConfig.AutoRemove && hostConfig.RestartPolicy?.Name && !['', 'no'].includes(hostConfig.RestartPolicy.Name)) {
      throw new InvalidParameterError('can\'t create \'AutoRemove\' container with restart policy');
    }
    const network = this.o.networks
      ? this.o.networks.endpoints.prepare(name, hostConfig, body, (body.NetworkingConfig?.EndpointsConfig ?? {}) as Record<string, import('../wire/docker').EndpointConfigBody>)
      : (validateNetworkMode(hostConfig.NetworkMode), undefined);
    // container:<name> shares that container's network and so its hostname, as in Docker.
    const joined = network && hostConfig.NetworkMode?.startsWith('container:') ? this.find(hostConfig.NetworkMode.slice('container:'.length)) : undefined;
    if (joined) config.Hostname = joined.config.Hostname;
    const warnings = checkResources(hostConfig, this.o.hostResources);
    checkSecurity(hostConfig, this.o.hostResources?.kernel ?? '');
    const plannedMounts = planMounts({
      hostConfig, volumes: config.Volumes, sourceExists: (p) => fs.existsSync(p),
      mountsOf: (ref) => {
        const from = this.find(ref);
        if (!from) throw new InvalidParameterError(`No such container: ${ref}`);
        return from.mounts ?? [];
      },
    });

    return this.lock.run('names', async () => {
      const owner = this.find(name);
      if (owner && owner.name === name) {
        throw new ConflictError(`Conflict. The container name "/${name}" is already in use by container "${owner.id}". You have to remove (or rename) that container to be able to reuse that name.`);
      }
      const id = randomBytes(32).toString('hex');
      const mounts = await this.o.volumes.attach(plannedMounts, id);
      config.Hostname = config.Hostname || id.slice(0, 12);
      config.Image = body.Image;
      config.Entrypoint = entrypoint.length ? entrypoint : null;
      config.Cmd = cmd.length || !entrypoint.length ? cmd : null;
      const rec: ContainerRecord = {
        id,
        name,
        created: new Date().toISOString(),
        imageId: image.id,
        config,
        hostConfig: normalizeHostConfig(hostConfig, runtime, logConfig),
        path: argv[0]!,
        args: argv.slice(1),
        runtime,
        restartCount: 0,
        lowerDirs: this.o.images.lowerDirs(image),
        mounts,
        ...(network ? { network } : {}),
        state: {
          status: 'created', pid: 0, conmonPid: 0, exitCode: 0, error: '', oomKilled: false,
          startedAt: ZERO_TIME, finishedAt: ZERO_TIME, stoppedByUser: false,
        },
      };
      const dir = this.dirOf(rec);
      try {
        await fsp.mkdir(dir, { recursive: true, mode: 0o710 });
        await Promise.all([
          fsp.mkdir(this.upperDir(rec), { mode: 0o755 }),
          fsp.mkdir(this.workDir(rec)),
          fsp.mkdir(this.mergedDir(rec)),
        ]);
        await this.store.save(rec);
      } catch (err) {
        await this.o.volumes.release(id, mounts, true).catch(() => undefined);
        await fsp.rm(dir, { recursive: true, force: true }).catch(() => undefined);
        throw err;
      }
      this.records.set(id, rec);
      this.emit(rec, 'create');
      return { Id: id, Warnings: warnings };
    });
  }

  private nameTaken(name: string): boolean {
    for (const c of this.records.values()) if (c.name === name) return true;
    return false;
  }

  // ---------- start ----------

  /**
   * Starts a container; `false` when it was already running (Docker answers 304). With `restoreFrom` (a checkpoint's
   * CRIU image directory, engine/checkpoints.ts) its processes are restored from the checkpoint instead. A start
   * that is not the restart policy's (`byPolicy`) resets RestartCount, as moby's containerStart does.
   */
  async start(ref: string, opts: { restoreFrom?: string; byPolicy?: boolean } = {}): Promise<boolean> {
    const c = this.get(ref);
    try {
      return await this.lock.run(c.id, () => this.startLocked(c, opts.restoreFrom, opts.byPolicy));
    } catch (err) {
      // As Docker does, a --rm container that cannot start is removed.
      if (c.hostConfig.AutoRemove) await this.remove(c.id, { force: true, volumes: true }).catch(() => undefined);
      throw err;
    }
  }

  private async startLocked(c: ContainerRecord, restoreFrom?: string, byPolicy = false): Promise<boolean> {
    if (!this.records.has(c.id)) throw new NotFoundError(`No such container: ${c.id}`);
    if (c.state.status === 'running' || c.state.status === 'paused') return false;
    if (c.state.status === 'removing') throw new StateError(`container is marked for removal and cannot be started`);
    // A user's start or restart begins the policy afresh: count and back-off (restart-manager.ts reads the count).
    if (!byPolicy) c.restartCount = 0;
    await this.exits.clear(c.id);
    const merged = this.mergedDir(c);
    try {
      if (!(await this.o.mounter.isMountPoint(merged))) {
        await this.o.mounter.mountOverlay(c.lowerDirs, this.upperDir(c), this.workDir(c), merged);
      }
      const mounts = await this.mounts.setup(c.id, c.mounts, merged);
      this.mounts.copiedUp(c.mounts);
      await this.o.networks?.endpoints.attach(c);
      const spec = await this.specFor(c, merged, mounts);
      const bundle = path.join(this.dirOf(c), 'bundle');
      await fsp.mkdir(bundle, { recursive: true });
      await fsp.writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
      await this.o.runtime.delete(c.runtime, c.id).catch(() => undefined);
      const { pid, conmonPid } = await this.o.runtime.create({
        id: c.id, name: c.name, runtime: c.runtime, bundle,
        logPath: this.logPath(c), logSizeMax: this.logSizeMax(c),
        exitDir: this.exitDir, socketDir: this.socketDir,
        stdin: !!c.config.OpenStdin, terminal: !!c.config.Tty, leaveStdinOpen: !!c.config.Tty || !c.config.StdinOnce,
        ...(restoreFrom ? { restoreFrom } : {}),
      });
      c.state = { ...c.state, status: 'running', pid, conmonPid, exitCode: 0, error: '', oomKilled: false, startedAt: new Date().toISOString(), finishedAt: ZERO_TIME, stoppedByUser: false };
      // A restored container already runs when `runc restore --detach` returns.
      if (!restoreFrom) await this.o.runtime.start(c.runtime, c.id);
      await this.store.save(c);
    } catch (err) {
      const message = errorMessage(err);
      await this.o.runtime.delete(c.runtime, c.id).catch(() => undefined);
      await this.o.mounter.umount(merged).catch(() => undefined);
      await this.mounts.teardown(c.id, c.mounts).catch(() => undefined);
      await this.o.networks?.endpoints.detach(c).catch((e) => this.o.log.error(`network of ${c.id}: ${errorMessage(e)}`));
      // Docker keeps a container that never ran in 'created', with the error and exit code 127 recorded.
      const everRan = c.state.status === 'running';
      c.state = { ...c.state, status: everRan ? 'exited' : 'created', pid: 0, conmonPid: 0, exitCode: 127, error: message, finishedAt: everRan ? new Date().toISOString() : c.state.finishedAt };
      await this.store.save(c).catch(() => undefined);
      // Attach streams end; waits for the next exit keep waiting, as in Docker (the container never ran).
      this.notifyExit(c.id, c.state.exitCode, true);
      if (err instanceof BerthError) throw err;
      throw new SystemError(`failed to create task for container: ${message}`);
    }
    this.emit(c, 'start');
    return true;
  }

  private logSizeMax(c: ContainerRecord): number {
    return conmonLogCap(presentedLogConfig(c.hostConfig.LogConfig), this.o.logSizeMax);
  }

  private async specFor(c: ContainerRecord, rootfs: string, mounts: RuntimeMount[] = []) {
    const cfg = c.config;
    const hc = c.hostConfig;
    const passwd = await readFileInRoot(rootfs, '/etc/passwd');
    const group = await readFileInRoot(rootfs, '/etc/group');
    const user = resolveUser(cfg.User ?? '', passwd, group, hc.GroupAdd ?? []);
    // Legacy --link variables come first; the container's own Env overrides them, as in moby.
    const linkEnv = this.o.networks?.dns.linkEnv(c) ?? [];
    const env = processEnv(linkEnv.length ? { ...cfg, Env: [...linkEnv, ...(cfg.Env ?? [])] } : cfg, user.home);
    const cwd = cfg.WorkingDir || '/';
    if (cwd !== '/') {
      await mkdirInRoot(rootfs, cwd).catch(async (e) => {
        const st = await fsp.stat(await resolveInRoot(rootfs, cwd)).catch(() => undefined);
        throw st && !st.isDirectory() ? new SystemError(`Cannot mkdir: ${cwd} is not a directory`) : e;
      });
    }
    await this.writeEtcFiles(c);
    const net = netMode(hc.NetworkMode);
    const capabilities = effectiveCapabilities(hc.CapAdd ?? [], hc.CapDrop ?? []);
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
      network: this.o.networks ? this.o.networks.endpoints.specNetwork(c) : net === 'host' ? 'host' : 'private',
      etcFiles: { hosts: this.etcPath(c, 'hosts'), hostname: this.etcPath(c, 'hostname'), resolvConf: this.etcPath(c, 'resolv.conf') },
      extraMounts: [...initMounts(hc.Init), ...tmpfsMounts(hc.Tmpfs), ...mounts],
      cgroupsPath: `/berth/${c.id}`,
      shmSize: hc.ShmSize || DEFAULT_SHM_SIZE,
      privileged: !!hc.Privileged,
      capabilities,
      ...(await securitySpecOf(hc, hc.Privileged ? [] : capabilities, this.o.hostResources?.kernel ?? '')),
      rlimits: (hc.Ulimits ?? []).map((u) => ({ type: `RLIMIT_${u.Name.toUpperCase()}`, soft: u.Soft, hard: u.Hard })),
      sysctl: hc.Sysctls ?? {},
      resources: resourcesOf(hc),
      annotations: { 'org.berth.container.name': c.name },
    });
  }

  private async writeEtcFiles(c: ContainerRecord): Promise<void> {
    const hc = c.hostConfig;
    const host = netMode(hc.NetworkMode) === 'host';
    const hostname = host ? (await fsp.readFile('/etc/hostname', 'utf8').catch(() => 'localhost\n')) : `${c.config.Hostname}\n`;
    let hosts: string;
    if (host) {
      hosts = await fsp.readFile(this.o.hostHosts, 'utf8').catch(() => '127.0.0.1\tlocalhost\n');
    } else {
      hosts = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';
    }
    for (const extra of hc.ExtraHosts ?? []) {
      const [h, ip] = extra.split(/:(.*)/s);
      if (h && ip) hosts += `${ip === 'host-gateway' ? this.o.networks?.dns.hostGateway() || ip : ip}\t${h}\n`;
    }
    if (!host) hosts += this.o.networks?.dns.hostsEntries(c) ?? '';
    let resolv = await this.resolvConf(c, host);
    // container:<name> shares that container's /etc/hosts and resolv.conf along with its network.
    const joined = this.o.networks?.endpoints.joinedContainer(c);
    if (joined) {
      hosts = await fsp.readFile(this.etcPath(joined, 'hosts'), 'utf8').catch(() => hosts);
      resolv = await fsp.readFile(this.etcPath(joined, 'resolv.conf'), 'utf8').catch(() => resolv);
    }
    await Promise.all([
      fsp.writeFile(this.etcPath(c, 'hostname'), hostname),
      fsp.writeFile(this.etcPath(c, 'hosts'), hosts),
      fsp.writeFile(this.etcPath(c, 'resolv.conf'), resolv),
    ]);
  }

  private async resolvConf(c: ContainerRecord, host: boolean): Promise<string> {
    const hc = c.hostConfig;
    const base = await fsp.readFile(this.o.hostResolvConf, 'utf8').catch(() => '');
    const lines = base.split('\n');
    let servers = lines.filter((l) => /^\s*nameserver\s/.test(l)).map((l) => l.trim().split(/\s+/)[1]!);
    let search = lines.filter((l) => /^\s*(search|domain)\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
    let options = lines.filter((l) => /^\s*options\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
    // A private network namespace cannot reach the host's loopback resolvers; Docker drops them the same way.
    if (!host) servers = servers.filter((s) => !/^127\.|^::1$/.test(s));
    if (hc.Dns?.length) servers = hc.Dns;
    if (hc.DnsSearch?.length) search = hc.DnsSearch.filter((s) => s !== '.');
    if (hc.DnsOptions?.length) options = hc.DnsOptions;
    if (!servers.length && !host) servers = ['8.8.8.8', '8.8.4.4'];
    let out = '';
    // On user networks aardvark-dns answers (Docker's 127.0.0.11): it resolves containers and forwards the rest.
    const internal = host ? [] : this.o.networks?.dns.dnsServers(c) ?? [];
    if (internal.length) {
      out += `# ExtServers: [${hc.Dns?.length ? servers.join(' ') : `host(${servers.join(' ')})`}]\n`;
      servers = internal;
    }
    if (search.length) out += `search ${search.join(' ')}\n`;
    for (const s of servers) out += `nameserver ${s}\n`;
    if (options.length) out += `options ${options.join(' ')}\n`;
    return out;
  }

  // ---------- exits ----------

  /** Called when conmon records an exit, live or found at start-up. */
  private async onExit(id: string, code: number, error = '', exitedAt = new Date()): Promise<void> {
    const c = this.records.get(id);
    if (!c) return;
    await this.lock.run(id, async () => {
      if (c.state.status !== 'running' && c.state.status !== 'paused' && c.state.status !== 'restarting') return;
      const started = Date.parse(c.state.startedAt);
      const oom = await this.o.cgroups?.oomKilled(`/berth/${c.id}`).catch(() => false) ?? false;
      await Promise.all([
        // Attached clients get the last output before anyone hears of the exit (a wait answered, docker run done).
        this.attached.drain(id),
        this.o.runtime.delete(c.runtime, c.id).catch((e) => this.o.log.error(`runtime delete ${id}: ${errorMessage(e)}`)),
        this.o.mounter.umount(this.mergedDir(c)).catch((e) => this.o.log.error(`umount ${id}: ${errorMessage(e)}`)),
        this.mounts.teardown(c.id, c.mounts).catch((e) => this.o.log.error(`volumes of ${id}: ${errorMessage(e)}`)),
        this.o.networks?.endpoints.detach(c).catch((e) => this.o.log.error(`network of ${id}: ${errorMessage(e)}`)),
      ]);
      c.state = { ...c.state, status: 'exited', pid: 0, conmonPid: 0, exitCode: code, error, oomKilled: oom || c.state.oomKilled, finishedAt: exitedAt.toISOString() };
      await this.store.save(c);
      // Docker reports the kernel's OOM kill as an `oom` event before the `die`.
      if (oom) this.emit(c, 'oom');
      this.emit(c, 'die', { exitCode: String(code), execDuration: String(Math.max(0, Math.round((Date.now() - started) / 1000))) });
    });
    this.notifyExit(id, code);
    if (c.hostConfig.AutoRemove && this.records.has(id)) {
      await this.remove(id, { force: true, volumes: true }).catch((e) => this.o.log.error(`auto-remove ${id}: ${errorMessage(e)}`));
    }
  }

  private notifyExit(id: string, code: number, startFailure = false): void {
    const waiters = this.exitWaiters.get(id) ?? [];
    const keep = startFailure ? waiters.filter((w) => !w.startFailure) : [];
    for (const w of waiters) if (!keep.includes(w)) w.resolve(code);
    if (keep.length) this.exitWaiters.set(id, keep);
    else this.exitWaiters.delete(id);
  }

  /** Settles at the container's next exit (and, with `orStartFailure`, when a start fails). */
  private nextExit(id: string, orStartFailure = false): Promise<number> {
    return new Promise((resolve) => {
      const list = this.exitWaiters.get(id) ?? [];
      list.push({ resolve, startFailure: orStartFailure });
      this.exitWaiters.set(id, list);
    });
  }

  /** A promise that settles when the container next stops running (immediately if it is not running). */
  stopped(c: ContainerRecord): Promise<void> {
    if (!isRunning(c.state.status)) return Promise.resolve();
    return this.nextExit(c.id).then(() => undefined);
  }

  // ---------- stop, kill, restart ----------

  /** Stops with the stop signal, then SIGKILL after the timeout; `false` if it was not running (304). */
  async stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<boolean> {
    const c = this.get(ref);
    if (c.state.status === 'restarting') return this.cancelRestart(c, 'stop');
    if (!isRunning(c.state.status)) return false;
    const signal = parseSignal(opts.signal || c.config.StopSignal || 'SIGTERM');
    const timeout = opts.timeout ?? c.config.StopTimeout ?? DEFAULT_STOP_TIMEOUT;
    c.state.stoppedByUser = true;
    const exited = this.nextExit(c.id);
    if (c.state.status === 'paused') await this.o.runtime.resume(c.runtime, c.id).catch(() => undefined);
    await this.signal(c, signal).catch(() => undefined);
    const done = timeout < 0 ? await exited.then(() => true) : await withTimeout(exited, timeout * 1000);
    if (!done) {
      await this.signal(c, 9).catch(() => undefined);
      const killed = await withTimeout(exited, 10_000);
      if (!killed) throw new SystemError(`cannot stop container ${c.id}: it did not exit after SIGKILL`);
    }
    this.emit(c, 'stop');
    return true;
  }

  async kill(ref: string, signalName = 'SIGKILL'): Promise<void> {
    const signal = parseSignal(signalName || 'SIGKILL');
    const c = this.get(ref);
    if (c.state.status === 'restarting') { await this.cancelRestart(c, 'kill'); return; }
    if (!isRunning(c.state.status)) throw new StateError(`Cannot kill container: ${ref}: container ${c.id} is not running`);
    if (signal === 9 || signal === 15) c.state.stoppedByUser = true;
    // SIGKILL is moby's Kill: it returns once the exit is recorded, so an inspect that follows shows it (137).
    const exited = signal === 9 ? this.nextExit(c.id) : undefined;
    try {
      await this.signal(c, signal);
    } catch (e) {
      // The process ended between the check and the signal (its exit not yet recorded): nothing to signal.
      if (processAlive(c.state.pid)) throw e;
    }
    // A paused container gets its SIGKILL when it thaws, as moby unpauses it after sending one.
    if (signal === 9 && c.state.status === 'paused') await this.o.runtime.resume(c.runtime, c.id).catch(() => undefined);
    if (exited && !(await withTimeout(exited, 15_000))) throw new SystemError(`container ${c.id} did not exit after SIGKILL`);
  }

  private async signal(c: ContainerRecord, signal: number): Promise<void> {
    await this.o.runtime.kill(c.runtime, c.id, String(signal));
    this.emit(c, 'kill', { signal: String(signal) });
  }

  async restart(ref: string, timeout?: number): Promise<void> {
    const c = this.get(ref);
    await this.stop(c.id, { timeout });
    await this.start(c.id);
    this.emit(c, 'restart');
  }

  /** Restart policy (restart-manager.ts): an exited container waits out its back-off as 'restarting'. */
  async markRestarting(c: ContainerRecord): Promise<void> {
    await this.lock.run(c.id, async () => {
      if (c.state.status !== 'exited') return;
      c.state.status = 'restarting';
      await this.store.save(c);
    });
  }

  /** Restart policy: starts the container again and counts it in RestartCount. */
  async restartByPolicy(c: ContainerRecord): Promise<void> {
    c.restartCount++;
    await this.start(c.id, { byPolicy: true });
  }

  /** A stop, kill or removal of a container waiting to be restarted: it stays down. */
  private async cancelRestart(c: ContainerRecord, action?: 'stop' | 'kill'): Promise<boolean> {
    await this.lock.run(c.id, async () => {
      c.state.stoppedByUser = true;
      if (c.state.status === 'restarting') c.state.status = 'exited';
      await this.store.save(c);
    });
    if (action) this.emit(c, action);
    return true;
  }

  /** Persists a change made by another engine module (health status). */
  async saveRecord(c: ContainerRecord): Promise<void> {
    await this.lock.run(c.id, () => this.store.save(c));
  }

  async pause(ref: string): Promise<void> {
    const c = this.get(ref);
    await this.lock.run(c.id, async () => {
      if (c.state.status !== 'running') throw new StateError(`Container ${c.id} is not running`);
      await this.o.runtime.pause(c.runtime, c.id);
      c.state.status = 'paused';
      await this.store.save(c);
    });
    this.emit(c, 'pause');
  }

  async unpause(ref: string): Promise<void> {
    const c = this.get(ref);
    await this.lock.run(c.id, async () => {
      if (c.state.status !== 'paused') throw new StateError(`Container ${c.id} is not paused`);
      await this.o.runtime.resume(c.runtime, c.id);
      c.state.status = 'running';
      await this.store.save(c);
    });
    this.emit(c, 'unpause');
  }

  // ---------- wait ----------

  async wait(ref: string, condition: WaitCondition = 'not-running', signal?: AbortSignal): Promise<WaitResult> {
    const c = this.get(ref);
    const result = (): WaitResult => ({ StatusCode: c.state.exitCode, Error: c.state.error ? { Message: c.state.error } : null });
    if (condition === 'removed') {
      await abortable(new Promise<void>((resolve) => {
        if (!this.records.has(c.id)) return resolve();
        const list = this.removeWaiters.get(c.id) ?? [];
        list.push(resolve);
        this.removeWaiters.set(c.id, list);
      }), signal);
      return result();
    }
    if (condition === 'not-running' && !isRunning(c.state.status)) return result();
    await abortable(this.nextExit(c.id), signal);
    return result();
  }

  // ---------- remove, rename, prune ----------

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const c = this.get(ref);
    if (c.state.status === 'restarting' && opts.force) await this.cancelRestart(c);
    if (isRunning(c.state.status)) {
      if (!opts.force) {
        throw new StateError(`cannot remove container "/${c.name}": container is ${c.state.status}: stop the container before removing or force remove`);
      }
      const exited = this.nextExit(c.id);
      if (c.state.status === 'paused') await this.o.runtime.resume(c.runtime, c.id).catch(() => undefined);
      await this.signal(c, 9).catch(() => undefined);
      if (!(await withTimeout(exited, 15_000))) throw new SystemError(`could not kill running container ${c.id}, cannot remove`);
    }
    await this.lock.run(c.id, async () => {
      if (!this.records.has(c.id)) return;
      c.state.status = 'removing';
      await this.store.save(c);
      await this.finishRemoval(c, !!opts.volumes);
    });
  }

  private async finishRemoval(c: ContainerRecord, removeVolumes = false): Promise<void> {
    await this.o.runtime.delete(c.runtime, c.id).catch(() => undefined);
    if (await this.o.mounter.isMountPoint(this.mergedDir(c))) await this.o.mounter.umount(this.mergedDir(c)).catch(() => undefined);
    await this.mounts.teardown(c.id, c.mounts).catch(() => undefined);
    await this.o.networks?.endpoints.detach(c).catch((e) => this.o.log.error(`network of ${c.id}: ${errorMessage(e)}`));
    await this.exits.clear(c.id);
    await fsp.rm(path.join(this.socketDir, c.id), { recursive: true, force: true });
    await this.store.remove(c.id);
    this.records.delete(c.id);
    await this.o.volumes.release(c.id, c.mounts ?? [], removeVolumes).catch((e) => this.o.log.error(`volumes of ${c.id}: ${errorMessage(e)}`));
    this.emit(c, 'destroy');
    for (const w of this.removeWaiters.get(c.id) ?? []) w();
    this.removeWaiters.delete(c.id);
  }

  /**
   * DELETE /containers/{parent}/{alias}?link=1 (moby's rmLink): the parent forgets its link, the linked container
   * stays. A running parent's /etc/hosts loses the link's line; its environment changes at its next start.
   */
  async removeLink(ref: string): Promise<void> {
    this.get(ref);
    const name = ref.startsWith('/') ? ref : `/${ref}`;
    const parentName = path.posix.dirname(name);
    if (parentName === '/') throw new ConflictError('Conflict, cannot remove the default link name of the container');
    const alias = path.posix.basename(name);
    const parent = this.find(parentName);
    if (!parent) throw new NotFoundError(`Cannot get parent ${parentName} for link name ${name}`);
    await this.lock.run(parent.id, async () => {
      const links = parent.hostConfig.Links ?? [];
      const kept = links.filter((l) => parseLink(l).alias !== alias);
      parent.hostConfig = { ...parent.hostConfig, Links: kept.length ? kept : null };
      await this.store.save(parent);
      if (isRunning(parent.state.status)) {
        await this.writeEtcFiles(parent).catch((e) => this.o.log.error(`/etc/hosts of ${parent.id} after removing link ${name}: ${errorMessage(e)}`));
      }
    });
  }

  async rename(ref: string, newName: string): Promise<void> {
    if (!ref || !newName) throw new InvalidParameterError('Neither old nor new names may be empty');
    const c = this.get(ref);
    const name = validateContainerName(newName);
    await this.lock.run('names', async () => {
      if (c.name === name) throw new ConflictError(`Renaming a container with the same name as its current name`);
      const owner = this.find(name);
      if (owner && owner.name === name) {
        throw new ConflictError(`Conflict. The container name "/${name}" is already in use by container "${owner.id}". You have to remove (or rename) that container to be able to reuse that name.`);
      }
      const oldName = c.name;
      c.name = name;
      await this.store.save(c);
      this.emit(c, 'rename', { oldName: `/${oldName}` });
    });
  }

  async prune(filter: (c: ContainerRecord) => boolean): Promise<{ ContainersDeleted: string[]; SpaceReclaimed: number }> {
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const c of this.all()) {
      if (isRunning(c.state.status) || !filter(c)) continue;
      const size = await dirSize(this.upperDir(c));
      try {
        await this.remove(c.id, {});
        deleted.push(c.id);
        reclaimed += size;
      } catch (e) {
        this.o.log.error(`prune ${c.id}: ${errorMessage(e)}`);
      }
    }
    return { ContainersDeleted: deleted, SpaceReclaimed: reclaimed };
  }

  // ---------- logs and attach ----------

  logs(ref: string, o: Omit<ReadOptions, 'stopped'>): { container: ContainerRecord; entries: AsyncGenerator<LogEntry> } {
    const c = this.get(ref);
    if (!logsReadable(presentedLogConfig(c.hostConfig.LogConfig))) throw new NotImplementedError('configured logging driver does not support reading');
    return { container: c, entries: readLog(this.logPath(c), { ...o, stopped: o.follow ? this.stoppedOrRemoved(c) : undefined }) };
  }

  /**
   * Output from now on (attach), ending when the container stops. Its start is fixed when this settles, so an
   * attach made before the start (docker run) has everything from the first byte.
   */
  async attachOutput(c: ContainerRecord, signal?: AbortSignal): Promise<AsyncGenerator<LogEntry>> {
    const from = await logEnd(this.logPath(c));
    return this.attached.open(c.id, this.logPath(c), from, this.nextExit(c.id, true), signal);
  }

  /** Feeds `input` to the container's stdin once it runs (docker run -i attaches before it starts). */
  async attachStdin(c: ContainerRecord, input: Readable): Promise<void> {
    if (!c.config.OpenStdin) return;
    for (let i = 0; i < 600 && c.state.status === 'created'; i++) await sleep(50);
    if (!isRunning(c.state.status)) return;
    await this.o.stdin(path.join(this.dirOf(c), 'bundle', 'attach'), input);
  }

  /** POST /containers/{id}/resize: the TTY's new size, through conmon's ctl fifo. */
  async resize(ref: string, height: number, width: number): Promise<void> {
    const c = this.get(ref);
    if (!isRunning(c.state.status)) throw new StateError(`Container ${c.id} is not running`);
    if (!c.config.Tty) return;
    await resizeConsole(path.join(this.dirOf(c), 'bundle'), height, width);
  }

  private stoppedOrRemoved(c: ContainerRecord): Promise<void> {
    if (!isRunning(c.state.status)) return Promise.resolve();
    return this.nextExit(c.id).then(() => undefined);
  }

  // ---------- commit, diff, export ----------

  async commit(ref: string, o: { repo?: string; tag?: string; comment?: string; author?: string; changes?: string[]; pause?: boolean; config?: ContainerConfig }): Promise<string> {
    const c = this.get(ref);
    if (o.config !== undefined && (o.config === null || typeof o.config !== 'object' || Array.isArray(o.config))) {
      throw new InvalidParameterError('invalid JSON: the commit body must be a container config object');
    }
    // Without its image the container's lower layers have no image to name as the new image's parent.
    const parent = await this.o.images.resolve(c.imageId).catch(() => {
      throw new ConflictError(`cannot commit container ${c.id}: its image ${c.imageId} has been removed`);
    });
    // Only a running container is paused; one that exits between the check and the pause (its exit not yet
    // recorded) is committed as it is, as dockerd does, which ignores the pause's failure.
    const pause = o.pause !== false && c.state.status === 'running'
      && await this.o.runtime.pause(c.runtime, c.id).then(() => true, () => false);
    try {
      const containerConfig = { ...c.config, ...(o.config ?? {}) };
      const id = await this.o.images.commit({
        upperDir: this.upperDir(c), parent, containerId: c.id, containerConfig,
        repo: o.repo, tag: o.tag, comment: o.comment, author: o.author, changes: o.changes,
      });
      this.emit(c, 'commit', { comment: o.comment ?? '', imageID: id, imageRef: o.repo ? `${o.repo}:${o.tag || 'latest'}` : '' });
      return id;
    } finally {
      if (pause) await this.o.runtime.resume(c.runtime, c.id).catch(() => undefined);
    }
  }

  async changes(ref: string): Promise<{ Path: string; Kind: number }[]> {
    const c = this.get(ref);
    const image = await this.o.images.resolve(c.imageId).catch(() => null);
    if (!image) return [];
    return this.o.images.changes(this.upperDir(c), image);
  }

  /** A tar of the container's whole filesystem; a stopped container's root is mounted for the time of the export. */
  async export(ref: string): Promise<Readable> {
    const c = this.get(ref);
    const release = await this.rootfsUsers.acquire(c);
    const tar = this.o.images.exportRootfs(this.mergedDir(c));
    for (const ev of ['close', 'end', 'error'] as const) tar.once(ev, () => void release());
    this.emit(c, 'export');
    return tar;
  }

  // ---------- sizes ----------

  async sizeRw(c: ContainerRecord): Promise<number> {
    return dirSize(this.upperDir(c));
  }

  emit(c: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.o.events.publish('container', action, c.id, { ...(c.config.Labels ?? {}), image: c.config.Image ?? '', name: c.name, ...extra });
  }
}

// ---------- helpers ----------

export function isRunning(s: ContainerStatus): boolean {
  return s === 'running' || s === 'paused' || s === 'restarting';
}

function processAlive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((r) => { timer = setTimeout(() => r(false), ms); });
  const result = await Promise.race([p.then(() => true), timeout]);
  clearTimeout(timer);
  return result;
}

function abortable<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then((v) => { signal.removeEventListener('abort', onAbort); resolve(v); }, reject);
  });
}

export async function dirSize(dir: string): Promise<number> {
  let total = 0;
  const seen = new Set<number>();
  async function walk(d: string): Promise<void> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fsp.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const st = await fsp.lstat(p).catch(() => undefined);
        if (st && !seen.has(st.ino)) { seen.add(st.ino); total += st.size; }
      }
    }
  }
  await walk(dir);
  return total;
}
