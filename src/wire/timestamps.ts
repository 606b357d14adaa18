// Docker's timestamps (moby's api/types/time): Unix seconds, RFC 3339 dates and times, or Go durations counted back
// from now, as the CLI sends --since/--until and the daemon reads filters' `until`.
import { InvalidParameterError } from '../errdefs';
import { parseGoDuration } from './durations';

const UNIX = /^\d+(\.\d+)?$/;
/** The layouts GetTimestamp tries: a date, or a date and an hour, with minutes, seconds and fraction optional; a zone optional. */
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2}(?:\.\d+)?))?)?)?(Z|[+-]\d{2}:\d{2})?$/i;

function failed(value: string): InvalidParameterError {
  return new InvalidParameterError(`failed to parse value as time or duration: ${JSON.stringify(value)}`);
}

/** An RFC 3339-like date as milliseconds since the epoch (local time when it names no zone); undefined when it is none. */
function parseDateTime(value: string): number | undefined {
  const m = DATE_TIME.exec(value);
  if (!m) return undefined;
  const [, date, hh = '00', mm = '00', ss = '00', zone = ''] = m;
  const t = Date.parse(`${date}T${hh}:${mm}:${ss}${zone.toUpperCase()}`);
  return Number.isNaN(t) ? undefined : t;
}

/**
 * timetypes.GetTimestamp: the "seconds[.nanoseconds]" string a --since/--until/`until` value stands for, given now in
 * milliseconds. Durations count back from now ("10m", "1h30m", "-1s" is a second ahead); a bare number is Unix seconds.
 */
export function getTimestamp(value: string, now = Date.now()): string {
  if (value !== '0') {
    try {
      return String(Math.floor((now - parseGoDuration(value) / 1e6) / 1000));
    } catch { /* not a duration */ }
  }
  if (UNIX.test(value)) return value;
  const t = parseDateTime(value);
  if (t === undefined) throw failed(value);
  const seconds = Math.floor(t / 1000);
  const nanos = (t - seconds * 1000) * 1e6;
  return nanos ? `${seconds}.${String(nanos).padStart(9, '0')}` : String(seconds);
}

/** A filter's `until` (or any timestamp) as milliseconds since the epoch; one argument, so it can be given to map(). */
export function parseUntil(value: string): number {
  return Number(getTimestamp(value)) * 1000;
}
