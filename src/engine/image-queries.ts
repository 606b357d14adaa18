// Local image queries: `docker images` (list and its filters), `docker image inspect`, `docker history`.
import * as path from 'node:path';
import type { LocalImages } from '../image/local-images';
import { chainIdNext, chainIdsOf } from '../image/layer-store';
import { familiarMatch } from '../wire/reference';
import { dockerContainerConfig } from '../image/container-config';
import type { ContainerConfig, HistoryItem, ImageSummary } from '../wire/docker';
import type { HistoryEntry } from '../wire/oci';
import { SystemError } from '../errdefs';
import { labelsMatchAll } from './filters';
import { parseUntil } from '../wire/timestamps';
import { Filters } from '../wire/filters';

export interface ListOptions {
  all?: boolean;
  filters?: Filters;
  sharedSize?: boolean;
}

/** `docker image inspect`'s response (API 1.44+ shape; older versions get the legacy fields added by the route). */
export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Parent: string;
  Comment: string;
  Created: string;
  DockerVersion: string;
  Author: string;
  Config: ContainerConfig | null;
  Architecture: string;
  Variant?: string;
  Os: string;
  Size: number;
  GraphDriver: { Name: string; Data: Record<string, string> | null };
  RootFS: { Type: string; Layers?: string[] };
  Metadata: { LastTagTime: string };
  Container?: string;
  ContainerConfig?: ContainerConfig | null;
  VirtualSize?: number;
}

export class ImageQueries {
  constructor(private readonly images: LocalImages) {}

  /**
   * The disk the images' layers take, each layer once however many images share it (`docker system df`'s images
   * SIZE, /system/df's LayersSize).
   */
  layersSize(): number {
    const seen = new Map<string, number>();
    for (const id of this.images.index.ids()) {
      for (const l of this.images.layers.chain(this.images.record(id).topChainId)) seen.set(l.chainId, l.size);
    }
    let total = 0;
    for (const size of seen.values()) total += size;
    return total;
  }

  async list(opts: ListOptions = {}): Promise<ImageSummary[]> {
    const filters = opts.filters ?? new Filters();
    const dangling = filters.bool('dangling');
    const danglingOnly = dangling ?? false;
    const createdOf = (ref: string) => Date.parse(this.images.index.config(this.images.resolveId(ref)).created ?? '') || 0;
    const before = filters.get('before')?.map(createdOf);
    const since = filters.get('since')?.map(createdOf);
    const until = filters.get('until')?.map(parseUntil);
    const layerRefs = new Map<string, number>();
    if (opts.sharedSize) {
      for (const id of this.images.index.ids()) {
        for (const c of chainIdsOf(this.images.index.config(id).rootfs?.diff_ids ?? [])) layerRefs.set(c, (layerRefs.get(c) ?? 0) + 1);
      }
    }
    const out: (ImageSummary & { createdMs: number })[] = [];
    for (const id of this.images.index.ids()) {
      const rec = this.images.record(id);
      const createdMs = Date.parse(rec.created) || 0;
      if (before && before.some((b) => createdMs >= b)) continue;
      if (since && since.some((s) => createdMs <= s)) continue;
      if (until && until.some((u) => createdMs > u)) continue;
      if (!labelsMatchAll(rec.config.config?.Labels ?? {}, filters.get('label'))) continue;
      let refs = this.images.index.references(id);
      if (filters.has('reference')) refs = refs.filter((r) => filters.get('reference')!.some((p) => familiarMatch(p, r)));
      const repoTags = refs.filter((r) => r.tag !== undefined && r.digest === undefined).map((r) => r.familiar());
      const repoDigests = refs.filter((r) => r.digest !== undefined).map((r) => r.familiar());
      if (!repoTags.length && !repoDigests.length) {
        if (opts.all || this.images.index.children(id).length === 0) {
          if (dangling === false) continue;
          if (filters.has('reference')) continue;
        } else continue;
      } else if (danglingOnly && repoTags.length > 0) continue;
      let sharedSize = -1;
      if (opts.sharedSize) {
        sharedSize = 0;
        for (const l of this.images.layers.chain(rec.topChainId)) if ((layerRefs.get(l.chainId) ?? 0) > 1) sharedSize += l.size;
      }
      out.push({
        // The API shows the count from 1.51 (api/api-versions.ts); -1 when no container service tells.
        Containers: this.images.usersKnown(id)?.length ?? -1,
        Created: Math.floor(createdMs / 1000),
        Id: id,
        Labels: rec.config.config?.Labels ?? null as unknown as Record<string, string>,
        ParentId: rec.parent,
        RepoDigests: repoDigests,
        RepoTags: repoTags,
        SharedSize: sharedSize,
        Size: rec.size,
        createdMs,
      });
    }
    out.sort((a, b) => b.createdMs - a.createdMs || (a.Id < b.Id ? -1 : 1));
    return out.map(({ createdMs: _c, ...s }) => s);
  }

