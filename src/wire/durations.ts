// Go's time.Duration grammar ("1h30m", "1.5h", "300ms", "-1s"), read and written as Docker does: HEALTHCHECK and
// --health-* intervals, filter and log timestamps counted back from now, health check messages.
import { InvalidParameterError } from '../errdefs';

const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/**
 * Go's time.ParseDuration, in nanoseconds. A bad duration throws InvalidParameterError with Go's own words
 * (`time: invalid duration "x"`, `time: missing unit in duration "1"`, `time: unknown unit "d" in duration "1d"`),
 * which callers put inside theirs.
 */
export function parseGoDuration(input: string): number {
  const q = JSON.stringify(input);
  const invalid = () => new InvalidParameterError(`time: invalid duration ${q}`);
  let s = input;
  let sign = 1;
  if (s[0] === '-' || s[0] === '+') {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') throw invalid();
  let total = 0;
  while (s !== '') {
    const m = /^(\d*)(?:\.(\d*))?/.exec(s)!;
    const [whole = '', frac] = [m[1], m[2]];
    if (whole === '' && !frac) throw invalid(); // no digits: ".s", "-.s", "h"
    s = s.slice(m[0].length);
    const unit = /^[^\d.]*/.exec(s)![0];
    if (unit === '') throw new InvalidParameterError(`time: missing unit in duration ${q}`);
    const scale = UNITS[unit];
    if (scale === undefined) throw new InvalidParameterError(`time: unknown unit ${JSON.stringify(unit)} in duration ${q}`);
    s = s.slice(unit.length);
    total += Number(`${whole || '0'}.${frac || '0'}`) * scale;
  }
  if (total > 2 ** 63 - 1) throw invalid();
  return sign * Math.round(total);
}

/** Go's time.Duration.String ("300ms", "1.5s", "1m30s"), given nanoseconds: Docker prints durations this way. */
export function formatGoDuration(ns: number): string {
  let u = Math.round(Math.abs(ns));
  if (u === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  // Whole units and up to nine fractional digits, trailing zeros dropped, as Go's fmtFrac.
  const frac = (v: number, div: number) => {
    const f = v % div;
    return `${Math.floor(v / div)}${f ? `.${String(f).padStart(String(div).length - 1, '0').replace(/0+$/, '')}` : ''}`;
  };
  if (u < 1e3) return `${sign}${u}ns`;
  if (u < 1e6) return `${sign}${frac(u, 1e3)}µs`;
  if (u < 1e9) return `${sign}${frac(u, 1e6)}ms`;
  const h = Math.floor(u / 3600e9);
  u -= h * 3600e9;
  const m = Math.floor(u / 60e9);
  u -= m * 60e9;
  return `${sign}${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${frac(u, 1e9)}s`;
}
