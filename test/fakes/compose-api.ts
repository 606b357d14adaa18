// A daemon in memory behind Compose's narrow adapter (src/compose/project/compose-api.ts), for the project
// use-cases' unit tests: containers, networks, volumes and images in maps, every call logged in order, and
// hooks for what a started container does (become healthy, exit) and for slow starts (parallelism).
import { randomBytes } from 'node:crypto';
import { DaemonError } from '../../src/cli/api-client';
import type { BuildRequest, ComposeApi, ContainerDetails } from '../../src/compose/project/compose-api';
import type { ContainerCreateBody, ContainerState, ContainerSummary, EndpointSettings, NetworkCreateBody, NetworkResource, Volume, VolumeCreateBody } from '../../src/wire/docker';

export interface FakeContainer {
  id: string;
  name: string;
  body: ContainerCreateBody;
  state: ContainerState;
  networks: Record<string, EndpointSettings>;
}

const state = (status: ContainerState['Status'], exitCode = 0): ContainerState => ({
  Status: status, Running: status === 'running', Paused: status === 'paused', Restarting: false, OOMKilled: false, Dead: false,
  Pid: 0, ExitCode: exitCode, Error: '', StartedAt: '', FinishedAt: '',
});

export class FakeComposeApi implements ComposeApi {
  readonly calls: string[] = [];
  readonly containers = new Map<string, FakeContainer>();
  readonly networks = new Map<string, NetworkCreateBody>();
  readonly volumes = new Map<string, VolumeCreateBody>();
  readonly images = new Map<string, string>();
  /** What a container does once started (default: it runs). */
  onStart: (c: FakeContainer) => void = () => {};
  /** Milliseconds each start takes, to observe parallelism. */
  startDelayMs = 0;
  active = 0;
  maxActive = 0;

  constructor(images: string[] = ['busybox']) {
    for (const i of images) this.images.set(i, `sha256:${randomBytes(32).toString('hex')}`);
  }

  private find(ref: string): FakeContainer {
    const c = this.containers.get(ref) ?? [...this.containers.values()].find((x) => x.name === ref);
    if (!c) throw new DaemonError(404, `No such container: ${ref}`);
    return c;
  }

  /** Sets a container's state by name (what the workload did). */
  setState(name: string, status: ContainerState['Status'], exitCode = 0, health?: ContainerState['Health']): void {
    const c = this.find(name);
    c.state = { ...state(status, exitCode), Health: health };
  }

  byName(name: string): FakeContainer | undefined { return [...this.containers.values()].find((c) => c.name === name); }

