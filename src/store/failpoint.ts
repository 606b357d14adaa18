// Crash points for the crash-consistency tests: BERTH_FAILPOINTS="name" or "name:N" SIGKILLs the daemon the Nth time (default 1st) `name` is reached.

/** name → the hit on which to die; parsed once, at the first call. */
let armed: Map<string, number> | undefined;
const hits = new Map<string, number>();

function parse(spec: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of (spec ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, n] = item.split(':');
    out.set(name!, Math.max(1, Number(n) || 1));
  }
  return out;
}

/**
 * Marks a point between two durable steps. Inert unless BERTH_FAILPOINTS names it: then the process
 * dies there exactly as an external `kill -9` would kill it, so the restart path can be tested at every step.
 */
export function failpoint(name: string): void {
  armed ??= parse(process.env.BERTH_FAILPOINTS);
  const at = armed.get(name);
  if (at === undefined) return;
  const n = (hits.get(name) ?? 0) + 1;
  hits.set(name, n);
  if (n === at) process.kill(process.pid, 'SIGKILL');
}
