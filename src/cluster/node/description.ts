// What a node reports of itself when it registers (Node.Description): hostname, platform, resources, engine version,
// labels and plugins, as dockerd's executor describes the host.
import type { NodeDescription, TLSInfo } from '../../wire/swarm';

export interface HostDescriptionSources {
  hostname(): string;
  /** uname -m: x86_64, not amd64 (moby reports the kernel's word). */
  machine(): string;
  cpus(): number;
  memTotal(): number;
  engineVersion: string;
  /** Daemon labels (--label); omitted from the description when empty. */
  engineLabels: Record<string, string>;
}

/** Plugins dockerd lists, sorted by type then name; Network/overlay is always there in swarm mode. */
const PLUGINS: { Type: string; Name: string }[] = [
  { Type: 'Log', Name: 'json-file' }, { Type: 'Log', Name: 'local' },
  { Type: 'Network', Name: 'bridge' }, { Type: 'Network', Name: 'host' }, { Type: 'Network', Name: 'null' }, { Type: 'Network', Name: 'overlay' },
  { Type: 'Volume', Name: 'local' },
];

export function describeNode(host: HostDescriptionSources, tlsInfo: TLSInfo): NodeDescription {
  return {
    Hostname: host.hostname(),
    Platform: { Architecture: host.machine(), OS: 'linux' },
    Resources: { NanoCPUs: host.cpus() * 1e9, MemoryBytes: host.memTotal() },
    Engine: {
      EngineVersion: host.engineVersion,
      ...(Object.keys(host.engineLabels).length ? { Labels: host.engineLabels } : {}),
      Plugins: PLUGINS.map((p) => ({ ...p })),
    },
    TLSInfo: tlsInfo,
  };
}
