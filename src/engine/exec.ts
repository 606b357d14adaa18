// Exec use-cases (`docker exec`): sessions created in a running container, started, resized, inspected.
import type { CgroupLockWarmer } from '../host/cgroup-lock-warmer';
import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { ExecCreateBody, ExecInspect } from '../wire/docker';
import type { ContainerRecord } from './container-record';
import { ConflictError, InvalidParameterError, NotFoundError, StateError, errorMessage } from '../errdefs';
import { isRunning, processEnv, type ContainerService } from './containers';
import type { StdinConnector } from './container-ports';
import { readLog, type LogEntry } from './logs';
import { resolveUser } from './user';
import { readFileInRoot } from '../host/rootfs';
import { PhaseTrace } from '../util/phase-trace';
import { DEFAULT_CAPABILITIES, effectiveCapabilities } from '../runtime/spec';
import { execAttachPath, execLogPath, ExecStartError, type ExecPipes, type ExecProcess, type ExecProcessOptions, type ProcessSpec } from '../runtime/exec-process';
import { feedStdin, pipeOutput } from './exec-pipes';

/** Starts an exec'd process (runtime/exec-direct.ts without a TTY, runtime/exec-process.ts with one, in production). */
export type ExecRunner = (o: ExecProcessOptions) => Promise<ExecProcess>;
/** Resizes the terminal of a conmon-supervised process by its directory (runtime/console.ts in production). */
export type ConsoleResizer = (dir: string, height: number, width: number) => Promise<void>;

export interface ExecServiceOptions {
  /** Every capability of the running kernel: what a privileged exec gets (Docker's default set when not given). */
  hostCapabilities?: readonly string[];
  runRoot: string;
  containers: ContainerService;
  run: ExecRunner;
  resize: ConsoleResizer;
  stdin: StdinConnector;
  log: { error(msg: string): void };
  /** Phase timings of each exec, create to the client's last inspect (BERTH_TRACE=1); off when absent. */
  trace?: PhaseTrace;
  /** Told that an exec is about to start: `crun exec`'s cgroup move then waits for no grace period (host/cgroup-lock-warmer.ts). */
  cgroupLockWarmer?: CgroupLockWarmer;
}

interface ExecSession {
  id: string;
  containerId: string;
  cmd: string[];
  user: string;
  workingDir: string;
  env: string[];
  privileged: boolean;
  tty: boolean;
  attachStdin: boolean;
  attachStdout: boolean;
  attachStderr: boolean;
  detachKeys: string;
  consoleSize: [number, number] | null;
  state: 'created' | 'running' | 'exited';
  pid: number;
  exitCode: number | null;
  dir: string;
  /** Signals the running process (set once it started). */
  kill?: (signal: NodeJS.Signals) => void;
  exited?: Promise<number>;
  /** The process's stdio when berthd holds it (no TTY); else its output is in the session's log. */
  pipes?: ExecPipes;
  /** Readers of the session's log; its directory is removed once the process ended and they are done. */
  readers: number;
  /** The process's inputs, read from the create on, so the start does not wait for them (about 2.5 ms). */
  readAhead?: { at: number; inputs: Promise<ProcessInputs> };
}

export interface ExecStream {
  session: ExecSession;
  tty: boolean;
  /** The process's output, from its start to its end. */
  output: AsyncGenerator<LogEntry>;
  /** Feeds the process's stdin (when the session attached it). */
  attachStdin(input: Readable): Promise<void>;
}

/** What a health probe gives: its exit code (-1 when it timed out or could not start) and its output, capped. */
export interface ProbeResult { exitCode: number; output: string; timedOut: boolean }

/** What a session's process is made from: the container's own process, and its /etc/passwd and /etc/group. */
interface ProcessInputs { base: ProcessSpec; passwd: string | undefined; group: string | undefined }

/**
 * Inputs read at create serve a start that follows within this long (the docker CLI starts at once); a later
 * start reads them again, so that a user added to the container meanwhile is seen.
 */
const READ_AHEAD_MS = 1000;

export class ExecService {
  private readonly sessions = new Map<string, ExecSession>();
  private readonly trace: PhaseTrace;

  constructor(private readonly o: ExecServiceOptions) {
    this.trace = o.trace ?? new PhaseTrace();
  }

