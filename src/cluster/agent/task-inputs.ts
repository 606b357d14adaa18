// What a task's container needs from the cluster store besides the task: its service, this node, the networks it
// joins (swarm overlays by ID, with the manager's address), and the bytes of its secrets and configs (the files only this node's tasks get).
import type { ClusterObjects, Stored } from '../store/objects';
import type { Config, Node, Secret, Service, Task } from '../../wire/swarm';
import { isIPv4 } from 'node:net';
import { NotFoundError } from '../../errdefs';
import type { TaskNetwork, TaskNodeInfo, TaskServiceInfo } from './task-container';
import { configTarget, secretTarget } from './task-container';
import type { TaskFile } from './task-runtime';

/**
 * A swarm network as stored under /networks (the network part stores moby's network resource shape; only the name
 * and labels are read here, from the top level or a Spec).
 */
interface ClusterNetwork extends Stored {
  Name?: string;
  Labels?: Record<string, string>;
  Spec?: { Name?: string; Labels?: Record<string, string> };
}

/** The networks swarm predefines: tasks use the engine's own of that name. */
const PREDEFINED = new Set(['host', 'bridge', 'none']);

export interface NodeFallback { hostname: string; os: string; architecture: string }

export async function serviceOf(objects: ClusterObjects, task: Task): Promise<TaskServiceInfo> {
  const service = await objects.get<Service>('services', task.ServiceID);
  if (!service) throw new NotFoundError(`service ${task.ServiceID} not found`);
  return {
    ID: service.ID, Name: service.Spec.Name ?? service.ID, Labels: service.Spec.Labels ?? {},
    EndpointSpec: service.Spec.EndpointSpec ?? service.Endpoint?.Spec,
  };
}

export async function nodeOf(objects: ClusterObjects, nodeId: string, fallback: NodeFallback): Promise<TaskNodeInfo> {
  const node = await objects.get<Node>('nodes', nodeId);
  return {
    ID: nodeId,
    Hostname: node?.Description?.Hostname || fallback.hostname,
    Platform: { OS: node?.Description?.Platform?.OS || fallback.os, Architecture: node?.Description?.Platform?.Architecture || fallback.architecture },
  };
}

/**
 * The task's networks on this node: the manager's NetworksAttachments when it made them (they carry the task's
 * address on each overlay, and the ingress network for a service with mesh-published ports), else the spec's
 * targets. A swarm network is joined by its ID (the engine finds it through the node's overlay side); the predefined
 * ones (host, bridge, none) by their name, the engine's own. The task's names on a network are its attachment's
 * aliases: the service's name is not one (the swarm answers it with the VIP, or the task IPs in dnsrr mode).
 */
export async function networksOf(objects: ClusterObjects, task: Task): Promise<TaskNetwork[]> {
  const specs = task.Spec.Networks ?? [];
  const attached = (task.NetworksAttachments ?? []).map((a) => ({ network: a.Network as AttachedNetwork, addresses: a.Addresses ?? [] }));
  const targets = attached.length
    ? attached.map((a) => ({ id: a.network.ID ?? '', name: a.network.Spec?.Name, address: a.addresses.find((x) => isIPv4(x.split('/')[0]!)), aliases: a.network.Aliases }))
    : specs.map((n) => ({ id: n.Target, name: undefined, address: undefined, aliases: undefined }));
  const out: TaskNetwork[] = [];
  for (const t of targets) {
    const spec = specs.find((n) => n.Target === t.id);
    const name = t.name ?? (await storedName(objects, t.id)) ?? t.id;
    const predefined = PREDEFINED.has(name);
    const aliases = [...new Set(spec?.Aliases ?? t.aliases ?? [])];
    out.push({
      id: t.id, name: predefined ? name : t.id, aliases,
      ...(t.address && !predefined ? { ipv4Address: t.address.split('/')[0]! } : {}),
      ...(spec?.DriverOpts ? { driverOpts: spec.DriverOpts } : {}),
    });
  }
  return out;
}

/** A NetworksAttachments entry's Network: moby's swarm network object (and, from some writers, the aliases). */
interface AttachedNetwork { ID?: string; Spec?: { Name?: string }; Aliases?: string[] }

async function storedName(objects: ClusterObjects, id: string): Promise<string | undefined> {
  const n = await objects.get<ClusterNetwork>('networks', id).catch(() => undefined);
  return n?.Spec?.Name || n?.Name || undefined;
}

/** A secret or config file the task gets, with where it goes in the container. */
export interface TaskFileSpec extends TaskFile { target: string }

/** The task's secret and config files (runtime-target configs are not files). */
export async function filesOf(objects: ClusterObjects, task: Task): Promise<TaskFileSpec[]> {
  const spec = task.Spec.ContainerSpec;
  const files: TaskFileSpec[] = [];
  for (const [i, ref] of (spec?.Secrets ?? []).entries()) {
    if (!ref.File) continue;
    const secret = await objects.get<Secret>('secrets', ref.SecretID);
    if (!secret) throw new NotFoundError(`secret ${ref.SecretName || ref.SecretID} not found`);
    files.push({ name: `secrets/${i}-${ref.SecretID}`, target: secretTarget(ref.File.Name), data: decode(secret.Spec.Data), ...owner(ref.File) });
  }
  for (const [i, ref] of (spec?.Configs ?? []).entries()) {
    if (!ref.File) continue;
    const config = await objects.get<Config>('configs', ref.ConfigID);
    if (!config) throw new NotFoundError(`config ${ref.ConfigName || ref.ConfigID} not found`);
    files.push({ name: `configs/${i}-${ref.ConfigID}`, target: configTarget(ref.File.Name), data: decode(config.Spec.Data), ...owner(ref.File) });
  }
  return files;
}

function decode(data: string | undefined): Buffer {
  return Buffer.from(data ?? '', 'base64');
}

/** File.UID/GID are decimal strings; Mode a decimal file mode (0444 by default). */
function owner(file: { UID: string; GID: string; Mode: number }): { uid: number; gid: number; mode: number } {
  const id = (s: string) => (/^\d+$/.test(s ?? '') ? Number(s) : 0);
  return { uid: id(file.UID), gid: id(file.GID), mode: (file.Mode || 0o444) & 0o7777 };
}
