// A batch of layers stored the way a pull and a load store them: each unpacked (with its tar-split record) in
// parallel, none visible until all are through, flushed to disk by one sync, then committed in layer order.
import type { Readable } from 'node:stream';
import { semaphore } from '../util/semaphore';
import { WriteBehind } from '../util/write-behind';
import type { LayerRecord } from './layer-store';
import type { Lease, LocalImages, PreparedLayer } from './local-images';

/** Above this many files written since the last early flush, the whole store is flushed in one syncfs instead. */
const MAX_FILES_PER_EARLY_FLUSH = 64;

/** One layer of the batch: its place in the chain and where its tar comes from (any compression). */
export interface LayerSource {
  parent: string | null;
  diffId: string;
  /** The digest it had as a blob (compressed), recorded with the layer, when known. */
  compressedDigest?: string;
}

export interface LayerBatchOptions<S extends LayerSource> {
  /** How many layers are unpacked at once (Docker's max-concurrent-downloads: 3). */
  concurrency: number;
  /**
   * Unpacks one layer: `prepare` is images.prepareLayer with the batch's write-behind attached; open the
   * layer's stream and map its errors here.
   */
  prepare(source: S, prepare: (tar: Readable) => Promise<PreparedLayer>): Promise<PreparedLayer>;
  /** After every layer unpacked, before the sync: remove what the batch read from (never written to disk then). */
  beforeSync?(): Promise<void>;
  /** After the sync, before the first commit. */
  synced?(): void;
  /** After each layer's commit, in layer order. */
  committed?(source: S, record: LayerRecord): Promise<void> | void;
}

/**
 * Stores `sources` (each on the one before it or on a layer already here). On any failure none is committed: each
 * prepared one is aborted, and the first error is thrown after every layer has stopped. The disk starts on what
 * the layers write while they unpack (a write-behind of the unpacked files only), so the one sync has little left.
 */
export async function storeLayerBatch<S extends LayerSource>(images: LocalImages, lease: Lease, sources: readonly S[], o: LayerBatchOptions<S>): Promise<void> {
  if (!sources.length) return;
  const slot = semaphore(o.concurrency);
  // A layer of many small files is flushed with the whole store (one syncfs, not one fdatasync per file).
  const writeBehind = new WriteBehind((files) => (files.length <= MAX_FILES_PER_EARLY_FLUSH ? images.syncFiles(files) : images.syncStore()));
  const onFileBytes = (file: string, n: number) => writeBehind.wrote(file, n);
  const prepared = sources.map((s) => slot(() => o.prepare(s, (tar) => images.prepareLayer(s.parent, tar, s.diffId, s.compressedDigest, onFileBytes))));
  const settled = await Promise.allSettled(prepared);
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    for (const r of settled) if (r.status === 'fulfilled') await r.value.abort();
    await writeBehind.settle();
    throw failure.reason;
  }
  const layers = settled.map((r) => (r as PromiseFulfilledResult<PreparedLayer>).value);
  let committed = 0;
  try {
    await o.beforeSync?.();
    await writeBehind.settle();
    await images.syncStore();
    o.synced?.();
    for (const [i, layer] of layers.entries()) {
      const record = await layer.commit(lease);
      committed++;
      await o.committed?.(sources[i]!, record);
    }
  } finally {
    for (const layer of layers.slice(committed)) await layer.abort();
  }
}
