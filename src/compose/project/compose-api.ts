// The narrow door Compose uses into the daemon: exactly the Engine API calls convergence needs, so the
// use-cases are tested against a fake (test/fakes/compose-api.ts) and run against berthd over ApiClient.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import type * as TarStream from 'tar-stream';
import { ApiClient, DaemonError, encodeFilters, jsonValues } from '../../cli/api-client';
import { registryAuthHeader } from '../../cli/config-file';
import { parseReference, registryOf } from '../../cli/reference';
import { contextIgnore, packPath } from '../../cli/tar-context';
import { withExtraFile } from '../../cli/commands/build';
import type {
  ContainerCreateBody, ContainerState, ContainerSummary, EndpointSettings, JsonMessage, NetworkCreateBody,
  NetworkResource, Volume, VolumeCreateBody,
} from '../../wire/docker';

/** What Compose reads back from GET /containers/{id}/json. */
export interface ContainerDetails {
  Id: string;
  Name: string;
  Image: string;
  State: ContainerState;
  Config: { Labels?: Record<string, string> | null; Image?: string };
}

export interface BuildRequest {
  /** Absolute context directory. */
  context: string;
  dockerfile?: string;
  dockerfileInline?: string;
  args?: Record<string, string | null>;
  target?: string;
  labels?: Record<string, string>;
  tags: string[];
  noCache?: boolean;
  pull?: boolean;
  network?: string;
  extraHosts?: string[];
}

export interface ComposeApi {
  listContainers(labels: string[], all: boolean): Promise<ContainerSummary[]>;
  /** undefined when the container does not exist. */
  inspectContainer(id: string): Promise<ContainerDetails | undefined>;
  createContainer(name: string, body: ContainerCreateBody): Promise<string>;
  startContainer(id: string): Promise<void>;
  stopContainer(id: string, timeout?: number): Promise<void>;
  killContainer(id: string, signal: string): Promise<void>;
  pauseContainer(id: string): Promise<void>;
  unpauseContainer(id: string): Promise<void>;
  removeContainer(id: string, options: { force: boolean; volumes: boolean }): Promise<void>;
  renameContainer(id: string, name: string): Promise<void>;
  connectNetwork(network: string, container: string, endpoint: EndpointSettings): Promise<void>;
  disconnectNetwork(network: string, container: string): Promise<void>;
  inspectNetwork(name: string): Promise<NetworkResource | undefined>;
  createNetwork(body: NetworkCreateBody): Promise<void>;
  removeNetwork(name: string): Promise<void>;
  inspectVolume(name: string): Promise<Volume | undefined>;
  createVolume(body: VolumeCreateBody): Promise<void>;
  removeVolume(name: string): Promise<void>;
  /** The image ID, or undefined when the image is not there. */
  imageId(ref: string): Promise<string | undefined>;
  pullImage(ref: string): Promise<void>;
  pushImage(ref: string): Promise<void>;
  removeImage(ref: string): Promise<void>;
  /** Writes files (absolute paths, parents made) into a created container. */
  copyFiles(id: string, files: { path: string; content: string; mode: number; uid?: string; gid?: string }[]): Promise<void>;
  /** Builds and tags; returns the image ID. */
  buildImage(req: BuildRequest): Promise<string>;
}

/** A failed pull/push/build: the daemon's errorDetail message. */
export class ImageStreamError extends Error {
  constructor(message: string) { super(message); this.name = 'ImageStreamError'; }
}

const notFound = (err: unknown) => err instanceof DaemonError && err.statusCode === 404;

async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try { return await p; } catch (err) { if (notFound(err)) return undefined; throw err; }
}

/** Reads a JSON-message stream to its end; an errorDetail becomes ImageStreamError; aux IDs are handed back. */
async function drainMessages(stream: Readable): Promise<string | undefined> {
  let auxId: string | undefined;
  for await (const m of jsonValues<JsonMessage>(stream)) {
    if (m.errorDetail || m.error) throw new ImageStreamError(m.errorDetail?.message ?? String(m.error));
    const id = (m.aux as { ID?: string } | undefined)?.ID;
    if (id) auxId = id;
  }
  return auxId;
}

const enc = encodeURIComponent;

export class EngineComposeApi implements ComposeApi {
  constructor(readonly api: ApiClient, readonly env: NodeJS.ProcessEnv = process.env) {}

