// Attach output of containers: read from the container's log from the point the attach was made, and waited for
// at the exit, as dockerd's StreamConfig.Wait, so an attached client has the output before the exit is reported.
import { readLog, type LogEntry, type LogPosition } from './logs';

/** How long an exit waits for its attached readers to pass on the last output (dockerd waits 2 s too). */
const DRAIN_TIMEOUT_MS = 2000;

interface Reader {
  stop(): void;
  done: Promise<void>;
}

export class AttachedReaders {
  private readonly readers = new Map<string, Set<Reader>>();

  /**
   * The output of container `id` written to `logPath` after `from`, until its exit is drained here, `ended`
   * settles (a start that failed) or `signal` aborts.
   */
  open(id: string, logPath: string, from: LogPosition, ended: Promise<unknown>, signal?: AbortSignal): AsyncGenerator<LogEntry> {
    let stop!: () => void;
    const stopped = new Promise<void>((resolve) => { stop = resolve; });
    void ended.then(stop, stop);
    let finished!: () => void;
    const reader: Reader = { stop, done: new Promise<void>((resolve) => { finished = resolve; }) };
    const set = this.readers.get(id) ?? new Set<Reader>();
    set.add(reader);
    this.readers.set(id, set);
    const forget = () => {
      set.delete(reader);
      if (set.size === 0 && this.readers.get(id) === set) this.readers.delete(id);
      finished();
    };
    // A client that went away holds no exit back, even before its reader was first pulled.
    signal?.addEventListener('abort', forget, { once: true });
    const inner = readLog(logPath, { follow: true, from, stopped, signal });
    return (async function* () {
      try {
        yield* inner;
      } finally {
        forget();
      }
    })();
  }

  /** Tells the readers of `id` that it exited and waits, 2 s at most, until they have passed on the rest of its output. */
  async drain(id: string): Promise<void> {
    const set = this.readers.get(id);
    if (!set?.size) return;
    const readers = [...set];
    for (const r of readers) r.stop();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(readers.map((r) => r.done)),
      new Promise<void>((resolve) => { timer = setTimeout(resolve, DRAIN_TIMEOUT_MS); }),
    ]);
    clearTimeout(timer);
  }
}
