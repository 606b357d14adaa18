// Checkpoint and restore of running containers with CRIU (`docker checkpoint create|ls|rm`, `start --checkpoint`).
// Checkpoints live in <container dir>/checkpoints/<name>, as in Docker; the runtime adapter runs runc and criu.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { ContainerRecord } from './container-record';
import { isRunning, type ContainerService } from './containers';
import { ConflictError, ForbiddenError, InvalidParameterError, NotFoundError, SystemError, errorMessage } from '../errdefs';

/** What checkpointing needs of the OCI runtime adapter (runtime/oci-runtime.ts in production). */
export interface CheckpointRuntime {
  checkpointUnsupported(runtime: string): string | undefined;
  checkpoint(runtime: string, id: string, o: { imagePath: string; workPath: string; leaveRunning: boolean }): Promise<void>;
}

/** POST /containers/{id}/checkpoints, checked at the API edge (api/shapes/checkpoints.ts). */
export interface CheckpointCreateBody { CheckpointID?: string | null; CheckpointDir?: string | null; Exit?: boolean | null }

/** Docker's names.RestrictedNamePattern; a trailing dot is refused too. */
const NAME_CHARS = '[a-zA-Z0-9][a-zA-Z0-9_.-]';
const NAME = new RegExp(`^${NAME_CHARS}+$`);

export function validateCheckpointId(id: string): void {
  if (!NAME.test(id) || id.endsWith('.')) {
    throw new InvalidParameterError(`invalid checkpoint ID ${JSON.stringify(id)}, only ${NAME_CHARS} are allowed`);
  }
}

/** How long a checkpointed container may take to be recorded as exited before `create` answers anyway. */
const EXIT_WAIT_MS = 15_000;

export class CheckpointService {
  constructor(private readonly o: { containers: ContainerService; runtime: CheckpointRuntime; experimental: boolean }) {}

  private root(c: ContainerRecord, dir: string): string {
    return dir || path.join(this.o.containers.dirOf(c), 'checkpoints');
  }