  /** POST /containers/{id}/exec */
  create(ref: string, body: ExecCreateBody | undefined): { Id: string } {
    const c = this.o.containers.get(ref);
    if (!body) throw new InvalidParameterError('config cannot be empty in order to create an exec');
    const cmd = typeof body.Cmd === 'string' ? [body.Cmd] : body.Cmd ?? [];
    if (cmd.length === 0) throw new InvalidParameterError('No exec command specified');
    for (const e of body.Env ?? []) if (e.startsWith('=') || e === '') throw new InvalidParameterError(`invalid environment variable: ${e}`);
    this.checkRunning(c);
    // The start usually follows within milliseconds: the grace period passes meanwhile, not inside `crun exec`.
    this.o.cgroupLockWarmer?.warm();
    // Sessions live as long as their container (Docker forgets them with it): those of removed containers go here.
    for (const [sid, old] of this.sessions) if (!this.o.containers.find(old.containerId)) this.sessions.delete(sid);
    const id = randomBytes(32).toString('hex');
    const s: ExecSession = {
      id, containerId: c.id, cmd, user: body.User ?? '', workingDir: body.WorkingDir ?? '', env: body.Env ?? [],
      privileged: !!body.Privileged, tty: !!body.Tty, attachStdin: !!body.AttachStdin,
      attachStdout: !!body.AttachStdout, attachStderr: !!body.AttachStderr, detachKeys: body.DetachKeys ?? '',
      consoleSize: Array.isArray(body.ConsoleSize) && body.ConsoleSize.length === 2 ? body.ConsoleSize : null,
      state: 'created', pid: 0, exitCode: null, dir: path.join(this.o.runRoot, 'exec', id.slice(0, 16)), readers: 0,
    };
    s.readAhead = { at: Date.now(), inputs: this.processInputs(c) };
    s.readAhead.inputs.catch(() => undefined); // the start reads again and reports the failure
    this.sessions.set(id, s);
    this.trace.begin('exec', id);
    this.o.containers.emit(c, `exec_create: ${cmd.join(' ')}`, { execID: id });
    this.trace.mark(id, 'create');
    return { Id: id };
  }

  get(id: string): ExecSession {
    const s = this.sessions.get(id);
    // A session lives as long as its container (Docker forgets them with the container).
    if (!s || !this.o.containers.find(s.containerId)) {
      this.sessions.delete(id);
      throw new NotFoundError(`No such exec instance: ${id}`);
    }
    return s;
  }

  /** GET /exec/{id}/json */
  inspect(id: string): ExecInspect {
    const s = this.get(id);
    // The docker CLI reads the exit code here once the output ended: the end of an exec as it sees it.
    if (s.state === 'exited') this.trace.end(id, 'inspect');
    return {
      CanRemove: false, ContainerID: s.containerId, DetachKeys: s.detachKeys, ExitCode: s.exitCode, ID: s.id,
      OpenStderr: s.attachStderr, OpenStdin: s.attachStdin, OpenStdout: s.attachStdout,
      Running: s.state === 'running', Pid: s.pid,
      ProcessConfig: { arguments: s.cmd.slice(1), entrypoint: s.cmd[0]!, privileged: s.privileged, tty: s.tty, user: s.user },
    };
  }

  /**
   * The session and its container if the session can start now; else the refusal start would give (already
   * running or run, container not running), for the API to answer before it takes the connection.
   */
  startable(id: string): { s: ExecSession; c: ContainerRecord } {
    const s = this.get(id);
    if (s.state === 'running') throw new ConflictError(`Error: Exec command ${id} is already running`);
    if (s.state === 'exited') throw new ConflictError(`Error: Exec command ${id} has already run`);
    const c = this.o.containers.get(s.containerId);
    this.checkRunning(c);
    return { s, c };
  }

  /** Exec IDs of a container, for `docker inspect`'s ExecIDs. */
  idsOf(containerId: string): string[] | null {
    const ids = [...this.sessions.values()].filter((s) => s.containerId === containerId && s.state !== 'exited').map((s) => s.id);
    return ids.length ? ids : null;
  }