  listContainers(labels: string[], all: boolean): Promise<ContainerSummary[]> {
    return this.api.json('GET', '/containers/json', { query: { all, filters: encodeFilters({ label: labels }) } });
  }
  inspectContainer(id: string): Promise<ContainerDetails | undefined> {
    return orUndefined(this.api.json<ContainerDetails>('GET', `/containers/${enc(id)}/json`));
  }
  async createContainer(name: string, body: ContainerCreateBody): Promise<string> {
    const r = await this.api.json<{ Id: string }>('POST', '/containers/create', { query: { name }, body });
    return r.Id;
  }
  startContainer(id: string): Promise<void> { return this.api.call('POST', `/containers/${enc(id)}/start`); }
  stopContainer(id: string, timeout?: number): Promise<void> { return this.api.call('POST', `/containers/${enc(id)}/stop`, { query: { t: timeout } }); }
  killContainer(id: string, signal: string): Promise<void> { return this.api.call('POST', `/containers/${enc(id)}/kill`, { query: { signal } }); }
  pauseContainer(id: string): Promise<void> { return this.api.call('POST', `/containers/${enc(id)}/pause`); }
  unpauseContainer(id: string): Promise<void> { return this.api.call('POST', `/containers/${enc(id)}/unpause`); }
  removeContainer(id: string, o: { force: boolean; volumes: boolean }): Promise<void> {
    return this.api.call('DELETE', `/containers/${enc(id)}`, { query: { force: o.force || undefined, v: o.volumes || undefined } });
  }
  renameContainer(id: string, name: string): Promise<void> { return this.api.call('POST', `/containers/${enc(id)}/rename`, { query: { name } }); }
  connectNetwork(network: string, container: string, endpoint: EndpointSettings): Promise<void> {
    return this.api.call('POST', `/networks/${enc(network)}/connect`, { body: { Container: container, EndpointConfig: endpoint } });
  }
  disconnectNetwork(network: string, container: string): Promise<void> {
    return this.api.call('POST', `/networks/${enc(network)}/disconnect`, { body: { Container: container, Force: true } });
  }
  inspectNetwork(name: string): Promise<NetworkResource | undefined> {
    return orUndefined(this.api.json<NetworkResource>('GET', `/networks/${enc(name)}`));
  }
  createNetwork(body: NetworkCreateBody): Promise<void> { return this.api.call('POST', '/networks/create', { body }); }
  removeNetwork(name: string): Promise<void> { return this.api.call('DELETE', `/networks/${enc(name)}`); }
  inspectVolume(name: string): Promise<Volume | undefined> { return orUndefined(this.api.json<Volume>('GET', `/volumes/${enc(name)}`)); }
  createVolume(body: VolumeCreateBody): Promise<void> { return this.api.call('POST', '/volumes/create', { body }); }
  removeVolume(name: string): Promise<void> { return this.api.call('DELETE', `/volumes/${enc(name)}`); }
  async imageId(ref: string): Promise<string | undefined> {
    return (await orUndefined(this.api.json<{ Id: string }>('GET', `/images/${enc(ref)}/json`)))?.Id;
  }
  async pullImage(ref: string): Promise<void> {
    const p = parseReference(ref);
    const res = await this.api.request('POST', '/images/create', {
      query: { fromImage: p.repository, tag: p.digest ?? p.tag ?? 'latest' },
      headers: { 'X-Registry-Auth': registryAuthHeader(registryOf(ref), this.env) },
    });
    await drainMessages(res);
  }
  async pushImage(ref: string): Promise<void> {
    const p = parseReference(ref);
    const res = await this.api.request('POST', `/images/${enc(p.repository)}/push`, {
      query: { tag: p.tag ?? 'latest' },
      headers: { 'X-Registry-Auth': registryAuthHeader(registryOf(ref), this.env) },
    });
    await drainMessages(res);
  }
  removeImage(ref: string): Promise<void> { return this.api.call('DELETE', `/images/${enc(ref)}`); }
  async copyFiles(id: string, files: { path: string; content: string; mode: number; uid?: string; gid?: string }[]): Promise<void> {
    if (!files.length) return;
    // Required here: most runs copy no files, and tar-stream costs every run ~6 ms to load.
    const tar = require('tar-stream') as typeof TarStream;
    const pack = tar.pack();
    const dirs = new Set<string>();
    for (const f of files) {
      const rel = f.path.replace(/^\/+/, '');
      const parts = rel.split('/').slice(0, -1);
      for (let i = 1; i <= parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        if (!dirs.has(dir)) { dirs.add(dir); pack.entry({ name: dir, type: 'directory', mode: 0o755 }); }
      }
      pack.entry({ name: rel, mode: f.mode, uid: Number(f.uid ?? 0) || 0, gid: Number(f.gid ?? 0) || 0 }, f.content);
    }
    pack.finalize();
    const body = new PassThrough();
    pack.pipe(body);
    await this.api.call('PUT', `/containers/${enc(id)}/archive`, { query: { path: '/' }, body, headers: { 'Content-Type': 'application/x-tar' } });
  }
  async buildImage(req: BuildRequest): Promise<string> {
    let dockerfile = req.dockerfile ?? 'Dockerfile';
    let extra: { name: string; content: Buffer } | undefined;
    if (req.dockerfileInline !== undefined) {
      extra = { name: `.dockerfile.${randomBytes(10).toString('hex')}`, content: Buffer.from(req.dockerfileInline) };
      dockerfile = extra.name;
    } else if (path.isAbsolute(dockerfile)) {
      const rel = path.relative(req.context, dockerfile);
      if (rel.startsWith('..')) {
        extra = { name: `.dockerfile.${randomBytes(10).toString('hex')}`, content: fs.readFileSync(dockerfile) };
        dockerfile = extra.name;
      } else dockerfile = rel.split(path.sep).join('/');
    }
    let body: Readable = packPath(req.context, contextIgnore(req.context, dockerfile));
    if (extra) body = withExtraFile(body, extra.name, extra.content);
    const res = await this.api.request('POST', '/build', {
      query: {
        t: req.tags, dockerfile, target: req.target, nocache: req.noCache || undefined, pull: req.pull || undefined,
        buildargs: req.args && Object.keys(req.args).length ? JSON.stringify(req.args) : undefined,
        labels: req.labels && Object.keys(req.labels).length ? JSON.stringify(req.labels) : undefined,
        networkmode: req.network, extrahosts: req.extraHosts, rm: true,
      },
      body,
      headers: { 'Content-Type': 'application/x-tar' },
    });
    const id = await drainMessages(res);
    return id ?? (await this.imageId(req.tags[0])) ?? '';
  }
}
