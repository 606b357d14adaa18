// The docker-archive format of `docker save`/`docker load`: reading one (legacy manifest.json or OCI layout) and writing one.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar-stream';
import { InvalidParameterError, errorMessage } from '../errdefs';
import type { ContainerConfig } from '../wire/docker';
import { MediaTypes, type Descriptor, type ImageConfig, type Index, type Manifest } from '../wire/oci';
import { sha256Digest } from './content-store';
import { isSha256Digest } from '../wire/digest';
import { addTarEntry } from './diff';
import { parseNormalizedNamed, type ImageReference } from '../wire/reference';
import { cleanEntryPath } from './unpack';

/** One image found in an archive: its config (validated), its layer files in order, and its names. */
export interface ArchiveImage {
  configBytes: Buffer;
  config: ImageConfig;
  /** Paths inside the archive; `digest` when the archive names the (possibly compressed) blob's digest. */
  layers: { file: string; digest?: string }[];
  names: ImageReference[];
}

/** One image to save: its config digest and size, its layer blobs (uncompressed tars) and the names to record. */
export interface SaveImage {
  id: string;
  configSize: number;
  layers: { diffId: string; size: number }[];
  refs: ImageReference[];
}

function invalid(message: string): never {
  throw new InvalidParameterError(`invalid archive: ${message}`);
}

/** A path named inside an archive, resolved inside the staging directory (never outside it). */
export async function archivePath(staging: string, name: unknown): Promise<string> {
  if (typeof name !== 'string' || !name) invalid('empty or non-string path in manifest');
  const parts = cleanEntryPath(name, false);
  const joined = path.join(staging, ...parts);
  let real: string;
  try {
    real = await fsp.realpath(joined);
  } catch {
    invalid(`${name} not found`);
  }
  const root = await fsp.realpath(staging);
  if (real !== root && !real.startsWith(root + path.sep)) invalid(`${name} points outside the archive`);
  return real;
}

async function readArchiveJson(staging: string, name: string): Promise<unknown> {
  const text = await fsp.readFile(await archivePath(staging, name), 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    invalid(`${name}: ${errorMessage(err)}`);
  }
}

