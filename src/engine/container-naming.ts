// A container's names as others see them: its own (docker rename) and the legacy links a parent holds to it
// (docker rm --link). The records, their store and the locks stay ContainerService's; this is only the rules.
import * as path from 'node:path';
import { ConflictError, InvalidParameterError, NotFoundError, errorMessage } from '../errdefs';
import type { ContainerRecord, ContainerRecordStore } from './container-record';
import { isRunning } from './container-record';
import { checkNameFree, type ContainerRecords } from './container-lookup';
import { validateContainerName } from './names';
import { parseLink } from './network-dns';
import type { KeyedMutex } from '../util/mutex';

export interface NamingContext {
  records: ContainerRecords;
  store: ContainerRecordStore;
  /** The service's lock: 'names' serializes name changes with creates. */
  lock: KeyedMutex;
  get(ref: string): ContainerRecord;
  find(ref: string): ContainerRecord | undefined;
  /** `fn` under the container's lock, unless a removal took it away first. */
  whileExists(c: ContainerRecord, fn: () => Promise<void>): Promise<void>;
  /** Writes a running container's /etc files again (its /etc/hosts lists its links). */
  rewriteEtcFiles(c: ContainerRecord): Promise<void>;
  emit(c: ContainerRecord, action: string, extra?: Record<string, string>): void;
  log: { error(msg: string): void };
}

/** POST /containers/{id}/rename. */
export async function renameContainer(o: NamingContext, ref: string, newName: string): Promise<void> {
  if (!ref || !newName) throw new InvalidParameterError('Neither old nor new names may be empty');
  const c = o.get(ref);
  const name = validateContainerName(newName);
  await o.lock.run('names', async () => {
    if (c.name === name) throw new ConflictError(`Renaming a container with the same name as its current name`);
    checkNameFree(o.records, name);
    const oldName = c.name;
    o.records.rename(c, name);
    await o.store.save(c);
    o.emit(c, 'rename', { oldName: `/${oldName}` });
  });
}

/**
 * DELETE /containers/{parent}/{alias}?link=1 (moby's rmLink): the parent forgets its link, the linked container
 * stays. A running parent's /etc/hosts loses the link's line; its environment changes at its next start.
 */
export async function removeLink(o: NamingContext, ref: string): Promise<void> {
  o.get(ref);
  const name = ref.startsWith('/') ? ref : `/${ref}`;
  const parentName = path.posix.dirname(name);
  if (parentName === '/') throw new ConflictError('Conflict, cannot remove the default link name of the container');
  const alias = path.posix.basename(name);
  const parent = o.find(parentName);
  if (!parent) throw new NotFoundError(`Cannot get parent ${parentName} for link name ${name}`);
  await o.whileExists(parent, async () => {
    const links = parent.hostConfig.Links ?? [];
    const kept = links.filter((l) => parseLink(l).alias !== alias);
    parent.hostConfig = { ...parent.hostConfig, Links: kept.length ? kept : null };
    await o.store.save(parent);
    if (isRunning(parent.state.status)) {
      await o.rewriteEtcFiles(parent).catch((e) => o.log.error(`/etc/hosts of ${parent.id} after removing link ${name}: ${errorMessage(e)}`));
    }
  });
}
