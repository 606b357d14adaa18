// Fakes of the network side's ports for the network services' unit tests: netavark that sets nothing up, namespaces
// and host ports that are only remembered, the host's routes as a test gives them, and containers in a map.
import type { ContainerRecord } from '../../src/engine/container-record';
import type { ContainerDirectory } from '../../src/engine/networks';
import type { HostRoute } from '../../src/network/host-routes';
import type { NetavarkOptions, NetavarkStatus, NetworkDriver } from '../../src/network/netavark';
import type { NetnsManager } from '../../src/network/netns';
import type { HostPorts, PortRequest, PublishedPort } from '../../src/network/ports';

export class FakeNetworkDriver implements NetworkDriver {
  readonly calls: string[] = [];
  async setup(netnsPath: string, opts: NetavarkOptions): Promise<NetavarkStatus> {
    this.calls.push(`setup ${netnsPath} ${Object.keys(opts.networks).join(',')}`);
    return {};
  }
  async teardown(netnsPath: string): Promise<void> { this.calls.push(`teardown ${netnsPath}`); }
  async addAddresses(): Promise<void> {}
  async setDnsNames(): Promise<void> {}
  async removeNetwork(): Promise<void> {}
}

export class FakeNetns implements NetnsManager {
  private readonly live = new Set<string>();
  pathOf(id: string): string { return `/run/netns/${id}`; }
  async create(id: string): Promise<string> { this.live.add(id); return this.pathOf(id); }
  /** Live at once: the real file becomes a namespace in the driver's first setup, which the fake drivers skip. */
  async reserve(id: string): Promise<string> { return this.create(id); }
  readonly held = new Set<string>();
  async hold(id: string): Promise<void> { if (this.live.has(id)) this.held.add(id); }
  async enterPath(id: string): Promise<string> { return this.held.has(id) ? `/proc/self/fd/${id}` : this.pathOf(id); }
  async remove(id: string): Promise<void> { this.live.delete(id); this.held.delete(id); }
  async exists(id: string): Promise<boolean> { return this.live.has(id); }
  async list(): Promise<string[]> { return [...this.live]; }
}

export class FakeHostPorts implements HostPorts {
  async reserve(_owner: string, _reqs: PortRequest[]): Promise<PublishedPort[]> { return []; }
  async release(): Promise<void> {}
}

/** The host's routes, changed by the test as it goes. */
export class FakeHostRoutes {
  routes: HostRoute[] = [];
  readonly probe = async (): Promise<HostRoute[]> => this.routes;
}

export class FakeContainerDirectory implements ContainerDirectory {
  readonly records = new Map<string, ContainerRecord>();
  readonly saved: string[] = [];
  find(ref: string): ContainerRecord | undefined {
    return this.records.get(ref) ?? [...this.records.values()].find((c) => c.name === ref);
  }
  async saveRecord(c: ContainerRecord): Promise<void> { this.saved.push(c.id); }
}
