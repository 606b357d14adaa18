// The etcd cluster's membership through the client: list, add (before a joining node starts its member),
// remove (a node leaving or demoted). Retries within a bound where etcd refuses a change for a moment.
import type { Etcd3 } from 'etcd3';
import { StoreUnavailable } from '../store/store';

export interface EtcdMemberInfo {
  /** etcd's member ID (uint64 as a decimal string). */
  id: string;
  /** Empty until the member has started once. */
  name: string;
  peerURLs: string[];
  clientURLs: string[];
}

export async function listMembers(client: Etcd3, timeoutMs = 5000): Promise<EtcdMemberInfo[]> {
  const res = await client.cluster.memberList({}, { deadline: Date.now() + timeoutMs });
  return res.members.map((m) => ({ id: m.ID, name: m.name, peerURLs: m.peerURLs, clientURLs: m.clientURLs }));
}

/**
 * Adds a member by its peer URL and returns the --initial-cluster the new member must start with. etcd refuses
 * the change while the cluster would lose quorum with the new member not yet started, and for a few seconds after
 * a restart (strict reconfig check); those refusals are retried until `timeoutMs`.
 */
export async function addMember(client: Etcd3, name: string, peerURL: string, timeoutMs = 15_000): Promise<{ id: string; initialCluster: Record<string, string> }> {
  const res = await retrying(timeoutMs, () => client.cluster.memberAdd({ peerURLs: [peerURL] }, { deadline: Date.now() + 5000 }));
  const initialCluster: Record<string, string> = {};
  for (const m of res.members) {
    // the one just added has no name yet
    const memberName = m.ID === res.member.ID ? name : m.name;
    if (memberName && m.peerURLs[0]) initialCluster[memberName] = m.peerURLs[0];
  }
  return { id: res.member.ID, initialCluster };
}

export async function removeMember(client: Etcd3, id: string, timeoutMs = 15_000): Promise<void> {
  await retrying(timeoutMs, () => client.cluster.memberRemove({ ID: id }, { deadline: Date.now() + 5000 }));
}

async function retrying<T>(timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const transient = /unhealthy cluster|not capable|no leader|timed out|deadline|unavailable|leader changed/i.test(message);
      if (!transient) throw err;
      if (Date.now() + 250 >= deadline) throw new StoreUnavailable(`etcd: ${message.split('\n')[0]}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
