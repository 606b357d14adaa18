// This node's membership of a swarm: the state machine inactive → pending → active (kept in
// <dataRoot>/swarm/state.json so a restarted berthd rejoins), init / join / leave / force-new-cluster one at a time,
// and back to inactive when a change fails or the node leaves.
import { InvalidParameterError, UnavailableError } from '../errdefs';
import type { InitRequest, JoinRequest, Node } from '../wire/swarm';
import { createRoot, issueNodeCertificate, nodeCertAddresses, nodeCertDays, requestNodeCertificate, tlsInfoOf } from './ca/ca';
import { generateJoinToken, INVALID_JOIN_TOKEN, parseJoinToken } from './ca/tokens';
import { generateDataKey } from './ca/unlock-key';
import { liveNodeIds } from './node/heartbeat';
import type { NodeSession } from './node-session';
import type { SwarmState } from './node/state';
import { initialUnlockKey, LOCK_TEXT, lockedError, sealRoot } from './node/state-lock';
import type { ClusterOptions } from './options';
import { overlayAllocator } from './manager-access';
import { SwarmNetworksApi } from './overlay/networks-api';
import { checkBindable, initAddresses, joinAddresses, joinAdvertiseAddr, joinHostPort } from './spec/addresses';
import { newObjectId } from './spec/ids';
import { checkAddrPool, dataPathPort, initSwarmSpec } from './spec/swarm-spec';
import { LEADER_ELECTION, TEXT, type StoredCluster } from './stored-cluster';
import { ELECTION_PREFIX, StoreUnavailable } from './store/store';
import type { HostInterface } from '../network/host-interfaces';
import { sleep } from '../util/promises';

/** What membership changes need from the other parts: the running node, and a pause of the manager API. */
export interface MembershipParts {
  activate(availability?: 'active' | 'pause' | 'drain'): Promise<void>;
  /** Runs `work` with new object API calls refused, once those under way have settled (manager-access.ts). */
  whileQuiesced<T>(work: () => Promise<T>): Promise<T>;
}

export class Membership {
  /** The init, join or leave under way (see membershipChange). */
  private changing: Promise<void> = Promise.resolve();

  constructor(private readonly session: NodeSession, private readonly o: ClusterOptions, private readonly parts: MembershipParts) {}

  /** At berthd start: a node that was in a swarm rejoins it in the background (pending until it is back). */
  async restore(): Promise<void> {
    const session = this.session;
    const state = await session.stateFile.load();
    if (!state) return;
    session.state = state;
    // An autolocked manager's key is sealed: nothing runs (not even its etcd member) until `docker swarm unlock`.
    if (session.stateFile.keys.isSealed()) {
      session.phase = 'locked';
      return;
    }
    session.phase = 'pending';
    void this.keepRejoining(state);
  }

