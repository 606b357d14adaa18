// A node in the swarm running: connected to the store, registered (its Node object), its heartbeat kept (and
// re-registered when the lease is lost), its agent, overlay service and control endpoint started, managers
// campaigning for the leadership that runs the manager loops, and `docker node promote/demote` of this node.
import * as fsp from 'node:fs/promises';
import type { ClusterInfo, Node } from '../wire/swarm';
import type { NodeIdentity } from './ca/ca';
import { issueNodeCertificate, nodeCertAddresses, nodeCertDays, tlsInfoOf } from './ca/ca';
import type { JoinAnswer, JoinAsk, PromoteAnswer } from './control/messages';
import { describeNode } from './node/description';
import { heartbeatTtlSeconds, startHeartbeat } from './node/heartbeat';
import type { NodeSession } from './node-session';
import type { SwarmState } from './node/state';
import { RoleReconciler, type NodeRole, type RoleChangeOutcome } from './node/role-reconciler';
import { openRoot } from './node/state-lock';
import type { ClusterOptions } from './options';
import { startNodeOverlay } from './overlay/node-overlay-wiring';
import type { StoreConnection } from './ports';
import { LEADER_ELECTION, TEXT, type StoredCluster } from './stored-cluster';
import { StoreUnavailable } from './store/store';

/** What the running node needs from the other parts: autolock's sync, a manager's answers, a promoted node's ask. */
export interface ActivationParts {
  lockSync(): Promise<void>;
  acceptJoin(token: string, ask: JoinAsk): Promise<JoinAnswer>;
  acceptPromotion(peer: NodeIdentity, csrPem: string): Promise<PromoteAnswer>;
  askPromotion(cluster: StoredCluster): Promise<PromoteAnswer & { keyPem: string }>;
}

export class Activation {
  /** `docker node promote/demote` of this node, acted on one at a time (node/role-reconciler.ts). */
  private readonly roles: RoleReconciler;

  constructor(private readonly session: NodeSession, private readonly o: ClusterOptions, private readonly parts: ActivationParts) {
    this.roles = new RoleReconciler({
      desired: async () => {
        const s = session.state;
        return s && session.conn ? (await session.conn.objects.get<Node>('nodes', s.nodeId))?.Spec.Role : undefined;
      },
      running: () => session.state!.role,
      live: () => !!session.state && session.phase === 'active' && !session.stopping,
      change: (role) => this.changeRole(role),
    });
  }

  /** Connects, registers the node, starts the heartbeat, the agent, and (managers) the election and control endpoint. */
  async activate(availability: 'active' | 'pause' | 'drain' = 'active'): Promise<void> {
    const session = this.session;
    const s = session.state!;
    const certs = await session.stateFile.readCertificates();
    if (!session.conn) session.conn = await this.o.connect(s.etcdEndpoints, certs);
    const conn = session.conn;
    const cluster = await session.readCluster();
    session.lease = await startHeartbeat(conn.store, s.nodeId, heartbeatTtlSeconds(cluster.Spec.Dispatcher?.HeartbeatPeriod), session.controlAddr());
    session.lease.onLost(() => {
      if (session.stopping) return;
      this.o.log.error('swarm: heartbeat lease lost; re-registering');
      void this.reRegister();
    });
    await this.register(availability, tlsInfoOf(certs.caPem));
    await this.refreshEndpoints(conn);
    session.stopping = false;
    // Before the agent: its task containers join overlays through this service.
    session.overlay = await startNodeOverlay(this.o.overlay, { nodeId: s.nodeId, nodeAddr: s.advertiseAddr, store: conn.store }, this.o.log);
    session.agent = await this.o.roles.startAgent({ nodeId: s.nodeId, objects: conn.objects, store: conn.store });
    if (this.o.control) {
      const listen = s.listenAddr.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
      session.controlServer = await this.o.control({
        host: !listen || listen === '0.0.0.0' || listen === '::' ? s.advertiseAddr : listen, port: s.controlPort, tls: certs, log: this.o.log,
        handlers: {
          join: (token, ask) => this.parts.acceptJoin(token, ask),
          taskLogs: async (taskId, options) => this.o.roles.localTaskLogs?.(taskId, options),
          exportImage: async (ref) => this.o.exportImage?.(ref),
          promote: (peer, csrPem) => this.parts.acceptPromotion(peer, csrPem),
        },
      });
    }
    if (s.role === 'manager') void this.campaign();
    session.roleWatch = await conn.objects.watch(['nodes', 'cluster'], (await conn.objects.list('cluster')).revision, (changes) => {
      // Autolock turned on or off, or its key rotated, through another manager: this node's secrets follow.
      if (changes.some((c) => c.kind === 'cluster')) void this.parts.lockSync();
      if (session.state === s && changes.some((c) => c.kind === 'nodes' && c.id === s.nodeId)) this.roles.poke();
    });
    session.phase = 'active';
    session.error = '';
    // Autolock may have been turned on, off or rotated while this node was down.
    void this.parts.lockSync();
    // A promotion or demotion written before the watch above began (while this node was down, or while it was still
    // activating after its last role change) is seen here.
    this.roles.poke();
  }