  /**
   * POST /exec/{id}/start. Detached, the process runs on its own; attached, the caller gets its output from
   * the session's log and may feed its stdin. A process that cannot start is reported in `startError`,
   * with the exit code Docker gives it (127 for a missing command, 126 otherwise), as dockerd does.
   */
  async start(id: string, o: { detach: boolean; consoleSize?: [number, number] | null; signal?: AbortSignal }): Promise<ExecStream & { startError?: string }> {
    const { s, c } = this.startable(id);
    const releaseLock = this.o.cgroupLockWarmer?.hold();
    this.trace.mark(id, 'client');
    if (o.consoleSize && o.consoleSize.length === 2) s.consoleSize = o.consoleSize;
    s.state = 'running';
    const stream = (startError?: string): ExecStream & { startError?: string } => ({
      session: s, tty: s.tty, startError,
      output: o.detach || startError ? emptyLog() : this.output(s, o.signal),
      attachStdin: (input) => this.attachStdin(s, input),
    });
    let proc: ExecProcess;
    try {
      const spec = await this.processSpec(c, s);
      this.trace.mark(id, 'spec');
      this.o.containers.emit(c, `exec_start: ${s.cmd.join(' ')}`, { execID: s.id });
      proc = await this.o.run({
        containerId: c.id, execId: s.id, runtime: c.runtime, dir: s.dir, process: spec,
        stdin: s.attachStdin && !o.detach, terminal: s.tty, output: !o.detach,
      });
      this.trace.mark(id, proc.pipes ? 'runtime-exec' : 'conmon-exec');
    } catch (err) {
      const message = errorMessage(err);
      s.state = 'exited';
      s.exitCode = /executable file not found|no such file or directory/i.test(message) ? 127 : 126;
      await fsp.rm(s.dir, { recursive: true, force: true }).catch(() => undefined);
      this.o.containers.emit(c, 'exec_die', { execID: s.id, exitCode: String(s.exitCode) });
      if (err instanceof ExecStartError || err instanceof InvalidParameterError) return stream(message);
      throw err;
    } finally {
      releaseLock?.();
    }
    s.pid = proc.pid;
    s.kill = proc.kill;
    s.pipes = proc.pipes;
    s.exited = proc.exited.then((code) => {
      this.trace.mark(id, 'running');
      // Nobody reads the process's stdin any more (dockerd closes it at the exit too).
      s.pipes?.stdin?.destroy();
      s.state = 'exited';
      s.exitCode = code;
      s.pid = 0;
      const live = this.o.containers.find(s.containerId);
      if (live) this.o.containers.emit(live, 'exec_die', { execID: s.id, exitCode: String(code) });
      this.release(s);
      return code;
    });
    if (s.tty && s.consoleSize && s.consoleSize[0] > 0 && s.consoleSize[1] > 0) {
      await this.o.resize(s.dir, s.consoleSize[0], s.consoleSize[1]).catch(() => undefined);
    }
    return stream();
  }

