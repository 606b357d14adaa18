// Where a node's liveness lives in the store: one key per node attached to the node's lease (written by the
// node's membership, see cluster.ts), gone when the lease expires; node-health.ts watches the prefix.
import { PREFIX } from '../store/objects';

export const HEARTBEAT_PREFIX = `${PREFIX}heartbeats/`;

export function heartbeatKey(nodeID: string): string {
  return `${HEARTBEAT_PREFIX}${nodeID}`;
}

/** The node ID a heartbeat key names, or undefined for a key outside the prefix. */
export function nodeOfHeartbeatKey(key: string): string | undefined {
  return key.startsWith(HEARTBEAT_PREFIX) ? key.slice(HEARTBEAT_PREFIX.length) || undefined : undefined;
}