  async create(ref: string, body: CheckpointCreateBody): Promise<void> {
    const id = body.CheckpointID ?? '';
    const dir = await this.customDir(body.CheckpointDir);
    validateCheckpointId(id);
    const c = this.o.containers.get(ref);
    if (!isRunning(c.state.status) || c.state.status === 'restarting') throw new ConflictError(`container ${c.id} is not running`);
    const unsupported = this.o.runtime.checkpointUnsupported(c.runtime);
    if (unsupported) throw new InvalidParameterError(`Cannot checkpoint container ${ref}: ${unsupported}`);
    // runc can dump a container's terminal only as a "shell job", and conmon could not hand a restored process its new one.
    if (c.config.Tty) throw new InvalidParameterError(`Cannot checkpoint container ${ref}: checkpoint is not supported for containers with a TTY`);
    const root = this.root(c, dir);
    const imagePath = path.join(root, id);
    await fsp.mkdir(root, { recursive: true, mode: 0o700 });
    // Making the directory claims the name: of two creates of one name at once, the second is refused here
    // rather than dumping into the first one's checkpoint (and removing it when its own dump fails).
    await fsp.mkdir(imagePath, { mode: 0o700 }).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
      const st = await fsp.stat(imagePath).catch(() => undefined);
      throw st?.isDirectory()
        ? new ConflictError(`cannot checkpoint container ${ref}: checkpoint with name ${id} already exists for container ${ref}`)
        : new ConflictError(`cannot checkpoint container ${ref}: ${imagePath} exists and is not a directory`);
    });
    const exit = body.Exit !== false;
    const wasStoppedByUser = c.state.stoppedByUser;
    // The checkpoint ends the container on purpose: no restart policy brings it back.
    if (exit) c.state.stoppedByUser = true;
    try {
      await this.o.runtime.checkpoint(c.runtime, c.id, { imagePath, workPath: imagePath, leaveRunning: !exit });
    } catch (err) {
      c.state.stoppedByUser = wasStoppedByUser;
      await fsp.rm(imagePath, { recursive: true, force: true }).catch(() => undefined);
      throw new SystemError(`Cannot checkpoint container ${ref}: ${errorMessage(err)}`);
    }
    this.o.containers.emit(c, 'checkpoint');
    // Answer once the container is recorded as exited, so an immediate `start --checkpoint` finds it stopped.
    // Asked only now, so a failed dump leaves no exit waiter behind (an exit already recorded resolves at once).
    if (exit) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.o.containers.stopped(c), new Promise((r) => { timer = setTimeout(r, EXIT_WAIT_MS); })]);
      clearTimeout(timer);
    }
  }

  async list(ref: string, dirParam = ''): Promise<{ Name: string }[]> {
    const dir = await this.customDir(dirParam);
    const c = this.o.containers.get(ref);
    const root = this.root(c, dir);
    const entries = await fsp.readdir(root, { withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw new SystemError(`cannot read checkpoint directory ${root}: ${e.message}`);
      if (dir) throw new NotFoundError(`checkpoint directory ${JSON.stringify(root)} does not exist for container ${ref}`);
      return [];
    });
    return entries.filter((e) => e.isDirectory()).map((e) => ({ Name: e.name })).sort((a, b) => (a.Name < b.Name ? -1 : 1));
  }

  async remove(ref: string, id: string, dirParam = ''): Promise<void> {
    validateCheckpointId(id);
    const dir = await this.customDir(dirParam);
    const c = this.o.containers.get(ref);
    await fsp.rm(await this.existing(c, ref, id, dir), { recursive: true, force: true });
  }

  /**
   * The CRIU image directory `start --checkpoint <name>` restores from, after Docker's checks; `undefined` when
   * the container runs already (start is then a no-op, as in Docker).
   */
  async restoreSource(ref: string, id: string, dirParam: string): Promise<string | undefined> {
    if (id) validateCheckpointId(id);
    if (!this.o.experimental) throw new InvalidParameterError('checkpoint is only supported in experimental mode');
    const c = this.o.containers.get(ref);
    if (dirParam) throw new ForbiddenError('custom checkpointdir is not supported');
    if (!id) throw new InvalidParameterError('checkpoint name cannot be empty');
    if (isRunning(c.state.status)) return undefined;
    const source = await this.existing(c, ref, id, '');
    const unsupported = this.o.runtime.checkpointUnsupported(c.runtime);
    if (unsupported) throw new InvalidParameterError(`Cannot restore container ${ref}: ${unsupported}`);
    return source;
  }

  /** Starts a container from one of its checkpoints; `false` when it was already running (HTTP 304). */
  async start(ref: string, id: string, dirParam: string): Promise<boolean> {
    const source = await this.restoreSource(ref, id, dirParam);
    if (!source) return false;
    return this.o.containers.start(ref, { restoreFrom: source });
  }

  private async existing(c: ContainerRecord, ref: string, id: string, dir: string): Promise<string> {
    const p = path.join(this.root(c, dir), id);
    const st = await fsp.stat(p).catch(() => undefined);
    if (!st) throw new NotFoundError(`checkpoint ${id} does not exist for container ${ref}`);
    if (!st.isDirectory()) throw new ConflictError(`${p} exists and is not a directory`);
    return p;
  }

  /** A caller-chosen checkpoint root (Docker's CheckpointDir / ?dir=): absolute, and not a file. */
  private async customDir(dir: string | undefined | null): Promise<string> {
    if (!dir) return '';
    if (!path.isAbsolute(dir)) throw new InvalidParameterError(`checkpoint directory must be an absolute path: ${JSON.stringify(dir)}`);
    // Linux's limits (NAME_MAX 255 bytes a component, PATH_MAX 4096 in all): past them it is the caller's path, not an I/O fault.
    if (Buffer.byteLength(dir) >= 4096 || dir.split('/').some((c) => Buffer.byteLength(c) > 255)) throw new InvalidParameterError('checkpoint directory path is too long: at most 255 bytes a component and 4095 in all');
    const st = await fsp.stat(dir).catch(() => undefined);
    if (st && !st.isDirectory()) throw new InvalidParameterError(`checkpoint directory ${JSON.stringify(dir)} exists but is not a directory`);
    return path.normalize(dir);
  }
}
