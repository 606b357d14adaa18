// Keeps the role this node runs as equal to the role its Node object asks for (`docker node promote/demote`),
// level-triggered as swarmkit's role manager is: every check compares the stored role with the running one, so a
// request written while a change is under way, or before the watch that would report it has started, is still
// acted on. One change at a time; a change that failed and left the node as it was is tried again.

export type NodeRole = 'manager' | 'worker';

/** What a change did: 'done'; 'retry' (it failed and left the node running as before); 'failed' (the node is down). */
export type RoleChangeOutcome = 'done' | 'retry' | 'failed';

export interface RoleReconcilerPorts {
  /** The role the swarm asks of this node now (its Node's Spec.Role); throws when the store cannot be read. */
  desired(): Promise<NodeRole | undefined>;
  /** The role this node runs as now. */
  running(): NodeRole;
  /** Whether the node is still in the swarm and running (a leave or berthd's stop ends the reconciling). */
  live(): boolean;
  change(role: NodeRole): Promise<RoleChangeOutcome>;
}

export class RoleReconciler {
  private again = false;
  private busy = false;
  /** The last check started (settled when none is under way). */
  private checking: Promise<void> = Promise.resolve();

  constructor(
    private readonly ports: RoleReconcilerPorts,
    /** Wait before another try after a failed change or an unreadable store. */
    private readonly retryDelayMs = 2000,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms).unref()),
  ) {}

  /** Asks for a check (this node's Node changed, or the node just became active); one under way checks again after. */
  poke(): void {
    this.again = true;
    if (this.busy) return;
    this.busy = true;
    this.checking = this.loop();
  }

  /** Settles when no check is under way. */
  async idle(): Promise<void> {
    await this.checking;
  }

  private async loop(): Promise<void> {
    for (;;) {
      // The last look and the end of this check in one synchronous step: a poke after it starts a new check.
      if (!this.again || !this.ports.live()) { this.busy = false; return; }
      this.again = false;
      let want: NodeRole | undefined;
      try {
        want = await this.ports.desired();
      } catch {
        await this.retryLater();
        continue;
      }
      if (!want || want === this.ports.running()) continue;
      const outcome = await this.ports.change(want).catch((): RoleChangeOutcome => 'retry');
      if (outcome === 'failed') { this.busy = false; return; }
      if (outcome === 'retry') await this.retryLater();
      // After a change, look again: the role may have been changed back while this one ran.
      else this.again = true;
    }
  }

  private async retryLater(): Promise<void> {
    await this.sleep(this.retryDelayMs);
    this.again = true;
  }
}
