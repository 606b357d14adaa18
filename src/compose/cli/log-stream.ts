// Streams the logs of a project's containers into a LogPrinter: one request per container (framed unless
// the container has a TTY), and, when following, the containers that start later (Compose follows them too).
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ApiClient } from '../../cli/api-client';
import { encodeFilters, jsonValues } from '../../cli/api-client';
import { StreamDemultiplexer } from '../../cli/stdcopy';
import { getTimestamp } from '../../wire/timestamps';
import { LABEL } from '../model';
import type { ProjectContainer } from '../project/operations';
import { nameWithoutProject, projectContainers } from './containers';
import type { LogPrinter } from './log-printer';

export interface LogQuery {
  follow: boolean;
  tail?: string;
  since?: string;
  until?: string;
  timestamps?: boolean;
}

/** A Writable that hands each chunk to the printer under a container's name. */
function printerSink(printer: LogPrinter, name: string, stream: 'stdout' | 'stderr'): Writable {
  return new Writable({ write: (chunk: Buffer, _e, cb) => { printer.write(name, stream, chunk.toString('utf8')); cb(); } });
}

/** Streams one container's logs until they end (at once, or when a followed container stops). */
export async function streamLogs(api: ApiClient, c: ProjectContainer, name: string, printer: LogPrinter, q: LogQuery): Promise<void> {
  const inspect = await api.json<{ Config: { Tty?: boolean } }>('GET', `/containers/${c.id}/json`);
  const res = await api.request('GET', `/containers/${c.id}/logs`, {
    query: {
      follow: q.follow || undefined, stdout: true, stderr: true, tail: q.tail ?? 'all', timestamps: q.timestamps || undefined,
      since: q.since ? getTimestamp(q.since) : undefined, until: q.until ? getTimestamp(q.until) : undefined,
    },
  });
  printer.register(name);
  const target = inspect.Config.Tty
    ? printerSink(printer, name, 'stdout')
    : new StreamDemultiplexer(printerSink(printer, name, 'stdout'), printerSink(printer, name, 'stderr'));
  try {
    await pipeline(res, target);
  } finally {
    printer.flush(name);
  }
}

/** Follows a project's logs: its containers now, and those that start while following, until `stop` resolves. */
export class ProjectLogFollower {
  private readonly streaming = new Set<string>();
  private readonly running: Promise<void>[] = [];

  constructor(private readonly api: ApiClient, private readonly project: string, private readonly printer: LogPrinter,
    private readonly q: LogQuery, private readonly services?: string[]) {}

  /** Starts streaming a container unless it already is; `onEnd` runs when its stream ends (drained() waits for it). */
  add(c: ProjectContainer, onEnd?: (c: ProjectContainer) => void | Promise<void>): void {
    if (this.streaming.has(c.id)) return;
    this.streaming.add(c.id);
    const p = streamLogs(this.api, c, nameWithoutProject(c, this.project), this.printer, this.q)
      .catch(() => { /* a container removed while streaming: its stream just ends */ })
      .then(async () => { this.streaming.delete(c.id); await onEnd?.(c); })
      .catch(() => { /* onEnd's own failure ends only its part */ });
    this.running.push(p);
  }

  /**
   * Subscribes to the project's container starts (resolving once the daemon is listening, so no start after
   * it is missed) and calls `onStart` for each; the returned promise ends when `signal` aborts.
   */
  async watch(signal: AbortSignal, onStart: (c: ProjectContainer) => void): Promise<{ done: Promise<void> }> {
    const res = await this.api.request('GET', '/events', {
      query: { filters: encodeFilters({ type: ['container'], event: ['start'], label: [`${LABEL.project}=${this.project}`] }) },
    });
    if (signal.aborted) { res.destroy(); return { done: Promise.resolve() }; }
    signal.addEventListener('abort', () => res.destroy(), { once: true });
    const done = (async () => {
      try {
        for await (const ev of jsonValues<{ id?: string; Actor?: { ID: string; Attributes?: Record<string, string> } }>(res)) {
          const service = ev.Actor?.Attributes?.[LABEL.service];
          if (this.services?.length && service && !this.services.includes(service)) continue;
          const list = await projectContainers(this.api, this.project, { all: true, services: service ? [service] : undefined });
          const c = list.find((x) => x.id === (ev.Actor?.ID ?? ev.id));
          if (c && !c.oneoff) onStart(c);
        }
      } catch {
        /* aborted */
      }
    })();
    return { done };
  }

  /** Resolves once every stream started so far has ended. */
  async drained(): Promise<void> {
    while (this.running.length) await this.running.shift();
  }
}
