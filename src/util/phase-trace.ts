// Phase timings of one operation (a container's life from create to removal, an exec), logged when tracing is on.
// Issue 15 wants the bench to show where a `run --rm` spends its milliseconds; off (the default) it costs nothing.

/** Where finished traces go: one line per operation, `trace <kind> <id12> phase=ms ... total=ms`. */
export type TraceSink = (line: string) => void;

interface OpenTrace { kind: string; began: number; last: number; phases: [string, number][] }

/** At most this many operations are followed at once; beyond it the oldest is dropped (a `-d` container that runs for days). */
const MAX_OPEN = 1000;

export class PhaseTrace {
  private readonly open = new Map<string, OpenTrace>();

  /** `sink` undefined: tracing is off and every call returns at once. `now` is for tests. */
  constructor(private readonly sink?: TraceSink, private readonly now: () => number = () => performance.now()) {}

  get enabled(): boolean { return this.sink !== undefined; }

  /** Starts following `id`; the first phase is counted from here. */
  begin(kind: string, id: string): void {
    if (!this.sink) return;
    if (this.open.size >= MAX_OPEN) this.open.delete(this.open.keys().next().value!);
    const t = this.now();
    this.open.set(id, { kind, began: t, last: t, phases: [] });
  }

  /** Ends the phase `phase` now: its duration is the time since the previous mark (or the begin). */
  mark(id: string, phase: string): void {
    const o = this.sink && this.open.get(id);
    if (!o) return;
    const t = this.now();
    o.phases.push([phase, t - o.last]);
    o.last = t;
  }

  /** Ends the last phase and writes the operation's line; a trace never begun writes nothing. */
  end(id: string, phase: string): void {
    const o = this.sink && this.open.get(id);
    if (!o) return;
    this.mark(id, phase);
    this.open.delete(id);
    const parts = o.phases.map(([name, ms]) => `${name}=${ms.toFixed(1)}`);
    this.sink!(`trace ${o.kind} ${id.slice(0, 12)} ${parts.join(' ')} total=${(o.last - o.began).toFixed(1)}`);
  }

  /** Forgets `id` without writing (an operation that failed half-way). */
  drop(id: string): void { this.open.delete(id); }
}

/** The trace berthd runs with: on when BERTH_TRACE=1, lines written to the daemon's log. */
export function traceFromEnv(env: NodeJS.ProcessEnv, log: { info(msg: string): void }): PhaseTrace {
  return new PhaseTrace(env.BERTH_TRACE === '1' ? (line) => log.info(line) : undefined);
}