  /**
   * Rejoins until it works: the other managers may be down too (a whole-cluster restart), and come back later.
   * Stops when the node leaves or is re-initialised (--force-new-cluster) meanwhile.
   */
  async keepRejoining(s: SwarmState): Promise<void> {
    const session = this.session;
    let generation = session.generation;
    for (let delay = 1000; session.state === s && session.generation === generation; delay = Math.min(delay * 2, 10_000)) {
      try {
        await session.stateFile.loadSecrets();
        if (s.member) {
          session.member = await this.o.etcd.start({ ...s.member, initialCluster: `${s.member.name}=${s.member.peerUrl}`, state: 'existing', tls: session.stateFile.certificateFiles() });
        }
        if (session.state !== s || session.generation !== generation) return;
        await this.parts.activate();
        return;
      } catch (err) {
        if (session.state !== s || session.generation !== generation) return;
        session.phase = 'error';
        session.error = err instanceof StoreUnavailable ? `${(err as Error).message}. ${TEXT.recovery}` : (err as Error).message;
        this.o.log.error(`swarm: rejoining: ${(err as Error).message}; retrying in ${delay / 1000} s`);
        // Whatever the attempt started goes before the next one (the member too: the next start adopts or respawns it).
        await session.teardown();
        generation = session.generation;
        session.phase = 'error';
        await new Promise((r) => setTimeout(r, delay));
      }
    }
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
    const session = this.session;
    if (session.phase === 'locked') throw lockedError();
    if (req.ForceNewCluster && session.state?.member) {
      return this.parts.whileQuiesced(() => this.forceNewCluster());
    }
    if (session.phase !== 'inactive') throw new UnavailableError(TEXT.alreadyInSwarm);
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
    session.phase = 'pending';
    try {
      const root = await createRoot(this.o.signer);
      const cert = await issueNodeCertificate(this.o.signer, root, { nodeId, role: 'manager', clusterId }, nodeCertAddresses(advertiseAddr), nodeCertDays(spec.CAConfig?.NodeCertExpiry));
      const dek = generateDataKey().toString('base64');
      const unlock = initialUnlockKey(!!spec.EncryptionConfig?.AutoLockManagers, dek);
      const tls = await session.stateFile.saveCertificates({ certPem: cert.certPem, keyPem: cert.keyPem, caPem: root.certPem }, { dek, unlockKey: unlock.clear });
      session.sealedWith = unlock.clear;
      const member = session.memberOf(nodeId, advertiseAddr);
      session.member = await this.o.etcd.start({ ...member, initialCluster: `${member.name}=${member.peerUrl}`, state: 'new', tls });
      session.state = {
        nodeId, clusterId, role: 'manager', advertiseAddr, listenAddr: joinHostPort(addrs.listenHost, addrs.listenPort), controlPort: this.o.ports.control,
        etcdEndpoints: [member.clientUrl], member, remoteManagers: [{ NodeID: nodeId, Addr: `${advertiseAddr}:${this.o.ports.control}` }],
      };
      session.conn = await this.o.connect(session.state.etcdEndpoints, { certPem: cert.certPem, keyPem: cert.keyPem, caPem: root.certPem });
      const now = new Date().toISOString();
      const cluster: Omit<StoredCluster, 'Version'> = {
        ID: clusterId, CreatedAt: now, UpdatedAt: now, Spec: spec, TLSInfo: tlsInfoOf(root.certPem), RootRotationInProgress: false,
        DefaultAddrPool: req.DefaultAddrPool?.length ? req.DefaultAddrPool.map((p) => p.trim()) : ['10.0.0.0/8'], SubnetSize: req.SubnetSize || 24, DataPathPort: port,
        JoinTokens: { Worker: generateJoinToken(root.certPem), Manager: generateJoinToken(root.certPem) }, RootCA: sealRoot(root, dek),
        ...(unlock.sealed ? { ManagerUnlockKey: unlock.sealed } : {}),
      };
      await session.conn.objects.create<StoredCluster>('cluster', cluster);
      // swarmkit makes the routing-mesh network with the cluster: `ingress`, the pool's first free subnet.
      await new SwarmNetworksApi(session.conn.objects, overlayAllocator(session.conn, this.o.hostRoutes), nodeId).createIngress();
      await session.stateFile.save(session.state);
      await this.parts.activate(req.Availability || 'active');
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
    const session = this.session;
    if (session.phase !== 'inactive') throw new UnavailableError(TEXT.alreadyInSwarm);
    const ifaces = await this.hostAddresses();
    const addrs = joinAddresses(req, ifaces);
    if (!this.o.joinThrough) throw new UnavailableError('joining a swarm needs the control endpoint, which this daemon was started without');
    if (!parseJoinToken(req.JoinToken)) throw new InvalidParameterError(INVALID_JOIN_TOKEN);
    const remote = addrs.remoteAddrs[0]!;
    const advertiseAddr = addrs.advertiseHost || joinAdvertiseAddr(addrs.listenHost, remote, ifaces);
    checkBindable({ ...addrs, advertiseHost: advertiseAddr }, ifaces, this.o.ports.control);
    const nodeId = newObjectId();
    session.phase = 'pending';
    try {
      const member = session.memberOf(nodeId, advertiseAddr);
      const key = await requestNodeCertificate(this.o.signer, nodeId);
      const answer = await this.o.joinThrough(withPort(remote, 2377), req.JoinToken, {
        nodeId, csrPem: key.csrPem, advertiseAddr, etcdPeerUrl: member.peerUrl, etcdClientUrl: member.clientUrl,
      });
      const manager = answer.role === 'manager';
      const tls = await session.stateFile.saveCertificates({ certPem: answer.certPem, keyPem: key.keyPem, caPem: answer.caPem },
        manager ? { dek: answer.dek, unlockKey: answer.unlockKey } : {});
      session.sealedWith = manager ? answer.unlockKey : undefined;
      session.state = {
        nodeId, clusterId: answer.clusterId, role: answer.role, advertiseAddr, listenAddr: joinHostPort(addrs.listenHost, addrs.listenPort), controlPort: this.o.ports.control,
        etcdEndpoints: answer.etcdEndpoints, remoteManagers: [{ NodeID: '', Addr: withPort(remote, 2377) }],
      };
      if (answer.role === 'manager') {
        session.member = await this.o.etcd.start({ ...member, initialCluster: answer.initialCluster!, state: 'existing', tls });
        session.state.member = member;
        session.state.etcdEndpoints = [member.clientUrl, ...answer.etcdEndpoints.filter((e) => e !== member.clientUrl)];
      }
      await session.stateFile.save(session.state);
      await this.parts.activate(req.Availability || 'active');
    } catch (err) {
      await this.forget();
      throw err;
    }
  }

  leave(force: boolean): Promise<void> {
    return this.membershipChange(() => this.leaveNow(force));
  }

  private async leaveNow(force: boolean): Promise<void> {
    const session = this.session;
    if (session.phase === 'inactive' || !session.state) throw new UnavailableError(TEXT.notInSwarm);
    const s = session.state;
    if (session.phase === 'locked' && !force) throw new UnavailableError(LOCK_TEXT.leaveLocked);
    if (s.role === 'manager' && session.conn && session.phase === 'active') {
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
    await this.parts.whileQuiesced(async () => {
      // Others see this node go down (its heartbeat stops); a manager also leaves etcd's membership so the
      // remaining managers' quorum counts only them.
      if (s.member && session.conn) {
        const others = await session.conn.members.list().then((l) => l.filter((m) => m.name !== s.member!.name)).catch(() => []);
        if (others.length) await session.conn.members.remove(s.member.name).catch((err: Error) => this.o.log.error(`swarm leave: removing etcd member: ${err.message}`));
      }
      await session.stopOverlay(true);
      await this.forget();
    });
    await this.o.containers.removeNodeContainers(s.nodeId).catch((err: Error) => this.o.log.error(`swarm leave: removing containers: ${err.message}`));
  }

  /** Back to inactive: loops, connection and etcd member stopped, the swarm state on disk wiped. */
  private async forget(): Promise<void> {
    const session = this.session;
    await session.teardown().catch(() => undefined);
    await session.stateFile.wipe().catch(() => undefined);
    session.state = undefined;
    session.sealedWith = undefined;
    session.phase = 'inactive';
    session.error = '';
  }

  /** `docker swarm init --force-new-cluster` on a manager that lost quorum: etcd restarts alone on its data. */
  private async forceNewCluster(): Promise<string> {
    const session = this.session;
    const s = session.state!;
    await session.teardown();
    const member = s.member!;
    session.member = await this.o.etcd.start({ ...member, initialCluster: `${member.name}=${member.peerUrl}`, state: 'existing', forceNewCluster: true, tls: session.stateFile.certificateFiles() });
    s.etcdEndpoints = [member.clientUrl];
    await session.stateFile.save(s);
    await this.parts.activate();
    // The old leader's candidacy, a leased key, outlives its dead holder for the lease's TTL (etcd renews every lease
    // when it restarts) and would keep this node waiting behind it, without a leader; so would this node's own from
    // before. No other manager is a member any more: every candidacy but this session's goes now, and the answer
    // waits until this node leads (as swarmkit's forced one-member raft leads at once).
    const conn = session.conn!;
    const prefix = `${ELECTION_PREFIX}${LEADER_ELECTION}/`;
    const candidates = (await conn.store.list(prefix)).items.filter((kv) => kv.key !== `${prefix}${session.lease?.id}`);
    if (candidates.length) await conn.store.txn(candidates.map((kv) => ({ op: 'delete' as const, key: kv.key })));
    for (let i = 0; i < 100 && (await conn.store.leader(LEADER_ELECTION).catch(() => undefined)) !== s.nodeId; i++) await sleep(100);
    // The other managers are workers-to-be now: their etcd members are gone from the one-member cluster.
    await session.conn!.objects.list<Node>('nodes').then(async ({ items }) => {
      for (const n of items) {
        if (n.ID !== s.nodeId && n.Spec.Role === 'manager') {
          await session.conn!.objects.modify<Node>('nodes', n.ID, (cur) => ({ ...cur, Spec: { ...cur.Spec, Role: 'worker' }, ManagerStatus: undefined }));
        }
      }
    });
    return s.nodeId;
  }

  private async managerReachability(): Promise<{ reachable: number; unreachable: number }> {
    const conn = this.session.conn!;
    const managers = (await conn.objects.list<Node>('nodes')).items.filter((n) => n.Spec.Role === 'manager');
    const alive = await liveNodeIds(conn.store);
    const reachable = managers.filter((m) => alive.has(m.ID)).length;
    return { reachable, unreachable: managers.length - reachable };
  }

  private async hostAddresses(): Promise<{ interfaces: HostInterface[]; managedSubnets: string[] }> {
    return this.o.hostAddresses ? this.o.hostAddresses() : { interfaces: [], managedSubnets: [] };
  }
}

function withPort(addr: string, port: number): string {
  return /:\d+$/.test(addr) ? addr : `${addr}:${port}`;
}
