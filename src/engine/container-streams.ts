// A container's output and input as clients take them: its log (docker logs), attach's live output and stdin, and
// the size of its TTY.
import type { Readable } from 'node:stream';
import * as path from 'node:path';
import { NotImplementedError, StateError } from '../errdefs';
import { resizeConsole } from '../runtime/console';
import { sleep } from '../util/promises';
import { AttachedReaders } from './attach';
import type { StdinConnector } from './container-ports';
import { isRunning, type ContainerRecord } from './container-record';
import { logsReadable, presentedLogConfig } from './log-drivers';
import { logEnd, readLog, type LogEntry, type ReadOptions } from './logs';

export interface ContainerStreamsOptions {
  logPath(c: ContainerRecord): string;
  /** The OCI bundle, where conmon's attach socket and ctl fifo are. */
  bundleDir(c: ContainerRecord): string;
  stdin: StdinConnector;
  /** Settles at the container's next exit (and, with `orStartFailure`, when a start fails). */
  nextExit(id: string, orStartFailure?: boolean): Promise<number>;
  /** Settles when the container is not running (at once if it is not). */
  stopped(c: ContainerRecord): Promise<void>;
}

export class ContainerStreams {
  private readonly attached = new AttachedReaders();

  constructor(private readonly o: ContainerStreamsOptions) {}

  logs(c: ContainerRecord, o: Omit<ReadOptions, 'stopped'>): AsyncGenerator<LogEntry> {
    if (!logsReadable(presentedLogConfig(c.hostConfig.LogConfig))) throw new NotImplementedError('configured logging driver does not support reading');
    return readLog(this.o.logPath(c), { ...o, stopped: o.follow ? this.o.stopped(c) : undefined });
  }

  /**
   * Output from now on (attach), ending when the container stops. Its start is fixed when this settles, so an
   * attach made before the start (docker run) has everything from the first byte.
   */
  async attachOutput(c: ContainerRecord, signal?: AbortSignal): Promise<AsyncGenerator<LogEntry>> {
    const from = await logEnd(this.o.logPath(c));
    return this.attached.open(c.id, this.o.logPath(c), from, this.o.nextExit(c.id, true), signal);
  }

  /** Attached clients get the last output of a container that exited before anyone hears of the exit. */
  drain(id: string): Promise<void> {
    return this.attached.drain(id);
  }

  /** Feeds `input` to the container's stdin once it runs (docker run -i attaches before it starts). */
  async attachStdin(c: ContainerRecord, input: Readable): Promise<void> {
    if (!c.config.OpenStdin) return;
    for (let i = 0; i < 600 && c.state.status === 'created'; i++) await sleep(50);
    if (!isRunning(c.state.status)) return;
    await this.o.stdin(path.join(this.o.bundleDir(c), 'attach'), input);
  }

  /** POST /containers/{id}/resize: the TTY's new size, through conmon's ctl fifo. */
  async resize(c: ContainerRecord, height: number, width: number): Promise<void> {
    if (!isRunning(c.state.status)) throw new StateError(`Container ${c.id} is not running`);
    if (!c.config.Tty) return;
    await resizeConsole(this.o.bundleDir(c), height, width);
  }
}
