// A counting semaphore as a function: what it is given runs with at most `limit` at a time, in the order given.

export type Semaphore = <R>(fn: () => Promise<R>) => Promise<R>;

export function semaphore(limit: number): Semaphore {
  let free = Math.max(1, limit);
  const waiting: (() => void)[] = [];
  return async <R>(fn: () => Promise<R>): Promise<R> => {
    if (free > 0) free--;
    else await new Promise<void>((r) => waiting.push(r));
    try {
      return await fn();
    } finally {
      // The slot passes straight to the next in line, so a later caller cannot overtake it.
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}
