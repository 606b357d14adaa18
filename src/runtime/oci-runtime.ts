// The only place that runs the OCI runtime (crun or runc), always under Debian's conmon so the container outlives berthd.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { InvalidParameterError, NotFoundError, SystemError, errorMessage } from '../errdefs';
import type { RuntimeSpec } from '../wire/oci';
import { releaseCreatedInit } from './crun-start';
import { SeccompBpfCache } from './seccomp-bpf-cache';

export interface RuntimeBinaries {
  /** Runtime name → path of its binary, e.g. { crun: '/usr/bin/crun', runc: '/usr/sbin/runc' }. */
  runtimes: Record<string, string>;
  conmon: string;
  /** The runtime's state directory (--root), separate from other engines' on the same host. */
  stateRoot: string;
  /** The criu binary runc is given (--criu) for checkpoint and restore (scripts/criu.sh installs it). */
  criu?: string;
}

export interface CreateOptions {
  id: string;
  name: string;
  runtime: string;
  bundle: string;
  /** Where conmon writes the k8s-file log. */
  logPath: string;
  logSizeMax?: number;
  /** Directory where conmon writes a file named after the container holding its exit code. */
  exitDir: string;
  /** Directory for the attach socket and the ctl/winsz fifos. */
  socketDir: string;
  stdin: boolean;
  terminal: boolean;
  /** Keep the container's stdin open when an attached client disconnects (Docker closes it only for StdinOnce without a TTY). */
  leaveStdinOpen?: boolean;
  /** Restore the container from this checkpoint (CRIU image directory) instead of creating it afresh. */
  restoreFrom?: string;
}

export interface RuntimeState { status: 'created' | 'running' | 'stopped' | 'paused' | 'unknown'; pid: number }

export class OciRuntime {
  private readonly seccomp = new SeccompBpfCache();

  constructor(private readonly bin: RuntimeBinaries) {}

  /** Writes the bundle's config.json; under crun, a seccomp profile compiled before goes in compiled (seccomp-bpf-cache.ts). */
  async writeBundle(runtime: string, id: string, bundle: string, spec: RuntimeSpec): Promise<void> {
    if (path.basename(this.runtimePath(runtime)) === 'crun') this.seccomp.prepare(id, spec);
    await fsp.writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
  }

  runtimePath(name: string): string {
    const p = this.bin.runtimes[name];
    if (!p) throw new InvalidParameterError(`unknown or invalid runtime name: ${name}`);
    return p;
  }

  private runtimeRoot(runtime: string): string {
    return path.join(this.bin.stateRoot, runtime);
  }

  /**
   * Creates the container under a new conmon, which double-forks away from berthd and stays its parent.
   * Resolves with the container's init PID once the runtime's `create` is done.
   */
  async create(o: CreateOptions): Promise<{ pid: number; conmonPid: number }> {
    const runtimePath = this.runtimePath(o.runtime);
    await fsp.mkdir(o.exitDir, { recursive: true });
    await fsp.mkdir(o.socketDir, { recursive: true });
    const conmonPidFile = path.join(o.bundle, 'conmon.pid');
    const args = [
      '--api-version', '1',
      '-c', o.id, '-u', o.id, '-n', o.name,
      '-r', runtimePath,
      '-b', o.bundle,
      '-p', path.join(o.bundle, 'pidfile'),
      '--exit-dir', o.exitDir,
      '--full-attach', '--socket-dir-path', o.socketDir,
      '-l', `k8s-file:${o.logPath}`,
      '--log-level', 'error',
      // The log stays in the page cache across a berthd crash; a sync of the whole filesystem at every exit
      // would put disk latency on every `run --rm`.
      '--no-sync-log',
      '--conmon-pidfile', conmonPidFile,
      '--runtime-arg', `--root=${this.runtimeRoot(o.runtime)}`,
    ];
    if (o.logSizeMax && o.logSizeMax > 0) args.push('--log-size-max', String(o.logSizeMax));
    if (o.stdin) args.push('-i');
    if (o.terminal) args.push('-t');
    if (o.stdin && o.leaveStdinOpen) args.push('--leave-stdin-open');
    // conmon runs `<runtime> restore --detach --image-path <dir> --work-path <bundle>`: the container runs when it returns.
    if (o.restoreFrom) args.push('--restore', o.restoreFrom, '--runtime-arg', `--criu=${this.criuFor(o.runtime)}`);
    const child = spawn(this.bin.conmon, args, {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
      env: { ...process.env, _OCI_SYNCPIPE: '3' },
      // conmon writes an `oom` file into its working directory when the container is OOM-killed: keep it in the bundle.
      cwd: o.bundle,
      detached: true,
    });
    // The process spawned here forks the conmon that stays, writes that one's PID into --conmon-pidfile and exits;
    // meanwhile the child goes on to create the container: its answer on the sync pipe can come first (seen under
    // load: ENOENT on conmon.pid). The pidfile is read once this process is gone.
    const forked = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    // conmon writes {"data": pid} (or a negative value and a message) once `create` is done, and keeps the
    // pipe open until the container exits: take the first complete message, then let go of the pipe.
    const pipe = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
    const sync = await new Promise<string>((resolve, reject) => {
      let data = '';
      pipe.on('data', (d: Buffer) => {
        data += d.toString();
        if (data.includes('}')) resolve(data.slice(0, data.indexOf('}') + 1));
      });
      pipe.on('end', () => resolve(data));
      pipe.on('error', reject);
      child.on('error', reject);
      child.on('exit', (code) => { if (code !== 0) setTimeout(() => resolve(data), 50); });
    });
    pipe.destroy();
    child.stderr!.destroy();
    child.unref();
    let parsed: { data?: number; message?: string } = {};
    try {
      parsed = JSON.parse(sync.trim().split('\n')[0] || '{}');
    } catch {
      throw new SystemError(`conmon gave no usable answer: ${sync || stderr}`);
    }
    if (!parsed.data || parsed.data < 0) {
      this.seccomp.forget(o.id);
      throw new RuntimeCreateError(o.runtime, cleanRuntimeMessage(parsed.message || stderr || 'the OCI runtime failed to create the container'));
    }
    // Off the answer's path: crun's compiled filter stays in its state directory until the container is deleted.
    void this.seccomp.learn(o.id, path.join(this.runtimeRoot(o.runtime), o.id));
    await forked;
    const conmonPid = Number((await fsp.readFile(conmonPidFile, 'utf8')).trim());
    return { pid: parsed.data, conmonPid };
  }

