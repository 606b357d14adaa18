// Waiting in tests: poll a condition with a generous deadline (never a timed assertion).
import assert from 'node:assert/strict';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What is left of T once the falsy values are taken out (`x && y` checks give `false | y`). */
export type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

/** Polls `check` every 100 ms until it returns something truthy; throws naming `what` after `tries` polls. */
export async function until<T>(check: () => T | Promise<T>, what: string, tries = 100): Promise<Truthy<T>> {
  for (let i = 0; i < tries; i++) {
    const v = await check();
    if (v) return v as Truthy<T>;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * Polls `probe` every `everyMs` until it holds, for up to `ms` of wall time (a probe that itself takes long, such as a
 * docker command, counts against the deadline); fails as an assertion naming `what`.
 */
export async function eventually(what: string, probe: () => unknown, ms = 60_000, everyMs = 250): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (probe()) return;
    await sleep(everyMs);
  }
  assert.fail(`timed out waiting for ${what}`);
}
