// Docker's timestamps in API filters: Unix seconds, RFC 3339 dates, or Go durations counted back from now.
import { InvalidParameterError } from '../errdefs';

/** A prune filter's `until` as milliseconds since the epoch: a Unix timestamp, an RFC 3339 date, or "10m", "24h" before now. */
export function parseUntil(v: string): number {
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  const d = /^(\d+)(h|m|s)$/.exec(v);
  if (d) return Date.now() - Number(d[1]) * ({ h: 3600, m: 60, s: 1 }[d[2] as 'h' | 'm' | 's']) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidParameterError(`invalid filter 'until=${v}'`);
  return t;
}
