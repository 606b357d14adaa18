// `service logs`: each line of a service's or task's log stream (with details) prefixed as docker's
// logWriter does: `<service>.<slot>.<task id>@<node>    | message`, the names looked up once per task.
import { Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { DaemonError } from '../api-client';
import type { Cli } from '../command';
import { StreamDemultiplexer } from '../stdcopy';
import type { Node, Service, Task } from '../../wire/swarm';

export interface LogPrefixOptions { timestamps: boolean; details: boolean; noTaskIds: boolean; noTrunc: boolean; padding: number }

/** getMaxLength: the digits of a slot number. */
export function digits(n: number): number {
  return String(n).length;
}

/** logdetails.Parse: `k=v,k=v` with query-escaped keys and values. */
export function parseDetails(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!s) return out;
  for (const pair of s.split(',')) {
    const i = pair.indexOf('=');
    if (i < 0) throw new Error(`invalid details format: ${s}`);
    const un = (v: string) => decodeURIComponent(v.replace(/\+/g, ' '));
    out[un(pair.slice(0, i))] = un(pair.slice(i + 1));
  }
  return out;
}

/** The lookups a prefix needs (GET /nodes, /services, /tasks by ID). */
export interface LogNames {
  node(id: string): Promise<string>;
  service(id: string): Promise<string>;
  task(id: string): Promise<{ ID: string; Slot?: number }>;
}

/** Formats log lines; `prefix` results are cached per (node, service, task). */
export class TaskLogFormatter {
  private cache = new Map<string, string>();

  constructor(private readonly names: LogNames, private readonly opts: LogPrefixOptions) {}

  private async prefix(nodeId: string, serviceId: string, taskId: string): Promise<string> {
    const key = `${nodeId}/${serviceId}/${taskId}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const [node, service, task] = await Promise.all([this.names.node(nodeId), this.names.service(serviceId), this.names.task(taskId)]);
    const slot = task.Slot ?? 0;
    let name = `${service}.${slot}`;
    if (!this.opts.noTaskIds) name += `.${this.opts.noTrunc ? task.ID : task.ID.slice(0, 12)}`;
    const formatted = `${name}@${node}${' '.repeat(Math.max(0, this.opts.padding - digits(slot)))}`;
    this.cache.set(key, formatted);
    return formatted;
  }

  /** One line as the daemon sent it (`[timestamp ]details message`) → the line to print. */
  async format(line: string): Promise<string> {
    const parts: string[] = [];
    let rest = line;
    const take = () => {
      const i = rest.indexOf(' ');
      if (i < 0) throw new Error(`invalid context in log message: ${line}`);
      parts.push(rest.slice(0, i));
      rest = rest.slice(i + 1);
    };
    if (this.opts.timestamps) take();
    take();
    const details = parseDetails(parts[parts.length - 1]!);
    const nodeId = details['com.docker.swarm.node.id'];
    const serviceId = details['com.docker.swarm.service.id'];
    const taskId = details['com.docker.swarm.task.id'];
    if (nodeId === undefined) throw new Error(`missing node id in details: ${JSON.stringify(details)}`);
    if (serviceId === undefined) throw new Error(`missing service id in details: ${JSON.stringify(details)}`);
    if (taskId === undefined) throw new Error(`missing task id in details: ${JSON.stringify(details)}`);
    delete details['com.docker.swarm.node.id'];
    delete details['com.docker.swarm.service.id'];
    delete details['com.docker.swarm.task.id'];
    let out = this.opts.timestamps ? `${parts[0]} ` : '';
    out += `${await this.prefix(nodeId, serviceId, taskId)}    | `;
    if (this.opts.details) out += `${Object.entries(details).map(([k, v]) => `${k}=${v}`).sort().join(',')} `;
    return out + rest;
  }
}

/** The daemon's names for the prefix, each fetched on first use. */
export function apiLogNames(cli: Cli): LogNames {
  const orId = async <T>(path: string, pick: (v: T) => string, id: string) => {
    try { return pick(await cli.api.json<T>('GET', path)); } catch (err) {
      if (err instanceof DaemonError && err.statusCode === 404) return id;
      throw err;
    }
  };
  return {
    node: (id) => orId<Node>(`/nodes/${id}`, (n) => n.Spec.Name || n.Description.Hostname, id),
    service: (id) => orId<Service>(`/services/${id}?insertDefaults=false`, (s) => s.Spec.Name ?? id, id),
    task: (id) => cli.api.json<Task>('GET', `/tasks/${id}`),
  };
}

/** A Writable that formats each framed log line before writing it to `out`. */
function lineWriter(formatter: TaskLogFormatter | undefined, out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      if (!formatter) { out.write(chunk); done(); return; }
      formatter.format(chunk.toString('utf8')).then((line) => { out.write(line); done(); }, done);
    },
  });
}

/**
 * Pipes a logs response (multiplexed, or raw for TTY services) to the CLI's streams. The line writers format
 * asynchronously (name lookups), so the end is when both have finished, not when the response has been read.
 */
export async function printLogStream(cli: Cli, body: NodeJS.ReadableStream, multiplexed: boolean, formatter: TaskLogFormatter | undefined): Promise<void> {
  const stdout = lineWriter(formatter, cli.out);
  const stderr = lineWriter(formatter, cli.err);
  const done = Promise.all([finished(stdout), finished(stderr)]);
  done.catch(() => undefined);
  if (multiplexed) {
    await pipeline(body, new StreamDemultiplexer(stdout, stderr));
    stdout.end();
  } else {
    await pipeline(body, stdout);
  }
  stderr.end();
  await done;
}
