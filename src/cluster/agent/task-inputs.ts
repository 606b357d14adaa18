// What a task's container needs from the cluster store besides the task: its service, this node, the local networks
// its network attachments map to, and the bytes of its secrets and configs (the files only this node's tasks get).
import type { ClusterObjects, Stored } from '../store/objects';
import type { Config, Node, Secret, Service, Task } from '../../wire/swarm';
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

export const LABEL_NETWORK_ID = 'com.docker.swarm.network.id';

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
 * The task's networks on this node. Until overlay data paths exist, each swarm network is a local bridge network of
 * the same name (made on demand), so tasks on one node reach each other by service and task name; the task is
 * reachable there by its service's name and its attachment's aliases. Names come from the task's
 * NetworksAttachments when the allocator filled them, else from the stored network, else the target itself.
 */
export async function networksOf(objects: ClusterObjects, task: Task, serviceName: string): Promise<(TaskNetwork & { id: string; local: boolean })[]> {
  const out: (TaskNetwork & { id: string; local: boolean })[] = [];
  for (const attachment of task.Spec.Networks ?? []) {
    const id = attachment.Target;
    const name = attachedName(task, id) ?? (await storedName(objects, id)) ?? id;
    const aliases = [...new Set([serviceName, ...(attachment.Aliases ?? [])])];
    out.push({
      id, name, local: !PREDEFINED.has(name), aliases,
      ...(attachment.DriverOpts ? { driverOpts: attachment.DriverOpts } : {}),
    });
  }
  return out;
}

function attachedName(task: Task, id: string): string | undefined {
  for (const a of task.NetworksAttachments ?? []) {
    const network = a.Network as { ID?: string; Spec?: { Name?: string } };
    if (network.ID === id && network.Spec?.Name) return network.Spec.Name;
  }
  return undefined;
}

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
