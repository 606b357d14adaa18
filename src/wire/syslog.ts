// Syslog messages as Docker's syslog driver writes them (moby daemon/logger/syslog through srslog): the unix
// format (the default), RFC 3164, RFC 5424 and RFC 5424 with microseconds; framing per transport.
import { InvalidParameterError } from '../errdefs';

export type SyslogFormat = '' | 'rfc3164' | 'rfc5424' | 'rfc5424micro';
export const SYSLOG_FORMATS: SyslogFormat[] = ['', 'rfc3164', 'rfc5424', 'rfc5424micro'];

const FACILITIES: Record<string, number> = {
  kern: 0, user: 1, mail: 2, daemon: 3, auth: 4, syslog: 5, lpr: 6, news: 7, uucp: 8, cron: 9, authpriv: 10, ftp: 11,
  local0: 16, local1: 17, local2: 18, local3: 19, local4: 20, local5: 21, local6: 22, local7: 23,
};
/** RFC 5424 severities Docker gives the two streams. */
export const SEVERITY_INFO = 6;
export const SEVERITY_ERR = 3;

/** syslog-facility: a name or 0..23; daemon by default (moby's parseFacility, its words). */
export function parseFacility(v: string | undefined): number {
  if (v === undefined || v === '') return FACILITIES.daemon;
  if (v in FACILITIES) return FACILITIES[v];
  if (/^[+-]?\d+$/.test(v) && Number(v) >= 0 && Number(v) <= 23) return Number(v);
  throw new InvalidParameterError('invalid syslog facility');
}

export function parseSyslogFormat(v: string | undefined): SyslogFormat {
  const f = v ?? '';
  if (!(SYSLOG_FORMATS as string[]).includes(f)) throw new InvalidParameterError('Invalid syslog format');
  return f as SyslogFormat;
}

export interface SyslogMessage {
  facility: number;
  severity: number;
  /** When the line was written, nanoseconds since the epoch. */
  timeNano: bigint;
  hostname: string;
  tag: string;
  pid: number;
  text: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Go's time.Stamp ("Jan _2 15:04:05") in local time: the BSD syslog timestamp. */
function stamp(d: Date): string {
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** RFC 3339 in local time with the zone offset, seconds or microseconds (trailing zeros trimmed, as Go's .999999). */
function rfc3339(timeNano: bigint, micro: boolean): string {
  const d = new Date(Number(timeNano / 1_000_000n));
  const off = -d.getTimezoneOffset();
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  let frac = '';
  if (micro) {
    const us = ((timeNano / 1000n) % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
    if (us) frac = `.${us}`;
  }
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${frac}${zone}`;
}

/** One message in `format`, ending in a newline as srslog ends every message. */
export function formatSyslog(format: SyslogFormat, m: SyslogMessage): string {
  const pri = m.facility * 8 + m.severity;
  const text = m.text.endsWith('\n') ? m.text : `${m.text}\n`;
  const d = new Date(Number(m.timeNano / 1_000_000n));
  switch (format) {
    case '': return `<${pri}>${stamp(d)} ${m.tag}[${m.pid}]: ${text}`;
    case 'rfc3164': return `<${pri}>${stamp(d)} ${m.hostname} ${m.tag}[${m.pid}]: ${text}`;
    // Docker's rfc5424 puts the tag in both APP-NAME and MSGID, and no structured data.
    case 'rfc5424':
    case 'rfc5424micro':
      return `<${pri}>1 ${rfc3339(m.timeNano, format === 'rfc5424micro')} ${m.hostname} ${m.tag} ${m.pid} ${m.tag} - ${text}`;
  }
}

/**
 * The bytes on the wire: RFC 5425 octet counting for RFC 5424 over TLS (as Docker frames it), the message as it
 * is (newline-terminated) otherwise, which rsyslog and syslog-ng read on UDP, TCP and unix sockets alike.
 */
export function frameSyslog(message: string, octetCounted: boolean): Buffer {
  const body = Buffer.from(message);
  return octetCounted ? Buffer.concat([Buffer.from(`${body.length} `), body]) : body;
}
