// The address fields of swarm init and join (ListenAddr, AdvertiseAddr, DataPathAddr, RemoteAddrs) read as dockerd
// reads them (moby's daemon/cluster/listen_addr.go and swarm.go): `ip`, `ip:port`, `iface` or `iface:port`, an
// interface resolved to its one address, port 2377 by default; anything else refused with moby's texts before
// anything is made. Pure: the host's interfaces are an argument (network/host-interfaces.ts in production); an
// interface's address and the system's one address are chosen as advertise-addr.ts chooses them.
import * as net from 'node:net';
import { InvalidParameterError } from '../../errdefs';
import type { InitRequest, JoinRequest } from '../../wire/swarm';
import { chooseAdvertiseAddr, type AdvertiseContext } from '../advertise-addr';

/** The host's interfaces and the engine's own subnets. */
export type HostInterfaces = Omit<AdvertiseContext, 'remote'>;

export const DEFAULT_SWARM_PORT = '2377';

export const ADDRESS_TEXT = {
  mustSpecifyListenAddr: "must specify a listening address because the address to advertise is not recognized as a system address, and a system's IP address to use could not be uniquely identified",
  badListenAddr: 'listen address must be an IP address or network interface (with optional port number)',
  badAdvertiseAddr: 'advertise address must be a non-zero IP address or network interface (with optional port number)',
  badDataPathAddr: 'data path address must be a non-zero IP address or network interface (without a port number)',
};

/** The addresses init and join go on with: hosts are IPs (interfaces resolved), ports as given or 2377. */
export interface SwarmAddresses {
  listenHost: string;
  listenPort: string;
  /** Empty only for a join without an advertise address (the manager's side of the connection tells). */
  advertiseHost: string;
  dataPathAddr: string;
  remoteAddrs: string[];
}

/** Init's checks in moby's order: ListenAddr, AdvertiseAddr (else the system's one address), DataPathAddr, a local address. */
export function initAddresses(req: Pick<InitRequest, 'ListenAddr' | 'AdvertiseAddr' | 'DataPathAddr'>, ifaces: HostInterfaces): SwarmAddresses {
  const listen = sanitize(req.ListenAddr ?? '', 'ListenAddr');
  const { host: listenHost, port: listenPort } = resolveListenAddr(listen, ifaces);
  const advertiseHost = resolveAdvertiseAddr(req.AdvertiseAddr ?? '', ifaces);
  const dataPathAddr = resolveDataPathAddr(req.DataPathAddr ?? '', ifaces);
  // moby: with an unspecified listen address, the advertise address must be this system's, or the system's one address
  // must be clear (it listens there).
  if (isUnspecified(listenHost) && !systemIPs(ifaces).includes(advertiseHost)) {
    try { resolveSystemAddr(ifaces); } catch { throw new InvalidParameterError(ADDRESS_TEXT.mustSpecifyListenAddr); }
  }
  return { listenHost, listenPort, advertiseHost, dataPathAddr, remoteAddrs: [] };
}

/** Join's checks: ListenAddr, RemoteAddrs (at least one), DataPathAddr; a bad AdvertiseAddr is dropped, as in moby. */
export function joinAddresses(req: Pick<JoinRequest, 'ListenAddr' | 'AdvertiseAddr' | 'DataPathAddr' | 'RemoteAddrs'>, ifaces: HostInterfaces): SwarmAddresses {
  const listen = sanitize(req.ListenAddr ?? '', 'ListenAddr');
  const remotes = req.RemoteAddrs ?? [];
  if (!remotes.length) throw new InvalidParameterError('at least 1 RemoteAddr is required to join');
  const remoteAddrs = remotes.map((r) => sanitize(r, 'remoteAddr'));
  const { host: listenHost, port: listenPort } = resolveListenAddr(listen, ifaces);
  let advertiseHost = '';
  if (req.AdvertiseAddr) {
    try { advertiseHost = resolveAdvertiseAddr(req.AdvertiseAddr, ifaces); } catch { advertiseHost = ''; }
  }
  const dataPathAddr = resolveDataPathAddr(req.DataPathAddr ?? '', ifaces);
  return { listenHost, listenPort, advertiseHost, dataPathAddr, remoteAddrs };
}

/**
 * Berth's own limit: its control endpoint and etcd member listen on the listen host (when given) and the advertise
 * host, so both must be this system's (dockerd may advertise a NAT address; Berth would fail to bind there).
 */
export function checkBindable(addrs: SwarmAddresses, ifaces: HostInterfaces, port: number): void {
  // Go's SplitHostPort takes any port text ("127.0.0.1:1/x"); dockerd then fails to listen there.
  if (!/^\d{0,5}$/.test(addrs.listenPort) || Number(addrs.listenPort) > 65535) {
    throw new InvalidParameterError(`failed to listen on remote API address: listen tcp: address ${joinHostPort(addrs.listenHost, addrs.listenPort)}: invalid port`);
  }
  const own = systemIPs(ifaces);
  for (const host of [isUnspecified(addrs.listenHost) ? '' : addrs.listenHost, addrs.advertiseHost]) {
    if (host && !own.includes(host)) {
      throw new InvalidParameterError(`failed to listen on remote API address: listen tcp ${joinHostPort(host, String(port))}: bind: cannot assign requested address`);
    }
  }
}

