// Node liveness from heartbeat keys: each node's membership keeps /berth/swarm/v1/heartbeats/<nodeID> alive on
// its lease. A node whose key has been missing for the grace period is marked down ("heartbeat failure"),
// which sends its replicated tasks through the restart supervisor and drops its global ones; a node whose key
// is back is ready again (it gets work when services next scale or update, as in swarmkit).
import type { ClusterStore } from '../store/store';
import { timestamp } from './clock';
import { HEARTBEAT_PREFIX, nodeOfHeartbeatKey } from './heartbeat-keys';
import type { ManagerWrites } from './writes';
import type { ClusterView } from './view';

export const HEARTBEAT_FAILURE = 'heartbeat failure';

/**
 * How long a heartbeat key may stay missing before its node is down. The key already outlived a whole lease TTL
 * (one HeartbeatPeriod, renewed every third of it), so three renewals were missed; the grace only covers a node
 * whose lease lapsed and that registers again at once (it does so as soon as it sees the lease lost).
 * swarmkit waits HeartbeatPeriod x 3; ours, TTL + 1 s, keeps kill -9 -> rescheduled under 10 s
 * (docs/decisions/0017-swarm-on-etcd.md, "Failover").
 */
export const DEFAULT_HEARTBEAT_GRACE_MS = 1_000;

export class NodeHealth {
  /** When each node was first seen without a heartbeat (this leader's memory; a new leader grants a fresh grace). */
  private readonly missingSince = new Map<string, number>();

  constructor(private readonly graceMs: number) {}

  async alive(store: ClusterStore): Promise<Set<string>> {
    const { items } = await store.list(HEARTBEAT_PREFIX);
    return new Set(items.map((kv) => nodeOfHeartbeatKey(kv.key)).filter((id): id is string => !!id));
  }

  async run(view: ClusterView, alive: Set<string>, writes: ManagerWrites, now: number, wake: (at: number) => void): Promise<void> {
    for (const id of this.missingSince.keys()) if (!view.nodes.has(id) || alive.has(id)) this.missingSince.delete(id);
    for (const node of view.nodes.values()) {
      if (alive.has(node.ID)) {
        if (node.Status.State !== 'ready') {
          await writes.modifyNode(node.ID, (n) => {
            if (n.Status.State === 'ready') return undefined;
            const { Message: _gone, ...status } = n.Status;
            return { ...n, UpdatedAt: timestamp(now), Status: { ...status, State: 'ready' } };
          });
        }
        continue;
      }
      if (node.Status.State === 'down') continue;
      const since = this.missingSince.get(node.ID) ?? now;
      this.missingSince.set(node.ID, since);
      if (now < since + this.graceMs) {
        wake(since + this.graceMs);
        continue;
      }
      await writes.modifyNode(node.ID, (n) => (n.Status.State === 'down' ? undefined
        : { ...n, UpdatedAt: timestamp(now), Status: { ...n.Status, State: 'down', Message: HEARTBEAT_FAILURE } }));
    }
  }
}
