// "HOST:PORT", the listening address grammar of metrics-addr and `berth dashboard --addr`, read into a host, a port
// and whether the host is a loopback address.
import { isIP } from 'node:net';
import { InvalidParameterError } from '../errdefs';

export interface ListenAddress {
  host: string;
  port: number;
  /** Whether the host is a loopback address: what is served there is reachable from this host only. */
  loopback: boolean;
}

const LOOPBACK_HOST = '127.0.0.1';

/**
 * "127.0.0.1:9323", "[::1]:9323", "localhost:9323", "0.0.0.0:9323"; ":9323" and "9323" (no host) mean 127.0.0.1.
 * An empty value is undefined (nothing to listen on). Anything else is refused with what is wrong with it, the error
 * starting with `what` (the option's name), its example port `examplePort`.
 */
export function parseListenAddress(value: unknown, what: string, examplePort: number): ListenAddress | undefined {
  if (value === undefined || value === '') return undefined;
  const want = `want HOST:PORT, e.g. 127.0.0.1:${examplePort}`;
  if (typeof value !== 'string') throw new InvalidParameterError(`${what}: ${JSON.stringify(value)} is not a string (${want})`);
  const text = value.trim();
  const bad = (why: string) => new InvalidParameterError(`${what}: invalid address ${JSON.stringify(value)}: ${why} (${want})`);
  let host: string;
  let portText: string;
  const bracketed = /^\[([^\]]*)\]:(.*)$/.exec(text);
  if (bracketed) {
    [host, portText] = [bracketed[1]!, bracketed[2]!];
    if (isIP(host) !== 6) throw bad(`${JSON.stringify(host)} is not an IPv6 address`);
  } else if (!text.includes(':')) {
    [host, portText] = ['', text];
  } else {
    const colon = text.lastIndexOf(':');
    [host, portText] = [text.slice(0, colon), text.slice(colon + 1)];
    if (host.includes(':')) throw bad(`an IPv6 host goes in brackets, as [::1]:${examplePort}`);
    if (host !== '' && host !== 'localhost' && isIP(host) !== 4) throw bad(`host ${JSON.stringify(host)} is neither an IP address nor localhost`);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw bad(`port ${JSON.stringify(portText)} is not a number from 0 to 65535`);
  if (host === '' || host === 'localhost') host = LOOPBACK_HOST;
  return { host, port: Number(portText), loopback: isLoopbackIp(host) };
}

/** 127.0.0.0/8 and ::1 (in any of its spellings: "0:0:0:0:0:0:0:1" is ::1 too). */
export function isLoopbackIp(ip: string): boolean {
  return isIP(ip) === 4 ? ip.startsWith('127.') : isIP(ip) === 6 && new URL(`http://[${ip}]/`).hostname === '[::1]';
}

/** How an address is written in a log line and a URL ("[::1]:9323"). */
export function formatListenAddress(a: { host: string; port: number }): string {
  return isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
