// Where each layer's compressed blob is known to live (Docker's v2metadata): diffID → registry blobs, so a push can skip or mount them.
import * as path from 'node:path';
import { readJsonIfExists, writeJsonAtomic } from '../store/atomic';

export interface BlobSource {
  /** The compressed blob's digest. */
  digest: string;
  size: number;
  mediaType: string;
  /** Registry host[:port] and repository path ("127.0.0.1:5000", "bar/bb"). */
  registry: string;
  repository: string;
}

interface SourcesFile { version: 1; layers: Record<string, BlobSource[]> }

/** At most this many sources per layer, newest first. */
const MAX_SOURCES = 16;

export class BlobSources {
  private readonly file: string;
  private data: SourcesFile = { version: 1, layers: {} };
  private loaded = false;
  private writing: Promise<void> = Promise.resolve();

  constructor(imageRoot: string) {
    this.file = path.join(imageRoot, 'blob-sources.json');
  }

  private async load(): Promise<void> {
    if (this.loaded) return;
    const v = await readJsonIfExists<SourcesFile>(this.file).catch(() => undefined);
    if (v && v.version === 1 && v.layers && typeof v.layers === 'object') this.data = v;
    this.loaded = true;
  }

  /** The known blobs of a layer on one registry, this repository's first. */
  async lookup(diffId: string, registry: string, repository: string): Promise<BlobSource[]> {
    await this.load();
    const all = (this.data.layers[diffId] ?? []).filter((s) => s.registry === registry);
    return [...all.filter((s) => s.repository === repository), ...all.filter((s) => s.repository !== repository)];
  }

  async add(diffId: string, source: BlobSource): Promise<void> {
    await this.load();
    const list = (this.data.layers[diffId] ?? []).filter((s) => !(s.registry === source.registry && s.repository === source.repository && s.digest === source.digest));
    list.unshift(source);
    this.data.layers[diffId] = list.slice(0, MAX_SOURCES);
    // Writes queue up: each one writes the whole (small) file, the last one wins with everything.
    this.writing = this.writing.then(() => writeJsonAtomic(this.file, this.data)).catch(() => undefined);
    await this.writing;
  }

  /** Forgets a blob a registry said it no longer has. */
  async forget(diffId: string, registry: string, repository: string, digest: string): Promise<void> {
    await this.load();
    const list = this.data.layers[diffId];
    if (!list) return;
    this.data.layers[diffId] = list.filter((s) => !(s.registry === registry && s.repository === repository && s.digest === digest));
    this.writing = this.writing.then(() => writeJsonAtomic(this.file, this.data)).catch(() => undefined);
    await this.writing;
  }
}
