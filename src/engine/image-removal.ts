// `docker rmi` and `docker image prune`: moby's untag-then-delete rules and its delete conflicts
// (daemon/images/image_delete.go); the layers nothing holds any more go with the image.
import { chainIdOf, type LayerRecord } from '../image/layer-store';
import type { LocalImages } from '../image/local-images';
import { parseAnyReference, truncateId, type ImageReference } from '../wire/reference';
import { failpoint } from '../store/failpoint';
import { ConflictError, NotFoundError } from '../errdefs';
import { publishImageEvent, type EventBus } from './events';
import { labelFiltersMatch } from './filters';
import { parseUntil } from '../wire/timestamps';
import { Filters } from '../wire/filters';

export interface ImageDeleteItem { Untagged?: string; Deleted?: string }

export interface PruneReport { ImagesDeleted: ImageDeleteItem[] | null; SpaceReclaimed: number }

export class ImageRemoval {
  constructor(private readonly images: LocalImages, private readonly events: EventBus) {
    // The layers of an image removed while a container used it (rmi -f) go with the last such container.
    this.events.subscribe((ev) => {
      if (ev.Type === 'container' && ev.Action === 'destroy') void this.images.collectRetained();
    });
  }

  /** `docker rmi`: untags by name, deletes by ID or when the last tag goes; Docker's conflict rules. */
  async remove(refOrId: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<ImageDeleteItem[]> {
    return this.images.locked(() => this.images.index.batch(() => this.removeLocked(refOrId, !!opts.force, !opts.noprune)));
  }

  private async removeLocked(imageRef: string, force: boolean, prune: boolean): Promise<ImageDeleteItem[]> {
    const imgId = this.images.resolveId(imageRef);
    const records: ImageDeleteItem[] = [];
    let repoRefs = this.images.index.references(imgId);
    let removedRepositoryRef = false;
    if (!isImageIdPrefix(imgId, imageRef)) {
      if (!force && isSingleReference(repoRefs)) {
        const user = this.images.users(imgId)[0];
        if (user) {
          throw new ConflictError(`conflict: unable to remove repository reference ${JSON.stringify(imageRef)} (must force) - container ${truncateId(user.id)} is using its referenced image ${truncateId(imgId)}`);
        }
      }
      const any = parseAnyReference(imageRef);
      const parsed = any.kind === 'named' ? (any.ref.digest !== undefined ? any.ref.nameOnly().withDigest(any.ref.digest) : any.ref.withDefaultTag()) : undefined;
      if (parsed && (await this.images.index.deleteReference(parsed))) {
        records.push({ Untagged: parsed.familiar() });
        this.event('untag', imgId, imgId);
      }
      repoRefs = this.images.index.references(imgId);
      if (parsed && parsed.digest === undefined) {
        const sameRepoTag = repoRefs.some((r) => r.digest === undefined && r.name === parsed.name);
        if (!sameRepoTag) {
          const remaining: ImageReference[] = [];
          for (const r of repoRefs) {
            if (r.digest !== undefined && r.name === parsed.name) {
              await this.images.index.deleteReference(r);
              records.push({ Untagged: r.familiar() });
            } else remaining.push(r);
          }
          repoRefs = remaining;
        }
      }
      if (repoRefs.length > 0) return records;
      removedRepositoryRef = true;
    } else if (isSingleReference(repoRefs)) {
      const conflict = this.deleteConflict(imgId, force ? HARD : HARD | (SOFT & ~ACTIVE_REFERENCE));
      if (conflict) throw conflict.error();
      for (const r of repoRefs) {
        await this.images.index.deleteReference(r);
        records.push({ Untagged: r.familiar() });
        this.event('untag', imgId, imgId);
      }
    }
    await this.deleteHelper(imgId, records, force, prune, removedRepositoryRef);
    return records;
  }

  private async deleteHelper(imgId: string, records: ImageDeleteItem[], force: boolean, prune: boolean, quiet: boolean): Promise<void> {
    const conflict = this.deleteConflict(imgId, force ? HARD : HARD | SOFT);
    if (conflict) {
      const dangling = this.images.index.references(imgId).length === 0 && this.images.index.children(imgId).length === 0;
      if (quiet && (!dangling || conflict.used)) return;
      throw conflict.error();
    }
    const parent = this.images.index.meta(imgId).parent;
    for (const r of this.images.index.references(imgId)) {
      await this.images.index.deleteReference(r);
      records.push({ Untagged: r.familiar() });
      this.event('untag', imgId, imgId);
    }
    const config = this.images.index.config(imgId);
    const top = chainIdOf(config.rootfs?.diff_ids ?? []);
    const labels = config.config?.Labels ?? {};
    const stillUsed = this.images.users(imgId).length > 0;
    await this.images.index.delete(imgId, stillUsed ? top : undefined);
    this.events.publish('image', 'delete', imgId, { ...labels, name: imgId });
    records.push({ Deleted: imgId });
    // The untag and the delete reach the disk together, before any layer goes.
    await this.images.index.flushNow();
    failpoint('rmi-deleted');
    const removed = await this.images.sweep();
    for (const l of topFirst(removed)) records.push({ Deleted: l.chainId });
    if (!prune || !parent || !this.images.index.has(parent)) return;
    await this.deleteHelper(parent, records, false, true, true);
  }

  private deleteConflict(imgId: string, mask: number): { used: boolean; error(): ConflictError } | null {
    const make = (hard: boolean, used: boolean, message: string) => ({
      used,
      error: () => new ConflictError(`conflict: unable to delete ${truncateId(imgId)} (${hard ? 'cannot be forced' : 'must be forced'}) - ${message}`),
    });
    if (mask & DEPENDENT_CHILD && this.images.index.children(imgId).length > 0) return make(true, false, 'image has dependent child images');
    const users = this.images.users(imgId);
    if (mask & RUNNING_CONTAINER) {
      const running = users.find((u) => u.running);
      if (running) return make(true, true, `image is being used by running container ${truncateId(running.id)}`);
    }
    if (mask & ACTIVE_REFERENCE && this.images.index.references(imgId).length > 0) return make(false, false, 'image is referenced in multiple repositories');
    if (mask & STOPPED_CONTAINER) {
      const stopped = users.find((u) => !u.running);
      if (stopped) return make(false, true, `image is being used by stopped container ${truncateId(stopped.id)}`);
    }
    return null;
  }

  /** `docker image prune`: dangling images by default, unused ones with `dangling=false` (-a). */
  async prune(filters: Filters = new Filters()): Promise<PruneReport> {
    const danglingOnly = filters.bool('dangling') ?? true;
    const until = filters.get('until')?.map(parseUntil);
    const report = await this.images.locked(async () => {
      const sizes = new Map(this.images.layers.list().map((l) => [l.chainId, l.size]));
      const deleted: ImageDeleteItem[] = [];
      const candidates = this.images.index.ids().filter((id) => !danglingOnly || this.images.index.children(id).length === 0);
      for (const id of candidates) {
        if (!this.images.index.has(id)) continue;
        if (this.images.index.references(id).length === 0 && this.images.index.children(id).length !== 0) continue;
        const cfg = this.images.index.config(id);
        const created = Date.parse(cfg.created ?? '') || 0;
        if (until && until.some((u) => created > u)) continue;
        const labels = cfg.config?.Labels ?? {};
        if (!labelFiltersMatch(labels, filters)) continue;
        const refs = this.images.index.references(id);
        if (refs.length) {
          const shouldDelete = !danglingOnly || !refs.some((r) => r.tag !== undefined && r.digest === undefined);
          if (!shouldDelete) continue;
          for (const r of refs) {
            try {
              deleted.push(...(await this.images.index.batch(() => this.removeLocked(r.toString(), false, true))));
            } catch (err) {
              if (!(err instanceof ConflictError) && !(err instanceof NotFoundError)) throw err;
            }
          }
        } else {
          try {
            deleted.push(...(await this.images.index.batch(() => this.removeLocked(id.slice(7), false, true))));
          } catch (err) {
            if (!(err instanceof ConflictError) && !(err instanceof NotFoundError)) throw err;
          }
        }
      }
      // Also what nothing holds any more without an image being deleted now (a failed import's blob...).
      for (const l of topFirst(await this.images.sweep())) deleted.push({ Deleted: l.chainId });
      let reclaimed = 0;
      for (const item of deleted) if (item.Deleted && sizes.has(item.Deleted)) reclaimed += sizes.get(item.Deleted)!;
      return { ImagesDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed };
    });
    this.events.publish('image', 'prune', '', { reclaimed: String(report.SpaceReclaimed) });
    return report;
  }

  private event(action: string, id: string, name: string): void {
    publishImageEvent(this.events, this.images, action, id, name);
  }
}

const DEPENDENT_CHILD = 1;
const RUNNING_CONTAINER = 2;
const ACTIVE_REFERENCE = 4;
const STOPPED_CONTAINER = 8;
const HARD = DEPENDENT_CHILD | RUNNING_CONTAINER;
const SOFT = ACTIVE_REFERENCE | STOPPED_CONTAINER;

/** Layers ordered so that each comes before its parent (the order Docker reports removed layers in). */
function topFirst(layers: LayerRecord[]): LayerRecord[] {
  const byId = new Map(layers.map((l) => [l.chainId, l]));
  const depth = (l: LayerRecord): number => {
    let d = 0;
    for (let p = l.parent; p !== null && byId.has(p); p = byId.get(p)!.parent) d++;
    return d;
  };
  return [...layers].sort((a, b) => depth(b) - depth(a));
}

function isImageIdPrefix(imageId: string, possiblePrefix: string): boolean {
  if (imageId.startsWith(possiblePrefix)) return true;
  const i = imageId.indexOf(':');
  return i >= 0 && imageId.slice(i + 1).startsWith(possiblePrefix);
}

/** At most one tag reference, and all references within one repository (moby's isSingleReference). */
function isSingleReference(refs: ImageReference[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  let single: ImageReference | undefined;
  const names = new Set<string>();
  for (const r of refs) {
    if (r.digest !== undefined) names.add(r.name);
    else if (!single) { names.add(r.name); single = r; }
    else return false;
  }
  single ??= refs[0]!;
  return names.size === 1 && names.has(single.name);
}
