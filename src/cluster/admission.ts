// A manager's answers on its control endpoint to nodes of the swarm: admitting a node that presents a join token
// (its certificate signed, a manager's etcd member added) and handing a promoted node its manager certificate and
// the cluster data key.
import { ForbiddenError, InvalidParameterError, UnavailableError } from '../errdefs';
import type { Node } from '../wire/swarm';
import { nodeCertAddresses, nodeCertDays, signNodeCertificate, type NodeIdentity } from './ca/ca';
import { INVALID_JOIN_TOKEN, roleOfToken } from './ca/tokens';
import type { JoinAnswer, JoinAsk, PromoteAnswer } from './control/messages';
import type { NodeSession } from './node-session';
import { openRoot, unlockKeyOf } from './node/state-lock';
import type { ClusterOptions } from './options';
import type { StoreConnection } from './ports';
import { TEXT, type StoredCluster } from './stored-cluster';

export class Admission {
  constructor(private readonly session: NodeSession, private readonly o: Pick<ClusterOptions, 'signer'>) {}

  /** A manager admits a node that presents a join token: signs its certificate; a manager also joins etcd. */
  async acceptJoin(token: string, ask: JoinAsk): Promise<JoinAnswer> {
    const session = this.session;
    const { conn, cluster } = await this.asActiveManager();
    const role = roleOfToken(token, cluster.JoinTokens);
    if (!role) throw new InvalidParameterError(INVALID_JOIN_TOKEN);
    if (!/^[0-9a-z]{25}$/.test(ask.nodeId) || await conn.objects.get<Node>('nodes', ask.nodeId)) {
      throw new InvalidParameterError(`rpc error: code = InvalidArgument desc = node ID ${JSON.stringify(ask.nodeId)} is not valid or already taken`);
    }
    const dek = session.stateFile.dek;
    const certPem = await signNodeCertificate(this.o.signer, openRoot(cluster.RootCA, dek), ask.csrPem, { nodeId: ask.nodeId, role, clusterId: cluster.ID },
      nodeCertAddresses(ask.advertiseAddr), nodeCertDays(cluster.Spec.CAConfig?.NodeCertExpiry));
    const members = await conn.members.list();
    const etcdEndpoints = members.flatMap((m) => m.clientUrls);
    let initialCluster: string | undefined;
    if (role === 'manager') initialCluster = (await conn.members.add(ask.nodeId, ask.etcdPeerUrl)).initialCluster;
    const answer: JoinAnswer = { clusterId: cluster.ID, role, caPem: cluster.TLSInfo.TrustRoot, certPem, etcdEndpoints, ...(initialCluster ? { initialCluster } : {}) };
    if (role === 'manager' && dek) {
      answer.dek = dek;
      const unlockKey = unlockKeyOf(cluster, dek);
      if (unlockKey) answer.unlockKey = unlockKey;
    }
    return answer;
  }

  /**
   * A manager answers a node promoted to manager (its Node's role says so, its certificate says who it is): a
   * manager certificate for its request, the cluster data key, and the unlock key when autolocked.
   */
  async acceptPromotion(peer: NodeIdentity, csrPem: string): Promise<PromoteAnswer> {
    const session = this.session;
    const { conn, cluster } = await this.asActiveManager();
    const node = await conn.objects.get<Node>('nodes', peer.nodeId);
    if (peer.clusterId !== cluster.ID || node?.Spec.Role !== 'manager') throw new ForbiddenError(`node ${peer.nodeId} is not a manager of this swarm`);
    const dek = session.stateFile.dek;
    if (!dek) throw new UnavailableError('this manager holds no cluster data key');
    const certPem = await signNodeCertificate(this.o.signer, openRoot(cluster.RootCA, dek), csrPem, { nodeId: peer.nodeId, role: 'manager', clusterId: cluster.ID },
      nodeCertAddresses(node.Status.Addr), nodeCertDays(cluster.Spec.CAConfig?.NodeCertExpiry));
    const unlockKey = unlockKeyOf(cluster, dek);
    return { certPem, dek, ...(unlockKey ? { unlockKey } : {}) };
  }

  /** Only an active manager answers (moby's 503 texts otherwise): its store connection and the cluster object. */
  private async asActiveManager(): Promise<{ conn: StoreConnection; cluster: StoredCluster }> {
    const session = this.session;
    const s = session.state;
    if (session.phase !== 'active' || !s || !session.conn) throw new UnavailableError(TEXT.managerPreparing);
    if (s.role !== 'manager') throw new UnavailableError(TEXT.workerNotManager);
    const conn = session.conn;
    return { conn, cluster: await session.readCluster() };
  }
}
