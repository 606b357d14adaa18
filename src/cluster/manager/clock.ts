// Time for the manager loops behind one port, so restart delays, update monitors and heartbeat grace are
// driven by a fake clock in unit tests and by the system clock in berthd.

export interface Timer { cancel(): void }

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fire` once, `ms` from now. */
  setTimer(ms: number, fire: () => void): Timer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fire) {
    const handle = setTimeout(fire, Math.max(0, ms));
    handle.unref?.();
    return { cancel: () => clearTimeout(handle) };
  },
};

/** Nanoseconds (the wire's durations) to milliseconds. */
export function nsToMs(ns: number | undefined): number {
  return ns === undefined ? 0 : Math.floor(ns / 1_000_000);
}

/** RFC 3339 UTC as the store keeps timestamps. */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString();
}
