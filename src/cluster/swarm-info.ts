// The Swarm section of /info for this node: its state, the managers it knows, and on a manager the cluster's
// counts, spec and warnings (or why the swarm cannot answer now).
import type { Node, SwarmInfo } from '../wire/swarm';
import type { NodeSession } from './node-session';
import { clusterInfo, TEXT } from './stored-cluster';
import { StoreUnavailable } from './store/store';

export async function swarmInfo(session: NodeSession): Promise<SwarmInfo> {
  const base: SwarmInfo = { NodeID: session.state?.nodeId ?? '', NodeAddr: session.state?.advertiseAddr ?? '', LocalNodeState: session.phase, ControlAvailable: false, Error: session.error, RemoteManagers: null };
  if (session.phase !== 'active' || !session.state) return base;
  base.RemoteManagers = session.state.remoteManagers.length ? session.state.remoteManagers : null;
  if (!session.conn) return base;
  try {
    const nodes = (await session.conn.objects.list<Node>('nodes')).items;
    const managers = nodes.filter((n) => n.Spec.Role === 'manager');
    base.RemoteManagers = managers.map((n) => ({ NodeID: n.ID, Addr: n.ManagerStatus?.Addr ?? `${n.Status.Addr}:2377` }));
    if (session.state.role !== 'manager') return base;
    base.ControlAvailable = true;
    base.Nodes = nodes.length;
    base.Managers = managers.length;
    const cluster = await session.readCluster();
    base.Cluster = clusterInfo(cluster);
    if (managers.length === 2) {
      base.Warnings = ['WARNING: Running Swarm in a two-manager configuration. This configuration provides\n         no fault tolerance, and poses a high risk to lose control over the cluster.\n         Refer to https://docs.docker.com/engine/swarm/admin_guide/ to configure the\n         Swarm for fault-tolerance.'];
    }
    session.error = '';
  } catch (err) {
    if (err instanceof StoreUnavailable) base.Error = TEXT.recovery;
    else throw err;
  }
  return base;
}
