// Container use-cases: create, start, stop, kill, wait, remove, rename, list, inspect, logs, attach, prune, commit.
// Names and links are container-naming.ts's, the create request container-create.ts's, its config
// container-config.ts's, the runtime spec container-spec.ts's, /etc files container-etc-files.ts's, the root's mount
// rootfs-premount.ts's.
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { ContainerCreateBody } from '../wire/docker';
import { BerthError, ConflictError, InvalidParameterError, NotFoundError, StateError, SystemError, errorMessage } from '../errdefs';
import { ContainerRecordStore, ZERO_TIME, cgroupPathOf, hasProcess, isRunning, type ContainerRecord } from './container-record';
import { parseSignal } from '../wire/signals';
import type { LogEntry, ReadOptions } from './logs';
import { conmonLogCap, presentedLogConfig } from './log-drivers';
import { processAlive } from '../host/process-alive';
import { openProcessRoot } from '../host/process-root';
import { ExitMonitor } from '../runtime/exit-monitor';
import { KeyedMutex } from '../util/mutex';
import { PhaseTrace } from '../util/phase-trace';
import { allSettledOrThrow, withTimeout } from '../util/promises';
import { RootfsUsers } from './rootfs-users';
import { RootfsPremounts } from './rootfs-premount';
import { pruneContainers, type PruneReport } from './container-prune';
import { ContainerWaiters, exitAfterKill, type WaitCondition, type WaitResult } from './container-waiters';
import { ContainerStreams } from './container-streams';
import { ContainerRecords, checkNameFree, findContainer, linkNamesOf, nameTaken } from './container-lookup';
import { ContainerFilesystem, type CommitOptions } from './container-filesystem';
import { ContainerMountSetup } from './container-mounts';
import { removeLink, renameContainer, type NamingContext } from './container-naming';
import { normalizeHostConfig } from './container-config';
import { prepareCreate } from './container-create';
import { containerSpec, type SpecContext } from './container-spec';
import { writeEtcFiles, type EtcFile } from './container-etc-files';
import type { ContainerServiceOptions } from './container-ports';
export type { ContainerServiceOptions } from './container-ports';
export { commandOf, mergeConfig, processEnv, resourcesOf } from './container-config';
export { isRunning } from './container-record';

const DEFAULT_STOP_TIMEOUT = 10;
/** How long into its run a container keeps its host mounts (releaseHostMounts): a `run --rm` is gone first. */
const HOST_RELEASE_DELAY_MS = 1_000;

export class ContainerService {
  private readonly records = new ContainerRecords();
  private readonly store: ContainerRecordStore;
  private readonly lock = new KeyedMutex();
  private readonly waiters = new ContainerWaiters();
  private readonly exits: ExitMonitor;
  private readonly exitDir: string;
  private readonly socketDir: string;
  private readonly mounts: ContainerMountSetup;
  private readonly streams: ContainerStreams;
  /** A container's root for `docker cp`, export and exec: its own view while it runs, mounted for the time when stopped. */
  readonly rootfsUsers: RootfsUsers;
  private readonly specContext: SpecContext;
  private readonly filesystem: ContainerFilesystem;
  private readonly trace: PhaseTrace;
  private readonly premounts: RootfsPremounts;

