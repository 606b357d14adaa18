// Those waiting on a container: for its next exit (docker wait, stop, kill, attach streams) or for its removal
// (docker wait --condition=removed). The container service settles them; they hold nothing else.

import { processAlive } from '../host/process-alive';
import { abortable, withTimeout } from '../util/promises';
import { isRunning, type ContainerRecord } from './container-record';

export interface WaitResult { StatusCode: number; Error: { Message: string } | null }
export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

/** Someone waiting for a container's next exit; attach streams also end when a start fails. */
interface ExitWaiter { resolve(code: number): void; startFailure: boolean }

/** How long a removed container's last exit answers a `wait` that arrives late (see `gone`). */
const GONE_MEMORY_MS = 30_000;

export class ContainerWaiters {
  private readonly exits = new Map<string, ExitWaiter[]>();
  private readonly removals = new Map<string, (() => void)[]>();
  /** Recently removed containers by ID and by name, with their last exit, oldest first. */
  private readonly recentlyGone = new Map<string, { at: number; result: WaitResult }>();

  /** Settles at the container's next exit (and, with `orStartFailure`, when a start fails). */
  nextExit(id: string, orStartFailure = false): Promise<number> {
    return new Promise((resolve) => {
      const list = this.exits.get(id) ?? [];
      list.push({ resolve, startFailure: orStartFailure });
      this.exits.set(id, list);
    });
  }

  /** The container exited (or, with `startFailure`, failed to start: only those asking for that are settled). */
  exited(id: string, code: number, startFailure = false): void {
    const waiters = this.exits.get(id) ?? [];
    const keep = startFailure ? waiters.filter((w) => !w.startFailure) : [];
    for (const w of waiters) if (!keep.includes(w)) w.resolve(code);
    if (keep.length) this.exits.set(id, keep);
    else this.exits.delete(id);
  }

  /** Settles when the container is removed. */
  removal(id: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const list = this.removals.get(id) ?? [];
      list.push(resolve);
      this.removals.set(id, list);
    });
  }

  removed(id: string): void {
    for (const w of this.removals.get(id) ?? []) w();
    this.removals.delete(id);
  }

  /** The container is going from clients' sight: its last exit is kept a while for late waits (see `gone`). */
  remember(id: string, last: { name: string; result: WaitResult }): void {
    const now = Date.now();
    for (const [k, v] of this.recentlyGone) { if (now - v.at <= GONE_MEMORY_MS) break; this.recentlyGone.delete(k); }
    for (const key of [id, last.name]) { this.recentlyGone.delete(key); this.recentlyGone.set(key, { at: now, result: last.result }); }
  }

  /**
   * The last exit of a container removed moments ago (by full ID or name). A client that starts a --rm container and
   * then waits, as dockerode's run() does (the docker CLI waits first), can come after a fast process was already
   * removed; dockerd is slow enough that it rarely sees that, and a 404 there would break the run.
   */
  gone(ref: string): WaitResult | undefined {
    const g = this.recentlyGone.get(ref.replace(/^\//, ''));
    return g && Date.now() - g.at <= GONE_MEMORY_MS ? g.result : undefined;
  }

  /** docker wait: the container's exit code once the condition is met (`present`: it is not removed yet). */
  async wait(c: ContainerRecord, condition: WaitCondition, present: boolean, signal?: AbortSignal): Promise<WaitResult> {
    const result = (): WaitResult => ({ StatusCode: c.state.exitCode, Error: c.state.error ? { Message: c.state.error } : null });
    if (condition === 'removed') {
      await abortable(present ? this.removal(c.id) : Promise.resolve(), signal);
      return result();
    }
    if (condition === 'not-running' && !isRunning(c.state.status)) return result();
    await abortable(this.nextExit(c.id), signal);
    return result();
  }

  /** Settles when the container next stops running (at once if it is not running). */
  stopped(c: ContainerRecord): Promise<void> {
    if (!isRunning(c.state.status)) return Promise.resolve();
    return this.nextExit(c.id).then(() => undefined);
  }
}

/**
 * Whether `exited` (a container's next exit) settles after a SIGKILL. 10 s for the process to go; a process gone whose
 * exit is still being handled (behind a thousand others' after `docker rm -f $(docker ps -aq)`: each exit unmounts,
 * deletes the runtime's record and tears the network down) is waited for longer rather than reported unkillable.
 */
export async function exitAfterKill(exited: Promise<number>, pid: number): Promise<boolean> {
  if (await withTimeout(exited, 10_000)) return true;
  if (processAlive(pid)) return false;
  return withTimeout(exited, 120_000);
}
