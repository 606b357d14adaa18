// What changes with the API version a client asks for (/v1.NN/), in one place: moby's routers' versions.LessThan.
import { InvalidParameterError } from '../errdefs';
import type { ImageInspect } from '../engine/image-queries';
import { HOST_CONFIG_FIELDS, type ContainerCreateBody, type HostConfig, type ImageSummary } from '../wire/docker';
import { compareApiVersions } from './router';
import { MULTIPLEXED, RAW_STREAM } from './streams';

/**
 * The host config field `key` names at the top of a create body, as Go's json matches it: the exact one, else one
 * that matches case-insensitively, else `key` (the shapes' struct decoders do this for the fields they declare).
 */
function goFieldName(key: string, fields: readonly string[]): string {
  if (fields.includes(key)) return key;
  const folded = key.toLowerCase();
  return fields.find((f) => f.toLowerCase() === folded) ?? key;
}

/**
 * Clients that ask for the daemon's newest API but read an older one. Debian's docker-compose 1.29 runs on a
 * docker-py patched to negotiate the version (upstream docker-py 5 pinned 1.41), yet its code reads the 1.41 API:
 * recreating a container it reads image inspect's `ContainerConfig`, which dockerd drops from 1.45 on, and fails
 * with KeyError 'ContainerConfig' (as it does against dockerd 26+).
 */
const CLIENTS_WRITTEN_FOR: ReadonlyArray<{ userAgent: RegExp; version: string }> = [
  { userAgent: /^docker-compose\/1\./, version: '1.41' },
];

/** The API version a request is answered in: the one it asked for, capped for a client written for an older one. */
export function versionServed(asked: string, userAgent: string | undefined): string {
  const client = userAgent ? CLIENTS_WRITTEN_FOR.find((c) => c.userAgent.test(userAgent)) : undefined;
  return client && compareApiVersions(asked, client.version) > 0 ? client.version : asked;
}

/** True when the client's `version` is older than `than`. */
export function olderThan(version: string, than: string): boolean {
  return compareApiVersions(version, than) < 0;
}

/**
 * POST /containers/create's body as moby's decoder reads it for this version. The host config may also stand at
 * the top level of the body (dockerd up to v27 read it there for every version; docker-py's create_container puts
 * `Runtime` there): it is the host config when the body has no `HostConfig`; beside one, it fills only Memory,
 * MemorySwap, CpuShares, CpusetCpus and VolumeDriver, and the old `Cpuset` fills CpusetCpus.
 */
export function decodeCreateBody(body: unknown, version: string): ContainerCreateBody {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body as ContainerCreateBody;
  const raw = body as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const inline: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(raw)) {
    const k = goFieldName(key, HOST_CONFIG_FIELDS);
    if (HOST_CONFIG_FIELDS.includes(k)) inline[k] = v;
    else if (key !== 'Cpuset') out[key] = v;
  }
  const inner = raw.HostConfig;
  let hc: Record<string, unknown> | undefined;
  if (inner === undefined || inner === null) {
    hc = Object.keys(inline).length ? inline : undefined;
  } else if (typeof inner === 'object' && !Array.isArray(inner)) {
    hc = { ...(inner as Record<string, unknown>) }; // its keys already renamed to fields by the create shape
    for (const k of ['Memory', 'MemorySwap', 'CpuShares', 'CpusetCpus', 'VolumeDriver']) {
      if (inline[k] && !hc[k]) hc[k] = inline[k];
    }
  } else {
    return body as ContainerCreateBody; // a wrong type: the engine's checks name it
  }
  if (hc && typeof raw.Cpuset === 'string' && raw.Cpuset && !hc.CpusetCpus) hc.CpusetCpus = raw.Cpuset;
  const create = out as ContainerCreateBody;
  if (hc) create.HostConfig = adaptHostConfig(hc as HostConfig, version);
  if (olderThan(version, '1.44')) {
    if (create.Healthcheck && typeof create.Healthcheck === 'object') create.Healthcheck = { ...create.Healthcheck, StartInterval: 0 };
    const endpoints = create.NetworkingConfig?.EndpointsConfig;
    if (endpoints && typeof endpoints === 'object' && Object.keys(endpoints).length > 1) {
      throw new InvalidParameterError(`Container cannot be created with multiple network endpoints: ${Object.keys(endpoints).sort().join(', ')}`);
    }
  }
  return create;
}

/** Host config fields that older versions did not have or did not honour. */
function adaptHostConfig(hc: HostConfig, version: string): HostConfig {
  const out = { ...hc };
  // Through 1.24 the client removes the container itself.
  if (olderThan(version, '1.25')) out.AutoRemove = false;
  // Linux daemons ignored ConsoleSize before 1.42.
  if (olderThan(version, '1.42')) delete out.ConsoleSize;
  if (olderThan(version, '1.43')) delete out.Annotations;
  return out;
}

/** GET /images/json entries: untagged images named <none> before 1.43, VirtualSize before 1.44, Containers from 1.51. */
export function imageSummariesFor(list: ImageSummary[], version: string): ImageSummary[] {
  return list.map((img) => {
    const out = { ...img };
    if (olderThan(version, '1.43') && !out.RepoTags.length && !out.RepoDigests.length) {
      out.RepoTags = ['<none>:<none>'];
      out.RepoDigests = ['<none>@<none>'];
    }
    if (olderThan(version, '1.44')) out.VirtualSize = out.Size;
    if (olderThan(version, '1.51')) out.Containers = -1;
    return out;
  });
}

/** GET /images/{name}/json: VirtualSize before 1.44, Container and ContainerConfig before 1.45. */
export function imageInspectFor(image: ImageInspect, version: string): ImageInspect {
  const out = { ...image };
  if (olderThan(version, '1.44')) out.VirtualSize = out.Size;
  else delete out.VirtualSize;
  if (!olderThan(version, '1.45')) {
    delete out.Container;
    delete out.ContainerConfig;
  }
  return out;
}

/** Logs, attach and exec output without a TTY: multiplexed from 1.42; before, dockerd named it a raw stream. */
export function outputContentType(tty: boolean, version: string): string {
  return !tty && !olderThan(version, '1.42') ? MULTIPLEXED : RAW_STREAM;
}
