// A node's liveness in the store: its key (manager/heartbeat-keys.ts) on a lease this node keeps alive; the value
// is the node's control endpoint address (peers fetch task logs and images there).
// The leader's node-health loop watches the prefix: a key gone (lease expired) means the node stopped answering.
import type { ClusterStore, Lease } from '../store/store';
import { SECOND_NS } from '../../wire/swarm';
import { HEARTBEAT_PREFIX, heartbeatKey } from '../manager/heartbeat-keys';

export { HEARTBEAT_PREFIX, heartbeatKey };

/** Lease TTL (whole seconds) from Dispatcher.HeartbeatPeriod: one period (the client renews at a third of it), at least 2 s. */
export function heartbeatTtlSeconds(heartbeatPeriodNs: number | undefined): number {
  const period = (heartbeatPeriodNs || 5 * SECOND_NS) / SECOND_NS;
  return Math.max(2, Math.ceil(period));
}

/** Grants the lease and puts the key on it; the lease also carries this node's election candidacy. */
export async function startHeartbeat(store: ClusterStore, nodeId: string, ttlSeconds: number, addr: string): Promise<Lease> {
  const lease = await store.grantLease(ttlSeconds);
  await store.txn([{ op: 'put', key: heartbeatKey(nodeId), value: JSON.stringify({ Addr: addr, At: new Date().toISOString() }), lease: lease.id }]);
  return lease;
}

/** The nodes whose heartbeat key is still there (their lease alive). */
export async function liveNodeIds(store: ClusterStore): Promise<Set<string>> {
  return new Set((await store.list(HEARTBEAT_PREFIX)).items.map((kv) => kv.key.slice(HEARTBEAT_PREFIX.length)));
}

/** A node's control endpoint address, from the value of its heartbeat key. */
export function heartbeatAddr(value: string): string {
  return (JSON.parse(value) as { Addr: string }).Addr;
}
