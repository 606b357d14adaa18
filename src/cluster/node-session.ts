// This node's place in a swarm as it stands now — the phase, the state kept on disk, the running parts (etcd member,
// store connection, heartbeat lease, leadership and loops, agent, overlay service, control endpoint) — and how those
// parts stop. The membership, activation, autolock and manager-access modules all read and change this one record.
import type { SwarmObjectsApi } from './objects-api';
import type { ClusterOptions } from './options';
import type { EtcdMemberProcess, Running, StoreConnection } from './ports';
import { readStoredCluster, type StoredCluster } from './stored-cluster';
import { SwarmStateFile, type SwarmState } from './node/state';
import type { NodeOverlay } from './overlay/node-overlay';
import { stopNodeOverlay } from './overlay/node-overlay-wiring';
import type { Lease, Leadership } from './store/store';

export type Phase = 'inactive' | 'pending' | 'active' | 'error' | 'locked';

export class NodeSession {
  phase: Phase = 'inactive';
  error = '';
  state: SwarmState | undefined;
  member: EtcdMemberProcess | undefined;
  conn: StoreConnection | undefined;
  lease: Lease | undefined;
  leadership: Leadership | undefined;
  managerLoops: Running | undefined;
  agent: Running | undefined;
  overlay: NodeOverlay | undefined;
  controlServer: Running | undefined;
  roleWatch: { cancel(): Promise<void> } | undefined;
  /** Bumped by every teardown: background work of an earlier membership stops when it sees a new one. */
  generation = 0;
  stopping = false;
  /** The object API over the current connection (manager-access.ts), dropped with it. */
  api: SwarmObjectsApi | undefined;
  /** The unlock key this node's secrets are sealed with now (undefined: in the clear); lockSync keeps it current. */
  sealedWith: string | undefined;
  readonly stateFile: SwarmStateFile;

  constructor(private readonly o: Pick<ClusterOptions, 'dataRoot' | 'runRoot' | 'ports' | 'overlay' | 'log'>) {
    this.stateFile = new SwarmStateFile(o.dataRoot, o.runRoot);
  }

  async readCluster(): Promise<StoredCluster> {
    return readStoredCluster(this.conn!.objects);
  }

  controlAddr(): string {
    const s = this.state!;
    return `${s.advertiseAddr.includes(':') ? `[${s.advertiseAddr}]` : s.advertiseAddr}:${s.controlPort}`;
  }

  memberOf(nodeId: string, advertiseAddr: string): NonNullable<SwarmState['member']> {
    const host = advertiseAddr.includes(':') ? `[${advertiseAddr}]` : advertiseAddr;
    return {
      name: nodeId,
      clientUrl: `https://${host}:${this.o.ports.etcdClient}`,
      peerUrl: `https://${host}:${this.o.ports.etcdPeer}`,
      dataDir: `${this.stateFile.dir}/etcd`,
    };
  }

  /** Stops every loop, the heartbeat, the control endpoint, the store connection and this node's etcd member. */
  async teardown(): Promise<void> {
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
  async stopOverlay(leave: boolean): Promise<void> {
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
}
