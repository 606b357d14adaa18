// The narrow port the node agent runs tasks through: the few engine operations a task container needs (image,
// local network, create/start/stop/remove, state, exits, logs) and the task's secret/config files. Implemented
// over berthd's engine services in task-runtime-engine.ts; faked in test/fakes/task-runtime.ts.
import type { ContainerCreateBody } from '../../wire/docker';

export type TaskContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

/** What the agent reads of a container. */
export interface TaskContainerState {
  id: string;
  name: string;
  labels: Record<string, string>;
  status: TaskContainerStatus;
  pid: number;
  exitCode: number;
  /** The runtime's error of a failed start, '' otherwise. */
  error: string;
  /** Whether it was ever started (a created container has never run). */
  started: boolean;
  /** The HEALTHCHECK's verdict while it runs one; undefined without a healthcheck. */
  health?: 'starting' | 'healthy' | 'unhealthy';
  /** Host ports the running container holds. */
  ports: { containerPort: number; proto: 'tcp' | 'udp' | 'sctp'; hostPort: number }[];
}

/** Something happened to a container (exit, health change, start, removal): the agent re-reads its state. */
export interface TaskContainerEvent {
  containerId: string;
  action: 'start' | 'die' | 'health' | 'destroy';
  labels: Record<string, string>;
}

/** A file of a task's secret or config, written on the host and bind-mounted read-only into its container. */
export interface TaskFile {
  /** A name unique within the task (e.g. "secrets/<id>"), under the task's own directory. */
  name: string;
  data: Buffer;
  uid: number;
  gid: number;
  mode: number;
}

export interface TaskLogEntry {
  stream: 'stdout' | 'stderr';
  /** Nanoseconds since the epoch. */
  timeNano: bigint;
  /** The line's bytes, with its newline unless it was partial. */
  data: Buffer;
}

export interface TaskLogReadOptions {
  follow: boolean;
  sinceNano?: bigint;
  tail?: number;
  signal?: AbortSignal;
}

export interface TaskRuntime {
  /** Whether the image is in the local store. */
  hasImage(ref: string): Promise<boolean>;
  /** Pulls from its registry (the engine's `docker pull`). */
  pullImage(ref: string): Promise<void>;
  /** Creates the container; resolves to its ID. */
  create(name: string, body: ContainerCreateBody): Promise<string>;
  start(id: string): Promise<void>;
  /** Stops with the signal of its config, then SIGKILL after `timeoutSeconds`. */
  stop(id: string, timeoutSeconds: number): Promise<void>;
  /** Removes it (forced: stops it first); absent containers are no error. */
  remove(id: string): Promise<void>;
  /** The container's state; undefined when it does not exist. */
  inspect(idOrName: string): Promise<TaskContainerState | undefined>;
  /** Containers (any state) that carry label=value. */
  listByLabel(label: string, value: string): Promise<TaskContainerState[]>;
  /** Calls `listener` for each event of a container; returns the unsubscribe. */
  subscribe(listener: (event: TaskContainerEvent) => void): () => void;
  /** Writes the task's files (replacing earlier ones); resolves to each file's host path by name. */
  writeTaskFiles(taskId: string, files: TaskFile[]): Promise<Map<string, string>>;
  removeTaskFiles(taskId: string): Promise<void>;
  /** The container's log (its local log driver). */
  logs(id: string, options: TaskLogReadOptions): AsyncIterable<TaskLogEntry>;
}
