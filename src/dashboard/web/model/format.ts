// Display strings for the page: health from the status text, ports as addresses to open, percentages, rates.
import type { Port } from '../../../wire/docker';
import { humanSize } from '../../../util/units';

export { humanSize, humanDuration, shortId, timeAgo } from '../../../util/units';

/** The health Docker folds into a container's Status ("Up 3 minutes (healthy)"), or '' without a health check. */
export function healthOf(status: string): string {
  const m = /\((healthy|unhealthy|health: starting)\)/.exec(status ?? '');
  return m ? (m[1] === 'health: starting' ? 'starting' : m[1]!) : '';
}

/** A published port's label and, for TCP, the address to open it at from the browser's host. */
export interface PortLink {
  label: string;
  href?: string;
}

/** Published ports as links (once per host port: IPv4 and IPv6 bindings of one port are one link), then exposed ones. */
export function portLinks(ports: readonly Port[], browserHost: string): PortLink[] {
  const seen = new Set<string>();
  const out: PortLink[] = [];
  const sorted = [...(ports ?? [])].sort((a, b) => (a.PublicPort ?? 1e6) - (b.PublicPort ?? 1e6) || a.PrivatePort - b.PrivatePort);
  for (const p of sorted) {
    const key = `${p.PublicPort ?? ''}/${p.PrivatePort}/${p.Type}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (!p.PublicPort) { out.push({ label: `${p.PrivatePort}/${p.Type}` }); continue; }
    const label = `${p.PublicPort}→${p.PrivatePort}/${p.Type}`;
    if (p.Type !== 'tcp') { out.push({ label }); continue; }
    // A wildcard binding answers wherever the page was opened; a specific one only at its own address.
    const wildcard = !p.IP || p.IP === '0.0.0.0' || p.IP === '::';
    const host = wildcard ? browserHost : p.IP!;
    out.push({ label, href: `http://${host.includes(':') ? `[${host}]` : host}:${p.PublicPort}/` });
  }
  return out;
}

export function percent(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(value < 10 ? 1 : 0)}%` : '–';
}

export function bytes(value: number): string {
  return Number.isFinite(value) && value >= 0 ? humanSize(value, 3) : '–';
}

export function rate(bytesPerSecond: number): string {
  return Number.isFinite(bytesPerSecond) ? `${humanSize(Math.max(0, bytesPerSecond), 3)}/s` : '–';
}
