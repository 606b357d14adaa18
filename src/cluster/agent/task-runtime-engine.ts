// The TaskRuntime over berthd's own engine services (the ones daemon.ts builds): containers, the local image store,
// the puller and the events bus (a task's networks are the swarm's, which the engine finds at create); task files
// under the exec root (a tmpfs, so secrets never reach a disk), one directory per task, removed with its container.
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { ContainerCreateBody, EventMessage } from '../../wire/docker';
import { NotFoundError } from '../../errdefs';
import { ZERO_TIME, type ContainerRecord } from '../../engine/container-record';
import type { LogEntry, ReadOptions } from '../../engine/logs';
import type {
  TaskContainerEvent, TaskContainerState, TaskFile, TaskLogEntry, TaskLogReadOptions, TaskRuntime,
} from './task-runtime';

/** The engine services the agent uses (ContainerService, LocalImages, DistributionService, EventBus). */
export interface EngineForTasks {
  containers: {
    find(ref: string): ContainerRecord | undefined;
    all(): ContainerRecord[];
    create(body: ContainerCreateBody, name?: string): Promise<{ Id: string }>;
    start(ref: string): Promise<unknown>;
    stop(ref: string, opts: { timeout?: number }): Promise<unknown>;
    remove(ref: string, opts: { force?: boolean; volumes?: boolean }): Promise<void>;
    logs(ref: string, o: Omit<ReadOptions, 'stopped'>): { entries: AsyncGenerator<LogEntry> };
  };
  images: { has(ref: string): boolean };
  pull(ref: string): Promise<unknown>;
  events: { subscribe(listener: (ev: EventMessage) => void): () => void };
  /** Where task files go: <exec root>/swarm/tasks. */
  filesRoot: string;
}

const ACTIONS: Record<string, TaskContainerEvent['action']> = { start: 'start', die: 'die', destroy: 'destroy' };

export class EngineTaskRuntime implements TaskRuntime {
  constructor(private readonly e: EngineForTasks) {}

  async hasImage(ref: string): Promise<boolean> {
    return this.e.images.has(ref);
  }

  async pullImage(ref: string): Promise<void> {
    await this.e.pull(ref);
  }

  async create(name: string, body: ContainerCreateBody): Promise<string> {
    return (await this.e.containers.create(body, name)).Id;
  }

  async start(id: string): Promise<void> {
    await this.e.containers.start(id);
  }

  async stop(id: string, timeoutSeconds: number): Promise<void> {
    await this.e.containers.stop(id, { timeout: timeoutSeconds });
  }

  async remove(id: string): Promise<void> {
    try {
      await this.e.containers.remove(id, { force: true, volumes: true });
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }

  async inspect(idOrName: string): Promise<TaskContainerState | undefined> {
    const c = this.e.containers.find(idOrName);
    return c && stateOf(c);
  }

  async listByLabel(label: string, value: string): Promise<TaskContainerState[]> {
    return this.e.containers.all().filter((c) => c.config.Labels?.[label] === value).map(stateOf);
  }

  subscribe(listener: (event: TaskContainerEvent) => void): () => void {
    return this.e.events.subscribe((ev) => {
      if (ev.Type !== 'container') return;
      const action = ev.Action.startsWith('health_status') ? 'health' : ACTIONS[ev.Action];
      if (action) listener({ containerId: ev.Actor.ID, action, labels: ev.Actor.Attributes });
    });
  }

  async writeTaskFiles(taskId: string, files: TaskFile[]): Promise<Map<string, string>> {
    const dir = this.taskDir(taskId);
    await fsp.rm(dir, { recursive: true, force: true });
    const paths = new Map<string, string>();
    for (const f of files) {
      const file = path.join(dir, f.name);
      await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      await fsp.writeFile(file, f.data, { mode: 0o600 });
      await fsp.chown(file, f.uid, f.gid);
      await fsp.chmod(file, f.mode);
      paths.set(f.name, file);
    }
    return paths;
  }

  async removeTaskFiles(taskId: string): Promise<void> {
    await fsp.rm(this.taskDir(taskId), { recursive: true, force: true });
  }

  async *logs(id: string, options: TaskLogReadOptions): AsyncIterable<TaskLogEntry> {
    const { entries } = this.e.containers.logs(id, {
      follow: options.follow,
      ...(options.sinceNano !== undefined ? { sinceNano: options.sinceNano } : {}),
      ...(options.tail !== undefined ? { tail: options.tail } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    for await (const e of entries) yield { stream: e.stream, timeNano: e.timeNano, data: e.data };
  }

  private taskDir(taskId: string): string {
    if (!/^[a-z0-9]+$/.test(taskId)) throw new NotFoundError(`task ${taskId} not found`);
    return path.join(this.e.filesRoot, taskId);
  }
}

function stateOf(c: ContainerRecord): TaskContainerState {
  const health = c.state.health?.status;
  return {
    id: c.id,
    name: c.name.replace(/^\//, ''),
    labels: { ...(c.config.Labels ?? {}) },
    status: c.state.status,
    pid: c.state.pid,
    exitCode: c.state.exitCode,
    error: c.state.error,
    started: !!c.state.startedAt && c.state.startedAt !== ZERO_TIME,
    ...(health === 'starting' || health === 'healthy' || health === 'unhealthy' ? { health } : {}),
    ports: (c.network?.ports ?? []).map((p) => ({ containerPort: p.containerPort, proto: p.proto, hostPort: p.hostPort })),
  };
}
