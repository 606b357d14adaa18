// Host ports for published container ports: chosen (fixed, from a range, or dynamic) and held while the container runs.
import * as dgram from 'node:dgram';
import * as fsp from 'node:fs/promises';
import * as net from 'node:net';
import { ConflictError, InvalidParameterError } from '../errdefs';

import type { Protocol } from '../wire/ports';

export type { Protocol };

/** One published port as asked: host port 0..0 means "any free port", a..b "one of that range". */
export interface PortRequest { hostIp: string; hostPortLow: number; hostPortHigh: number; containerPort: number; proto: Protocol }
export interface PublishedPort { hostIp: string; hostPort: number; containerPort: number; proto: Protocol }

/**
 * Host ports taken by containers. A port is held by a bound socket for as long as its container runs, as
 * docker-proxy and podman's conmon hold theirs: another daemon or a host process that asks for it gets
 * EADDRINUSE, and we see theirs the same way. The kernel's DNAT rules answer before these sockets would.
 */
export interface HostPorts {
  /** Takes every port of `reqs` for `owner`, all or none; throws ConflictError naming the port that is taken. */
  reserve(owner: string, reqs: PortRequest[]): Promise<PublishedPort[]>;
  release(owner: string): Promise<void>;
}

interface Held { port: PublishedPort; close(): void }

export class SocketHostPorts implements HostPorts {
  private readonly held = new Map<string, Held[]>();
  private range: [number, number] | undefined;
  private lastDynamic = 0;

  constructor(private readonly rangeFile = '/proc/sys/net/ipv4/ip_local_port_range') {}

  async reserve(owner: string, reqs: PortRequest[]): Promise<PublishedPort[]> {
    const mine: Held[] = [];
    try {
      for (const r of reqs) mine.push(await this.take(r));
    } catch (err) {
      for (const h of mine) h.close();
      throw err;
    }
    if (mine.length) this.held.set(owner, [...(this.held.get(owner) ?? []), ...mine]);
    return mine.map((h) => h.port);
  }

  async release(owner: string): Promise<void> {
    for (const h of this.held.get(owner) ?? []) h.close();
    this.held.delete(owner);
  }

  private async take(r: PortRequest): Promise<Held> {
    const ip = r.hostIp || '0.0.0.0';
    if (r.hostPortLow > 0 && r.hostPortLow === r.hostPortHigh) {
      const port = r.hostPortLow;
      if (this.ownedBySomeone(ip, port, r.proto)) throw allocated(ip, port);
      const h = await bindHolder({ ...r, hostIp: r.hostIp, hostPort: port });
      if (!h) throw allocated(ip, port);
      return h;
    }
    const [lo, hi] = r.hostPortLow > 0 ? [r.hostPortLow, r.hostPortHigh] : await this.dynamicRange();
    const total = hi - lo + 1;
    // Dynamic ports go round the range as Docker's allocator does, so a port just freed is not handed out again at once.
    const start = r.hostPortLow > 0 ? lo : Math.max(lo, Math.min(hi, this.lastDynamic + 1));
    for (let i = 0; i < total; i++) {
      const port = lo + ((start - lo + i) % total);
      if (this.ownedBySomeone(ip, port, r.proto)) continue;
      const h = await bindHolder({ ...r, hostIp: r.hostIp, hostPort: port });
      if (!h) continue;
      if (r.hostPortLow === 0) this.lastDynamic = port;
      return h;
    }
    throw new ConflictError(r.hostPortLow > 0
      ? `Bind for ${ip}:${lo}-${hi} failed: no port of the range is free`
      : `no free host port in the dynamic range ${lo}-${hi}`);
  }

  private ownedBySomeone(ip: string, port: number, proto: Protocol): boolean {
    for (const list of this.held.values()) {
      for (const h of list) {
        const p = h.port;
        if (p.hostPort !== port || p.proto !== proto) continue;
        const other = p.hostIp || '0.0.0.0';
        if (other === ip || other === '0.0.0.0' || ip === '0.0.0.0') return true;
      }
    }
    return false;
  }

  private async dynamicRange(): Promise<[number, number]> {
    if (!this.range) {
      const text = await fsp.readFile(this.rangeFile, 'utf8').catch(() => '32768 60999');
      const [a, b] = text.trim().split(/\s+/).map(Number);
      this.range = a && b && a <= b ? [a, b] : [32768, 60999];
    }
    return this.range;
  }
}

function allocated(ip: string, port: number): ConflictError {
  return new ConflictError(`Bind for ${ip}:${port} failed: port is already allocated`);
}

/** Binds the host port; undefined when the address is in use. */
async function bindHolder(port: PublishedPort): Promise<Held | undefined> {
  const host = port.hostIp || '0.0.0.0';
  if (port.proto === 'sctp') return { port, close: () => undefined };
  if (port.proto === 'udp') {
    const sock = dgram.createSocket({ type: 'udp4' });
    const ok = await new Promise<boolean>((resolve) => {
      sock.once('error', () => resolve(false));
      sock.bind({ address: host, port: port.hostPort, exclusive: true }, () => resolve(true));
    });
    if (!ok) { sock.close(); return undefined; }
    sock.unref();
    return { port, close: () => { try { sock.close(); } catch { /* already closed */ } } };
  }
  const server = net.createServer((c) => c.destroy());
  const ok = await new Promise<boolean | Error>((resolve) => {
    server.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE' || e.code === 'EACCES' ? false : e));
    server.listen({ host, port: port.hostPort, backlog: 1, exclusive: true }, () => resolve(true));
  });
  if (ok instanceof Error) {
    if ((ok as NodeJS.ErrnoException).code === 'EADDRNOTAVAIL') throw new InvalidParameterError(`cannot publish on ${host}:${port.hostPort}: the host has no such address`);
    throw ok;
  }
  if (!ok) return undefined;
  server.unref();
  return { port, close: () => server.close() };
}
