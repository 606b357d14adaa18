// The events feed's logic: a bounded list of the newest events, its filter, which events change the container list,
// and a throttle so a burst of container events costs at most one list refetch per interval.
import type { EventMessage } from '../../../wire/docker';

/** Keeps the newest `capacity` events, newest first. */
export class EventLog {
  private items: EventMessage[] = [];

  constructor(readonly capacity: number) {}

  add(ev: EventMessage): void {
    this.items.unshift(ev);
    if (this.items.length > this.capacity) this.items.length = this.capacity;
  }

  list(): readonly EventMessage[] {
    return this.items;
  }
}

/** Events whose type, action, actor ID or attribute values contain every word of the filter (case-insensitive). */
export function eventMatches(ev: EventMessage, filter: string): boolean {
  const words = filter.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const hay = [ev.Type, ev.Action, ev.Actor?.ID, ...Object.values(ev.Actor?.Attributes ?? {})].filter((s): s is string => typeof s === 'string').join(' ').toLowerCase();
  return words.every((w) => hay.includes(w));
}

/** Whether an event can change what GET /containers/json answers (exec and attach events do not). */
export function changesContainerList(ev: Pick<EventMessage, 'Type' | 'Action'>): boolean {
  if (ev.Type !== 'container') return false;
  const action = ev.Action ?? '';
  return !/^(exec_|attach|resize|top|archive-path|extract-to-dir|export|commit)/.test(action);
}

/** Runs `fn` at most once per `intervalMs`: a call inside the interval is folded into one run at its end. */
export class Throttle {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private last = -Infinity;

  constructor(private readonly fn: () => void, private readonly intervalMs: number, private readonly now: () => number = Date.now) {}

  request(): void {
    if (this.timer !== undefined) return;
    const wait = this.last + this.intervalMs - this.now();
    if (wait <= 0) { this.run(); return; }
    this.timer = setTimeout(() => { this.timer = undefined; this.run(); }, wait);
  }

  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private run(): void {
    this.last = this.now();
    this.fn();
  }
}
