// An in-memory TaskRuntime for the agent's unit tests: containers as records, images as a set, exits and health
// changes driven by the test, files kept in memory, a log per container. Records every call for assertions.
import type { ContainerCreateBody } from '../../src/wire/docker';
import type {
  TaskContainerEvent, TaskContainerState, TaskFile, TaskLogEntry, TaskLogReadOptions, TaskRuntime,
} from '../../src/cluster/agent/task-runtime';

export interface FakeContainer extends TaskContainerState { body: ContainerCreateBody }

export class FakeTaskRuntime implements TaskRuntime {
  readonly containers = new Map<string, FakeContainer>();
  readonly images = new Set<string>();
  /** Images a pull finds (others fail as a registry that does not have them). */
  readonly registry = new Set<string>();
  readonly files = new Map<string, Map<string, TaskFile & { path: string }>>();
  readonly logLines = new Map<string, TaskLogEntry[]>();
  readonly calls: string[] = [];
  /** Start fails with this message when set. */
  startError?: string;
  private readonly listeners = new Set<(e: TaskContainerEvent) => void>();
  private next = 1;
  private nextPort = 30000;

  async hasImage(ref: string): Promise<boolean> {
    return this.images.has(ref);
  }

  async pullImage(ref: string): Promise<void> {
    this.calls.push(`pull ${ref}`);
    if (!this.registry.has(ref)) throw new Error(`pull access denied for ${ref.split(':')[0]}, repository does not exist or may require 'docker login'`);
    this.images.add(ref);
  }

  async create(name: string, body: ContainerCreateBody): Promise<string> {
    this.calls.push(`create ${name}`);
    if (!this.images.has(body.Image ?? '')) throw new Error(`No such image: ${body.Image}`);
    if ([...this.containers.values()].some((c) => c.name === name)) throw new Error(`Conflict. The container name "/${name}" is already in use`);
    const id = `c${String(this.next++).padStart(63, '0')}`;
    this.containers.set(id, {
      id, name, labels: { ...(body.Labels ?? {}) }, status: 'created', pid: 0, exitCode: 0, error: '', started: false, ports: [], body,
    });
    return id;
  }

  async start(id: string): Promise<void> {
    this.calls.push(`start ${id}`);
    const c = this.must(id);
    if (this.startError) {
      c.exitCode = 127;
      c.error = this.startError;
      throw new Error(this.startError);
    }
    c.status = 'running';
    c.started = true;
    c.pid = 1000 + this.next++;
    const test = c.body.Healthcheck?.Test;
    if (test?.length && test[0] !== 'NONE') c.health = 'starting';
    c.ports = Object.entries(c.body.HostConfig?.PortBindings ?? {}).flatMap(([key, bindings]) => (bindings ?? []).map((b) => {
      const [port, proto] = key.split('/');
      return { containerPort: Number(port), proto: (proto ?? 'tcp') as 'tcp', hostPort: b.HostPort ? Number(b.HostPort) : this.nextPort++ };
    }));
    this.emit(c, 'start');
  }

  async stop(id: string, timeoutSeconds: number): Promise<void> {
    this.calls.push(`stop ${id} ${timeoutSeconds}`);
    const c = this.must(id);
    if (c.status === 'running') this.exit(id, 143);
  }

  async remove(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c) return;
    this.calls.push(`remove ${c.name}`);
    this.containers.delete(id);
    this.emit(c, 'destroy');
  }

  async inspect(idOrName: string): Promise<TaskContainerState | undefined> {
    const c = this.containers.get(idOrName) ?? [...this.containers.values()].find((x) => x.name === idOrName);
    return c && { ...c, labels: { ...c.labels }, ports: [...c.ports] };
  }

  async listByLabel(label: string, value: string): Promise<TaskContainerState[]> {
    return [...this.containers.values()].filter((c) => c.labels[label] === value).map((c) => ({ ...c }));
  }

  subscribe(listener: (event: TaskContainerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async writeTaskFiles(taskId: string, files: TaskFile[]): Promise<Map<string, string>> {
    const kept = new Map<string, TaskFile & { path: string }>();
    for (const f of files) kept.set(f.name, { ...f, path: `/run/berth/swarm/tasks/${taskId}/${f.name}` });
    this.files.set(taskId, kept);
    return new Map([...kept].map(([name, f]) => [name, f.path]));
  }

  async removeTaskFiles(taskId: string): Promise<void> {
    this.files.delete(taskId);
  }

  async *logs(id: string, options: TaskLogReadOptions): AsyncIterable<TaskLogEntry> {
    const c = this.must(id);
    let entries = (this.logLines.get(id) ?? []).filter((e) => options.sinceNano === undefined || e.timeNano >= options.sinceNano);
    if (options.tail !== undefined) entries = entries.slice(Math.max(0, entries.length - options.tail));
    for (const e of entries) yield e;
    void c;
  }

  // ---------- test controls ----------

  /** The container's process ends with `code`. */
  exit(id: string, code: number): void {
    const c = this.must(id);
    c.status = 'exited';
    c.exitCode = code;
    c.pid = 0;
    c.ports = [];
    this.emit(c, 'die');
  }

  setHealth(id: string, health: 'healthy' | 'unhealthy'): void {
    const c = this.must(id);
    c.health = health;
    this.emit(c, 'health');
  }

  log(id: string, stream: 'stdout' | 'stderr', text: string, timeNano: bigint): void {
    const list = this.logLines.get(id) ?? [];
    list.push({ stream, timeNano, data: Buffer.from(text) });
    this.logLines.set(id, list);
  }

  byName(prefix: string): FakeContainer[] {
    return [...this.containers.values()].filter((c) => c.name.startsWith(prefix));
  }

  private must(id: string): FakeContainer {
    const c = this.containers.get(id);
    if (!c) throw new Error(`No such container: ${id}`);
    return c;
  }

  private emit(c: FakeContainer, action: TaskContainerEvent['action']): void {
    for (const l of this.listeners) l({ containerId: c.id, action, labels: { ...c.labels } });
  }
}
