// Go's encoding/json key matching, which clients rely on: a JSON key names a struct field case-insensitively when no
// field has the exact name (docker-py sends `CPURealtimePeriod` and an exec's `detachKeys`; dockerd takes both).

/** The field `key` names among `fields`: the exact one, else the first that matches case-insensitively, else `key`. */
export function goFieldName(key: string, fields: readonly string[]): string {
  if (fields.includes(key)) return key;
  const folded = key.toLowerCase();
  return fields.find((f) => f.toLowerCase() === folded) ?? key;
}

/**
 * A JSON object with its keys renamed to the fields they name, as Go decodes it into a struct with those fields;
 * an exactly named key wins over a case-folded one. Anything but an object is returned as it came, for the
 * caller's type checks to name.
 */
export function withGoFieldNames<T>(body: T, fields: readonly string[]): T {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(body as Record<string, unknown>)) {
    const k = goFieldName(key, fields);
    if (k === key || !(k in out)) out[k] = v;
  }
  return out as T;
}
