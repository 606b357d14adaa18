// Logs of this node's task containers for `docker service logs` / `docker task logs`: each line with its task's
// context (the com.docker.swarm.{node,service,task}.id attributes the CLI turns into `name.slot.id@node | `), as an
// async iterable the membership part merges across nodes; and the line as moby's log writer renders it.
import type { TaskLogReadOptions, TaskRuntime } from './task-runtime';
import { LABEL_NODE_ID, LABEL_SERVICE_ID, LABEL_TASK_ID } from './task-container';

export interface TaskLogLine {
  taskId: string;
  serviceId: string;
  nodeId: string;
  stream: 'stdout' | 'stderr';
  /** Nanoseconds since the epoch. */
  timeNano: bigint;
  /** The line's bytes, with its newline unless it was partial. */
  line: Buffer;
}

/** Which containers: one task's, or every task of a service on this node. */
export type TaskLogSelector = { taskId: string } | { serviceId: string };

export interface TaskLogOptions extends TaskLogReadOptions {
  stdout: boolean;
  stderr: boolean;
}

/**
 * The selected tasks' log lines on this node. Without `follow`, container after container (oldest task first); with
 * it, the containers' lines as they come, until `signal` aborts or every container's log ends.
 */
export async function* localTaskLogs(runtime: TaskRuntime, selector: TaskLogSelector, options: TaskLogOptions): AsyncIterable<TaskLogLine> {
  const containers = 'taskId' in selector
    ? await runtime.listByLabel(LABEL_TASK_ID, selector.taskId)
    : await runtime.listByLabel(LABEL_SERVICE_ID, selector.serviceId);
  const sources = containers.map((c) => lines(runtime, c.id, c.labels, options));
  if (!options.follow) {
    for (const source of sources) yield* source;
    return;
  }
  yield* merge(sources);
}

async function* lines(runtime: TaskRuntime, containerId: string, labels: Record<string, string>, options: TaskLogOptions): AsyncGenerator<TaskLogLine> {
  const context = { taskId: labels[LABEL_TASK_ID] ?? '', serviceId: labels[LABEL_SERVICE_ID] ?? '', nodeId: labels[LABEL_NODE_ID] ?? '' };
  for await (const e of runtime.logs(containerId, options)) {
    if (e.stream === 'stdout' ? !options.stdout : !options.stderr) continue;
    yield { ...context, stream: e.stream, timeNano: e.timeNano, line: e.data };
  }
}

/** Interleaves generators as their values arrive. */
async function* merge<T>(sources: AsyncGenerator<T>[]): AsyncGenerator<T> {
  const pending = new Map<number, Promise<{ i: number; r: IteratorResult<T> }>>();
  const pull = (i: number) => pending.set(i, sources[i]!.next().then((r) => ({ i, r })));
  sources.forEach((_, i) => pull(i));
  try {
    while (pending.size) {
      const { i, r } = await Promise.race(pending.values());
      if (r.done) pending.delete(i);
      else {
        pull(i);
        yield r.value;
      }
    }
  } finally {
    await Promise.all(sources.map((s) => s.return(undefined)));
  }
}

/** The three attributes `docker service logs` needs in each line's details. */
export function logDetails(line: TaskLogLine): Record<string, string> {
  return { [LABEL_NODE_ID]: line.nodeId, [LABEL_SERVICE_ID]: line.serviceId, [LABEL_TASK_ID]: line.taskId };
}

/**
 * The line as dockerd writes it into a logs stream (before framing): `<timestamp> ` when asked (RFC 3339 with nine
 * fraction digits), then with `details` the attributes `k=v,...` sorted and query-escaped and a space, then the line.
 */
export function renderLogLine(line: TaskLogLine, options: { timestamps: boolean; details: boolean }): Buffer {
  const parts: Buffer[] = [];
  if (options.timestamps) parts.push(Buffer.from(`${fixedTimestamp(line.timeNano)} `));
  if (options.details) {
    const attrs = Object.entries(logDetails(line)).sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${queryEscape(k)}=${queryEscape(v)}`).join(',');
    parts.push(Buffer.from(`${attrs} `));
  }
  parts.push(line.line);
  return Buffer.concat(parts);
}

/** Go's url.QueryEscape: spaces as "+", the unreserved characters kept. */
function queryEscape(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+');
}

/** jsonmessage.RFC3339NanoFixed in UTC: 2006-01-02T15:04:05.000000000Z. */
function fixedTimestamp(nano: bigint): string {
  const secs = nano / 1_000_000_000n;
  const frac = (nano % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(Number(secs) * 1000).toISOString().replace(/\.\d{3}Z$/, `.${frac}Z`);
}
