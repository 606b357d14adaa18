// One repository of a registry as small documents: manifests by tag or digest, small blobs, the referrers list. What
// signatures need (trust/signature-store.ts); large layers stream through image-pull.ts and image-push.ts instead.
import { createHash } from 'node:crypto';
import type { Descriptor, Index } from '../wire/oci';
import { RegistryResponseError, readSmall, type RegistrySession } from './client';

export interface RepositoryDocuments {
  /** A manifest's bytes, or null when the registry has none under `reference`. */
  getManifest(reference: string, accept: string): Promise<Buffer | null>;
  /** A small blob, checked against its digest. */
  getBlob(digest: string, limit: number): Promise<Buffer>;
  /** Uploads `data` (monolithic) unless the repository has it already. */
  putBlob(data: Buffer): Promise<Descriptor>;
  /** PUTs a manifest under a tag; says whether the registry took its `subject` (the OCI-Subject header). */
  putManifest(tag: string, body: Buffer, mediaType: string): Promise<{ subjectIndexed: boolean }>;
  /** The referrers of `digest` with `artifactType`, or null when the registry has no referrers API. */
  referrers(digest: string, artifactType: string): Promise<Descriptor[] | null>;
}

function sha256(data: Buffer): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** RepositoryDocuments over a registry session (auth, scheme and errors are the session's). */
export class RegistryRepository implements RepositoryDocuments {
  private readonly pullScope: string;
  private readonly pushScope: string;

  constructor(private readonly session: RegistrySession, private readonly path: string) {
    this.pullScope = `repository:${path}:pull`;
    this.pushScope = `repository:${path}:pull,push`;
  }

  async getManifest(reference: string, accept: string): Promise<Buffer | null> {
    const r = await this.session.request('GET', `/v2/${this.path}/manifests/${reference}`, { scope: this.pullScope, headers: { Accept: accept }, ok: (s) => s === 200 || s === 404 });
    if (r.res.statusCode === 404) { r.res.resume(); return null; }
    return readSmall(r.res, 4 << 20);
  }

  async getBlob(digest: string, limit: number): Promise<Buffer> {
    const r = await this.session.request('GET', `/v2/${this.path}/blobs/${digest}`, { scope: this.pullScope });
    const body = await readSmall(r.res, limit);
    if (sha256(body) !== digest) throw new RegistryResponseError(500, 'DIGEST_INVALID', `blob ${digest} of ${this.path}: the registry sent other content`, r.url.href);
    return body;
  }

  async putBlob(data: Buffer): Promise<Descriptor> {
    const digest = sha256(data);
    const head = await this.session.request('HEAD', `/v2/${this.path}/blobs/${digest}`, { scope: this.pushScope, ok: (s) => (s >= 200 && s < 300) || s === 404 });
    head.res.resume();
    if (head.res.statusCode === 404) {
      const start = await this.session.request('POST', `/v2/${this.path}/blobs/uploads/`, { scope: this.pushScope, body: Buffer.alloc(0) });
      start.res.resume();
      const location = start.res.headers.location;
      if (!location) throw new RegistryResponseError(500, undefined, 'the registry started an upload without a Location header', start.url.href);
      const target = new URL(location, start.url);
      target.searchParams.set('digest', digest);
      const put = await this.session.request('PUT', target.pathname + target.search, { scope: this.pushScope, body: data, headers: { 'Content-Type': 'application/octet-stream' } });
      put.res.resume();
    }
    return { mediaType: 'application/octet-stream', digest, size: data.length };
  }

  async putManifest(tag: string, body: Buffer, mediaType: string): Promise<{ subjectIndexed: boolean }> {
    const r = await this.session.request('PUT', `/v2/${this.path}/manifests/${tag}`, { scope: this.pushScope, body, headers: { 'Content-Type': mediaType } });
    r.res.resume();
    return { subjectIndexed: r.res.headers['oci-subject'] !== undefined };
  }

  async referrers(digest: string, artifactType: string): Promise<Descriptor[] | null> {
    const r = await this.session.request('GET', `/v2/${this.path}/referrers/${digest}?artifactType=${encodeURIComponent(artifactType)}`, { scope: this.pullScope, ok: (s) => s === 200 || s === 404 || s === 405 });
    if (r.res.statusCode !== 200) { r.res.resume(); return null; }
    let index: Index;
    try {
      index = JSON.parse((await readSmall(r.res, 4 << 20)).toString('utf8')) as Index;
    } catch {
      return null;
    }
    return Array.isArray(index.manifests) ? index.manifests.filter((d) => d.artifactType === undefined || d.artifactType === artifactType) : null;
  }
}
