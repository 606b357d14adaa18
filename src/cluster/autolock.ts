// Autolock on this node: a manager's secrets at rest kept sealed with the swarm's current unlock key (or in the
// clear when autolock is off), `docker swarm unlock` of a locked node, `docker swarm unlock-key`, and autolock's
// part of a swarm update.
import type { SwarmState } from './node/state';
import { notLockedError, unlockKeyAfterUpdate, unlockKeyOf } from './node/state-lock';
import type { NodeSession } from './node-session';
import type { ClusterOptions } from './options';
import type { StoredCluster } from './stored-cluster';

export interface AutolockParts {
  /** Throws moby's 503 unless this node is an active manager (manager-access.ts). */
  checkManager(): void;
  /** Rejoins the swarm in the background until it works (membership.ts). */
  rejoin(s: SwarmState): Promise<void>;
}

export class Autolock {
  private lockSyncing: Promise<void> = Promise.resolve();

  constructor(private readonly session: NodeSession, private readonly o: Pick<ClusterOptions, 'log'>, private readonly parts: AutolockParts) {}

  /**
   * Keeps this manager's secrets at rest sealed with the cluster's current unlock key (or in the clear when autolock
   * is off): after init, join, unlock, a swarm update here, or a change seen through the watch. Runs one at a time.
   */
  lockSync(): Promise<void> {
    const session = this.session;
    const run = async () => {
      const dek = session.stateFile.dek;
      if (!session.conn || session.state?.role !== 'manager' || !dek) return;
      const key = unlockKeyOf(await session.readCluster(), dek) || undefined;
      if (key === session.sealedWith) return;
      await session.stateFile.reseal(key);
      session.sealedWith = key;
      this.o.log.info(`swarm: this manager's keys are ${key ? 'sealed with the unlock key' : 'in the clear (autolock off)'}`);
    };
    this.lockSyncing = this.lockSyncing.then(run).catch((err: Error) => this.o.log.error(`swarm: autolock: ${err.message}`));
    return this.lockSyncing;
  }

  async unlockKey(): Promise<string> {
    this.parts.checkManager();
    return unlockKeyOf(await this.session.readCluster(), this.session.stateFile.dek);
  }

  /** `docker swarm unlock`: opens the sealed secrets (401 for a wrong key), then rejoins; waits up to 20 s for it. */
  async unlock(key: string): Promise<void> {
    const session = this.session;
    const s = session.state;
    if (session.phase !== 'locked' || !s) {
      // As dockerd: a node that is no manager says so (503); only an unlocked, active manager is "not locked" (409).
      this.parts.checkManager();
      throw notLockedError();
    }
    await session.stateFile.unseal(key);
    session.sealedWith = key;
    session.phase = 'pending';
    const rejoined = this.parts.rejoin(s);
    await Promise.race([rejoined, new Promise((r) => setTimeout(r, 20_000).unref())]);
  }

  /** Autolock's part of a swarm update: the sealed unlock key made, rotated, kept or dropped. */
  lockUpdate(prev: StoredCluster, next: StoredCluster, rotateUnlockKey: boolean): StoredCluster {
    const { ManagerUnlockKey: _old, ...rest } = next;
    void _old;
    const key = unlockKeyAfterUpdate(prev, next, rotateUnlockKey, this.session.stateFile.dek);
    return key ? { ...rest, ManagerUnlockKey: key } : rest;
  }
}
