// Who may use the manager-only API: the object API (objects-api.ts) when this node is an active manager, moby's
// 503 texts otherwise; the calls under way counted so a leave or --force-new-cluster lets them finish first; and the
// swarm's networks as the network routes see them.
import { UnavailableError } from '../errdefs';
import type { SwarmNetworks } from './backend';
import { lockedError } from './node/state-lock';
import { liveNodeIds } from './node/heartbeat';
import type { NodeSession } from './node-session';
import { SwarmObjectsApi, type ObjectsApiContext } from './objects-api';
import type { ClusterOptions } from './options';
import { EtcdOverlayAllocator } from './overlay/allocator-etcd';
import { clusterAddressPool } from './overlay/networks-api';
import type { StoreConnection } from './ports';
import { LEADER_ELECTION, TEXT } from './stored-cluster';
import { probeHostRoutes, type HostRouteProbe } from '../network/host-routes';

/** What the object API gets from the other parts of the node: peers' task logs, autolock's part of a swarm update. */
export type ManagerAccessParts = Required<Pick<ObjectsApiContext, 'remoteTaskLogs' | 'lockUpdate'>>;

export class ManagerAccess {
  /** Object API calls under way, and whether new ones wait out a leave (see managerCall). */
  private readonly managerCalls = new Set<Promise<unknown>>();
  private quiescing = false;

  constructor(
    private readonly session: NodeSession,
    private readonly o: Pick<ClusterOptions, 'roles' | 'hostRoutes' | 'encryptionUnsupported'>,
    private readonly parts: ManagerAccessParts,
  ) {}

  /**
   * One object API call, counted while it runs: a leave (or --force-new-cluster) lets the calls under way finish
   * before it closes the store under them, and refuses new ones meanwhile (moby's c.mu around manager actions).
   */
  managerCall<T>(call: (api: SwarmObjectsApi) => Promise<T>): Promise<T> {
    let run: Promise<T>;
    try { run = call(this.objectsApi()); } catch (err) { return Promise.reject(err); }
    this.managerCalls.add(run);
    const done = () => { this.managerCalls.delete(run); };
    run.then(done, done);
    return run;
  }

  /** Runs `work` with new object API calls refused, once those under way have settled. */
  async whileQuiesced<T>(work: () => Promise<T>): Promise<T> {
    this.quiescing = true;
    await Promise.allSettled([...this.managerCalls]);
    try { return await work(); } finally { this.quiescing = false; }
  }

  /** The object API when this node is an active manager; moby's 503 texts otherwise. */
  objectsApi(): SwarmObjectsApi {
    const session = this.session;
    if (session.phase === 'inactive' || !session.state || this.quiescing) throw new UnavailableError(TEXT.inactiveNotManager);
    if (session.phase === 'locked') throw lockedError();
    if (session.state.role !== 'manager') throw new UnavailableError(session.phase === 'active' ? TEXT.workerNotManager : TEXT.inactiveNotManager);
    if (session.phase !== 'active' || !session.conn) throw new UnavailableError(TEXT.managerPreparing);
    session.api ??= new SwarmObjectsApi(session.conn, {
      nodeId: session.state.nodeId,
      allocator: overlayAllocator(session.conn, this.o.hostRoutes),
      leader: () => session.conn!.store.leader(LEADER_ELECTION),
      alive: () => liveNodeIds(session.conn!.store),
      localTaskLogs: this.o.roles.localTaskLogs?.bind(this.o.roles),
      remoteTaskLogs: this.parts.remoteTaskLogs,
      onUnavailable: () => { session.error = TEXT.recovery; },
      ...(this.o.encryptionUnsupported ? { encryptionUnsupported: () => this.o.encryptionUnsupported!() } : {}),
      lockUpdate: this.parts.lockUpdate,
    });
    return session.api;
  }

  /** The swarm's networks for the network routes (overlay/networks-api.ts): Scope swarm, only on managers. */
  swarmNetworks(): SwarmNetworks {
    const manager = () => this.session.phase === 'active' && this.session.state?.role === 'manager' && !this.quiescing;
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
}

/** Overlay address management for this node's store connection (host routes of this host kept out of new subnets). */
export function overlayAllocator(conn: StoreConnection, hostRoutes: HostRouteProbe | undefined): EtcdOverlayAllocator {
  return new EtcdOverlayAllocator(conn.store, { addressPool: () => clusterAddressPool(conn.objects), hostRoutes: hostRoutes ?? probeHostRoutes });
}