/** moby's validateAddr: empty is refused; a tcp address gets host 0.0.0.0 and port 2377 filled in; else kept as given. */
export function sanitize(addr: string, field: 'ListenAddr' | 'remoteAddr'): string {
  if (addr === '') throw new InvalidParameterError(`invalid ${field} "": invalid empty address`);
  return parseTcpAddr(addr) ?? addr;
}

/** opts.ParseTCPAddr(addr, "tcp://0.0.0.0:2377") as far as Go's url.Parse goes: undefined where it fails. */
export function parseTcpAddr(addr: string): string | undefined {
  const text = addr.includes('://') ? addr : `tcp://${addr}`;
  if (/[\x00-\x1f\x7f]/.test(text)) return undefined;
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/.exec(text);
  if (!m || m[1]!.toLowerCase() !== 'tcp' || m[3]) return undefined;
  const authority = m[2]!.slice(m[2]!.lastIndexOf('@') + 1);
  let host: string;
  let port: string;
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    if (end < 0 || !/^(:\d*)?$/.test(authority.slice(end + 1))) return undefined;
    host = authority.slice(1, end);
    port = authority.slice(end + 2);
  } else {
    const i = authority.lastIndexOf(':');
    if (i >= 0 && !/^:\d*$/.test(authority.slice(i))) return undefined;
    host = i >= 0 ? authority.slice(0, i) : authority;
    port = i >= 0 ? authority.slice(i + 1) : '';
  }
  // Characters Go's url.Parse refuses in a host name.
  if (/[^A-Za-z0-9\-._~!$&'()*+,;=:%<>"]/.test(host)) return undefined;
  if (port && !(Number(port) > 0 && Number(port) < 2 ** 63)) return undefined;
  return joinHostPort(host || '0.0.0.0', port || DEFAULT_SWARM_PORT);
}

function resolveListenAddr(addr: string, ifaces: HostInterfaces): { host: string; port: string } {
  const hp = splitHostPort(addr);
  if (!hp) throw new InvalidParameterError(`could not parse listen address ${addr}`);
  const ip = resolveInputIPAddr(hp.host, true, ifaces);
  if (ip === undefined) throw new InvalidParameterError(ADDRESS_TEXT.badListenAddr);
  return { host: ip, port: hp.port };
}

/** The advertise host (the port is the listen port, which Berth's control endpoint does not take from here). */
function resolveAdvertiseAddr(addr: string, ifaces: HostInterfaces): string {
  if (!addr) return resolveSystemAddr(ifaces);
  const host = splitHostPort(addr)?.host ?? addr;
  const ip = resolveInputIPAddr(host, false, ifaces);
  if (ip === undefined) throw new InvalidParameterError(ADDRESS_TEXT.badAdvertiseAddr);
  return ip;
}

function resolveDataPathAddr(addr: string, ifaces: HostInterfaces): string {
  if (!addr) return '';
  const ip = resolveInputIPAddr(addr, false, ifaces);
  if (ip === undefined) throw new InvalidParameterError(ADDRESS_TEXT.badDataPathAddr);
  return ip;
}

/** An interface's address, else the input as an IP; undefined when it is neither (moby's errBadNetworkIdentifier). */
function resolveInputIPAddr(input: string, unspecifiedValid: boolean, ifaces: HostInterfaces): string | undefined {
  if (input && ifaces.interfaces.some((i) => i.name === input)) return chooseAdvertiseAddr(input, { ...ifaces, remote: undefined });
  const ip = parseIP(input);
  return ip !== undefined && (unspecifiedValid || !isUnspecified(ip)) ? ip : undefined;
}

/** The system's one address (moby's resolveSystemAddr), or its refusal. */
export function resolveSystemAddr(ifaces: HostInterfaces): string {
  return chooseAdvertiseAddr('', { ...ifaces, remote: undefined });
}

/** A joining node's address when it gives none: the listen host, else the one that reaches the manager. */
export function joinAdvertiseAddr(listenHost: string, remote: string, ifaces: HostInterfaces): string {
  return chooseAdvertiseAddr(isUnspecified(listenHost) ? '' : listenHost, { ...ifaces, remote });
}

function systemIPs(ifaces: HostInterfaces): string[] {
  return ifaces.interfaces.flatMap((i) => i.addresses.map((a) => parseIP(a.address) ?? a.address));
}

/** Go's net.SplitHostPort: undefined where it fails (no port, too many colons, stray brackets). */
export function splitHostPort(s: string): { host: string; port: string } | undefined {
  const i = s.lastIndexOf(':');
  if (i < 0) return undefined;
  let host: string;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0 || end + 1 !== i) return undefined;
    host = s.slice(1, end);
  } else {
    host = s.slice(0, i);
    if (host.includes(':')) return undefined;
  }
  if (/[[\]]/.test(host) || /[[\]]/.test(s.slice(i + 1))) return undefined;
  return { host, port: s.slice(i + 1) };
}

export function joinHostPort(host: string, port: string): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Go's net.ParseIP and IP.String(): the canonical text, undefined for anything else (zones included). */
export function parseIP(s: string): string | undefined {
  if (s.includes('%')) return undefined;
  const kind = net.isIP(s);
  if (kind === 4) return s;
  if (kind !== 6) return undefined;
  const mapped = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(s);
  if (mapped && net.isIPv4(mapped[1]!)) return mapped[1]!;
  return new URL(`http://[${s}]/`).hostname.slice(1, -1);
}

function isUnspecified(ip: string): boolean {
  return ip === '0.0.0.0' || ip === '::';
}