  async listContainers(labels: string[], all: boolean): Promise<ContainerSummary[]> {
    return [...this.containers.values()]
      .filter((c) => all || c.state.Running)
      .filter((c) => labels.every((l) => {
        const [k, v] = l.split('=');
        const have = c.body.Labels?.[k];
        return v === undefined ? have !== undefined : have === v;
      }))
      .map((c) => ({
        Id: c.id, Names: [`/${c.name}`], Image: c.body.Image ?? '', ImageID: '', Command: (c.body.Cmd ?? []).join(' '),
        Created: 0, Ports: [], Labels: c.body.Labels ?? {}, State: c.state.Status, Status: c.state.Status,
        HostConfig: { NetworkMode: c.body.HostConfig?.NetworkMode ?? '' }, NetworkSettings: { Networks: c.networks }, Mounts: [],
      }));
  }
  async inspectContainer(id: string): Promise<ContainerDetails | undefined> {
    try {
      const c = this.find(id);
      return { Id: c.id, Name: `/${c.name}`, Image: '', State: c.state, Config: { Labels: c.body.Labels, Image: c.body.Image } };
    } catch { return undefined; }
  }
  async createContainer(name: string, body: ContainerCreateBody): Promise<string> {
    this.calls.push(`create ${name}`);
    if (this.byName(name)) throw new DaemonError(409, `Conflict. The container name "/${name}" is already in use`);
    const id = randomBytes(32).toString('hex');
    this.containers.set(id, { id, name, body: structuredClone(body), state: state('created'), networks: { ...(body.NetworkingConfig?.EndpointsConfig ?? {}) } });
    return id;
  }
  async startContainer(id: string): Promise<void> {
    const c = this.find(id);
    this.calls.push(`start ${c.name}`);
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    if (this.startDelayMs) await new Promise((r) => setTimeout(r, this.startDelayMs));
    this.active--;
    c.state = state('running');
    this.onStart(c);
  }
  async stopContainer(id: string): Promise<void> {
    const c = this.find(id);
    this.calls.push(`stop ${c.name}`);
    c.state = state('exited', 137);
  }
  async killContainer(id: string, signal: string): Promise<void> { const c = this.find(id); this.calls.push(`kill ${c.name} ${signal}`); c.state = state('exited', 137); }
  async pauseContainer(id: string): Promise<void> { const c = this.find(id); this.calls.push(`pause ${c.name}`); c.state = state('paused'); }
  async unpauseContainer(id: string): Promise<void> { const c = this.find(id); this.calls.push(`unpause ${c.name}`); c.state = state('running'); }
  async removeContainer(id: string): Promise<void> { const c = this.find(id); this.calls.push(`remove ${c.name}`); this.containers.delete(c.id); }
  async renameContainer(id: string, name: string): Promise<void> { const c = this.find(id); this.calls.push(`rename ${c.name} ${name}`); c.name = name; }
  async connectNetwork(network: string, container: string, endpoint: EndpointSettings): Promise<void> {
    const c = this.find(container);
    this.calls.push(`connect ${network} ${c.name}`);
    c.networks[network] = endpoint;
  }
  async disconnectNetwork(network: string, container: string): Promise<void> { delete this.find(container).networks[network]; }
  async inspectNetwork(name: string): Promise<NetworkResource | undefined> {
    const n = this.networks.get(name);
    return n ? ({ Name: name, Id: name, Labels: n.Labels ?? {} } as unknown as NetworkResource) : undefined;
  }
  async createNetwork(body: NetworkCreateBody): Promise<void> { this.calls.push(`network create ${body.Name}`); this.networks.set(body.Name!, body); }
  async removeNetwork(name: string): Promise<void> { this.calls.push(`network rm ${name}`); this.networks.delete(name); }
  async inspectVolume(name: string): Promise<Volume | undefined> {
    const v = this.volumes.get(name);
    return v ? ({ Name: name, Labels: v.Labels ?? {} } as Volume) : undefined;
  }
  async createVolume(body: VolumeCreateBody): Promise<void> { this.calls.push(`volume create ${body.Name}`); this.volumes.set(body.Name!, body); }
  async removeVolume(name: string): Promise<void> { this.calls.push(`volume rm ${name}`); this.volumes.delete(name); }
  async imageId(ref: string): Promise<string | undefined> { return this.images.get(ref); }
  async pullImage(ref: string): Promise<void> { this.calls.push(`pull ${ref}`); this.images.set(ref, `sha256:${randomBytes(32).toString('hex')}`); }
  async pushImage(ref: string): Promise<void> { this.calls.push(`push ${ref}`); }
  async removeImage(ref: string): Promise<void> { this.calls.push(`rmi ${ref}`); this.images.delete(ref); }
  readonly copied = new Map<string, { path: string; content: string; mode: number }[]>();
  async copyFiles(id: string, files: { path: string; content: string; mode: number }[]): Promise<void> {
    if (files.length) this.copied.set(this.find(id).name, files);
  }
  async buildImage(req: BuildRequest): Promise<string> {
    this.calls.push(`build ${req.tags.join(',')}`);
    const id = `sha256:${randomBytes(32).toString('hex')}`;
    for (const t of req.tags) this.images.set(t, id);
    return id;
  }
}
