// `docker update`: new resource limits and restart policy, applied to the record and, while it runs, to the container's cgroup.
import type { HostConfig, RestartPolicy } from '../wire/docker';
import type { OciRuntime } from '../runtime/oci-runtime';
import { isRunning, resourcesOf, type ContainerService } from './containers';
import { InvalidParameterError } from '../errdefs';
import type { HostResources } from '../host/resources';
import { checkResources } from './resources';

/** The fields of POST /containers/{id}/update (Docker's container.UpdateConfig). */
export type UpdateConfig = Pick<HostConfig, 'Memory' | 'MemorySwap' | 'MemoryReservation' | 'NanoCpus' | 'CpuShares' | 'CpuQuota' | 'CpuPeriod' | 'CpusetCpus' | 'CpusetMems' | 'PidsLimit' | 'BlkioWeight'> & { RestartPolicy?: RestartPolicy };

const RESOURCE_FIELDS = ['Memory', 'MemorySwap', 'MemoryReservation', 'NanoCpus', 'CpuShares', 'CpuQuota', 'CpuPeriod', 'CpusetCpus', 'CpusetMems', 'PidsLimit', 'BlkioWeight'] as const;

export class ContainerUpdate {
  constructor(private readonly containers: ContainerService, private readonly runtime: OciRuntime, private readonly host?: HostResources) {}

  async update(ref: string, body: UpdateConfig | undefined): Promise<{ Warnings: string[] }> {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new InvalidParameterError('invalid JSON: the update body must be an object');
    const c = this.containers.get(ref);
    const hc = c.hostConfig;
    const changed: Partial<HostConfig> = {};
    for (const f of RESOURCE_FIELDS) {
      const v = body[f];
      // JSON types were checked at the API edge (api/shapes/containers.ts containerUpdate).
      if (v === undefined || v === null || v === 0 || v === '') continue;
      (changed as Record<string, unknown>)[f] = v;
    }
    if (changed.NanoCpus && (changed.CpuQuota || hc.CpuQuota)) {
      throw new InvalidParameterError('Conflicting options: Nano CPUs and CPU Period cannot both be set');
    }
    if (changed.BlkioWeight !== undefined && (changed.BlkioWeight < 10 || changed.BlkioWeight > 1000)) {
      throw new InvalidParameterError('Range of blkio weight is from 10 to 1000');
    }
    // The limits as they will stand pass the checks a create passes (moby verifies an update the same way): a stopped
    // container given a CPU period the kernel refuses would otherwise fail at its next start.
    checkResources({ ...hc, ...changed }, this.host);
    const policy = body.RestartPolicy;
    if (policy?.Name) {
      if (!['no', 'always', 'unless-stopped', 'on-failure'].includes(policy.Name)) throw new InvalidParameterError(`invalid restart policy '${policy.Name}'`);
      if (hc.AutoRemove && policy.Name !== 'no') throw new InvalidParameterError('Restart policy cannot be updated because AutoRemove is enabled for the container');
    }
    if (isRunning(c.state.status) && Object.keys(changed).length) {
      // Only what changed goes to the runtime: crun rewrites the cgroup files it is given.
      const resources = resourcesOf(changed as HostConfig);
      await this.runtime.update(c.runtime, c.id, resources, this.containers.dirOf(c)).catch((e: Error) => {
        throw new InvalidParameterError(`Cannot update container ${c.id}: ${e.message}`);
      });
    }
    Object.assign(hc, changed);
    if (policy?.Name) hc.RestartPolicy = { Name: policy.Name, MaximumRetryCount: policy.MaximumRetryCount ?? 0 };
    await this.containers.saveRecord(c);
    this.containers.emit(c, 'update');
    return { Warnings: [] };
  }
}
