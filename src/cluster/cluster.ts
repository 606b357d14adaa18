// This node's membership of a swarm and the ClusterBackend the API routes call: wires the parts — the node's
// session (node-session.ts), its membership (init / join / leave / rejoin: membership.ts), the running node
// (activation.ts), autolock (autolock.ts), a manager's answers to other nodes and this node's asks of them
// (admission.ts, peer-calls.ts), the manager-only object API (manager-access.ts) — and answers for them.
import type { Readable } from 'node:stream';
import type { Filters } from '../wire/filters';
import type {
  Config, ConfigSpec, InitRequest, JoinRequest, Node, NodeSpec, Secret, SecretSpec, Service, ServiceSpec, Swarm, SwarmInfo, SwarmSpec, Task,
} from '../wire/swarm';
import { Activation } from './activation';
import { Admission } from './admission';
import { Autolock } from './autolock';
import type { ClusterBackend, ClusterLogStream, LogOptions, ServiceUpdateOptions, SwarmNetworks } from './backend';
import type { NodeIdentity } from './ca/ca';
import type { JoinAnswer, JoinAsk, PromoteAnswer } from './control/messages';
import { ManagerAccess } from './manager-access';
import { Membership } from './membership';
import { heartbeatKey } from './node/heartbeat';
import type { SwarmStateFile } from './node/state';
import { NodeSession } from './node-session';
import type { SwarmObjectsApi } from './objects-api';
import type { ClusterOptions } from './options';
import { PeerCalls } from './peer-calls';
import type { StoreConnection } from './ports';
import type { StoredCluster } from './stored-cluster';
import { swarmInfo } from './swarm-info';

export type { ClusterOptions } from './options';
export type { JoinAnswer, JoinAsk, PromoteAnswer } from './control/messages';
export { clusterInfo, LEADER_ELECTION, TEXT, type StoredCluster } from './stored-cluster';

export class Cluster implements ClusterBackend {
  private readonly session: NodeSession;
  private readonly membership: Membership;
  private readonly autolock: Autolock;
  private readonly admission: Admission;
  private readonly peers: PeerCalls;
  private readonly access: ManagerAccess;

  constructor(o: ClusterOptions) {
    const session = this.session = new NodeSession(o);
    this.peers = new PeerCalls(session, o);
    this.admission = new Admission(session, o);
    this.autolock = new Autolock(session, o, { checkManager: () => { this.objectsApi(); }, rejoin: (s) => this.membership.keepRejoining(s) });
    this.access = new ManagerAccess(session, o, {
      remoteTaskLogs: (node, taskId, options) => this.peers.remoteTaskLogs(node, taskId, options),
      lockUpdate: (prev, next, rotateUnlockKey) => this.autolock.lockUpdate(prev, next, rotateUnlockKey),
    });
    const activation = new Activation(session, o, {
      lockSync: () => this.lockSync(),
      acceptJoin: (token, ask) => this.acceptJoin(token, ask),
      acceptPromotion: (peer, csrPem) => this.acceptPromotion(peer, csrPem),
      askPromotion: (cluster) => this.peers.askPromotion(cluster),
    });
    this.membership = new Membership(session, o, {
      activate: (availability) => activation.activate(availability),
      whileQuiesced: (work) => this.access.whileQuiesced(work),
    });
  }

  get nodeId(): string | undefined { return this.session.state?.nodeId; }
  get role(): 'manager' | 'worker' | undefined { return this.session.state?.role; }
  get stateFiles(): SwarmStateFile { return this.session.stateFile; }
  get connection(): StoreConnection | undefined { return this.session.conn; }

  /** At berthd start: a node that was in a swarm rejoins it in the background (pending until it is back). */
  restore(): Promise<void> { return this.membership.restore(); }

  info(): Promise<SwarmInfo> { return swarmInfo(this.session); }

  pingHeader(): string {
    if (this.session.phase === 'active') return `active/${this.session.state?.role ?? 'worker'}`;
    return this.session.phase;
  }

  init(req: InitRequest): Promise<string> { return this.membership.init(req); }
  join(req: JoinRequest): Promise<void> { return this.membership.join(req); }
  leave(force: boolean): Promise<void> { return this.membership.leave(force); }

  /** berthd stops: loops and connections go, the etcd member and containers keep running (a restart adopts them). */
  close(): Promise<void> { return this.session.close(); }

  /** A manager admits a node that presents a join token: signs its certificate; a manager also joins etcd. */
  acceptJoin(token: string, ask: JoinAsk): Promise<JoinAnswer> { return this.admission.acceptJoin(token, ask); }
  /** A manager hands a node promoted to manager its manager certificate and the cluster data key. */
  acceptPromotion(peer: NodeIdentity, csrPem: string): Promise<PromoteAnswer> { return this.admission.acceptPromotion(peer, csrPem); }