  async start(runtime: string, id: string): Promise<void> {
    // Under crun, the start is done here (crun-start.ts); anything unexpected falls back to `crun start`.
    if (path.basename(this.runtimePath(runtime)) === 'crun' && (await releaseCreatedInit(path.join(this.runtimeRoot(runtime), id)))) return;
    await this.run(runtime, ['start', id]);
  }

  async kill(runtime: string, id: string, signal: string, all = false): Promise<void> {
    await this.run(runtime, ['kill', ...(all ? ['--all'] : []), id, signal]);
  }

  /** Why the runtime cannot checkpoint and restore, or undefined when it can (runc, with a criu binary). */
  checkpointUnsupported(runtime: string): string | undefined {
    const bin = this.runtimePath(runtime);
    // Debian bookworm's crun 1.8 is built without libcriu (`crun --version` lacks +CRIU); runc runs the criu binary.
    if (path.basename(bin) !== 'runc') return `checkpoint and restore need the runc runtime (this container runs under ${runtime}, built without CRIU); create the container with --runtime runc`;
    if (!this.bin.criu || !fs.existsSync(this.bin.criu)) return `criu is not installed (${this.bin.criu ?? 'no path configured'}); make deps installs it`;
    return undefined;
  }

  private criuFor(runtime: string): string {
    const why = this.checkpointUnsupported(runtime);
    if (why) throw new InvalidParameterError(why);
    return this.bin.criu!;
  }

  /**
   * Checkpoints the running container with CRIU into `imagePath` (`runc checkpoint`); unless `leaveRunning`, its
   * processes end once dumped and conmon records the exit. criu's own log stays in `workPath`.
   */
  async checkpoint(runtime: string, id: string, o: { imagePath: string; workPath: string; leaveRunning: boolean }): Promise<void> {
    const criu = this.criuFor(runtime);
    const args = [`--criu=${criu}`, 'checkpoint', '--image-path', o.imagePath, '--work-path', o.workPath];
    if (o.leaveRunning) args.push('--leave-running');
    try {
      await this.run(runtime, [...args, id]);
    } catch (err) {
      // runc says only "criu failed: type NOTIFY errno 0"; the reason is in criu's log.
      const log = await fsp.readFile(path.join(o.workPath, 'dump.log'), 'utf8').catch(() => '');
      const reasons = log.split('\n').filter((l) => /\bError\b/.test(l)).slice(-3).map((l) => l.replace(/^\([\d.]+\)\s*/, '').trim());
      // The checkpoint directory (and the log runc points at) is removed after a failure: quote the log instead.
      const msg = errorMessage(err).replace(/;?\s*log file: \S+/, '').replace(/container still running; /, '');
      throw new SystemError(`${msg}${reasons.length ? `: ${reasons.join('; ')}` : ''}`);
    }
  }