  /**
   * A health probe, as moby's cmdProbe.run makes it: an exec session with the container's user, working directory
   * and environment; stdout and stderr together, kept up to `maxOutput` bytes ("..." marks a cut); SIGKILLed once
   * it has run `timeoutMs` (counted from its start). A probe that cannot start gives -1 and the start error.
   * The session is forgotten with its result: probes come every interval and nobody inspects them.
   */
  async probe(ref: string, cmd: string[], o: { timeoutMs: number; maxOutput: number }): Promise<ProbeResult> {
    const { Id } = this.create(ref, { Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const s = this.sessions.get(Id)!;
    try {
      const st = await this.start(Id, { detach: false });
      if (st.startError) return { exitCode: -1, output: st.startError, timedOut: false };
      const chunks: Buffer[] = [];
      let kept = 0;
      let truncated = false;
      let timedOut = false;
      const timer = setTimeout(() => { timedOut = true; s.kill?.('SIGKILL'); }, o.timeoutMs);
      try {
        for await (const e of st.output) {
          const keep = Math.min(o.maxOutput - kept, e.data.length);
          if (keep > 0) { chunks.push(e.data.subarray(0, keep)); kept += keep; }
          if (keep < e.data.length) truncated = true;
        }
        const code = await s.exited!;
        const output = Buffer.concat(chunks).toString() + (truncated ? '...' : '');
        return { exitCode: timedOut ? -1 : code, output, timedOut };
      } finally {
        clearTimeout(timer);
      }
    } finally {
      this.sessions.delete(Id);
      this.trace.drop(Id);
    }
  }

  /** POST /exec/{id}/resize */
  async resize(id: string, height: number, width: number): Promise<void> {
    const s = this.get(id);
    if (!Number.isFinite(height) || !Number.isFinite(width) || height < 0 || width < 0) throw new InvalidParameterError('invalid resize dimensions');
    if (s.state !== 'running') {
      if (s.state === 'created') { s.consoleSize = [height, width]; return; }
      throw new StateError(`exec ${id} is not running`);
    }
    if (!s.tty) return;
    await this.o.resize(s.dir, height, width).catch((e) => {
      if (s.state === 'running') throw e;
    });
  }

  private checkRunning(c: ContainerRecord): void {
    if (c.state.status === 'paused') throw new ConflictError(`container ${c.id} is paused, unpause the container before exec`);
    if (c.state.status === 'restarting') throw new ConflictError(`container ${c.id} is restarting, wait until the container is running`);
    if (!isRunning(c.state.status)) throw new ConflictError(`container ${c.id} is not running`);
  }

  /** The container's own process spec (capabilities, rlimits, security settings) with the exec's command, user, env and cwd. */
  private async processInputs(c: ContainerRecord): Promise<ProcessInputs> {
    // The container's own view of its root (the host does not mount a running container's: rootfs-users.ts).
    const [bundleText, [passwd, group]] = await Promise.all([
      fsp.readFile(path.join(this.o.containers.dirOf(c), 'bundle', 'config.json'), 'utf8'),
      this.userFiles(c),
    ]);
    return { base: (JSON.parse(bundleText) as { process: ProcessSpec }).process, passwd, group };
  }

  private async processSpec(c: ContainerRecord, s: ExecSession): Promise<ProcessSpec> {
    const ahead = s.readAhead;
    s.readAhead = undefined;
    const early = ahead && Date.now() - ahead.at <= READ_AHEAD_MS ? await ahead.inputs.catch(() => undefined) : undefined;
    const { base, passwd, group } = early ?? await this.processInputs(c);
    const userSpec = s.user || c.config.User || '';
    const user = resolveUser(userSpec, passwd, group, c.hostConfig.GroupAdd ?? []);
    const env = processEnv({ ...c.config, Tty: s.tty, Env: [...(c.config.Env ?? []), ...s.env] }, user.home);
    const caps = s.privileged ? effectiveCapabilities(['ALL'], [], this.o.hostCapabilities ?? DEFAULT_CAPABILITIES) : undefined;
    return {
      ...base,
      terminal: s.tty,
      args: s.cmd,
      env,
      cwd: s.workingDir || c.config.WorkingDir || '/',
      user: { uid: user.uid, gid: user.gid, ...(user.additionalGids.length ? { additionalGids: user.additionalGids } : {}) },
      ...(caps ? { capabilities: { bounding: caps, effective: caps, permitted: caps } } : {}),
      ...(s.tty && s.consoleSize && s.consoleSize[0] > 0 ? { consoleSize: { height: s.consoleSize[0], width: s.consoleSize[1] } } : {}),
    } as ProcessSpec;
  }

  /** The container's /etc/passwd and /etc/group as it sees them (undefined where missing), read side by side. */
  private async userFiles(c: ContainerRecord): Promise<[string | undefined, string | undefined]> {
    const view = await this.o.containers.rootfsUsers.acquire(c);
    try {
      return await Promise.all([readFileInRoot(view.root, '/etc/passwd'), readFileInRoot(view.root, '/etc/group')]);
    } finally {
      await view.release();
    }
  }

  private output(s: ExecSession, signal?: AbortSignal): AsyncGenerator<LogEntry> {
    s.readers++;
    const inner = s.pipes
      ? pipeOutput(s.pipes, s.exited!, { signal })
      : readLog(execLogPath(s.dir), { follow: true, stopped: s.exited!.then(() => undefined), signal });
    const release = () => { s.readers--; this.release(s); };
    return (async function* () {
      try {
        yield* inner;
      } finally {
        release();
      }
    })();
  }

  private async attachStdin(s: ExecSession, input: Readable): Promise<void> {
    if (!s.attachStdin || s.state !== 'running') {
      input.resume();
      return;
    }
    if (s.pipes?.stdin) await feedStdin(input, s.pipes.stdin);
    else await this.o.stdin(execAttachPath(s.dir), input);
  }

  /** The session's files go once the process has ended and nobody reads its log any more. */
  private release(s: ExecSession): void {
    if (s.state !== 'exited' || s.readers > 0) return;
    void fsp.rm(s.dir, { recursive: true, force: true }).catch((e) => this.o.log.error(`exec ${s.id}: ${errorMessage(e)}`));
  }
}

async function* emptyLog(): AsyncGenerator<LogEntry> { /* nothing to read */ }
