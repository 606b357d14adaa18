// Docker's `filters` query parameter (moby's api/types/filters.Args): a JSON object of key to values, either
// {"status":["running"]} or the older {"status":{"running":true}}, checked against the keys the object accepts.
import { InvalidParameterError } from '../errdefs';

/**
 * Checked filters: every key is one the listing or prune accepts (moby's Args.Validate). Only parseFilters and
 * the constructor (which checks too) make one, so a service that takes Filters gets no unknown key.
 */
export class Filters extends Map<string, string[]> {
  private readonly accepted: readonly string[];

  constructor(entries: Iterable<readonly [string, string[]]> = [], accepted: readonly string[] = []) {
    super();
    this.accepted = accepted;
    for (const [key, values] of entries) this.set(key, values);
  }

  /** Sets `key` only if it is accepted: `invalid filter 'key'` otherwise, in moby's words. */
  override set(key: string, values: string[]): this {
    // Map's constructor calls set before `accepted` is assigned; it is given no entries here.
    if (this.accepted && !this.accepted.includes(key)) throw new InvalidParameterError(`invalid filter '${key}'`);
    return super.set(key, values);
  }

  /** The values of a key that takes one boolean ("true"/"1"/"false"/"0"), as moby's Args.GetBoolOrDefault. */
  bool(key: string): boolean | undefined {
    const values = this.get(key);
    if (!values?.length) return undefined;
    const v = values[0]!.toLowerCase();
    if (!['true', 'false', '1', '0'].includes(v)) throw new InvalidParameterError(`invalid filter '${key}=${values[0]}'`);
    return v === 'true' || v === '1';
  }
}

/** Parses a `filters` parameter (absent or empty: none) and checks its keys against `accepted`. */
export function parseFilters(raw: string | null | undefined, accepted: readonly string[]): Filters {
  const out = new Filters([], accepted);
  if (!raw) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new InvalidParameterError(`invalid filter: ${raw} is not valid JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidParameterError('invalid filter: expected a JSON object');
  for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (Array.isArray(value)) out.set(key, value.map(String));
    else if (value && typeof value === 'object') out.set(key, Object.keys(value as object));
    else throw new InvalidParameterError(`invalid filter '${key}'`);
  }
  return out;
}