async function readVerifiedBlob(staging: string, digest: unknown): Promise<Buffer> {
  if (!isSha256Digest(digest)) invalid(`unsupported digest ${JSON.stringify(digest)}`);
  const bytes = await fsp.readFile(await archivePath(staging, `blobs/sha256/${digest.slice(7)}`));
  const actual = sha256Digest(bytes);
  if (actual !== digest) invalid(`digest mismatch: expected ${digest}, got ${actual}`);
  return bytes;
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (err) {
    invalid(`${what}: ${errorMessage(err)}`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * Parses and checks an image config the way Docker's image.NewFromJSON would refuse it, plus the field
 * types the engine relies on later (a wrong type must fail the load, not a later `run` or `history`).
 */
export function parseImageConfig(bytes: Buffer, what = 'image config'): ImageConfig {
  const c = parseJson(bytes, what);
  function bad(field: string, expected: string): never {
    invalid(`${what}: ${field} must be ${expected}`);
  }
  if (!isObject(c)) bad('the config', 'a JSON object');
  for (const k of ['architecture', 'os', 'variant', 'created', 'author', 'container', 'docker_version', 'comment']) {
    if (c[k] !== undefined && c[k] !== null && typeof c[k] !== 'string') bad(k, 'a string');
  }
  if (typeof c.created === 'string' && c.created && Number.isNaN(Date.parse(c.created))) bad('created', 'a timestamp');
  const rootfs = c.rootfs;
  if (!isObject(rootfs)) invalid(`${what}: no rootfs`);
  if (rootfs.type !== 'layers') bad('rootfs.type', '"layers"');
  if (rootfs.diff_ids !== undefined && rootfs.diff_ids !== null) {
    if (!isStringArray(rootfs.diff_ids) || !rootfs.diff_ids.every(isSha256Digest)) bad('rootfs.diff_ids', 'a list of sha256 digests');
  }
  if (c.history !== undefined && c.history !== null) {
    if (!Array.isArray(c.history)) bad('history', 'a list');
    for (const h of c.history as unknown[]) {
      if (!isObject(h)) bad('history', 'a list of objects');
      for (const k of ['created', 'created_by', 'author', 'comment']) if (h[k] !== undefined && typeof h[k] !== 'string') bad(`history.${k}`, 'a string');
      if (h.empty_layer !== undefined && typeof h.empty_layer !== 'boolean') bad('history.empty_layer', 'a boolean');
    }
  }
  for (const key of ['config', 'container_config']) {
    if (c[key] !== undefined && c[key] !== null) checkContainerConfig(c[key], `${key}`, bad);
  }
  const config = c as unknown as ImageConfig;
  config.rootfs.diff_ids ??= [];
  return config;
}

/** Refuses a container config (commit's body, an image's config) whose fields have the wrong JSON types. */
export function assertContainerConfig(v: unknown, what: string): void {
  checkContainerConfig(v, 'config', (field, expected) => {
    throw new InvalidParameterError(`${what}: ${field} must be ${expected}`);
  });
}

function checkContainerConfig(v: unknown, where: string, bad: (field: string, expected: string) => never): void {
  if (!isObject(v)) bad(where, 'an object');
  const cc = v as Record<keyof ContainerConfig, unknown>;
  for (const k of ['Env', 'Cmd', 'Entrypoint', 'OnBuild', 'Shell'] as const) {
    if (cc[k] !== undefined && cc[k] !== null && !isStringArray(cc[k])) bad(`${where}.${k}`, 'a list of strings');
  }
  for (const k of ['User', 'WorkingDir', 'StopSignal', 'Hostname', 'Domainname', 'Image'] as const) {
    if (cc[k] !== undefined && cc[k] !== null && typeof cc[k] !== 'string') bad(`${where}.${k}`, 'a string');
  }
  for (const k of ['ExposedPorts', 'Volumes'] as const) {
    if (cc[k] !== undefined && cc[k] !== null && !isObject(cc[k])) bad(`${where}.${k}`, 'an object');
  }
  if (cc.Labels !== undefined && cc.Labels !== null && (!isObject(cc.Labels) || !Object.values(cc.Labels).every((x) => typeof x === 'string'))) {
    bad(`${where}.Labels`, 'an object of strings');
  }
}

/**
 * The images of an unpacked archive: Docker's manifest.json when present (what `docker load` reads),
 * else an OCI image layout's index.json. `arch` picks the platform of a multi-platform index.
 */
export async function readArchive(staging: string, arch: string): Promise<ArchiveImage[]> {
  if (fs.existsSync(path.join(staging, 'manifest.json'))) return readDockerManifest(staging);
  if (fs.existsSync(path.join(staging, 'index.json'))) return readOciLayout(staging, arch);
  invalid('neither manifest.json nor index.json found');
}

async function readDockerManifest(staging: string): Promise<ArchiveImage[]> {
  const manifest = await readArchiveJson(staging, 'manifest.json');
  if (!Array.isArray(manifest)) invalid('manifest.json: expected a list');
  const out: ArchiveImage[] = [];
  for (const m of manifest as unknown[]) {
    if (!isObject(m)) invalid('manifest.json: expected a list of objects');
    if (m.Layers !== undefined && m.Layers !== null && !isStringArray(m.Layers)) invalid('manifest.json: Layers must be a list of paths');
    if (m.RepoTags !== undefined && m.RepoTags !== null && !isStringArray(m.RepoTags)) invalid('manifest.json: RepoTags must be a list of strings');
    const configBytes = await fsp.readFile(await archivePath(staging, m.Config));
    const config = parseImageConfig(configBytes, String(m.Config));
    const names = ((m.RepoTags ?? []) as string[]).map((t) => {
      const r = parseNormalizedNamed(t);
      if (r.tag === undefined || r.digest !== undefined) throw new InvalidParameterError(`invalid tag ${JSON.stringify(t)}`);
      return r;
    });
    out.push({ configBytes, config, layers: ((m.Layers ?? []) as string[]).map((file) => ({ file })), names });
  }
  return out;
}

/** Images of an OCI image layout: index.json → (nested index →) manifest → config and layers. */
async function readOciLayout(staging: string, arch: string): Promise<ArchiveImage[]> {
  const index = await readArchiveJson(staging, 'index.json');
  if (!isObject(index) || !Array.isArray(index.manifests)) invalid('index.json: expected an object with a manifests list');
  const out: ArchiveImage[] = [];
  const byManifest = new Map<string, number>();
  const visit = async (desc: Descriptor, name: ImageReference | undefined, depth: number): Promise<void> => {
    if (!isObject(desc)) invalid('index.json: a descriptor must be an object');
    if (depth > 4) invalid('index nesting is too deep');
    const isIndex = desc.mediaType === MediaTypes.ociIndex || desc.mediaType === MediaTypes.dockerManifestList;
    const bytes = await readVerifiedBlob(staging, desc.digest);
    if (isIndex) {
      const sub = parseJson(bytes, `index ${desc.digest}`);
      if (!isObject(sub) || !Array.isArray(sub.manifests)) invalid(`index ${desc.digest}: expected a manifests list`);
      const manifests = (sub.manifests as unknown[]).filter(isObject) as unknown as Descriptor[];
      const pick = manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === arch)
        ?? manifests.find((m) => !m.platform);
      if (!pick) throw new InvalidParameterError(`no image for linux/${arch} in the archive`);
      return visit(pick, name, depth + 1);
    }
    const manifest = parseJson(bytes, `manifest ${desc.digest}`) as Manifest;
    if (!isObject(manifest) || !isObject(manifest.config) || !Array.isArray(manifest.layers)) invalid(`manifest ${desc.digest}: expected config and layers`);
    let idx = byManifest.get(desc.digest);
    if (idx === undefined) {
      const configBytes = await readVerifiedBlob(staging, manifest.config.digest);
      const config = parseImageConfig(configBytes, `config ${manifest.config.digest}`);
      const layers = manifest.layers.map((l) => {
        if (!isObject(l) || !isSha256Digest(l.digest)) invalid(`manifest ${desc.digest}: bad layer descriptor`);
        if (typeof l.mediaType === 'string' && /zstd/.test(l.mediaType)) throw new InvalidParameterError(`unsupported layer media type ${l.mediaType}`);
        return { file: `blobs/sha256/${l.digest.slice(7)}`, digest: l.digest };
      });
      idx = out.push({ configBytes, config, layers, names: [] }) - 1;
      byManifest.set(desc.digest, idx);
    }
    if (name && !out[idx]!.names.some((n) => n.toString() === name.toString())) out[idx]!.names.push(name);
  };
  for (const desc of index.manifests as Descriptor[]) {
    const a = isObject(desc) && isObject(desc.annotations) ? desc.annotations : {};
    let name: ImageReference | undefined;
    const ociName = a['org.opencontainers.image.ref.name'];
    const candidate = a['io.containerd.image.name'] ?? (typeof ociName === 'string' && /[/:]/.test(ociName) ? ociName : undefined);
    if (typeof candidate === 'string') {
      try {
        const r = parseNormalizedNamed(candidate);
        if (r.digest === undefined) name = r.withDefaultTag();
      } catch {
        name = undefined;
      }
    }
    await visit(desc, name, 0);
  }
  return out;
}

/**
 * A docker-archive as Docker 25+ writes it: blobs/sha256 with OCI manifests, index.json and oci-layout
 * for OCI readers, manifest.json and repositories for the legacy ones. `openBlob` reads a stored blob (a config
 * or a layer tar, as kept or regenerated).
 * `onEnd` runs once the archive is fully produced or has failed.
 */
export function writeArchive(images: SaveImage[], openBlob: (digest: string) => Readable, onEnd: (err?: Error) => void): Readable {
  const blobs = new Map<string, { size: number; data?: Buffer }>();
  const manifestJson: { Config: string; RepoTags: string[] | null; Layers: string[] }[] = [];
  const index: Index = { schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [] };
  const repositories: Record<string, Record<string, string>> = {};
  for (const img of images) {
    blobs.set(img.id, { size: img.configSize });
    for (const l of img.layers) blobs.set(l.diffId, { size: l.size });
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MediaTypes.ociManifest,
      config: { mediaType: MediaTypes.ociConfig, digest: img.id, size: img.configSize },
      layers: img.layers.map((l) => ({ mediaType: MediaTypes.ociLayer, digest: l.diffId, size: l.size })),
    };
    const manifestBytes = Buffer.from(JSON.stringify(manifest));
    const manifestDigest = sha256Digest(manifestBytes);
    blobs.set(manifestDigest, { size: manifestBytes.length, data: manifestBytes });
    const tags = img.refs.filter((r) => r.tag !== undefined);
    const desc = { mediaType: MediaTypes.ociManifest, digest: manifestDigest, size: manifestBytes.length };
    if (!img.refs.length) index.manifests.push(desc);
    for (const r of img.refs) {
      const annotations: Record<string, string> = { 'io.containerd.image.name': r.toString() };
      if (r.tag !== undefined) annotations['org.opencontainers.image.ref.name'] = r.tag;
      index.manifests.push({ ...desc, annotations });
    }
    manifestJson.push({
      Config: `blobs/sha256/${img.id.slice(7)}`,
      RepoTags: tags.length ? tags.map((r) => r.familiar()) : null,
      Layers: img.layers.map((l) => `blobs/sha256/${l.diffId.slice(7)}`),
    });
    const top = img.layers[img.layers.length - 1];
    if (top) for (const r of tags) (repositories[r.familiarName] ??= {})[r.tag!] = top.diffId.slice(7);
  }

  const pack = tar.pack();
  const mtime = new Date(0);
  const put = (name: string, data: Buffer | string) => addTarEntry(pack, { name, mtime, mode: 0o644 }, data);
  const produce = async () => {
    await addTarEntry(pack, { name: 'blobs/', type: 'directory', mtime, mode: 0o755 });
    await addTarEntry(pack, { name: 'blobs/sha256/', type: 'directory', mtime, mode: 0o755 });
    for (const digest of [...blobs.keys()].sort()) {
      const b = blobs.get(digest)!;
      const name = `blobs/sha256/${digest.slice(7)}`;
      if (b.data) await put(name, b.data);
      else await addTarEntry(pack, { name, size: b.size, mtime, mode: 0o644 }, { open: () => openBlob(digest) });
    }
    await put('index.json', JSON.stringify(index));
    await put('manifest.json', JSON.stringify(manifestJson));
    await put('oci-layout', JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    if (Object.keys(repositories).length) await put('repositories', JSON.stringify(repositories));
    pack.finalize();
  };
  produce().then(() => onEnd(), (err: Error) => { pack.destroy(err); onEnd(err); });
  const out = Readable.from(pack, { objectMode: false });
  out.once('close', () => { if (!out.readableEnded) pack.destroy(); });
  return out;
}
