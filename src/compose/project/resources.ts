// The project's networks and volumes: created when missing (with Compose's labels, IPAM, driver options),
// external ones required to exist, and removed at `down` when the project made them.
import { DaemonError } from '../../cli/api-client';
import type { NetworkCreateBody } from '../../wire/docker';
import { LABEL } from '../model';
import type { ProjectContext } from './context';
import { reported } from './context';
import { inParallel } from './dependency-order';
import { networkLabels, volumeLabels } from './labels';
import { ComposeProjectError } from './naming';

// Networks and volumes are independent of each other: each is looked up and made in parallel (a 20-volume
// project otherwise waits on 40 round trips in a row).

export async function ensureNetworks(ctx: ProjectContext, keys: string[]): Promise<void> {
  const { api, project } = ctx;
  await inParallel(keys, async (key) => {
    const n = project.networks[key];
    if (!n) return;
    // Compose's built-in modes are not networks to create.
    if (['host', 'none', 'bridge'].includes(n.name) && n.external) return;
    const existing = await api.inspectNetwork(n.name);
    if (n.external) {
      if (!existing) throw new ComposeProjectError(`network ${n.name} declared as external, but could not be found`);
      return;
    }
    if (existing) return;
    const body: NetworkCreateBody = {
      Name: n.name,
      Driver: n.driver,
      Options: n.driver_opts,
      Internal: n.internal,
      Attachable: n.attachable,
      EnableIPv6: n.enable_ipv6,
      Labels: networkLabels(project, key, n),
      IPAM: n.ipam ? {
        Driver: n.ipam.driver,
        Options: n.ipam.options,
        Config: n.ipam.config?.map((c) => ({ Subnet: c.subnet, IPRange: c.ip_range, Gateway: c.gateway, AuxiliaryAddresses: c.aux_addresses })),
      } : undefined,
    };
    await reported(ctx.reporter, { kind: 'Network', name: n.name }, 'Creating', 'Created', () => api.createNetwork(body));
  }, ctx.parallelism);
}

export async function ensureVolumes(ctx: ProjectContext, keys: string[]): Promise<void> {
  const { api, project } = ctx;
  await inParallel(keys, async (key) => {
    const v = project.volumes[key];
    if (!v) return;
    const existing = await api.inspectVolume(v.name);
    if (v.external) {
      if (!existing) throw new ComposeProjectError(`external volume "${v.name}" not found`);
      return;
    }
    if (existing) return;
    await reported(ctx.reporter, { kind: 'Volume', name: `"${v.name}"` }, 'Creating', 'Created',
      () => api.createVolume({ Name: v.name, Driver: v.driver, DriverOpts: v.driver_opts, Labels: volumeLabels(project, key, v) }));
  }, ctx.parallelism);
}

/** Removes the project's own networks (not external, labelled with this project). */
export async function removeNetworks(ctx: ProjectContext): Promise<void> {
  await inParallel(Object.values(ctx.project.networks), async (n) => {
    if (n.external) return;
    const existing = await ctx.api.inspectNetwork(n.name);
    if (!existing || existing.Labels?.[LABEL.project] !== ctx.project.name) return;
    await reported(ctx.reporter, { kind: 'Network', name: n.name }, 'Removing', 'Removed', () => ignoreNotFound(ctx.api.removeNetwork(n.name)));
  }, ctx.parallelism);
}

export async function removeVolumes(ctx: ProjectContext): Promise<void> {
  await inParallel(Object.values(ctx.project.volumes), async (v) => {
    if (v.external) return;
    const existing = await ctx.api.inspectVolume(v.name);
    if (!existing || existing.Labels?.[LABEL.project] !== ctx.project.name) return;
    await reported(ctx.reporter, { kind: 'Volume', name: v.name }, 'Removing', 'Removed', () => ignoreNotFound(ctx.api.removeVolume(v.name)));
  }, ctx.parallelism);
}

export async function ignoreNotFound(p: Promise<void>): Promise<void> {
  try { await p; } catch (err) { if (!(err instanceof DaemonError && err.statusCode === 404)) throw err; }
}
