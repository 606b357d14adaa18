// This node's membership of a swarm and the ClusterBackend the API routes call: the state machine inactive →
// pending → active (kept in <dataRoot>/swarm/state.json so a restarted berthd rejoins), init / join / leave /
// force-new-cluster, node registration and heartbeat, the election that runs the manager loops, and the
// manager-only API answered from the store.
import * as fsp from 'node:fs/promises';
import { ForbiddenError, InvalidParameterError, UnavailableError } from '../errdefs';
import type { Filters } from '../wire/filters';
import type {
  ClusterInfo, Config, ConfigSpec, InitRequest, JoinRequest, Node, NodeSpec, Secret, SecretSpec, Service, ServiceSpec, Swarm, SwarmInfo, SwarmSpec, Task,
} from '../wire/swarm';
import type { ClusterBackend, ClusterLogStream, LogOptions, ServiceUpdateOptions, SwarmNetworks } from './backend';
import { createRoot, issueNodeCertificate, nodeCertDays, requestNodeCertificate, tlsInfoOf, type NodeIdentity } from './ca/ca';
import { generateDataKey } from './ca/unlock-key';
import { initialUnlockKey, LOCK_TEXT, lockedError, notLockedError, openRoot, sealRoot, unlockKeyAfterUpdate, unlockKeyOf, type StoredRootCA } from './node/state-lock';
import type { X509Signer } from './ca/openssl';
import { generateJoinToken, INVALID_JOIN_TOKEN, parseJoinToken } from './ca/tokens';
import { describeNode, type HostDescriptionSources } from './node/description';
import { heartbeatKey, heartbeatTtlSeconds, HEARTBEAT_PREFIX, startHeartbeat } from './node/heartbeat';
import { newObjectId } from './spec/ids';
import { checkAddrPool, dataPathPort, initSwarmSpec } from './spec/swarm-spec';
import { checkBindable, initAddresses, joinAddresses, joinAdvertiseAddr, joinHostPort } from './spec/addresses';
import { SwarmStateFile, type SwarmState } from './node/state';
import type { ClusterRoles, ConnectStore, EtcdMemberProcess, EtcdProcesses, NodeContainers, Running, StoreConnection, TlsMaterial } from './ports';
import type { ControlServerOptions } from './control/server';
import type { Readable } from 'node:stream';
import { roleOfToken } from './ca/tokens';
import { signNodeCertificate } from './ca/ca';
import { SwarmObjectsApi } from './objects-api';
import { EtcdOverlayAllocator } from './overlay/allocator-etcd';
import { clusterAddressPool, SwarmNetworksApi } from './overlay/networks-api';
import { probeHostRoutes, type HostRouteProbe } from '../network/host-routes';
import type { HostInterface } from '../network/host-interfaces';
import type { Lease, Leadership } from './store/store';
import { StoreUnavailable } from './store/store';
import { startNodeOverlay, stopNodeOverlay, type NodeOverlayWiring } from './overlay/node-overlay-wiring';
import type { NodeOverlay } from './overlay/node-overlay';

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

export interface ClusterOptions {
  dataRoot: string;
  /** The exec root (a tmpfs): the one clear copy of the node key etcd reads. Default: under the data root. */
  runRoot?: string;
  ports: { control: number; etcdClient: number; etcdPeer: number };
  signer: X509Signer;
  etcd: EtcdProcesses;
  connect: ConnectStore;
  roles: ClusterRoles;
  containers: NodeContainers;
  host: HostDescriptionSources;
  /** Opens the TLS control endpoint (join, task logs, images) of a node in a swarm (control/server.ts). */
  control?: (o: ControlServerOptions) => Promise<Running>;
  /** Asks a manager's control endpoint to let this node join (control/client.ts). */
  joinThrough?: (remote: string, token: string, request: JoinAsk) => Promise<JoinAnswer>;
  /** A node promoted to manager asks a manager for its manager certificate and the cluster data key (control/client.ts). */
  promoteThrough?: (remote: string, tls: TlsMaterial, csrPem: string) => Promise<PromoteAnswer>;
  /** An image tar from a peer's control endpoint; undefined when it lacks the image (control/client.ts). */
  peerImage?: (addr: string, tls: TlsMaterial, ref: string) => Promise<Readable | undefined>;
  /** A peer's task logs through its control endpoint (control/client.ts). */
  peerTaskLogs?: (addr: string, tls: TlsMaterial, taskId: string, options: LogOptions) => Promise<{ tty: boolean; stream: Readable }>;
  /** This node's images for peers that lack one (`docker save` of one reference). */
  exportImage?: (ref: string) => Promise<Readable | undefined>;
  /** The host's interfaces and the engine's own subnets, to choose an advertise address when none is given. */
  hostAddresses?: () => Promise<{ interfaces: HostInterface[]; managedSubnets: string[] }>;
  /** Overlay networks on this node while it is in the swarm (overlay/node-overlay-wiring.ts); absent: none. */
  overlay?: NodeOverlayWiring;
  /** What this host routes, kept out of new overlay subnets (default: /proc/net/route and the interfaces' subnets). */
  hostRoutes?: HostRouteProbe;
  /** Why encrypted overlays cannot work on this host (no ESP in the kernel), or undefined. */
  encryptionUnsupported?(): Promise<string | undefined>;
  log: { info(m: string): void; error(m: string): void };
}

/** What a joining node tells the manager it asks (its CSR carries its identity). */
export interface JoinAsk {
  nodeId: string;
  csrPem: string;
  advertiseAddr: string;
  etcdPeerUrl: string;
  etcdClientUrl: string;
}

