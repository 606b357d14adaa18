// How the node's membership (cluster.ts) starts and stops the node's overlay service, and hands its port to the
// engine: daemon.ts gives the production adapters through ClusterOptions.overlay; none given, no overlays.
import type { OverlayAttachments } from '../../engine/overlay-port';
import type { ClusterStore } from '../store/store';
import { NodeOverlay, type NodeOverlayOptions } from './node-overlay';

export interface NodeOverlayWiring {
  /** The adapters and engine callbacks of this host (everything but who the node is and the store). */
  adapters(store: ClusterStore): Omit<NodeOverlayOptions, 'nodeId' | 'nodeAddr' | 'store' | 'log'>;
  /** The engine's side: NetworkService.useOverlay (undefined when the node is out of the swarm or stopping). */
  use(port: OverlayAttachments | undefined): void;
}

/** Starts the service and gives the engine its port; a failure is logged, the node works on without overlays. */
export async function startNodeOverlay(w: NodeOverlayWiring | undefined, ctx: { nodeId: string; nodeAddr: string; store: ClusterStore },
  log: { error(m: string): void }): Promise<NodeOverlay | undefined> {
  if (!w) return undefined;
  const node = new NodeOverlay({ ...w.adapters(ctx.store), ...ctx, log });
  try {
    await node.start();
  } catch (e) {
    log.error(`swarm: overlay networking could not start: ${(e as Error).message}`);
    await node.stop({ leave: false }).catch(() => undefined);
    return undefined;
  }
  w.use(node);
  return node;
}

/** Takes the port from the engine, then stops the service (`leave`: and removes all it made). */
export async function stopNodeOverlay(w: NodeOverlayWiring | undefined, node: NodeOverlay | undefined, leave: boolean): Promise<void> {
  if (!node) return;
  w?.use(undefined);
  await node.stop({ leave });
}
