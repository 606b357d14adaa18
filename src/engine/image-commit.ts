// `docker commit` and the builder's commit step: a container's (or a step's) changes become a layer on its
// image; also `docker diff`, the same changes listed.
import type { Readable } from 'node:stream';
import { applyChanges } from '../build/config-changes';
import type { BuildStepCommit } from '../build/builder-ports';
import { assertContainerConfig } from '../image/archive';
import { dockerContainerConfig } from '../image/container-config';
import { changes as overlayChanges, layerTarFromUpper, type Change } from '../image/diff';
import { chainIdOf, chainIdsOf } from '../image/layer-store';
import type { Lease, LocalImages } from '../image/local-images';
import { hostArchitecture } from '../image/platform';
import { repoTagReference, type ImageReference } from '../wire/reference';
import { failpoint } from '../store/failpoint';
import { COMPAT_DOCKER_VERSION, type ContainerConfig } from '../wire/docker';
import type { HistoryEntry, ImageConfig } from '../wire/oci';
import { NotFoundError } from '../errdefs';
import { publishImageEvent, type EventBus } from './events';

/** sha256 of an empty tar (1024 zero bytes): a commit without changes adds no layer (layer.IsEmpty). */
export const EMPTY_LAYER_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

export interface CommitOptions {
  upperDir: string;
  parent: { id: string; config: ImageConfig } | null;
  containerId: string;
  containerConfig: ContainerConfig;
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  changes?: string[];
}

export class ImageCommit {
  constructor(private readonly images: LocalImages, private readonly events: EventBus) {}

  /** `docker diff` of a container whose upper dir sits on this image. */
  changes(upperDir: string, image: { config: ImageConfig }): Promise<Change[]> {
    return overlayChanges(upperDir, this.images.lowerDirs(image), this.images.special);
  }

  /** `docker commit`: the container's changes become one layer on top of its image. */
  async commit(opts: CommitOptions): Promise<string> {
    const ref = opts.repo ? repoTagReference(opts.repo, opts.tag ?? '') : undefined;
    assertContainerConfig(opts.containerConfig, 'invalid commit config');
    const config = applyChanges(opts.containerConfig, opts.changes ?? []);
    const createdBy = (opts.containerConfig.Cmd ?? []).join(' ');
    const id = await this.commitImage({
      parent: opts.parent,
      layer: () => layerTarFromUpper(opts.upperDir, this.images.special),
      config,
      created: new Date().toISOString(),
      history: { ...(opts.author ? { author: opts.author } : {}), ...(createdBy ? { created_by: createdBy } : {}), ...(opts.comment ? { comment: opts.comment } : {}) },
      author: opts.author,
      comment: opts.comment,
      container: opts.containerId,
      refs: ref ? [ref] : [],
    });
    if (ref) this.event('tag', id, ref.familiar());
    return id;
  }

  /**
   * One step of a build (moby's CommitBuildStep/CreateImage): the step's changes, if any, become a layer on
   * top of the parent and the stage's config the new image's config, recorded as an untagged child of the
   * parent. Nothing of the build host is written (no container ID, no container config), and with
   * `clampMtime` the layer's mtimes are clamped, so the same inputs give the same image ID.
   */
  async commitBuildStep(o: BuildStepCommit): Promise<string> {
    assertContainerConfig(o.config, 'invalid build step config');
    const upper = o.upperDir;
    return this.commitImage({
      parent: o.parent,
      layer: upper === undefined ? undefined : () => layerTarFromUpper(upper, this.images.special, { clampMtime: o.clampMtime, exclude: o.exclude }),
      config: o.config,
      created: o.created,
      history: { ...(o.author ? { author: o.author } : {}), created_by: o.createdBy },
      author: o.author,
      platform: o.platform,
      refs: [],
    });
  }

  /** The shared end of commit and build steps: the layer stored (unless empty), the config written, the image recorded. */
  private async commitImage(o: {
    parent: { id: string; config: ImageConfig } | null; layer?: () => Promise<Readable>; config: ContainerConfig; created: string;
    history: HistoryEntry; author?: string; comment?: string; container?: string; refs: ImageReference[];
    platform?: { os: string; architecture: string; variant?: string };
  }): Promise<string> {
    const lease: Lease = new Set();
    let sweepAfter = true;
    try {
      const parentConfig = o.parent?.config;
      const parentDiffIds = parentConfig?.rootfs?.diff_ids ?? [];
      const parentTop = chainIdOf(parentDiffIds);
      await this.images.locked(async () => {
        if (parentTop !== null && !this.images.layers.has(parentTop)) throw new NotFoundError(`parent layer ${parentTop} does not exist`);
        for (const c of chainIdsOf(parentDiffIds)) this.images.take(lease, c);
      });
      let empty = true;
      let diffId = '';
      if (o.layer) {
        const layer = await this.images.addLayer(parentTop, await o.layer(), lease);
        failpoint('commit-layer');
        diffId = layer.diffId;
        // An empty diff adds no layer: the one just stored for it is swept when the commit ends.
        empty = diffId === EMPTY_LAYER_DIFF_ID;
      }
      const history: HistoryEntry = { created: o.created, ...o.history };
      if (empty) history.empty_layer = true;
      const variant = parentConfig ? parentConfig.variant : o.platform?.variant;
      const image: ImageConfig = {
        architecture: parentConfig?.architecture ?? o.platform?.architecture ?? hostArchitecture(),
        ...(o.author ? { author: o.author } : {}),
        ...(o.comment ? { comment: o.comment } : {}),
        config: dockerContainerConfig(o.config),
        ...(o.container ? { container: o.container } : {}),
        created: o.created,
        docker_version: COMPAT_DOCKER_VERSION,
        history: [...(parentConfig?.history ?? []), history],
        os: parentConfig?.os ?? o.platform?.os ?? 'linux',
        rootfs: { type: 'layers', diff_ids: empty ? parentDiffIds : [...parentDiffIds, diffId] },
        ...(variant ? { variant } : {}),
      };
      const { id } = await this.images.addImage(image, lease, { parent: o.parent?.id, refs: o.refs });
      failpoint('commit-done');
      sweepAfter = empty && o.layer !== undefined;
      return id;
    } finally {
      await this.images.endLease(lease, sweepAfter);
    }
  }

  private event(action: string, id: string, name: string): void {
    publishImageEvent(this.events, this.images, action, id, name);
  }
}