  constructor(private readonly o: ContainerServiceOptions) {
    this.trace = o.trace ?? new PhaseTrace();
    this.mounts = new ContainerMountSetup(o.volumes);
    this.store = new ContainerRecordStore(path.join(o.root, 'containers'));
    this.exitDir = path.join(o.runRoot, 'exits');
    this.socketDir = path.join(o.runRoot, 'sockets');
    this.specContext = {
      hostHosts: o.hostHosts, hostResolvConf: o.hostResolvConf, networks: o.networks, hostResources: o.hostResources,
      etcPath: (c, file) => this.etcPath(c, file),
    };
    this.exits = new ExitMonitor(this.exitDir, (id, code, exitedAt) => this.onExit(id, code, '', exitedAt));
    this.premounts = new RootfsPremounts({
      mounter: o.mounter, runtime: o.runtime, log: o.log,
      mergedDir: (c) => this.mergedDir(c), upperDir: (c) => this.upperDir(c), workDir: (c) => this.workDir(c),
      liveViewsGone: (c) => this.rootfsUsers.liveViewsGone(c),
    });
    this.rootfsUsers = new RootfsUsers(this.premounts, {
      mergedDir: (c) => this.mergedDir(c),
      running: (c) => hasProcess(c.state.status) && c.state.pid > 0,
      openLive: (c) => openProcessRoot(c.state.pid, cgroupPathOf(c)),
    });
    this.streams = new ContainerStreams({
      logPath: (c) => this.logPath(c), bundleDir: (c) => path.join(this.dirOf(c), 'bundle'), stdin: o.stdin,
      nextExit: (id, orStartFailure) => this.waiters.nextExit(id, orStartFailure), stopped: (c) => this.stopped(c),
    });
    this.filesystem = new ContainerFilesystem({
      images: o.images, runtime: o.runtime, rootfsUsers: this.rootfsUsers, emit: (c, action, extra) => this.emit(c, action, extra),
      upperDir: (c) => this.upperDir(c),
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
    await this.o.volumes.restore([...this.records.values()].map((c) => ({ id: c.id, running: hasProcess(c.state.status), mounts: c.mounts ?? [] })));
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
      // A build before decision 21's last step left running containers' roots mounted on the host: they go (never
      // mounted again while the container runs; its namespace has its own).
      if (hasProcess(c.state.status)) {
        this.premounts.unmountUnlessHeld(c).catch((e) => this.o.log.error(`umount ${c.id}: ${errorMessage(e)}`));
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
    return findContainer(this.records, ref);
  }

  /** The legacy link names ("/parent/alias") of every linked container, by ID: moby lists them among its Names. */
  linkNames(): Map<string, string[]> {
    return linkNamesOf(this.records);
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
  etcPath(c: ContainerRecord, file: EtcFile): string { return path.join(this.dirOf(c), file); }

  // ---------- create ----------

  async create(body: ContainerCreateBody, nameParam?: string): Promise<{ Id: string; Warnings: string[] }> {
    const { name, image, config, entrypoint, cmd, argv, runtime, hostConfig, logConfig, network, warnings, plannedMounts } = await prepareCreate({
      images: this.o.images, runtime: this.o.runtime, defaultRuntime: this.o.defaultRuntime, networks: this.o.networks,
      hostResources: this.o.hostResources, logDefaults: this.o.logDefaults, nameTaken: (n) => nameTaken(this.records, n), find: (ref) => this.find(ref),
    }, body, nameParam);
    this.o.cgroupLockWarmer?.warm(); // the start follows within ms (`docker run`): the grace period passes meanwhile
    return this.lock.run('names', async () => {
      checkNameFree(this.records, name);
      const id = randomBytes(32).toString('hex');
      this.trace.begin('container', id);
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
      this.trace.mark(id, 'create');
      this.premounts.begin(rec);
      return { Id: id, Warnings: warnings };
    });
  }

  // ---------- start ----------

  /**
   * Starts a container; `false` when it was already running (Docker answers 304). With `restoreFrom` (a checkpoint's
   * CRIU image directory, engine/checkpoints.ts) its processes are restored from the checkpoint instead. A start
   * that is not the restart policy's (`byPolicy`) resets RestartCount, as moby's containerStart does.
   */
  async start(ref: string, opts: { restoreFrom?: string; byPolicy?: boolean } = {}): Promise<boolean> {
    const c = this.get(ref);
    const releaseLock = this.o.cgroupLockWarmer?.hold();
    // From create's answer to here: the client's own work (the docker CLI attaches and waits first).
    this.trace.mark(c.id, 'client');
    try {
      const started = await this.whileExists(c, () => this.startLocked(c, opts.restoreFrom, opts.byPolicy)).finally(() => releaseLock?.());
      if (started) setTimeout(() => this.releaseHostMounts(c), HOST_RELEASE_DELAY_MS).unref();
      return started;
    } catch (err) {
      // As Docker does, a --rm container that cannot start is removed.
      if (c.hostConfig.AutoRemove) await this.remove(c.id, { force: true, volumes: true }).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Two host mounts a running container needs no more, each costing every later start (decision 21): its root's (it
   * has its own copy) and its namespace's (berthd holds it by a descriptor, netns.ts). Not at the start: a umount(8)
   * spawn holds berthd's thread ~10 ms, which lengthened every `run --rm`; one gone by then had both undone by its removal.
   */
  private releaseHostMounts(c: ContainerRecord): void {
    if (this.records.get(c.id) !== c || !hasProcess(c.state.status)) return;
    this.premounts.unmountUnlessHeld(c).catch((e) => this.o.log.error(`umount ${c.id} after start: ${errorMessage(e)}`));
    void this.o.networks?.endpoints.hold(c);
  }

  private async startLocked(c: ContainerRecord, restoreFrom?: string, byPolicy = false): Promise<boolean> {
    if (hasProcess(c.state.status)) return false;
    if (c.state.status === 'removing') throw new StateError(`container is marked for removal and cannot be started`);
    // A user's start or restart begins the policy afresh: count and back-off (restart-manager.ts reads the count).
    if (!byPolicy) c.restartCount = 0;
    const t = this.trace;
    t.mark(c.id, 'start-lock');
    const merged = this.mergedDir(c);
    const bundle = path.join(this.dirOf(c), 'bundle');
    try {
      // Independent of each other (the network needs no rootfs): the root's mount(8) spawn and the network's setup
      // overlap. All settle before a failure is undone below.
      await allSettledOrThrow([
        this.exits.clear(c.id),
        fsp.mkdir(bundle, { recursive: true }),
        this.premounts.mount(c),
        this.o.networks?.endpoints.attach(c),
      ]);
      t.mark(c.id, 'mount+network');
      const mounts = await this.mounts.setup(c.id, c.mounts, merged);
      this.mounts.copiedUp(c.mounts);
      t.mark(c.id, 'volumes');
      const spec = await containerSpec(c, merged, mounts, this.specContext);
      t.mark(c.id, 'spec');
      await this.o.runtime.writeBundle(c.runtime, c.id, bundle, spec);
      await this.o.runtime.delete(c.runtime, c.id).catch(() => undefined);
      t.mark(c.id, 'bundle');
      const { pid, conmonPid } = await this.o.runtime.create({
        id: c.id, name: c.name, runtime: c.runtime, bundle,
        logPath: this.logPath(c), logSizeMax: this.logSizeMax(c),
        exitDir: this.exitDir, socketDir: this.socketDir,
        stdin: !!c.config.OpenStdin, terminal: !!c.config.Tty, leaveStdinOpen: !!c.config.Tty || !c.config.StdinOnce,
        ...(restoreFrom ? { restoreFrom } : {}),
      });
      c.state = { ...c.state, status: 'running', pid, conmonPid, exitCode: 0, error: '', oomKilled: false, startedAt: new Date().toISOString(), finishedAt: ZERO_TIME, stoppedByUser: false };
      t.mark(c.id, 'conmon-create');
      // The record says 'running' while the runtime starts the process (a restored one already runs when `runc
      // restore --detach` returns); both settle before a failed start is recorded below.
      await allSettledOrThrow([restoreFrom ? undefined : this.o.runtime.start(c.runtime, c.id), this.store.save(c)]);
      t.mark(c.id, 'runtime-start+save');
    } catch (err) {
      const message = errorMessage(err);
      await this.o.runtime.delete(c.runtime, c.id).catch(() => undefined);
      await this.premounts.unmountUnlessHeld(c).catch(() => undefined);
      await this.mounts.teardown(c.id, c.mounts).catch(() => undefined);
      await this.o.networks?.endpoints.detach(c).catch((e) => this.o.log.error(`network of ${c.id}: ${errorMessage(e)}`));
      // Docker keeps a container that never ran in 'created', with the error and exit code 127 recorded.
      const everRan = c.state.status === 'running';
      c.state = { ...c.state, status: everRan ? 'exited' : 'created', pid: 0, conmonPid: 0, exitCode: 127, error: message, finishedAt: everRan ? new Date().toISOString() : c.state.finishedAt };
      await this.store.save(c).catch(() => undefined);
      // Attach streams end; waits for the next exit keep waiting, as in Docker (the container never ran).
      this.waiters.exited(c.id, c.state.exitCode, true);
      // moby's daemon/errors.go isInvalidCommand: a command that is not there is the request's fault (400).
      if (err instanceof SystemError && /executable file not found|no such file or directory/i.test(message)) throw new InvalidParameterError(message);
      if (err instanceof BerthError) throw err;
      throw new SystemError(`failed to create task for container: ${message}`);
    }
    this.emit(c, 'start');
    return true;
  }

  private logSizeMax(c: ContainerRecord): number {
    return conmonLogCap(presentedLogConfig(c.hostConfig.LogConfig), this.o.logSizeMax);
  }

  // ---------- exits ----------

  /** Called when conmon records an exit, live or found at start-up. */
  private async onExit(id: string, code: number, error = '', exitedAt = new Date()): Promise<void> {
    const c = this.records.get(id);
    if (!c) return;
    // Operations reading its root through its namespace end now; its next mount waits for them (rootfs-users.ts).
    this.rootfsUsers.stopped(c);
    // From start's answer to the exit file seen: the container's own run.
    this.trace.mark(id, 'running');
    await this.lock.run(id, async () => {
      if (c.state.status !== 'running' && c.state.status !== 'paused' && c.state.status !== 'restarting') return;
      this.trace.mark(id, 'exit-lock');
      const started = Date.parse(c.state.startedAt);
      const oom = await this.o.cgroups?.oomKilled(cgroupPathOf(c)).catch(() => false) ?? false;
      // An auto-removed container goes on to removal at once: the runtime's record and the root's mount are left
      // to it (done after its answer), and so is the record on disk, which says 'removing' next.
      const removing = !!c.hostConfig.AutoRemove;
      await Promise.all([
        // Attached clients get the last output before anyone hears of the exit (a wait answered, docker run done).
        this.streams.drain(id),
        removing ? undefined : this.premounts.release(c),
        this.mounts.teardown(c.id, c.mounts).catch((e) => this.o.log.error(`volumes of ${id}: ${errorMessage(e)}`)),
        this.o.networks?.endpoints.detach(c).catch((e) => this.o.log.error(`network of ${id}: ${errorMessage(e)}`)),
      ]);
      this.trace.mark(id, 'exit-cleanup');
      c.state = { ...c.state, status: 'exited', pid: 0, conmonPid: 0, exitCode: code, error, oomKilled: oom || c.state.oomKilled, finishedAt: exitedAt.toISOString() };
      // A crash before the removal's own save finds the container still 'running' with its exit file: start-up
      // records the exit and removes it then.
      if (!removing) await this.store.save(c);
      this.trace.mark(id, 'exit-save');
      // Docker reports the kernel's OOM kill as an `oom` event before the `die`.
      if (oom) this.emit(c, 'oom');
      this.emit(c, 'die', { exitCode: String(code), execDuration: String(Math.max(0, Math.round((Date.now() - started) / 1000))) });
    });
    this.waiters.exited(id, code);
    if (c.hostConfig.AutoRemove && this.records.has(id)) {
      await this.remove(id, { force: true, volumes: true }).catch((e) => this.o.log.error(`auto-remove ${id}: ${errorMessage(e)}`));
    }
  }

  /** A promise that settles when the container next stops running (immediately if it is not running). */
  stopped(c: ContainerRecord): Promise<void> { return this.waiters.stopped(c); }

  // ---------- stop, kill, restart ----------

  /** Stops with the stop signal, then SIGKILL after the timeout; `false` if it was not running (304). */
  async stop(ref: string, opts: { timeout?: number; signal?: string } = {}): Promise<boolean> {
    const c = this.get(ref);
    if (c.state.status === 'restarting') return this.cancelRestart(c, 'stop');
    if (!isRunning(c.state.status)) {
      // Exited a moment ago, its policy's restart not yet marked: the user's stop is final all the same.
      if (c.state.status === 'exited' && !c.state.stoppedByUser && (c.hostConfig.RestartPolicy?.Name ?? 'no') !== 'no') await this.cancelRestart(c);
      return false;
    }
    const signal = parseSignal(opts.signal || c.config.StopSignal || 'SIGTERM');
    const timeout = opts.timeout ?? c.config.StopTimeout ?? DEFAULT_STOP_TIMEOUT;
    c.state.stoppedByUser = true;
    const exited = this.waiters.nextExit(c.id);
    if (c.state.status === 'paused') await this.o.runtime.resume(c.runtime, c.id).catch(() => undefined);
    await this.signal(c, signal).catch(() => undefined);
    const done = timeout < 0 ? await exited.then(() => true) : await withTimeout(exited, timeout * 1000);
    if (!done) {
      await this.signal(c, 9).catch(() => undefined);
      if (!(await exitAfterKill(exited, c.state.pid))) throw new SystemError(`cannot stop container ${c.id}: it did not exit after SIGKILL`);
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
    const exited = signal === 9 ? this.waiters.nextExit(c.id) : undefined;
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
      if (c.state.status !== 'exited' || c.state.stoppedByUser || this.records.get(c.id) !== c) return;
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
    await this.whileExists(c, async () => {
      c.state.stoppedByUser = true;
      if (c.state.status === 'restarting') c.state.status = 'exited';
      await this.store.save(c);
    });
    if (action) this.emit(c, action);
    return true;
  }

  /** Persists a change made by another engine module (health status, update). */
  async saveRecord(c: ContainerRecord): Promise<void> {
    await this.whileExists(c, () => this.store.save(c));
  }

  /** `fn` under the container's lock, unless a removal queued before it took the container away (then "No such container"). */
  private whileExists<T>(c: ContainerRecord, fn: () => Promise<T>): Promise<T> {
    return this.lock.run(c.id, async () => {
      if (this.records.get(c.id) !== c) throw new NotFoundError(`No such container: ${c.id}`);
      return fn();
    });
  }

  async pause(ref: string): Promise<void> { await this.setPaused(ref, true); }
  async unpause(ref: string): Promise<void> { await this.setPaused(ref, false); }

  private async setPaused(ref: string, pause: boolean): Promise<void> {
    const c = this.get(ref);
    await this.whileExists(c, async () => {
      if (c.state.status !== (pause ? 'running' : 'paused')) throw new StateError(`Container ${c.id} is not ${pause ? 'running' : 'paused'}`);
      await (pause ? this.o.runtime.pause(c.runtime, c.id) : this.o.runtime.resume(c.runtime, c.id));
      c.state.status = pause ? 'paused' : 'running';
      await this.store.save(c);
    });
    this.emit(c, pause ? 'pause' : 'unpause');
  }

  // ---------- wait ----------

  /** Throws NotFoundError unless `wait` can answer for `ref` (checked before the wait's headers go out). */
  checkWaitable(ref: string, condition: WaitCondition = 'not-running'): void {
    if (this.find(ref) || (condition !== 'next-exit' && this.waiters.gone(ref))) return;
    this.get(ref);
  }

  async wait(ref: string, condition: WaitCondition = 'not-running', signal?: AbortSignal): Promise<WaitResult> {
    // A container removed moments ago (--rm) still answers with its last exit; else "No such container".
    const gone = condition !== 'next-exit' && !this.find(ref) ? this.waiters.gone(ref) : undefined;
    if (gone) return gone;
    const c = this.get(ref);
    return this.waiters.wait(c, condition, this.records.has(c.id), signal);
  }

  // ---------- remove, rename, prune ----------

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const c = this.get(ref);
    // A start under way (it holds the lock) settles first: seen as 'created' now, its process would run on after
    // the removal took the record (a cancelled build's step container, `rm -f` racing `start`). As moby's rm waits
    // for the container's lock.
    if (opts.force) await this.lock.run(c.id, async () => undefined);
    if (c.state.status === 'restarting' && opts.force) await this.cancelRestart(c);
    if (isRunning(c.state.status)) {
      if (!opts.force) {
        throw new StateError(`cannot remove container "/${c.name}": container is ${c.state.status}: stop the container before removing or force remove`);
      }
      const exited = this.waiters.nextExit(c.id);
      if (c.state.status === 'paused') await this.o.runtime.resume(c.runtime, c.id).catch(() => undefined);
      await this.signal(c, 9).catch(() => undefined);
      if (!(await exitAfterKill(exited, c.state.pid))) throw new SystemError(`could not kill running container ${c.id}, cannot remove`);
    }
    let answered = false;
    let announce = () => {};
    const told = new Promise<void>((resolve) => { announce = resolve; });
    const work = this.lock.run(c.id, async () => {
      if (!this.records.has(c.id)) return;
      this.trace.mark(c.id, 'remove-lock');
      c.state.status = 'removing';
      await this.store.save(c);
      this.trace.mark(c.id, 'remove-save');
      await this.finishRemoval(c, !!opts.volumes, announce);
    });
    work.catch((e) => { if (answered) this.o.log.error(`removing ${c.id}: ${errorMessage(e)}`); });
    // The answer comes once the container is gone for every client; its host leftovers go on being removed.
    await Promise.race([work, told]);
    answered = true;
  }

  /**
   * Removes a container marked 'removing'. What clients can see goes first (volumes, network, the record in
   * memory), then `announce` (the removal's answer, `wait` for removed); the host's leftovers (the runtime's
   * record, the root's mount, the directory) after it, still under the container's lock. The record on disk stays,
   * 'removing', until the end: a crash on the way is finished by the next start-up (init).
   */
  private async finishRemoval(c: ContainerRecord, removeVolumes = false, announce = () => {}): Promise<void> {
    const t = this.trace;
    await this.mounts.teardown(c.id, c.mounts).catch(() => undefined);
    await this.o.networks?.endpoints.detach(c).catch((e) => this.o.log.error(`network of ${c.id}: ${errorMessage(e)}`));
    t.mark(c.id, 'remove-network');
    this.waiters.remember(c.id, { name: c.name, result: { StatusCode: c.state.exitCode, Error: c.state.error ? { Message: c.state.error } : null } });
    this.records.delete(c.id);
    await this.o.volumes.release(c.id, c.mounts ?? [], removeVolumes).catch((e) => this.o.log.error(`volumes of ${c.id}: ${errorMessage(e)}`));
    this.emit(c, 'destroy');
    this.waiters.removed(c.id);
    t.end(c.id, 'removed');
    announce();
    this.rootfsUsers.forget(c.id);
    await this.premounts.release(c, true);
    await this.exits.clear(c.id);
    await fsp.rm(path.join(this.socketDir, c.id), { recursive: true, force: true });
    await this.store.remove(c.id);
  }

  // ---------- names and legacy links (container-naming.ts) ----------

  removeLink(ref: string): Promise<void> { return removeLink(this.naming(), ref); }
  rename(ref: string, newName: string): Promise<void> { return renameContainer(this.naming(), ref, newName); }

  private naming(): NamingContext {
    return {
      records: this.records, store: this.store, lock: this.lock, get: (r) => this.get(r), find: (r) => this.find(r),
      whileExists: (c, fn) => this.whileExists(c, fn), rewriteEtcFiles: (c) => writeEtcFiles(c, this.specContext),
      emit: (c, action, extra) => this.emit(c, action, extra), log: this.o.log,
    };
  }

  /** docker container prune (container-prune.ts). */
  prune(filter: (c: ContainerRecord) => boolean): Promise<PruneReport> {
    return pruneContainers(this, filter, this.o.log);
  }

  // ---------- logs and attach (container-streams.ts) ----------

  logs(ref: string, o: Omit<ReadOptions, 'stopped'>): { container: ContainerRecord; entries: AsyncGenerator<LogEntry> } {
    const c = this.get(ref);
    return { container: c, entries: this.streams.logs(c, o) };
  }

  attachOutput(c: ContainerRecord, signal?: AbortSignal): Promise<AsyncGenerator<LogEntry>> { return this.streams.attachOutput(c, signal); }
  attachStdin(c: ContainerRecord, input: Readable): Promise<void> { return this.streams.attachStdin(c, input); }
  async resize(ref: string, height: number, width: number): Promise<void> { return this.streams.resize(this.get(ref), height, width); }

  // ---------- commit, diff, export, sizes (container-filesystem.ts) ----------

  async commit(ref: string, o: CommitOptions): Promise<string> { const c = this.get(ref); return this.unlessRemoved(c, 'commit', () => this.filesystem.commit(c, o)); }

  /** A file operation (commit, cp, export) refused on a container being removed; overtaken by a removal, "No such container". */
  async unlessRemoved<T>(c: ContainerRecord, what: string, op: () => Promise<T>): Promise<T> {
    if (c.state.status === 'removing') throw new ConflictError(`cannot ${what} container ${c.id}: it is being removed`);
    return op().catch((err: unknown) => { throw this.records.get(c.id) === c ? err : new NotFoundError(`No such container: ${c.id}`); });
  }

  async changes(ref: string): Promise<{ Path: string; Kind: number }[]> { return this.filesystem.changes(this.get(ref)); }
  async export(ref: string): Promise<Readable> { const c = this.get(ref); return this.unlessRemoved(c, 'export', () => this.filesystem.export(c)); }
  sizeRw(c: ContainerRecord): Promise<number> { return this.filesystem.sizeRw(c); }

  emit(c: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
    this.o.events.publish('container', action, c.id, { ...(c.config.Labels ?? {}), image: c.config.Image ?? '', name: c.name, ...extra });
  }
}