/** What a manager answers a node it lets join. */
export interface JoinAnswer {
  clusterId: string;
  role: 'manager' | 'worker';
  caPem: string;
  certPem: string;
  etcdEndpoints: string[];
  /** For managers: the --initial-cluster this node's new member starts with. */
  initialCluster?: string;
  /** For managers: the cluster data key (base64), and the unlock key when autolocked (its secrets are sealed with it). */
  dek?: string;
  unlockKey?: string;
}

/** What a manager answers a node promoted to manager. */
export interface PromoteAnswer {
  certPem: string;
  dek: string;
  unlockKey?: string;
}

type Phase = 'inactive' | 'pending' | 'active' | 'error' | 'locked';

export class Cluster implements ClusterBackend {
  private phase: Phase = 'inactive';
  private error = '';
  private state: SwarmState | undefined;
  private member: EtcdMemberProcess | undefined;
  private conn: StoreConnection | undefined;
  private lease: Lease | undefined;
  private leadership: Leadership | undefined;
  private managerLoops: Running | undefined;
  private agent: Running | undefined;
  private overlay: NodeOverlay | undefined;
  private controlServer: Running | undefined;
  private roleWatch: { cancel(): Promise<void> } | undefined;
  private changingRole = false;
  /** Object API calls under way, and whether new ones wait out a leave (see managerCall). */
  private readonly managerCalls = new Set<Promise<unknown>>();
  private quiescing = false;
  /** The init, join or leave under way (see membershipChange). */
  private changing: Promise<void> = Promise.resolve();
  /** Bumped by every teardown: background work of an earlier membership stops when it sees a new one. */
  private generation = 0;
  private stopping = false;
  private readonly stateFile: SwarmStateFile;
  private api: SwarmObjectsApi | undefined;
  /** The unlock key this node's secrets are sealed with now (undefined: in the clear); lockSync keeps it current. */
  private sealedWith: string | undefined;
  private lockSyncing: Promise<void> = Promise.resolve();

  constructor(private readonly o: ClusterOptions) {
    this.stateFile = new SwarmStateFile(o.dataRoot, o.runRoot);
  }

  get nodeId(): string | undefined { return this.state?.nodeId; }
  get role(): 'manager' | 'worker' | undefined { return this.state?.role; }
  get stateFiles(): SwarmStateFile { return this.stateFile; }
  get connection(): StoreConnection | undefined { return this.conn; }

  /** At berthd start: a node that was in a swarm rejoins it in the background (pending until it is back). */
  async restore(): Promise<void> {
    const state = await this.stateFile.load();
    if (!state) return;
    this.state = state;
    // An autolocked manager's key is sealed: nothing runs (not even its etcd member) until `docker swarm unlock`.
    if (this.stateFile.keys.isSealed()) {
      this.phase = 'locked';
      return;
    }
    this.phase = 'pending';
    void this.keepRejoining(state);
  }

