// Finding a container as moby's name index does: by full ID, name (with or without "/"), a legacy link's name
// ("/parent/alias") or a unique ID prefix; and the link names each linked container is also known by.
import { ConflictError, InvalidParameterError } from '../errdefs';
import type { ContainerRecord } from './container-record';
import { parseLink } from './network-dns';

export type ContainerRecords = ReadonlyMap<string, ContainerRecord>;

export function findContainer(records: ContainerRecords, ref: string): ContainerRecord | undefined {
  if (!ref) return undefined;
  const direct = records.get(ref);
  if (direct) return direct;
  const name = ref.replace(/^\//, '');
  for (const c of records.values()) if (c.name === name) return c;
  // A legacy link's name, "/parent/alias", names the linked container, as in moby's name index.
  const link = /^([^/]+)\/([^/]+)$/.exec(name);
  if (link) return linkedBy(records, link[1]!, link[2]!);
  if (/^[0-9a-f]+$/.test(ref)) {
    const matches = [...records.values()].filter((c) => c.id.startsWith(ref));
    if (matches.length === 1) return matches[0];
    if (matches.length > 1) throw new InvalidParameterError(`multiple IDs found with provided prefix: ${ref}`);
  }
  return undefined;
}

/** The container `parentName` links to as `alias` (its --link), if it exists. */
function linkedBy(records: ContainerRecords, parentName: string, alias: string): ContainerRecord | undefined {
  const parent = [...records.values()].find((c) => c.name === parentName);
  const link = (parent?.hostConfig.Links ?? []).map(parseLink).find((l) => l.alias === alias);
  // A link to a link name is not followed: two of them could name each other.
  return link && !link.name.includes('/') ? findContainer(records, link.name) : undefined;
}

/** The legacy link names ("/parent/alias") of every linked container, by ID. */
export function linkNamesOf(records: ContainerRecords): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const parent of records.values()) {
    for (const { name, alias } of (parent.hostConfig.Links ?? []).map(parseLink)) {
      const target = findContainer(records, name);
      if (target) out.set(target.id, [...(out.get(target.id) ?? []), `/${parent.name}/${alias}`]);
    }
  }
  return out;
}

/** Whether a container already has the name (without "/"). */
export function nameTaken(records: ContainerRecords, name: string): boolean {
  for (const c of records.values()) if (c.name === name) return true;
  return false;
}

/** Refuses a name another container has, in Docker's words. */
export function checkNameFree(records: ContainerRecords, name: string): void {
  const owner = findContainer(records, name);
  if (owner && owner.name === name) {
    throw new ConflictError(`Conflict. The container name "/${name}" is already in use by container "${owner.id}". You have to remove (or rename) that container to be able to reuse that name.`);
  }
}