  async inspect(refOrId: string): Promise<ImageInspect> {
    const rec = await this.images.resolve(refOrId);
    const c = rec.config;
    const chain = this.images.layers.chain(rec.topChainId);
    let data: Record<string, string> | null = null;
    if (chain.length) {
      const top = chain[0]!;
      data = {};
      if (chain.length > 1) data.LowerDir = chain.slice(1).map((l) => this.images.layers.diffDir(l.chainId)).join(':');
      data.MergedDir = path.join(this.images.layers.dir(top.chainId), 'merged');
      data.UpperDir = this.images.layers.diffDir(top.chainId);
      data.WorkDir = path.join(this.images.layers.dir(top.chainId), 'work');
    }
    const out: ImageInspect = {
      Id: rec.id,
      RepoTags: rec.repoTags,
      RepoDigests: rec.repoDigests,
      Parent: rec.parent,
      Comment: c.comment ?? '',
      Created: c.created ?? '',
      DockerVersion: c.docker_version ?? '',
      Author: c.author ?? '',
      Config: c.config ? dockerContainerConfig(c.config) : null,
      Architecture: c.architecture ?? '',
      Os: c.os ?? '',
      Size: rec.size,
      GraphDriver: { Data: data, Name: 'overlay2' },
      RootFS: { Type: c.rootfs?.type ?? 'layers', Layers: c.rootfs?.diff_ids ?? [] },
      Metadata: { LastTagTime: rec.lastTagTime },
      Container: c.container ?? '',
      ContainerConfig: c.container_config ? dockerContainerConfig(c.container_config) : dockerContainerConfig({}),
      VirtualSize: rec.size,
    };
    if (c.variant) out.Variant = c.variant;
    return out;
  }

  /** `docker history`: newest first, image IDs along the parent chain, "<missing>" elsewhere. */
  async history(refOrId: string): Promise<HistoryItem[]> {
    const rec = await this.images.resolve(refOrId);
    const diffIds = rec.config.rootfs?.diff_ids ?? [];
    const items: HistoryItem[] = [];
    let layerCounter = 0;
    let chain: string | null = null;
    const entries: HistoryEntry[] = rec.config.history?.length ? rec.config.history : diffIds.map(() => ({}));
    for (const h of entries) {
      let size = 0;
      if (!h.empty_layer) {
        if (layerCounter >= diffIds.length) throw new SystemError('too many non-empty layers in History section');
        chain = chainIdNext(chain, diffIds[layerCounter]!);
        size = this.images.layers.has(chain) ? this.images.layers.get(chain).size : 0;
        layerCounter++;
      }
      items.unshift({
        Comment: h.comment ?? '',
        Created: h.created ? Math.floor((Date.parse(h.created) || 0) / 1000) : 0,
        CreatedBy: h.created_by ?? '',
        Id: '<missing>',
        Size: size,
        Tags: null,
      });
    }
    // Docker walks the Parent chain: the top entry is the image, the next its parent, and so on.
    let id: string | undefined = rec.id;
    for (const item of items) {
      if (!id || !this.images.index.has(id)) break;
      item.Id = id;
      const tags = this.images.index.references(id).filter((r) => r.tag !== undefined && r.digest === undefined).map((r) => r.familiar());
      item.Tags = tags.length ? tags : null;
      id = this.images.index.meta(id).parent;
    }
    return items;
  }

}
