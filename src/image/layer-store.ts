// Layers unpacked once, named by ChainID, stacked by overlayfs; removed only when nothing references them.
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { InvalidParameterError, NotFoundError } from '../errdefs';
import { isSha256Digest, isSha256Hex } from '../wire/digest';
import type { SpecialFiles } from '../host/special-files';
import { fsyncDir, writeJsonAtomic } from '../store/atomic';
import { failpoint } from '../store/failpoint';
import { unpack } from './unpack';

export interface LayerRecord {
  chainId: string;
  diffId: string;
  /** ChainID of the layer below, null for a base layer. */
  parent: string | null;
  /** Bytes of content in the unpacked layer (Docker's DiffSize). */
  size: number;
  /** Length of the uncompressed layer tar. */
  tarSize: number;
  /** Digest of the compressed blob this layer came from, when known. */
  compressedDigest?: string;
}

export interface PendingLayer {
  chainId: string;
  diffId: string;
  /** Moves the unpacked layer into place, or reuses an identical one already there. */
  commit(): Promise<LayerRecord>;
  abort(): Promise<void>;
}

export interface PrepareOptions {
  expectedDiffId?: string;
  compressedDigest?: string;
  /**
   * The parent is being prepared at the same time (a pull unpacks its layers in parallel): an unpacked
   * layer does not depend on its parent's files, only its commit does, and commit() still refuses a missing parent.
   */
  parentMayFollow?: boolean;
}

const LAYER_META = 'layer.json';
const TEMP_PREFIX = '.tmp-';

/** Docker's ChainID of a stack of diffIDs: chainID(L1)=diffID(L1), chainID(Ln)=sha256(chainID(Ln-1)+" "+diffID(Ln)). */
export function chainIdOf(diffIds: readonly string[]): string | null {
  let chain: string | null = null;
  for (const d of diffIds) chain = chainIdNext(chain, d);
  return chain;
}

export function chainIdNext(parent: string | null, diffId: string): string {
  if (parent === null) return diffId;
  return 'sha256:' + createHash('sha256').update(`${parent} ${diffId}`).digest('hex');
}

/** All ChainIDs of a stack, bottom first. */
export function chainIdsOf(diffIds: readonly string[]): string[] {
  const out: string[] = [];
  let chain: string | null = null;
  for (const d of diffIds) {
    chain = chainIdNext(chain, d);
    out.push(chain);
  }
  return out;
}

function hexOf(digest: string): string {
  if (!isSha256Digest(digest)) throw new InvalidParameterError(`invalid layer digest ${JSON.stringify(digest)}`);
  return digest.slice(7);
}

export class LayerStore {
  readonly layersDir: string;
  private readonly layers = new Map<string, LayerRecord>();

  constructor(root: string, private readonly special: SpecialFiles) {
    this.layersDir = path.join(root, 'layers');
  }

  /** Loads the layer records; drops temporary directories and incomplete layers a crash left behind. */
  async init(): Promise<void> {
    await fsp.mkdir(this.layersDir, { recursive: true });
    this.layers.clear();
    for (const name of await fsp.readdir(this.layersDir)) {
      const dir = path.join(this.layersDir, name);
      if (name.startsWith(TEMP_PREFIX) || !isSha256Hex(name)) {
        await fsp.rm(dir, { recursive: true, force: true });
        continue;
      }
      try {
        const rec = JSON.parse(await fsp.readFile(path.join(dir, LAYER_META), 'utf8')) as LayerRecord;
        if (rec.chainId !== `sha256:${name}`) throw new Error('chain ID mismatch');
        this.layers.set(rec.chainId, rec);
      } catch {
        await fsp.rm(dir, { recursive: true, force: true });
      }
    }
    // A layer whose parent is gone cannot be stacked.
    let dropped = true;
    while (dropped) {
      dropped = false;
      for (const rec of this.layers.values()) {
        if (rec.parent !== null && !this.layers.has(rec.parent)) {
          await this.remove(rec.chainId);
          dropped = true;
        }
      }
    }
  }

  has(chainId: string): boolean { return this.layers.has(chainId); }

  get(chainId: string): LayerRecord {
    const rec = this.layers.get(chainId);
    if (!rec) throw new NotFoundError(`layer ${chainId} does not exist`);
    return rec;
  }

