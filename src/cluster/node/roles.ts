// What runs on a node by its role: the agent's Worker on every node, the manager's loops on the elected leader,
// and this node's task logs as the stream the logs routes and peers read (dockerd's rendering, multiplexed).
import { Readable } from 'node:stream';
import type { LogOptions } from '../backend';
import { ClusterManager } from '../manager/manager';
import { systemClock } from '../manager/clock';
import { EtcdOverlayAllocator } from '../overlay/allocator-etcd';
import { KeyRotation } from '../overlay/encryption-keys';
import { clusterAddressPool } from '../overlay/networks-api';
import { TaskAttachments } from '../overlay/task-attachments';
import { probeHostRoutes } from '../../network/host-routes';
import { Worker } from '../agent/worker';
import { localTaskLogs, renderLogLine } from '../agent/task-logs';
import type { TaskRuntime } from '../agent/task-runtime';
import type { NodeFallback } from '../agent/task-inputs';
import type { ClusterRoles } from '../ports';

export interface RoleParts {
  runtime: TaskRuntime;
  node: NodeFallback;
  /** An image no registry has, from a peer node that has it. */
  fetchFromPeer?: (image: string) => Promise<void>;
  log: { info(m: string): void; error(m: string): void };
}

/** A frame of Docker's multiplexed stream: 1 = stdout, 2 = stderr, then the length. */
function frame(stream: 'stdout' | 'stderr', payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header[0] = stream === 'stdout' ? 1 : 2;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

export function clusterRoles(parts: RoleParts): ClusterRoles {
  return {
    async startManager(ctx) {
      const allocator = new EtcdOverlayAllocator(ctx.store, { addressPool: () => clusterAddressPool(ctx.objects), hostRoutes: probeHostRoutes });
      const manager = new ClusterManager(ctx.objects, {
        log: (m) => parts.log.info(`swarm manager: ${m}`), taskNetworks: new TaskAttachments(ctx.objects, allocator),
      });
      const keys = new KeyRotation(ctx.store, systemClock, (m) => parts.log.error(`swarm manager: ${m}`));
      await manager.start();
      await keys.start();
      return { stop: async () => { keys.stop(); await manager.stop(); } };
    },
    async startAgent(ctx) {
      const worker = new Worker({ nodeId: ctx.nodeId, objects: ctx.objects, runtime: parts.runtime, node: parts.node, fetchFromPeer: parts.fetchFromPeer, log: parts.log });
      await worker.start();
      return { stop: () => worker.stop() };
    },
    async localTaskLogs(taskId: string, o: LogOptions) {
      const abort = new AbortController();
      const lines = localTaskLogs(parts.runtime, { taskId }, {
        follow: o.follow, stdout: o.stdout, stderr: o.stderr, signal: abort.signal,
        ...(o.since ? { sinceNano: BigInt(Math.floor(o.since * 1e9)) } : {}),
        ...(o.tail !== 'all' ? { tail: o.tail } : {}),
      });
      async function* frames(): AsyncGenerator<Buffer> {
        for await (const line of lines) yield frame(line.stream, renderLogLine(line, { timestamps: o.timestamps, details: o.details }));
      }
      const stream = Readable.from(frames());
      stream.once('close', () => abort.abort());
      return { tty: false, stream };
    },
  };
}
