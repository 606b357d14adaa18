// The user's "stop" for a compose process, from any of its ways in: SIGINT or SIGTERM (a terminal's Ctrl-C
// reaches the whole process group, the docker CLI and this plugin alike), and the docker CLI closing its
// plugin socket (what the CLI does on a signal when its output is not a terminal). One Ctrl-C often arrives
// both ways at once; those count as one press, so a single Ctrl-C never reads as the "again, force" one.

export type InterruptSource = 'signal' | 'socket';
/** `presses`: 1 for the first Ctrl-C, 2 for the next... */
export type InterruptHandler = (presses: number) => void;

/** Two ways of the same press arrive within this (the CLI closes the socket as soon as it sees the signal). */
const SAME_PRESS_MS = 1000;

const handlers = new Set<InterruptHandler>();
let presses = 0;
/** The current press: when it first arrived and by which ways so far. */
let press: { at: number; sources: Set<InterruptSource> } | undefined;

const onSignal = () => interrupt('signal');

/**
 * Handles the user's stop while `handler` is registered (call the returned function to unregister). Without
 * any handler, a signal does what it does by default (the process ends) and a closed socket exits with 130.
 */
export function onInterrupt(handler: InterruptHandler): () => void {
  if (handlers.size === 0) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  handlers.add(handler);
  return () => {
    handlers.delete(handler);
    if (handlers.size === 0) {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
  };
}

/** One arrival of the user's stop; the other way of the same press (soon after, not yet seen) is dropped. */
export function interrupt(source: InterruptSource, now = Date.now()): void {
  if (press && !press.sources.has(source) && now - press.at < SAME_PRESS_MS) {
    press.sources.add(source);
    return;
  }
  press = { at: now, sources: new Set([source]) };
  presses++;
  if (handlers.size === 0) process.exit(130);
  for (const h of [...handlers]) h(presses);
}

/** For tests: forget earlier presses. */
export function resetInterrupts(): void {
  presses = 0;
  press = undefined;
}