  list(): LayerRecord[] { return [...this.layers.values()]; }

  dir(chainId: string): string { return path.join(this.layersDir, hexOf(chainId)); }

  diffDir(chainId: string): string { return path.join(this.dir(chainId), 'diff'); }

  /** The layers of a stack, top first. */
  chain(topChainId: string | null): LayerRecord[] {
    const out: LayerRecord[] = [];
    for (let id = topChainId; id !== null; ) {
      const rec = this.get(id);
      out.push(rec);
      id = rec.parent;
    }
    return out;
  }

  /** The diff directories of a stack, top-most first (overlayfs lowerdir order). */
  lowerDirs(topChainId: string | null): string[] {
    return this.chain(topChainId).map((l) => this.diffDir(l.chainId));
  }

  /**
   * Unpacks a layer tar on top of `parent`. The tar is unpacked into a temporary directory and renamed
   * into place once complete; a layer that already exists is reused. With `expectedDiffId` a different
   * content is refused.
   */
  async register(tarStream: Readable, parent: string | null, opts: { expectedDiffId?: string; compressedDigest?: string } = {}): Promise<LayerRecord> {
    return (await this.prepare(tarStream, parent, opts)).commit();
  }

  /** The first half of register(): unpacks into a temporary directory; commit() moves it into place. */
  async prepare(tarStream: Readable, parent: string | null, opts: PrepareOptions = {}): Promise<PendingLayer> {
    if (parent !== null && !opts.parentMayFollow && !this.layers.has(parent)) throw new NotFoundError(`parent layer ${parent} does not exist`);
    const tmp = path.join(this.layersDir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    await fsp.mkdir(path.join(tmp, 'diff'), { recursive: true, mode: 0o755 });
    let rec: LayerRecord;
    try {
      const res = await unpack(tarStream, path.join(tmp, 'diff'), { special: this.special, mode: 'layer' });
      if (opts.expectedDiffId !== undefined && res.diffId !== opts.expectedDiffId) {
        throw new InvalidParameterError(`layer diff ID mismatch: expected ${opts.expectedDiffId}, got ${res.diffId}`);
      }
      failpoint('layer-unpacked');
      rec = { chainId: chainIdNext(parent, res.diffId), diffId: res.diffId, parent, size: res.size, tarSize: res.tarSize };
      if (opts.compressedDigest) rec.compressedDigest = opts.compressedDigest;
      await writeJsonAtomic(path.join(tmp, LAYER_META), rec);
      await fsyncDir(path.join(tmp, 'diff'));
    } catch (err) {
      await fsp.rm(tmp, { recursive: true, force: true });
      throw err;
    }
    const abort = () => fsp.rm(tmp, { recursive: true, force: true });
    return {
      chainId: rec.chainId,
      diffId: rec.diffId,
      abort,
      commit: async () => {
        const existing = this.layers.get(rec.chainId);
        if (existing) {
          await abort();
          return existing;
        }
        if (rec.parent !== null && !this.layers.has(rec.parent)) {
          await abort();
          throw new NotFoundError(`parent layer ${rec.parent} does not exist`);
        }
        try {
          await fsp.rename(tmp, this.dir(rec.chainId));
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          await abort();
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
          // Registered concurrently by someone else: theirs is identical.
        }
        await fsyncDir(this.layersDir);
        failpoint('layer-committed');
        this.layers.set(rec.chainId, rec);
        return rec;
      },
    };
  }

  /** Removes a layer (the caller has established that nothing references it). */
  async remove(chainId: string): Promise<void> {
    const dir = this.dir(chainId);
    this.layers.delete(chainId);
    // Rename first: a crash mid-removal leaves a temp directory init() drops, never a half layer.
    const doomed = path.join(this.layersDir, `${TEMP_PREFIX}del-${hexOf(chainId)}-${randomBytes(4).toString('hex')}`);
    try {
      await fsp.rename(dir, doomed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    await fsyncDir(this.layersDir);
    failpoint('layer-doomed');
    await fsp.rm(doomed, { recursive: true, force: true });
  }

  exists(chainId: string): boolean {
    return this.layers.has(chainId) && fs.existsSync(this.diffDir(chainId));
  }
}
