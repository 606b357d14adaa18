// Waiting on promises with a bound: a pause, a timeout that answers whether the promise settled, an abort signal.

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Whether `p` settled within `ms` (it keeps running either way). */
export async function withTimeout<T>(p: Promise<T>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((r) => { timer = setTimeout(() => r(false), ms); });
  const result = await Promise.race([p.then(() => true), timeout]);
  clearTimeout(timer);
  return result;
}

/** `p`, or a rejection as soon as `signal` aborts. */
export function abortable<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Error('aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then((v) => { signal.removeEventListener('abort', onAbort); resolve(v); }, reject);
  });
}

/**
 * Runs steps side by side and waits for every one of them, then rejects with the first failure: unlike Promise.all,
 * a caller that undoes the steps after a failure never races one still under way (a mount that lands after its umount).
 */
export async function allSettledOrThrow(steps: (Promise<unknown> | undefined)[]): Promise<void> {
  const results = await Promise.allSettled(steps);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
