// Which containers use a volume or a network, from one container listing (no request per volume or network).
import type { ContainerSummary } from '../../../wire/docker';
import { containerName } from './grouping';

/** Volume name → names of the containers that mount it. */
export function volumeUsers(containers: readonly ContainerSummary[]): Map<string, string[]> {
  const users = new Map<string, string[]>();
  for (const c of containers) {
    for (const m of c.Mounts ?? []) {
      if (m.Type !== 'volume' || !m.Name) continue;
      const list = users.get(m.Name) ?? [];
      if (!list.includes(containerName(c))) list.push(containerName(c));
      users.set(m.Name, list);
    }
  }
  return users;
}

/** Network ID and name → names of the containers attached to it. */
export function networkUsers(containers: readonly ContainerSummary[]): Map<string, string[]> {
  const users = new Map<string, string[]>();
  const add = (key: string, name: string) => {
    const list = users.get(key) ?? [];
    if (!list.includes(name)) list.push(name);
    users.set(key, list);
  };
  for (const c of containers) {
    for (const [netName, ep] of Object.entries(c.NetworkSettings?.Networks ?? {})) {
      add(netName, containerName(c));
      if (ep?.NetworkID) add(ep.NetworkID, containerName(c));
    }
  }
  return users;
}
