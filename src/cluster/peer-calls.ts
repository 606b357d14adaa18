// What this node asks of the other nodes through their control endpoints: a promoted node's manager certificate,
// an image no registry has, a task's logs for a manager merging service logs.
import type { Readable } from 'node:stream';
import { UnavailableError } from '../errdefs';
import type { Node } from '../wire/swarm';
import type { LogOptions } from './backend';
import { requestNodeCertificate } from './ca/ca';
import type { PromoteAnswer } from './control/messages';
import { heartbeatAddr, heartbeatKey, HEARTBEAT_PREFIX } from './node/heartbeat';
import type { NodeSession } from './node-session';
import type { ClusterOptions } from './options';
import type { StoredCluster } from './stored-cluster';

export class PeerCalls {
  constructor(private readonly session: NodeSession, private readonly o: Pick<ClusterOptions, 'signer' | 'promoteThrough' | 'peerImage' | 'peerTaskLogs'>) {}

  /** This node, just promoted, asks the other managers in turn for its manager certificate and the data key. */
  async askPromotion(cluster: StoredCluster): Promise<PromoteAnswer & { keyPem: string }> {
    const s = this.session.state!;
    if (!this.o.promoteThrough) throw new UnavailableError('promotion needs the control endpoint, which this daemon was started without');
    const { keyPem, csrPem } = await requestNodeCertificate(this.o.signer, s.nodeId);
    const tls = await this.session.stateFile.readCertificates();
    const managers = (await this.session.conn!.objects.list<Node>('nodes')).items.filter((n) => n.ID !== s.nodeId && n.Spec.Role === 'manager' && n.ManagerStatus?.Addr);
    let last: unknown = new UnavailableError(`no manager of swarm ${cluster.ID} answered`);
    for (const m of managers) {
      try {
        return { ...(await this.o.promoteThrough(m.ManagerStatus!.Addr, tls, csrPem)), keyPem };
      } catch (err) {
        last = err;
      }
    }
    throw last;
  }

  /**
   * "An image present on one node but in no registry is fetched from that node": asks every other live node's
   * control endpoint in turn and loads the first answer.
   */
  async fetchImageFromPeers(ref: string, load: (tar: Readable) => Promise<void>): Promise<void> {
    const s = this.session.state;
    if (!s || !this.session.conn || !this.o.peerImage) throw new UnavailableError(`image ${ref} is in no registry and this node is in no swarm`);
    const tls = await this.session.stateFile.readCertificates();
    for (const hb of (await this.session.conn!.store.list(HEARTBEAT_PREFIX)).items) {
      if (hb.key === heartbeatKey(s.nodeId)) continue;
      const tar = await this.o.peerImage(heartbeatAddr(hb.value), tls, ref).catch(() => undefined);
      if (tar) { await load(tar); return; }
    }
    throw new UnavailableError(`No such image: ${ref} (in no registry and on no other node)`);
  }

  /** A task's logs from the node that runs it, through that node's control endpoint. */
  async remoteTaskLogs(node: Node, taskId: string, options: LogOptions): Promise<{ tty: boolean; stream: Readable }> {
    const hb = await this.session.conn!.store.get(heartbeatKey(node.ID));
    if (!hb || !this.o.peerTaskLogs) throw new UnavailableError(`node ${node.ID} is not reachable`);
    return this.o.peerTaskLogs(heartbeatAddr(hb.value), await this.session.stateFile.readCertificates(), taskId, options);
  }
}
