// Restart policies (no, always, on-failure[:N], unless-stopped): restarts exited containers with Docker's growing back-off.
import type { RestartPolicy } from '../wire/docker';
import type { ContainerRecord } from './container-record';
import type { ContainerService } from './containers';
import type { EventBus } from './events';
import { errorMessage } from '../errdefs';

const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 60_000;
/** A run at least this long resets the back-off, as moby's restartmanager does. */
const RESET_AFTER_MS = 10_000;

/** Whether the policy asks for a restart after an exit with `exitCode` (moby's RestartManager.ShouldRestart). */
export function shouldRestart(policy: RestartPolicy | undefined, exitCode: number, restartCount: number, stoppedByUser: boolean): boolean {
  if (stoppedByUser) return false;
  switch (policy?.Name) {
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure':
      return exitCode !== 0 && (!policy.MaximumRetryCount || restartCount < policy.MaximumRetryCount);
    default:
      return false;
  }
}

export class RestartManager {
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private readonly delays = new Map<string, number>();
  private unsubscribe?: () => void;

  constructor(private readonly containers: ContainerService, private readonly events: EventBus, private readonly log: { error(msg: string): void }) {}

  /** Listens for exits; call before the container service's init so exits found at start-up are seen too. */
  watch(): void {
    this.unsubscribe = this.events.subscribe((ev) => {
      if (ev.Type !== 'container') return;
      if (ev.Action === 'die') this.onDie(ev.Actor.ID, Number(ev.Actor.Attributes.exitCode ?? 0));
      else if (ev.Action === 'destroy') this.cancel(ev.Actor.ID);
    });
  }

  /**
   * After start-up: containers with always/unless-stopped that are down without a user's stop (they exited
   * while berthd was down and their exit was already recorded) are started again.
   */
  restoreAll(): void {
    for (const c of this.containers.all()) {
      if (this.pending.has(c.id) || c.state.status !== 'exited' || c.state.stoppedByUser) continue;
      const name = c.hostConfig.RestartPolicy?.Name;
      if (name === 'always' || name === 'unless-stopped') this.schedule(c, 0);
    }
  }

  stop(): void {
    this.unsubscribe?.();
    for (const t of this.pending.values()) clearTimeout(t);
    this.pending.clear();
  }

  private cancel(id: string): void {
    const t = this.pending.get(id);
    if (t) clearTimeout(t);
    this.pending.delete(id);
    this.delays.delete(id);
  }

  private onDie(id: string, exitCode: number): void {
    const c = this.containers.find(id);
    if (!c || c.hostConfig.AutoRemove) return;
    // The die event is sent under the container's lock, before the exit is recorded: decide once it settles.
    setImmediate(() => {
      if (!shouldRestart(c.hostConfig.RestartPolicy, exitCode, c.restartCount, c.state.stoppedByUser)) {
        this.delays.delete(id);
        return;
      }
      const ran = Date.parse(c.state.finishedAt) - Date.parse(c.state.startedAt);
      // RestartCount 0: the container was started by a user (or created) since the last policy restart, and
      // moby's fresh restart manager starts its back-off over.
      let delay = c.restartCount === 0 ? 0 : this.delays.get(id) ?? 0;
      delay = ran >= RESET_AFTER_MS || delay === 0 ? FIRST_DELAY_MS : Math.min(delay * 2, MAX_DELAY_MS);
      this.delays.set(id, delay);
      this.schedule(c, delay);
    });
  }

  private schedule(c: ContainerRecord, delay: number): void {
    if (this.pending.has(c.id)) return;
    void this.containers.markRestarting(c).catch(() => undefined);
    this.pending.set(c.id, setTimeout(() => {
      this.pending.delete(c.id);
      // A stop, kill or removal while waiting takes the container out of 'restarting'.
      if (c.state.status !== 'restarting' || c.state.stoppedByUser || !this.containers.find(c.id)) return;
      this.containers.restartByPolicy(c).catch((e) => {
        this.log.error(`restart ${c.id}: ${errorMessage(e)}`);
      });
    }, delay));
  }
}
