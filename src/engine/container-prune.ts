// `docker container prune`: every stopped container the filter keeps is removed; what it took on disk is counted.
import { isRunning, type ContainerRecord } from './container-record';
import type { ContainerService } from './containers';
import { errorMessage } from '../errdefs';

export interface PruneReport { ContainersDeleted: string[]; SpaceReclaimed: number }

export async function pruneContainers(
  containers: ContainerService, filter: (c: ContainerRecord) => boolean, log: { error(message: string): void },
): Promise<PruneReport> {
  const report: PruneReport = { ContainersDeleted: [], SpaceReclaimed: 0 };
  for (const c of containers.all()) {
    if (isRunning(c.state.status) || !filter(c)) continue;
    const size = await containers.sizeRw(c);
    try {
      await containers.remove(c.id, {});
      report.ContainersDeleted.push(c.id);
      report.SpaceReclaimed += size;
    } catch (e) {
      // One that cannot go (removed meanwhile, a busy mount) does not stop the others.
      log.error(`prune ${c.id}: ${errorMessage(e)}`);
    }
  }
  return report;
}
