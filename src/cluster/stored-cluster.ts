// The cluster object as the store keeps it, how /info and /swarm show it, and moby's texts for a node that cannot
// answer for the swarm.
import { UnavailableError } from '../errdefs';
import type { ClusterInfo, Swarm } from '../wire/swarm';
import type { StoredRootCA } from './node/state-lock';
import type { ClusterObjects } from './store/objects';

/** The election managers campaign in; its value is the leader's node ID. */
export const LEADER_ELECTION = '/berth/swarm/v1/election/leader';

/** The cluster object as stored: the API's Swarm plus what is never shown (the root CA, the unlock key; both sealed). */
export interface StoredCluster extends Swarm {
  RootCA: StoredRootCA;
  /** Autolock's unlock key sealed with the cluster data key (node/state-lock.ts); absent when autolock is off. */
  ManagerUnlockKey?: string;
}

export const TEXT = {
  alreadyInSwarm: 'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.',
  notInSwarm: 'This node is not part of a swarm',
  inactiveNotManager: 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.',
  workerNotManager: "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.",
  managerPreparing: 'This node is not a swarm manager. Manager is being prepared or has trouble connecting to the cluster.',
  noLeader: "rpc error: code = Unknown desc = The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.",
  recovery: 'The swarm does not have a leader: too few managers are online. If they will not come back, run `docker swarm init --force-new-cluster` on a manager to recover.',
};

/** The one cluster object; until init has written it, the manager is still being prepared. */
export async function readStoredCluster(objects: ClusterObjects): Promise<StoredCluster> {
  const { items } = await objects.list<StoredCluster>('cluster');
  const c = items[0];
  if (!c) throw new UnavailableError(TEXT.managerPreparing);
  return c;
}

/** ClusterInfo as /info and /swarm show it: no tokens, no CA key, signing fields redacted. */
export function clusterInfo(c: StoredCluster): ClusterInfo {
  const { JoinTokens: _t, RootCA: _r, ...info } = c;
  void _t; void _r;
  return info;
}
