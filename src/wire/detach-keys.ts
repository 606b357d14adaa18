// Docker's detach key syntax ("ctrl-p,ctrl-q", "a", "ctrl-@"), shared by the daemon's attach streams and the CLI.

export const DEFAULT_DETACH_KEYS = 'ctrl-p,ctrl-q';

/** The bytes a detach key specification stands for; a bad specification throws with Docker's wording. */
export function parseDetachKeys(spec: string): Buffer {
  const out: number[] = [];
  for (const key of spec.split(',')) {
    const k = key.trim().toLowerCase();
    if (k.length === 1) out.push(k.charCodeAt(0));
    else if (/^ctrl-[a-z@[\\\]^_]$/.test(k)) {
      const c = k[5]!;
      out.push(c === '@' ? 0 : c >= 'a' && c <= 'z' ? c.charCodeAt(0) - 96 : c.charCodeAt(0) - 64);
    } else throw new Error(`Unknown character: '${key}'`);
  }
  return Buffer.from(out);
}