  /**
   * `docker node promote/demote` of this node: a promoted worker adds itself to etcd's membership and starts a
   * member; a demoted manager leaves the membership and stops its member; either way with a certificate for the new
   * role, then registered again. A failure before anything was stopped leaves the node as it was, for another try.
   */
  private async changeRole(role: NodeRole): Promise<RoleChangeOutcome> {
    const session = this.session;
    const s = session.state!;
    const conn = session.conn!;
    let stopped = false;
    this.o.log.info(`swarm: the swarm made this node a ${role}; changing role`);
    try {
      const cluster = await session.readCluster();
      const members = await conn.members.list();
      const member = session.memberOf(s.nodeId, s.advertiseAddr);
      // A worker holds no CA key: a manager signs its manager certificate and hands it the cluster data key. A
      // demoted manager still can sign its own worker certificate, and drops the data key.
      const promoted = role === 'manager' ? await this.parts.askPromotion(cluster) : undefined;
      const cert = promoted ?? await issueNodeCertificate(this.o.signer, openRoot(cluster.RootCA, session.stateFile.dek), { nodeId: s.nodeId, role, clusterId: cluster.ID },
        nodeCertAddresses(s.advertiseAddr), nodeCertDays(cluster.Spec.CAConfig?.NodeCertExpiry));
      let initialCluster = '';
      if (role === 'manager') initialCluster = (await conn.members.add(s.nodeId, member.peerUrl)).initialCluster;
      else await conn.members.remove(s.nodeId);
      const others = members.filter((m) => m.name !== s.nodeId).flatMap((m) => m.clientUrls);
      // Until activated again in the new role the node answers as one that is not ready (moby's "pending"), not
      // as the half-stopped node it is.
      session.phase = 'pending';
      stopped = true;
      await session.teardown();
      const tls = await session.stateFile.saveCertificates({ certPem: cert.certPem, keyPem: cert.keyPem, caPem: cluster.TLSInfo.TrustRoot },
        promoted ? { dek: promoted.dek, unlockKey: promoted.unlockKey } : {});
      session.sealedWith = promoted?.unlockKey;
      const next: SwarmState = { ...s, role, etcdEndpoints: role === 'manager' ? [member.clientUrl, ...others] : others };
      if (role === 'manager') {
        next.member = member;
        session.member = await this.o.etcd.start({ ...member, initialCluster, state: 'existing', tls });
      } else {
        delete next.member;
        await fsp.rm(member.dataDir, { recursive: true, force: true });
      }
      session.state = next;
      await session.stateFile.save(next);
      await this.activate();
      this.o.log.info(`swarm: this node is now a ${role}`);
      return 'done';
    } catch (err) {
      const message = `changing role to ${role}: ${(err as Error).message}`;
      this.o.log.error(`swarm: ${message}${stopped ? '' : '; trying again'}`);
      if (!stopped) return 'retry';
      session.phase = 'error';
      session.error = message;
      return 'failed';
    }
  }

  private async reRegister(): Promise<void> {
    const session = this.session;
    for (let delay = 500; !session.stopping && session.state && session.conn; delay = Math.min(delay * 2, 5000)) {
      try {
        const cluster = await session.readCluster();
        session.lease = await startHeartbeat(session.conn.store, session.state.nodeId, heartbeatTtlSeconds(cluster.Spec.Dispatcher?.HeartbeatPeriod), session.controlAddr());
        session.lease.onLost(() => { if (!session.stopping) void this.reRegister(); });
        await this.register(undefined, cluster.TLSInfo);
        session.error = '';
        if (session.state.role === 'manager') void this.campaign();
        return;
      } catch (err) {
        session.error = err instanceof StoreUnavailable ? TEXT.recovery : (err as Error).message;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** Writes this node's Node object: created at first, its Description and Status refreshed after. */
  private async register(availability: 'active' | 'pause' | 'drain' | undefined, tls: ClusterInfo['TLSInfo']): Promise<void> {
    const s = this.session.state!;
    const objects = this.session.conn!.objects;
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
    const session = this.session;
    const s = session.state;
    const conn = session.conn;
    const lease = session.lease;
    if (!s || !conn || !lease || session.leadership) return;
    try {
      const leadership = await conn.store.campaign(LEADER_ELECTION, s.nodeId, lease);
      if (session.stopping || session.lease !== lease) { await leadership.resign().catch(() => undefined); return; }
      session.leadership = leadership;
      this.o.log.info(`swarm: ${s.nodeId} leads the managers`);
      leadership.onLost(() => {
        session.leadership = undefined;
        const loops = session.managerLoops;
        session.managerLoops = undefined;
        void loops?.stop();
        this.o.log.info('swarm: leadership lost');
      });
      session.managerLoops = await this.o.roles.startManager({ nodeId: s.nodeId, objects: conn.objects, store: conn.store });
    } catch (err) {
      if (session.stopping) return;
      this.o.log.error(`swarm: campaign: ${(err as Error).message}`);
      setTimeout(() => void this.campaign(), 1000).unref();
    }
  }

  /**
   * The etcd client URLs of the current members, kept in state.json so a restarted node reaches the managers
   * there are now, not the ones it joined through (this node's own member first).
   */
  private async refreshEndpoints(conn: StoreConnection): Promise<void> {
    const s = this.session.state!;
    const urls = (await conn.members.list().catch(() => [])).flatMap((m) => m.clientUrls);
    if (!urls.length) return;
    const own = s.member?.clientUrl;
    const endpoints = own ? [own, ...urls.filter((u) => u !== own)] : urls;
    if (JSON.stringify(endpoints) === JSON.stringify(s.etcdEndpoints)) return;
    s.etcdEndpoints = endpoints;
    await this.session.stateFile.save(s);
  }
}
