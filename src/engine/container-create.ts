// The request half of POST /containers/create: the body checked, the image resolved and merged, the name, runtime,
// network, resources and mounts decided. Nothing is made here: ContainerService.create makes the container from it.
import * as fs from 'node:fs';
import { InvalidParameterError } from '../errdefs';
import type { ContainerConfig, ContainerCreateBody, EndpointConfigBody, HostConfig } from '../wire/docker';
import type { HostResources } from '../host/resources';
import { checkCreateBody, commandOf, mergeConfig, validateNetworkMode } from './container-config';
import type { ContainerRecord } from './container-record';
import type { ContainerServiceOptions } from './container-ports';
import { planMounts } from './container-mounts';
import { checkLogConfig, type LogConfig } from './log-drivers';
import { checkResources } from './resources';
import { checkSecurity } from './security';
import { randomContainerName, validateContainerName } from './names';

export interface CreateDeps {
  images: ContainerServiceOptions['images'];
  runtime: ContainerServiceOptions['runtime'];
  defaultRuntime: string;
  networks: ContainerServiceOptions['networks'];
  hostResources?: HostResources;
  nameTaken(name: string): boolean;
  find(ref: string): ContainerRecord | undefined;
  /** daemon.json's log-driver and log-opts. */
  logDefaults?: LogConfig;
}

export async function prepareCreate(d: CreateDeps, body: ContainerCreateBody, nameParam?: string) {
  if (!body || typeof body !== 'object') throw new InvalidParameterError('config cannot be empty in order to create a container');
  if (Array.isArray(body)) throw new InvalidParameterError('invalid JSON: the container config must be an object, not an array');
  checkCreateBody(body);
  if (!body.Image) throw new InvalidParameterError('No command specified');
  const hostConfig: HostConfig = { ...(body.HostConfig ?? {}) };
  const logConfig = checkLogConfig(hostConfig.LogConfig, d.logDefaults);
  const name = nameParam ? validateContainerName(nameParam) : randomContainerName((n) => d.nameTaken(n));
  const image = await d.images.resolve(body.Image);
  const imageCfg: ContainerConfig = image.config.config ?? {};
  const config = mergeConfig(body, imageCfg);
  const { entrypoint, cmd } = commandOf(body, imageCfg);
  const argv = [...entrypoint, ...cmd];
  if (argv.length === 0) throw new InvalidParameterError('No command specified');
  const runtime = hostConfig.Runtime || d.defaultRuntime;
  d.runtime.runtimePath(runtime);
  if (hostConfig.AutoRemove && hostConfig.RestartPolicy?.Name && !['', 'no'].includes(hostConfig.RestartPolicy.Name)) {
    throw new InvalidParameterError('can\'t create \'AutoRemove\' container with restart policy');
  }
  const network = d.networks
    ? d.networks.endpoints.prepare(name, hostConfig, body, (body.NetworkingConfig?.EndpointsConfig ?? {}) as Record<string, EndpointConfigBody>)
    : (validateNetworkMode(hostConfig.NetworkMode), undefined);
  // container:<name> shares that container's network and so its hostname, as in Docker.
  const joined = network && hostConfig.NetworkMode?.startsWith('container:') ? d.find(hostConfig.NetworkMode.slice('container:'.length)) : undefined;
  if (joined) config.Hostname = joined.config.Hostname;
  const warnings = checkResources(hostConfig, d.hostResources);
  checkSecurity(hostConfig, d.hostResources?.kernel ?? '');
  const plannedMounts = planMounts({
    hostConfig, volumes: config.Volumes, sourceExists: (p) => fs.existsSync(p),
    mountsOf: (ref) => {
      const from = d.find(ref);
      if (!from) throw new InvalidParameterError(`No such container: ${ref}`);
      return from.mounts ?? [];
    },
  });
  return { name, image, config, entrypoint, cmd, argv, runtime, hostConfig, logConfig, network, warnings, plannedMounts };
}
