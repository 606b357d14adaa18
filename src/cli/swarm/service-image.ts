// A service's image as docker's client library sends it (ServiceCreate/ServiceUpdate): always tagged
// ("busybox" → "busybox:latest"), and when asked, pinned to the registry's digest with its platforms; an image
// the registry cannot answer for keeps its tag and gives docker's warning instead.
import { DaemonError } from '../api-client';
import type { Cli } from '../command';
import { registryAuthHeader } from '../config-file';
import { familiarWithTag, registryOf } from '../reference';
import type { TaskSpec } from '../../wire/swarm';

interface DistributionInspect { Descriptor: { digest: string }; Platforms?: { architecture?: string; os?: string }[] }

/** digestWarning: the text docker prints on stderr (with a blank line after) when the digest is unknown. */
export function digestWarning(image: string): string {
  return `image ${image} could not be accessed on a registry to record\nits digest. Each node will access ${image} independently,\npossibly leading to different nodes running different\nversions of the image.\n`;
}

/** Tags the task's image in place; with `query`, pins it by digest. Returns the warning to print, if any. */
export async function resolveServiceImage(cli: Cli, task: TaskSpec, query: boolean): Promise<string | undefined> {
  const c = task.ContainerSpec;
  if (!c?.Image) return undefined;
  let tagged: string;
  try { tagged = familiarWithTag(c.Image); } catch { return undefined; }
  // A canonical reference (name@digest) is sent as given.
  if (tagged.includes('@')) return undefined;
  c.Image = tagged;
  if (!query) return undefined;
  let d: DistributionInspect;
  try {
    d = await cli.api.json<DistributionInspect>('GET', `/distribution/${tagged}/json`, { headers: { 'X-Registry-Auth': registryAuthHeader(registryOf(tagged), cli.env) } });
  } catch (err) {
    if (err instanceof DaemonError) return digestWarning(tagged);
    throw err;
  }
  c.Image = `${tagged}@${d.Descriptor.digest}`;
  // Arm images report "arm" where nodes report "armv7l": docker drops the architecture for them.
  const platforms = (d.Platforms ?? []).map((p) => ({ Architecture: p.architecture?.toLowerCase() === 'arm' ? '' : p.architecture ?? '', OS: p.os ?? '' }));
  if (platforms.length) task.Placement = { ...(task.Placement ?? {}), Platforms: platforms };
  return undefined;
}