  async pause(runtime: string, id: string): Promise<void> { await this.run(runtime, ['pause', id]); }
  async resume(runtime: string, id: string): Promise<void> { await this.run(runtime, ['resume', id]); }

  /** Changes a running container's cgroup limits (`crun update --resources`, an OCI linux.resources JSON). */
  async update(runtime: string, id: string, resources: object, scratchDir: string): Promise<void> {
    const file = path.join(scratchDir, `resources-${process.pid}-${Date.now()}.json`);
    await fsp.writeFile(file, JSON.stringify(resources));
    try {
      await this.run(runtime, ['update', '--resources', file, id]);
    } finally {
      await fsp.rm(file, { force: true });
    }
  }

  /** Removes the runtime's record of the container; a container already gone is not an error. */
  async delete(runtime: string, id: string): Promise<void> {
    // Both crun and runc keep a directory per container under --root; without one there is nothing to delete,
    // and skipping the call saves a process spawn on every start and removal.
    if (!(await fsp.stat(path.join(this.runtimeRoot(runtime), id)).then(() => true, () => false))) return;
    try {
      await this.run(runtime, ['delete', '--force', id]);
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }

  async state(runtime: string, id: string): Promise<RuntimeState> {
    try {
      const out = await this.run(runtime, ['state', id]);
      const s = JSON.parse(out) as { status: RuntimeState['status']; pid: number };
      return { status: s.status, pid: s.pid };
    } catch (err) {
      if (err instanceof NotFoundError) return { status: 'unknown', pid: 0 };
      throw err;
    }
  }

  private run(runtime: string, args: string[]): Promise<string> {
    // Global flags (--criu=...) come before the command; the command names the error.
    const command = args.find((a) => !a.startsWith('-')) ?? args[0];
    const bin = this.runtimePath(runtime);
    return new Promise((resolve, reject) => {
      const child = spawn(bin, [`--root=${this.runtimeRoot(runtime)}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      child.on('error', (e) => reject(new SystemError(`cannot run ${bin}: ${e.message}`)));
      child.on('close', (code) => {
        if (code === 0) return resolve(out);
        const msg = cleanRuntimeMessage(err || out);
        if (/does not exist|not found|No such file/i.test(msg) && command !== 'start' && command !== 'checkpoint') return reject(new NotFoundError(msg));
        reject(new SystemError(`${path.basename(bin)} ${command}: ${msg}`));
      });
    });
  }
}

/**
 * The runtime could not create the container's process (missing executable, bad working directory...). The
 * message is worded as containerd and runc word it under Docker, because the docker CLI reads it: "executable file
 * not found" or "no such file or directory" make `docker run` exit 127, "permission denied" 126.
 */
export class RuntimeCreateError extends SystemError {
  constructor(runtime: string, readonly detail: string) {
    super(`failed to create task for container: failed to create shim task: OCI runtime create failed: ${runtime} create failed: unable to start container process: ${detail}: unknown`);
  }
}

/** crun's strerror texts in Go's lower-case wording; crun's "executable file `x` not found" in runc's. */
export function goStyleRuntimeMessage(msg: string): string {
  const notFound = /executable file `(.*)` not found in \$PATH(?:: No such file or directory)?/.exec(msg);
  if (notFound) return `exec: "${notFound[1]}": executable file not found in $PATH`;
  return msg.replace(/: (No such file or directory|Permission denied|Is a directory|Not a directory|Operation not permitted)\b/g, (_m, e: string) => `: ${e.toLowerCase()}`);
}

/** crun prints JSON log lines or "crun: message"; keep only the human text. */
export function cleanRuntimeMessage(raw: string): string {
  const lines = raw.trim().split('\n').filter(Boolean).map((l) => {
    try {
      const j = JSON.parse(l) as { msg?: string };
      return j.msg ?? l;
    } catch {
      // runc logs logfmt: time="..." level=error msg="runc create failed: ..."
      const m = /\blevel=\w+ msg="((?:[^"\\]|\\.)*)"/.exec(l);
      if (!m) return l;
      try { return JSON.parse(`"${m[1]}"`) as string; } catch { return m[1]!; }
    }
  });
  const text = lines.join('; ').replace(/^\S*crun: /, '').replace(/^runc create failed: unable to start container process: /, '').trim();
  return goStyleRuntimeMessage(text) || 'unknown runtime error';
}