  /** Keeps this manager's secrets at rest sealed with the cluster's current unlock key (autolock.ts). */
  lockSync(): Promise<void> { return this.autolock.lockSync(); }
  unlockKey(): Promise<string> { return this.autolock.unlockKey(); }
  /** `docker swarm unlock`: opens the sealed secrets (401 for a wrong key), then rejoins; waits up to 20 s for it. */
  unlock(key: string): Promise<void> { return this.autolock.unlock(key); }

  /** An image present on one node but in no registry, fetched from a node that has it. */
  fetchImageFromPeers(ref: string, load: (tar: Readable) => Promise<void>): Promise<void> { return this.peers.fetchImageFromPeers(ref, load); }

  // ------------------------------------------------------------------------------------ manager-only access

  /** The object API when this node is an active manager; moby's 503 texts otherwise. */
  objectsApi(): SwarmObjectsApi { return this.access.objectsApi(); }
  /** The swarm's networks for the network routes (overlay/networks-api.ts): Scope swarm, only on managers. */
  swarmNetworks(): SwarmNetworks { return this.access.swarmNetworks(); }
  readCluster(): Promise<StoredCluster> { return this.session.readCluster(); }

  private managerCall<T>(call: (api: SwarmObjectsApi) => Promise<T>): Promise<T> { return this.access.managerCall(call); }

  async inspectSwarm(): Promise<Swarm> { return this.managerCall((a) => a.inspectSwarm()); }
  async updateSwarm(spec: SwarmSpec, version: number, rotate: { workerToken: boolean; managerToken: boolean; unlockKey: boolean }): Promise<void> {
    await this.managerCall((a) => a.updateSwarm(spec, version, rotate));
    await this.lockSync();
  }

  async listNodes(filters: Filters): Promise<Node[]> { return this.managerCall((a) => a.listNodes(filters)); }
  async inspectNode(idOrName: string): Promise<Node> { return this.managerCall((a) => a.inspectNode(idOrName)); }
  async updateNode(idOrName: string, version: number, spec: NodeSpec): Promise<void> { return this.managerCall((a) => a.updateNode(idOrName, version, spec)); }
  async removeNode(idOrName: string, force: boolean): Promise<void> { return this.managerCall((a) => a.removeNode(idOrName, force)); }

  async listServices(filters: Filters, withStatus: boolean): Promise<Service[]> { return this.managerCall((a) => a.listServices(filters, withStatus)); }
  async createService(spec: ServiceSpec, encodedAuth?: string): Promise<{ ID: string; Warnings: string[] | null }> { return this.managerCall((a) => a.createService(spec, encodedAuth)); }
  async inspectService(idOrName: string, insertDefaults: boolean): Promise<Service> { return this.managerCall((a) => a.inspectService(idOrName, insertDefaults)); }
  updateService(idOrName: string, version: number, spec: ServiceSpec, options: ServiceUpdateOptions): Promise<{ Warnings: string[] | null }> {
    return this.managerCall((a) => a.updateService(idOrName, version, spec, options));
  }
  async removeService(idOrName: string): Promise<void> { return this.managerCall((a) => a.removeService(idOrName)); }
  async serviceLogs(idOrName: string, options: LogOptions): Promise<ClusterLogStream> { return this.managerCall((a) => a.serviceLogs(idOrName, options)); }

  async listTasks(filters: Filters): Promise<Task[]> { return this.managerCall((a) => a.listTasks(filters)); }
  async inspectTask(id: string): Promise<Task> { return this.managerCall((a) => a.inspectTask(id)); }
  async taskLogs(id: string, options: LogOptions): Promise<ClusterLogStream> { return this.managerCall((a) => a.taskLogs(id, options)); }

  async listSecrets(filters: Filters): Promise<Secret[]> { return this.managerCall((a) => a.listSecrets(filters)); }
  async createSecret(spec: SecretSpec): Promise<{ ID: string }> { return this.managerCall((a) => a.createSecret(spec)); }
  async inspectSecret(idOrName: string): Promise<Secret> { return this.managerCall((a) => a.inspectSecret(idOrName)); }
  async updateSecret(idOrName: string, version: number, spec: SecretSpec): Promise<void> { return this.managerCall((a) => a.updateSecret(idOrName, version, spec)); }
  async removeSecret(idOrName: string): Promise<void> { return this.managerCall((a) => a.removeSecret(idOrName)); }

  async listConfigs(filters: Filters): Promise<Config[]> { return this.managerCall((a) => a.listConfigs(filters)); }
  async createConfig(spec: ConfigSpec): Promise<{ ID: string }> { return this.managerCall((a) => a.createConfig(spec)); }
  async inspectConfig(idOrName: string): Promise<Config> { return this.managerCall((a) => a.inspectConfig(idOrName)); }
  async updateConfig(idOrName: string, version: number, spec: ConfigSpec): Promise<void> { return this.managerCall((a) => a.updateConfig(idOrName, version, spec)); }
  async removeConfig(idOrName: string): Promise<void> { return this.managerCall((a) => a.removeConfig(idOrName)); }
}

export { heartbeatKey };
