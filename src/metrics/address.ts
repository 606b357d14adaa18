// metrics-addr (daemon.json, --metrics-addr) as dockerd takes it, "HOST:PORT", read into where /metrics listens.
import { isIP } from 'node:net';
import { InvalidParameterError } from '../errdefs';

export interface MetricsAddress {
  host: string;
  port: number;
  /**
   * Whether the host is a loopback address. /metrics names every container and its image, unauthenticated: only a
   * host written out in the address takes it off loopback, and the daemon says so in its log.
   */
  loopback: boolean;
}

const LOOPBACK_HOST = '127.0.0.1';

/**
 * "127.0.0.1:9323", "[::1]:9323", "localhost:9323", "0.0.0.0:9323"; ":9323" and "9323" (no host) listen on
 * 127.0.0.1. An empty value is dockerd's default: no metrics endpoint (undefined). Anything else is refused with
 * what is wrong with it.
 */
export function parseMetricsAddress(value: unknown): MetricsAddress | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new InvalidParameterError(`metrics-addr: ${JSON.stringify(value)} is not a string (want HOST:PORT, e.g. 127.0.0.1:9323)`);
  const text = value.trim();
  const bad = (why: string) => new InvalidParameterError(`metrics-addr: invalid address ${JSON.stringify(value)}: ${why} (want HOST:PORT, e.g. 127.0.0.1:9323)`);
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
    if (host.includes(':')) throw bad('an IPv6 host goes in brackets, as [::1]:9323');
    if (host !== '' && host !== 'localhost' && isIP(host) !== 4) throw bad(`host ${JSON.stringify(host)} is neither an IP address nor localhost`);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw bad(`port ${JSON.stringify(portText)} is not a number from 0 to 65535`);
  if (host === '' || host === 'localhost') host = LOOPBACK_HOST;
  return { host, port: Number(portText), loopback: isLoopback(host) };
}

function isLoopback(ip: string): boolean {
  // "0:0:0:0:0:0:0:1" is ::1 too: the URL parser writes IPv6 addresses in their shortest form.
  return isIP(ip) === 4 ? ip.startsWith('127.') : new URL(`http://[${ip}]/`).hostname === '[::1]';
}

/** How an address is written in a log line and a URL ("[::1]:9323"). */
export function formatMetricsAddress(a: { host: string; port: number }): string {
  return isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