  /**
   * Rejoins until it works: the other managers may be down too (a whole-cluster restart), and come back later.
   * Stops when the node leaves or is re-initialised (--force-new-cluster) meanwhile.
   */
  private async keepRejoining(s: SwarmState): Promise<void> {
    let generation = this.generation;
    for (let delay = 1000; this.state === s && this.generation === generation; delay = Math.min(delay * 2, 10_000)) {
      try {
        await this.stateFile.loadSecrets();
        if (s.member) {
          this.member = await this.o.etcd.start({ ...s.member, initialCluster: `${s.member.name}=${s.member.peerUrl}`, state: 'existing', tls: this.stateFile.certificateFiles() });
        }
        if (this.state !== s || this.generation !== generation) return;
        await this.activate();
        return;
      } catch (err) {
        if (this.state !== s || this.generation !== generation) return;
        this.phase = 'error';
        this.error = err instanceof StoreUnavailable ? `${(err as Error).message}. ${TEXT.recovery}` : (err as Error).message;
        this.o.log.error(`swarm: rejoining: ${(err as Error).message}; retrying in ${delay / 1000} s`);
        // Whatever the attempt started goes before the next one (the member too: the next start adopts or respawns it).
        await this.teardown();
        generation = this.generation;
        this.phase = 'error';
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  // ------------------------------------------------------------------------------------------ state machine

  async info(): Promise<SwarmInfo> {
    const base: SwarmInfo = { NodeID: this.state?.nodeId ?? '', NodeAddr: this.state?.advertiseAddr ?? '', LocalNodeState: this.phase, ControlAvailable: false, Error: this.error, RemoteManagers: null };
    if (this.phase !== 'active' || !this.state) return base;
    base.RemoteManagers = this.state.remoteManagers.length ? this.state.remoteManagers : null;
    if (!this.conn) return base;
    try {
      const nodes = (await this.conn.objects.list<Node>('nodes')).items;
      const managers = nodes.filter((n) => n.Spec.Role === 'manager');
      base.RemoteManagers = managers.map((n) => ({ NodeID: n.ID, Addr: n.ManagerStatus?.Addr ?? `${n.Status.Addr}:2377` }));
      if (this.state.role !== 'manager') return base;
      base.ControlAvailable = true;
      base.Nodes = nodes.length;
      base.Managers = managers.length;
      const cluster = await this.readCluster();
      base.Cluster = clusterInfo(cluster);
      if (managers.length === 2) {
        base.Warnings = ['WARNING: Running Swarm in a two-manager configuration. This configuration provides\n         no fault tolerance, and poses a high risk to lose control over the cluster.\n         Refer to https://docs.docker.com/engine/swarm/admin_guide/ to configure the\n         Swarm for fault-tolerance.'];
      }
      this.error = '';
    } catch (err) {
      if (err instanceof StoreUnavailable) base.Error = TEXT.recovery;
      else throw err;
    }
    return base;
  }

  private async hostAddresses(): Promise<{ interfaces: HostInterface[]; managedSubnets: string[] }> {
    return this.o.hostAddresses ? this.o.hostAddresses() : { interfaces: [], managedSubnets: [] };
  }

  pingHeader(): string {
    if (this.phase === 'active') return `active/${this.state?.role ?? 'worker'}`;
    return this.phase;
  }

  /**
   * Init, join and leave one at a time (moby's controlMutex): a second init waits for the first and then answers
   * "already part of a swarm"; a leave never tears down what an init is still making.
   */
  private membershipChange<T>(change: () => Promise<T>): Promise<T> {
    const run = this.changing.then(change, change);
    this.changing = run.then(() => undefined, () => undefined);
    return run;
  }

  init(req: InitRequest): Promise<string> {
    return this.membershipChange(() => this.initNow(req));
  }

  private async initNow(req: InitRequest): Promise<string> {
    if (this.phase === 'locked') throw lockedError();
    if (req.ForceNewCluster && this.state?.member) {
      await this.quiesce();
      try { return await this.forceNewCluster(); } finally { this.quiescing = false; }
    }
    if (this.phase !== 'inactive') throw new UnavailableError(TEXT.alreadyInSwarm);
    // Every check before anything is made: a refused init leaves nothing behind.
    const ifaces = await this.hostAddresses();
    const addrs = initAddresses(req, ifaces);
    checkBindable(addrs, ifaces, this.o.ports.control);
    const spec = initSwarmSpec(req.Spec, req.AutoLockManagers);
    checkAddrPool(req.DefaultAddrPool, req.SubnetSize);
    const port = dataPathPort(req.DataPathPort);
    const advertiseAddr = addrs.advertiseHost;
    const nodeId = newObjectId();
    const clusterId = newObjectId();
    this.phase = 'pending';
    try {
      const root = await createRoot(this.o.signer);
      const cert = await issueNodeCertificate(this.o.signer, root, { nodeId, role: 'manager', clusterId }, addressesOf(advertiseAddr), nodeCertDays(spec.CAConfig?.NodeCertExpiry));
      const dek = generateDataKey().toString('base64');
      const unlock = initialUnlockKey(!!spec.EncryptionConfig?.AutoLockManagers, dek);
      const tls = await this.stateFile.saveCertificates({ certPem: cert.certPem, keyPem: cert.keyPem, caPem: root.certPem }, { dek, unlockKey: unlock.clear });
      this.sealedWith = unlock.clear;
      const member = this.memberOf(nodeId, advertiseAddr);
      this.member = await this.o.etcd.start({ ...member, initialCluster: `${member.name}=${member.peerUrl}`, state: 'new', tls });
      this.state = {
        nodeId, clusterId, role: 'manager', advertiseAddr, listenAddr: joinHostPort(addrs.listenHost, addrs.listenPort), controlPort: this.o.ports.control,
        etcdEndpoints: [member.clientUrl], member, remoteManagers: [{ NodeID: nodeId, Addr: `${advertiseAddr}:${this.o.ports.control}` }],
      };
      this.conn = await this.o.connect(this.state.etcdEndpoints, { certPem: cert.certPem, keyPem: cert.keyPem, caPem: root.certPem });
      const now = new Date().toISOString();
      const cluster: Omit<StoredCluster, 'Version'> = {
        ID: clusterId, CreatedAt: now, UpdatedAt: now, Spec: spec, TLSInfo: tlsInfoOf(root.certPem), RootRotationInProgress: false,
        DefaultAddrPool: req.DefaultAddrPool?.length ? req.DefaultAddrPool.map((p) => p.trim()) : ['10.0.0.0/8'], SubnetSize: req.SubnetSize || 24, DataPathPort: port,
        JoinTokens: { Worker: generateJoinToken(root.certPem), Manager: generateJoinToken(root.certPem) }, RootCA: sealRoot(root, dek),
        ...(unlock.sealed ? { ManagerUnlockKey: unlock.sealed } : {}),
      };
      await this.conn.objects.create<StoredCluster>('cluster', cluster);
      // swarmkit makes the routing-mesh network with the cluster: `ingress`, the pool's first free subnet.
      await new SwarmNetworksApi(this.conn.objects, this.overlayAllocator(this.conn), nodeId).createIngress();
      await this.stateFile.save(this.state);
      await this.activate(req.Availability || 'active');
      return nodeId;
    } catch (err) {
      await this.forget();
      throw err;
    }
  }

  join(req: JoinRequest): Promise<void> {
    return this.membershipChange(() => this.joinNow(req));
  }

  private async joinNow(req: JoinRequest): Promise<void> {
    if (this.phase !== 'inactive') throw new UnavailableError(TEXT.alreadyInSwarm);
    const ifaces = await this.hostAddresses();
    const addrs = joinAddresses(req, ifaces);
    if (!this.o.joinThrough) throw new UnavailableError('joining a swarm needs the control endpoint, which this daemon was started without');
    if (!parseJoinToken(req.JoinToken)) throw new InvalidParameterError(INVALID_JOIN_TOKEN);
    const remote = addrs.remoteAddrs[0]!;
    const advertiseAddr = addrs.advertiseHost || joinAdvertiseAddr(addrs.listenHost, remote, ifaces);
    checkBindable({ ...addrs, advertiseHost: advertiseAddr }, ifaces, this.o.ports.control);
    const nodeId = newObjectId();
    this.phase = 'pending';
    try {
      const member = this.memberOf(nodeId, advertiseAddr);
      const key = await requestNodeCertificate(this.o.signer, nodeId);
      const answer = await this.o.joinThrough(withPort(remote, 2377), req.JoinToken, {
        nodeId, csrPem: key.csrPem, advertiseAddr, etcdPeerUrl: member.peerUrl, etcdClientUrl: member.clientUrl,
      });
      const manager = answer.role === 'manager';
      const tls = await this.stateFile.saveCertificates({ certPem: answer.certPem, keyPem: key.keyPem, caPem: answer.caPem },
        manager ? { dek: answer.dek, unlockKey: answer.unlockKey } : {});
      this.sealedWith = manager ? answer.unlockKey : undefined;
      this.state = {
        nodeId, clusterId: answer.clusterId, role: answer.role, advertiseAddr, listenAddr: joinHostPort(addrs.listenHost, addrs.listenPort), controlPort: this.o.ports.control,
        etcdEndpoints: answer.etcdEndpoints, remoteManagers: [{ NodeID: '', Addr: withPort(remote, 2377) }],
      };
      if (answer.role === 'manager') {
        this.member = await this.o.etcd.start({ ...member, initialCluster: answer.initialCluster!, state: 'existing', tls });
        this.state.member = member;
        this.state.etcdEndpoints = [member.clientUrl, ...answer.etcdEndpoints.filter((e) => e !== member.clientUrl)];
      }
      await this.stateFile.save(this.state);
      await this.activate(req.Availability || 'active');
    } catch (err) {
      await this.forget();
      throw err;
    }
  }

  leave(force: boolean): Promise<void> {
    return this.membershipChange(() => this.leaveNow(force));
  }

  private async leaveNow(force: boolean): Promise<void> {
    if (this.phase === 'inactive' || !this.state) throw new UnavailableError(TEXT.notInSwarm);
    const s = this.state;
    if (this.phase === 'locked' && !force) throw new UnavailableError(LOCK_TEXT.leaveLocked);
    if (s.role === 'manager' && this.conn && this.phase === 'active') {
      const { reachable, unreachable } = await this.managerReachability().catch(() => ({ reachable: 1, unreachable: 1 }));
      if (!force) {
        const intro = 'You are attempting to leave the swarm on a node that is participating as a manager. ';
        if (reachable === 1 && unreachable === 0) throw new UnavailableError(`${intro}Removing the last manager erases all current state of the swarm. Use \`--force\` to ignore this message. `);
        if (reachable - 2 <= unreachable) {
          throw new UnavailableError(`${intro}Removing this node leaves ${reachable - 1} managers out of ${reachable + unreachable}. Without a Raft quorum your swarm will be inaccessible. The only way to restore a swarm that has lost consensus is to reinitialize it with \`--force-new-cluster\`. Use \`--force\` to suppress this message.`);
        }
        throw new UnavailableError(`${intro}The only way to restore a swarm that has lost consensus is to reinitialize it with \`--force-new-cluster\`. Use \`--force\` to suppress this message.`);
      }
    } else if (s.role === 'manager' && !force) {
      throw new UnavailableError('You are attempting to leave the swarm on a node that is participating as a manager. Doing so may lose the consensus of your cluster. The only way to restore a swarm that has lost consensus is to reinitialize it with `--force-new-cluster`. Use `--force` to suppress this message.');
    }
    await this.quiesce();
    try {
      // Others see this node go down (its heartbeat stops); a manager also leaves etcd's membership so the
      // remaining managers' quorum counts only them.
      if (s.member && this.conn) {
        const others = await this.conn.members.list().then((l) => l.filter((m) => m.name !== s.member!.name)).catch(() => []);
        if (others.length) await this.conn.members.remove(s.member.name).catch((err: Error) => this.o.log.error(`swarm leave: removing etcd member: ${err.message}`));
      }
      await this.stopOverlay(true);
      await this.forget();
    } finally {
      this.quiescing = false;
    }
    await this.o.containers.removeNodeContainers(s.nodeId).catch((err: Error) => this.o.log.error(`swarm leave: removing containers: ${err.message}`));
  }

  /** Back to inactive: loops, connection and etcd member stopped, the swarm state on disk wiped. */
  private async forget(): Promise<void> {
    await this.teardown().catch(() => undefined);
    await this.stateFile.wipe().catch(() => undefined);
    this.state = undefined;
    this.sealedWith = undefined;
    this.phase = 'inactive';
    this.error = '';
  }

  /** `docker swarm init --force-new-cluster` on a manager that lost quorum: etcd restarts alone on its data. */
  private async forceNewCluster(): Promise<string> {
    const s = this.state!;
    await this.teardown();
    const member = s.member!;
    this.member = await this.o.etcd.start({ ...member, initialCluster: `${member.name}=${member.peerUrl}`, state: 'existing', forceNewCluster: true, tls: this.stateFile.certificateFiles() });
    s.etcdEndpoints = [member.clientUrl];
    await this.stateFile.save(s);
    await this.activate();
    // The other managers are workers-to-be now: their etcd members are gone from the one-member cluster.
    await this.conn!.objects.list<Node>('nodes').then(async ({ items }) => {
      for (const n of items) {
        if (n.ID !== s.nodeId && n.Spec.Role === 'manager') {
          await this.conn!.objects.modify<Node>('nodes', n.ID, (cur) => ({ ...cur, Spec: { ...cur.Spec, Role: 'worker' }, ManagerStatus: undefined }));
        }
      }
    });
    return s.nodeId;
  }

  private memberOf(nodeId: string, advertiseAddr: string): NonNullable<SwarmState['member']> {
    const host = advertiseAddr.includes(':') ? `[${advertiseAddr}]` : advertiseAddr;
    return {
      name: nodeId,
      clientUrl: `https://${host}:${this.o.ports.etcdClient}`,
      peerUrl: `https://${host}:${this.o.ports.etcdPeer}`,
      dataDir: `${this.stateFile.dir}/etcd`,
    };
  }

  /** Connects, registers the node, starts the heartbeat, the agent, and (managers) the election and control endpoint. */
  private async activate(availability: 'active' | 'pause' | 'drain' = 'active'): Promise<void> {
    const s = this.state!;
    const certs = await this.stateFile.readCertificates();
    if (!this.conn) this.conn = await this.o.connect(s.etcdEndpoints, certs);
    const conn = this.conn;
    const cluster = await this.readCluster();
    this.lease = await startHeartbeat(conn.store, s.nodeId, heartbeatTtlSeconds(cluster.Spec.Dispatcher?.HeartbeatPeriod), this.controlAddr());
    this.lease.onLost(() => {
      if (this.stopping) return;
      this.o.log.error('swarm: heartbeat lease lost; re-registering');
      void this.reRegister();
    });
    await this.register(availability, tlsInfoOf(certs.caPem));
    await this.refreshEndpoints(conn);
    this.stopping = false;
    // Before the agent: its task containers join overlays through this service.
    this.overlay = await startNodeOverlay(this.o.overlay, { nodeId: s.nodeId, nodeAddr: s.advertiseAddr, store: conn.store }, this.o.log);
    this.agent = await this.o.roles.startAgent({ nodeId: s.nodeId, objects: conn.objects, store: conn.store });
    if (this.o.control) {
      const listen = s.listenAddr.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
      this.controlServer = await this.o.control({
        host: !listen || listen === '0.0.0.0' || listen === '::' ? s.advertiseAddr : listen, port: s.controlPort, tls: certs, log: this.o.log,
        handlers: {
          join: (token, ask) => this.acceptJoin(token, ask),
          taskLogs: async (taskId, options) => this.o.roles.localTaskLogs?.(taskId, options),
          exportImage: async (ref) => this.o.exportImage?.(ref),
          promote: (peer, csrPem) => this.acceptPromotion(peer, csrPem),
        },
      });
    }
    if (s.role === 'manager') void this.campaign();
    this.roleWatch = await conn.objects.watch(['nodes', 'cluster'], (await conn.objects.list('cluster')).revision, (changes) => {
      // Autolock turned on or off, or its key rotated, through another manager: this node's secrets follow.
      if (changes.some((c) => c.kind === 'cluster')) void this.lockSync();
      const mine = changes.find((c) => c.kind === 'nodes' && c.id === s.nodeId)?.object as Node | undefined;
      if (mine && this.state === s && mine.Spec.Role !== s.role && !this.changingRole) void this.changeRole(mine.Spec.Role);
    });
    this.phase = 'active';
    this.error = '';
    // Autolock may have been turned on, off or rotated while this node was down.
    void this.lockSync();
  }

  /**
   * `docker node promote/demote` of this node: a promoted worker adds itself to etcd's membership and starts a
   * member; a demoted manager leaves the membership and stops its member; either way with a certificate for the new
   * role, then registered again.
   */
  private async changeRole(role: 'manager' | 'worker'): Promise<void> {
    const s = this.state!;
    const conn = this.conn!;
    this.changingRole = true;
    try {
      const cluster = await this.readCluster();
      const members = await conn.members.list();
      const member = this.memberOf(s.nodeId, s.advertiseAddr);
      // A worker holds no CA key: a manager signs its manager certificate and hands it the cluster data key. A
      // demoted manager still can sign its own worker certificate, and drops the data key.
      const promoted = role === 'manager' ? await this.askPromotion(cluster) : undefined;
      const cert = promoted ?? await issueNodeCertificate(this.o.signer, openRoot(cluster.RootCA, this.stateFile.dek), { nodeId: s.nodeId, role, clusterId: cluster.ID },
        addressesOf(s.advertiseAddr), nodeCertDays(cluster.Spec.CAConfig?.NodeCertExpiry));
      let initialCluster = '';
      if (role === 'manager') initialCluster = (await conn.members.add(s.nodeId, member.peerUrl)).initialCluster;
      else await conn.members.remove(s.nodeId);
      const others = members.filter((m) => m.name !== s.nodeId).flatMap((m) => m.clientUrls);
      await this.teardown();
      const tls = await this.stateFile.saveCertificates({ certPem: cert.certPem, keyPem: cert.keyPem, caPem: cluster.TLSInfo.TrustRoot },
        promoted ? { dek: promoted.dek, unlockKey: promoted.unlockKey } : {});
      this.sealedWith = promoted?.unlockKey;
      const next: SwarmState = { ...s, role, etcdEndpoints: role === 'manager' ? [member.clientUrl, ...others] : others };
      if (role === 'manager') {
        next.member = member;
        this.member = await this.o.etcd.start({ ...member, initialCluster, state: 'existing', tls });
      } else {
        delete next.member;
        await fsp.rm(member.dataDir, { recursive: true, force: true });
      }
      this.state = next;
      await this.stateFile.save(next);
      await this.activate();
      this.o.log.info(`swarm: this node is now a ${role}`);
    } catch (err) {
      this.phase = 'error';
      this.error = `changing role to ${role}: ${(err as Error).message}`;
      this.o.log.error(`swarm: ${this.error}`);
    } finally {
      this.changingRole = false;
    }
  }

  /**
   * The etcd client URLs of the current members, kept in state.json so a restarted node reaches the managers
   * there are now, not the ones it joined through (this node's own member first).
   */
  private async refreshEndpoints(conn: StoreConnection): Promise<void> {
    const s = this.state!;
    const urls = (await conn.members.list().catch(() => [])).flatMap((m) => m.clientUrls);
    if (!urls.length) return;
    const own = s.member?.clientUrl;
    const endpoints = own ? [own, ...urls.filter((u) => u !== own)] : urls;
    if (JSON.stringify(endpoints) === JSON.stringify(s.etcdEndpoints)) return;
    s.etcdEndpoints = endpoints;
    await this.stateFile.save(s);
  }

  private controlAddr(): string {
    const s = this.state!;
    return `${s.advertiseAddr.includes(':') ? `[${s.advertiseAddr}]` : s.advertiseAddr}:${s.controlPort}`;
  }

  /** A manager admits a node that presents a join token: signs its certificate; a manager also joins etcd. */
  async acceptJoin(token: string, ask: JoinAsk): Promise<JoinAnswer> {
    const s = this.state;
    if (this.phase !== 'active' || !s || !this.conn) throw new UnavailableError(TEXT.managerPreparing);
    if (s.role !== 'manager') throw new UnavailableError(TEXT.workerNotManager);
    const cluster = await this.readCluster();
    const role = roleOfToken(token, cluster.JoinTokens);
    if (!role) throw new InvalidParameterError(INVALID_JOIN_TOKEN);
    if (!/^[0-9a-z]{25}$/.test(ask.nodeId) || await this.conn.objects.get<Node>('nodes', ask.nodeId)) {
      throw new InvalidParameterError(`rpc error: code = InvalidArgument desc = node ID ${JSON.stringify(ask.nodeId)} is not valid or already taken`);
    }
    const dek = this.stateFile.dek;
    const certPem = await signNodeCertificate(this.o.signer, openRoot(cluster.RootCA, dek), ask.csrPem, { nodeId: ask.nodeId, role, clusterId: cluster.ID },
      [...new Set([ask.advertiseAddr, '127.0.0.1'])], nodeCertDays(cluster.Spec.CAConfig?.NodeCertExpiry));
    const members = await this.conn.members.list();
    const etcdEndpoints = members.flatMap((m) => m.clientUrls);
    let initialCluster: string | undefined;
    if (role === 'manager') initialCluster = (await this.conn.members.add(ask.nodeId, ask.etcdPeerUrl)).initialCluster;
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
    const s = this.state;
    if (this.phase !== 'active' || !s || !this.conn) throw new UnavailableError(TEXT.managerPreparing);
    if (s.role !== 'manager') throw new UnavailableError(TEXT.workerNotManager);
    const cluster = await this.readCluster();
    const node = await this.conn.objects.get<Node>('nodes', peer.nodeId);
    if (peer.clusterId !== cluster.ID || node?.Spec.Role !== 'manager') throw new ForbiddenError(`node ${peer.nodeId} is not a manager of this swarm`);
    const dek = this.stateFile.dek;
    if (!dek) throw new UnavailableError('this manager holds no cluster data key');
    const certPem = await signNodeCertificate(this.o.signer, openRoot(cluster.RootCA, dek), csrPem, { nodeId: peer.nodeId, role: 'manager', clusterId: cluster.ID },
      addressesOf(node.Status.Addr), nodeCertDays(cluster.Spec.CAConfig?.NodeCertExpiry));
    const unlockKey = unlockKeyOf(cluster, dek);
    return { certPem, dek, ...(unlockKey ? { unlockKey } : {}) };
  }

  /** This node, just promoted, asks the other managers in turn for its manager certificate and the data key. */
  private async askPromotion(cluster: StoredCluster): Promise<PromoteAnswer & { keyPem: string }> {
    const s = this.state!;
    if (!this.o.promoteThrough) throw new UnavailableError('promotion needs the control endpoint, which this daemon was started without');
    const { keyPem, csrPem } = await requestNodeCertificate(this.o.signer, s.nodeId);
    const tls = await this.stateFile.readCertificates();
    const managers = (await this.conn!.objects.list<Node>('nodes')).items.filter((n) => n.ID !== s.nodeId && n.Spec.Role === 'manager' && n.ManagerStatus?.Addr);
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
   * Keeps this manager's secrets at rest sealed with the cluster's current unlock key (or in the clear when autolock
   * is off): after init, join, unlock, a swarm update here, or a change seen through the watch. Runs one at a time.
   */
  lockSync(): Promise<void> {
    const run = async () => {
      const dek = this.stateFile.dek;
      if (!this.conn || this.state?.role !== 'manager' || !dek) return;
      const key = unlockKeyOf(await this.readCluster(), dek) || undefined;
      if (key === this.sealedWith) return;
      await this.stateFile.reseal(key);
      this.sealedWith = key;
      this.o.log.info(`swarm: this manager's keys are ${key ? 'sealed with the unlock key' : 'in the clear (autolock off)'}`);
    };
    this.lockSyncing = this.lockSyncing.then(run).catch((err: Error) => this.o.log.error(`swarm: autolock: ${err.message}`));
    return this.lockSyncing;
  }

  /**
   * "An image present on one node but in no registry is fetched from that node": asks every other live node's
   * control endpoint in turn and loads the first answer.
   */
  async fetchImageFromPeers(ref: string, load: (tar: Readable) => Promise<void>): Promise<void> {
    const s = this.state;
    if (!s || !this.conn || !this.o.peerImage) throw new UnavailableError(`image ${ref} is in no registry and this node is in no swarm`);
    const tls = await this.stateFile.readCertificates();
    for (const hb of (await this.conn.store.list(HEARTBEAT_PREFIX)).items) {
      if (hb.key === heartbeatKey(s.nodeId)) continue;
      const addr = (JSON.parse(hb.value) as { Addr: string }).Addr;
      const tar = await this.o.peerImage(addr, tls, ref).catch(() => undefined);
      if (tar) { await load(tar); return; }
    }
    throw new UnavailableError(`No such image: ${ref} (in no registry and on no other node)`);
  }

  private async reRegister(): Promise<void> {
    for (let delay = 500; !this.stopping && this.state && this.conn; delay = Math.min(delay * 2, 5000)) {
      try {
        const cluster = await this.readCluster();
        this.lease = await startHeartbeat(this.conn.store, this.state.nodeId, heartbeatTtlSeconds(cluster.Spec.Dispatcher?.HeartbeatPeriod), this.controlAddr());
        this.lease.onLost(() => { if (!this.stopping) void this.reRegister(); });
        await this.register(undefined, cluster.TLSInfo);
        this.error = '';
        if (this.state.role === 'manager') void this.campaign();
        return;
      } catch (err) {
        this.error = err instanceof StoreUnavailable ? TEXT.recovery : (err as Error).message;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Writes this node's Node object: created at first, its Description and Status refreshed after. */
  private async register(availability: 'active' | 'pause' | 'drain' | undefined, tls: ClusterInfo['TLSInfo']): Promise<void> {
    const s = this.state!;
    const objects = this.conn!.objects;
    const description = describeNode(this.o.host, tls);
    const status = { State: 'ready' as const, Addr: s.advertiseAddr };
    const managerStatus = s.role === 'manager' ? { Reachability: 'reachable' as const, Addr: `${s.advertiseAddr}:${s.controlPort}` } : undefined;
    const now = new Date().toISOString();
    const existing = await objects.get<Node>('nodes', s.nodeId);
    if (!existing) {
      await objects.create<Node>('nodes', {
        ID: s.nodeId, CreatedAt: now, UpdatedAt: now,
        Spec: { Labels: {}, Role: s.role, Availability: availability ?? 'active' },
        Description: description, Status: status, ...(managerStatus ? { ManagerStatus: managerStatus } : {}),
      });
      return;
    }
    await objects.modify<Node>('nodes', s.nodeId, (cur) => {
      const next: Node = { ...cur, UpdatedAt: now, Description: description, Status: status };
      if (managerStatus) next.ManagerStatus = managerStatus;
      else delete next.ManagerStatus;
      return next;
    });
  }

  /** Managers campaign for leadership; the winner runs the manager loops until it loses the lease behind it. */
  private async campaign(): Promise<void> {
    const s = this.state;
    const conn = this.conn;
    const lease = this.lease;
    if (!s || !conn || !lease || this.leadership) return;
    try {
      const leadership = await conn.store.campaign(LEADER_ELECTION, s.nodeId, lease);
      if (this.stopping || this.lease !== lease) { await leadership.resign().catch(() => undefined); return; }
      this.leadership = leadership;
      this.o.log.info(`swarm: ${s.nodeId} leads the managers`);
      leadership.onLost(() => {
        this.leadership = undefined;
        const loops = this.managerLoops;
        this.managerLoops = undefined;
        void loops?.stop();
        this.o.log.info('swarm: leadership lost');
      });
      this.managerLoops = await this.o.roles.startManager({ nodeId: s.nodeId, objects: conn.objects, store: conn.store });
    } catch (err) {
      if (this.stopping) return;
      this.o.log.error(`swarm: campaign: ${(err as Error).message}`);
      setTimeout(() => void this.campaign(), 1000).unref();
    }
  }

  /** Stops every loop, the heartbeat, the control endpoint, the store connection and this node's etcd member. */
  private async teardown(): Promise<void> {
    this.stopping = true;
    this.generation++;
    await this.roleWatch?.cancel().catch(() => undefined);
    this.roleWatch = undefined;
    await this.managerLoops?.stop().catch(() => undefined);
    this.managerLoops = undefined;
    await this.leadership?.resign().catch(() => undefined);
    this.leadership = undefined;
    await this.agent?.stop().catch(() => undefined);
    this.agent = undefined;
    await this.stopOverlay(false);
    await this.controlServer?.stop().catch(() => undefined);
    this.controlServer = undefined;
    await this.lease?.revoke().catch(() => undefined);
    this.lease = undefined;
    await this.conn?.close().catch(() => undefined);
    this.conn = undefined;
    this.api = undefined;
    await this.member?.stop().catch(() => undefined);
    this.member = undefined;
  }

  /** The overlay service stops (`leave`: removing what it made on this host and its records in etcd). */
  private async stopOverlay(leave: boolean): Promise<void> {
    const overlay = this.overlay;
    this.overlay = undefined;
    await stopNodeOverlay(this.o.overlay, overlay, leave).catch((err: Error) => this.o.log.error(`swarm: overlay networking: ${err.message}`));
  }

  /** berthd stops: loops and connections go, the etcd member and containers keep running (a restart adopts them). */
  async close(): Promise<void> {
    this.stopping = true;
    const member = this.member;
    this.member = undefined;
    await this.managerLoops?.stop().catch(() => undefined);
    await this.agent?.stop().catch(() => undefined);
    await this.stopOverlay(false);
    await this.controlServer?.stop().catch(() => undefined);
    await this.conn?.close().catch(() => undefined);
    void member;
  }

  private async managerReachability(): Promise<{ reachable: number; unreachable: number }> {
    const conn = this.conn!;
    const managers = (await conn.objects.list<Node>('nodes')).items.filter((n) => n.Spec.Role === 'manager');
    const alive = new Set((await conn.store.list(HEARTBEAT_PREFIX)).items.map((kv) => kv.key.slice(HEARTBEAT_PREFIX.length)));
    const reachable = managers.filter((m) => alive.has(m.ID)).length;
    return { reachable, unreachable: managers.length - reachable };
  }

  // ------------------------------------------------------------------------------------ manager-only access

  /**
   * One object API call, counted while it runs: a leave (or --force-new-cluster) lets the calls under way finish
   * before it closes the store under them, and refuses new ones meanwhile (moby's c.mu around manager actions).
   */
  private managerCall<T>(call: (api: SwarmObjectsApi) => Promise<T>): Promise<T> {
    let run: Promise<T>;
    try { run = call(this.objectsApi()); } catch (err) { return Promise.reject(err); }
    this.managerCalls.add(run);
    const done = () => { this.managerCalls.delete(run); };
    run.then(done, done);
    return run;
  }

  /** Refuses new object API calls and waits for those under way; the caller clears `quiescing` when done. */
  private async quiesce(): Promise<void> {
    this.quiescing = true;
    await Promise.allSettled([...this.managerCalls]);
  }

  /** The object API when this node is an active manager; moby's 503 texts otherwise. */
  objectsApi(): SwarmObjectsApi {
    if (this.phase === 'inactive' || !this.state || this.quiescing) throw new UnavailableError(TEXT.inactiveNotManager);
    if (this.phase === 'locked') throw lockedError();
    if (this.state.role !== 'manager') throw new UnavailableError(this.phase === 'active' ? TEXT.workerNotManager : TEXT.inactiveNotManager);
    if (this.phase !== 'active' || !this.conn) throw new UnavailableError(TEXT.managerPreparing);
    this.api ??= new SwarmObjectsApi(this.conn, {
      nodeId: this.state.nodeId,
      allocator: this.overlayAllocator(this.conn),
      leader: () => this.conn!.store.leader(LEADER_ELECTION),
      alive: async () => new Set((await this.conn!.store.list(HEARTBEAT_PREFIX)).items.map((kv) => kv.key.slice(HEARTBEAT_PREFIX.length))),
      localTaskLogs: this.o.roles.localTaskLogs?.bind(this.o.roles),
      remoteTaskLogs: async (node, taskId, options) => {
        const hb = await this.conn!.store.get(heartbeatKey(node.ID));
        if (!hb || !this.o.peerTaskLogs) throw new UnavailableError(`node ${node.ID} is not reachable`);
        const addr = (JSON.parse(hb.value) as { Addr: string }).Addr;
        return this.o.peerTaskLogs(addr, await this.stateFile.readCertificates(), taskId, options);
      },
      onUnavailable: () => { this.error = TEXT.recovery; },
      ...(this.o.encryptionUnsupported ? { encryptionUnsupported: () => this.o.encryptionUnsupported!() } : {}),
      lockUpdate: (prev, next, rotateUnlockKey) => {
        const { ManagerUnlockKey: _old, ...rest } = next;
        void _old;
        const key = unlockKeyAfterUpdate(prev, next, rotateUnlockKey, this.stateFile.dek);
        return key ? { ...rest, ManagerUnlockKey: key } : rest;
      },
    });
    return this.api;
  }

  /** The swarm's networks for the network routes (overlay/networks-api.ts): Scope swarm, only on managers. */
  swarmNetworks(): SwarmNetworks {
    const manager = () => this.phase === 'active' && this.state?.role === 'manager' && !this.quiescing;
    return {
      list: async () => (manager() ? await this.managerCall((a) => a.networks.resources()) : []),
      find: async (idOrName) => (manager() ? this.managerCall((a) => a.networks.find(idOrName)) : undefined),
      create: async (body) => this.managerCall((a) => a.networks.create(body)),
      remove: async (idOrName) => {
        if (!manager() || !(await this.managerCall((a) => a.networks.find(idOrName)))) return false;
        await this.managerCall((a) => a.networks.remove(idOrName));
        return true;
      },
    };
  }

  /** Overlay address management for this node's store connection (host routes of this host kept out of new subnets). */
  private overlayAllocator(conn: StoreConnection): EtcdOverlayAllocator {
    return new EtcdOverlayAllocator(conn.store, { addressPool: () => clusterAddressPool(conn.objects), hostRoutes: this.o.hostRoutes ?? probeHostRoutes });
  }

  async readCluster(): Promise<StoredCluster> {
    const { items } = await this.conn!.objects.list<StoredCluster>('cluster');
    const c = items[0];
    if (!c) throw new UnavailableError(TEXT.managerPreparing);
    return c;
  }

  async inspectSwarm(): Promise<Swarm> { return this.managerCall((a) => a.inspectSwarm()); }
  async updateSwarm(spec: SwarmSpec, version: number, rotate: { workerToken: boolean; managerToken: boolean; unlockKey: boolean }): Promise<void> {
    await this.managerCall((a) => a.updateSwarm(spec, version, rotate));
    await this.lockSync();
  }

  async unlockKey(): Promise<string> {
    this.objectsApi();
    return unlockKeyOf(await this.readCluster(), this.stateFile.dek);
  }

  /** `docker swarm unlock`: opens the sealed secrets (401 for a wrong key), then rejoins; waits up to 20 s for it. */
  async unlock(key: string): Promise<void> {
    const s = this.state;
    if (this.phase !== 'locked' || !s) {
      // As dockerd: a node that is no manager says so (503); only an unlocked, active manager is "not locked" (409).
      this.objectsApi();
      throw notLockedError();
    }
    await this.stateFile.unseal(key);
    this.sealedWith = key;
    this.phase = 'pending';
    const rejoined = this.keepRejoining(s);
    await Promise.race([rejoined, new Promise((r) => setTimeout(r, 20_000).unref())]);
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

/** ClusterInfo as /info and /swarm show it: no tokens, no CA key, signing fields redacted. */
export function clusterInfo(c: StoredCluster): ClusterInfo {
  const { JoinTokens: _t, RootCA: _r, ...info } = c;
  void _t; void _r;
  return info;
}

function addressesOf(advertiseAddr: string): string[] {
  return [...new Set([advertiseAddr, '127.0.0.1'])];
}

function withPort(addr: string, port: number): string {
  return /:\d+$/.test(addr) ? addr : `${addr}:${port}`;
}

export { heartbeatKey };
