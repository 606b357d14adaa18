// Finding a container as moby's name index does: by full ID, name (with or without "/"), a legacy link's name
// ("/parent/alias") or a unique ID prefix; and the link names each linked container is also known by.
import { ConflictError, InvalidParameterError } from '../errdefs';
import type { ContainerRecord } from './container-record';
import { parseLink } from './network-dns';

/** The length of the short IDs clients show and send back (`docker ps`, `docker stats`): indexed for lookups. */
const SHORT_ID = 12;

/**
 * The containers by ID, with indexes by name and by short ID kept beside it: a lookup by name or short ID costs the
 * same with 1,000 containers as with one (`docker stats` of all of them sends one such lookup per container).
 * Names change only through set, delete and rename.
 */
export class ContainerRecords extends Map<string, ContainerRecord> {
  private readonly byName = new Map<string, ContainerRecord>();
  private readonly byShortId = new Map<string, ContainerRecord[]>();

  /** Empty: Map's constructor would set entries before the indexes exist. */
  constructor() {
    super();
  }

  override set(id: string, c: ContainerRecord): this {
    const old = this.get(id);
    if (old) this.unindex(old);
    super.set(id, c);
    this.byName.set(c.name, c);
    const short = id.slice(0, SHORT_ID);
    this.byShortId.set(short, [...(this.byShortId.get(short) ?? []), c]);
    return this;
  }

  override delete(id: string): boolean {
    const old = this.get(id);
    if (old) this.unindex(old);
    return super.delete(id);
  }

  override clear(): void {
    super.clear();
    this.byName.clear();
    this.byShortId.clear();
  }

  /** Gives `c` (one of these records) its new name. */
  rename(c: ContainerRecord, name: string): void {
    if (this.byName.get(c.name) === c) this.byName.delete(c.name);
    c.name = name;
    this.byName.set(name, c);
  }

  named(name: string): ContainerRecord | undefined {
    return this.byName.get(name);
  }

  /** The containers whose ID starts with `prefix` (hex). */
  withIdPrefix(prefix: string): ContainerRecord[] {
    if (prefix.length >= SHORT_ID) return (this.byShortId.get(prefix.slice(0, SHORT_ID)) ?? []).filter((c) => c.id.startsWith(prefix));
    return [...this.values()].filter((c) => c.id.startsWith(prefix));
  }

  private unindex(c: ContainerRecord): void {
    if (this.byName.get(c.name) === c) this.byName.delete(c.name);
    const short = c.id.slice(0, SHORT_ID);
    const rest = (this.byShortId.get(short) ?? []).filter((x) => x !== c);
    if (rest.length) this.byShortId.set(short, rest);
    else this.byShortId.delete(short);
  }
}

export function findContainer(records: ContainerRecords, ref: string): ContainerRecord | undefined {
  if (!ref) return undefined;
  const direct = records.get(ref);
  if (direct) return direct;
  const name = ref.replace(/^\//, '');
  const named = records.named(name);
  if (named) return named;
  // A legacy link's name, "/parent/alias", names the linked container, as in moby's name index.
  const link = /^([^/]+)\/([^/]+)$/.exec(name);
  if (link) return linkedBy(records, link[1]!, link[2]!);
  if (/^[0-9a-f]+$/.test(ref)) {
    const matches = records.withIdPrefix(ref);
    if (matches.length === 1) return matches[0];
    if (matches.length > 1) throw new InvalidParameterError(`multiple IDs found with provided prefix: ${ref}`);
  }
  return undefined;
}

/** The container `parentName` links to as `alias` (its --link), if it exists. */
function linkedBy(records: ContainerRecords, parentName: string, alias: string): ContainerRecord | undefined {
  const parent = records.named(parentName);
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
  return records.named(name) !== undefined;
}

/** Refuses a name another container has, in Docker's words. */
export function checkNameFree(records: ContainerRecords, name: string): void {
  const owner = findContainer(records, name);
  if (owner && owner.name === name) {
    throw new ConflictError(`Conflict. The container name "/${name}" is already in use by container "${owner.id}". You have to remove (or rename) that container to be able to reuse that name.`);
  }
}
