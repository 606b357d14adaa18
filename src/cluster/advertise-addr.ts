// The address a node advertises in a swarm (swarm init and join): the host of the given advertise (else listen)
// address, an IP or an interface's name; for 0.0.0.0 or nothing, the system's single address as dockerd picks it
// (moby daemon/cluster/listen_addr*.go): plain devices first, bridges, veths and other virtual links only when the
// host has no device with an address (a container's eth0 is a veth), then leaving out the engine's own subnets.
import { InvalidParameterError } from '../errdefs';
import { contains, ipToInt, parseSubnet } from '../network/addresses';
import type { HostAddress, HostInterface } from '../network/host-interfaces';

export interface AdvertiseContext {
  interfaces: HostInterface[];
  /** IPv4 subnets of the engine's own networks (skipped when falling back to virtual links). */
  managedSubnets: string[];
  /** A join's manager address: the system address on its subnet is the one that reaches it. */
  remote?: string;
}

const NO_IP = "could not find the system's IP address - specify one with --advertise-addr";

export function chooseAdvertiseAddr(given: string, ctx: AdvertiseContext): string {
  const host = given.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  const named = host ? ctx.interfaces.find((i) => i.name === host) : undefined;
  if (named) return interfaceAddress(named);
  if (host && host !== '0.0.0.0' && host !== '::') return host;
  if (ctx.remote) {
    const remoteHost = ctx.remote.replace(/:\d+$/, '');
    const prefix = remoteHost.split('.').slice(0, 3).join('.');
    const same = ctx.interfaces.flatMap((i) => i.addresses).find((a) => a.family === 4 && a.address.startsWith(`${prefix}.`));
    if (same) return same.address;
    if (remoteHost.startsWith('127.')) return '127.0.0.1';
  }
  return systemAddress(ctx);
}

/**
 * An interface given by name: its IPv4 address, else its IPv6 one; more than one of a family is ambiguous. Unlike
 * dockerd, link-local addresses do not count (dockerd refuses every IPv6-enabled eth0: "more than one IPv6 address").
 */
function interfaceAddress(i: HostInterface): string {
  const v4 = i.addresses.filter((a) => a.family === 4);
  const v6 = i.addresses.filter((a) => a.family === 6 && a.global);
  if (v4.length > 1) throw new InvalidParameterError(`interface ${i.name} has more than one IPv4 address (${v4[0]!.address} and ${v4[1]!.address})`);
  if (v6.length > 1) throw new InvalidParameterError(`interface ${i.name} has more than one IPv6 address (${v6[0]!.address} and ${v6[1]!.address})`);
  const a = v4[0] ?? v6[0];
  if (!a) throw new InvalidParameterError(`interface ${i.name} has no usable IPv4 or IPv6 address`);
  return a.address;
}

function systemAddress(ctx: AdvertiseContext): string {
  const devices = ctx.interfaces.filter((i) => i.up && i.kind === '');
  if (devices.some((i) => i.addresses.some((a) => a.global))) return single(devices.map((i) => ({ name: i.name, addresses: i.addresses.filter((a) => a.global) })));
  const managed = ctx.managedSubnets.map(parseSubnet);
  const ours = (a: HostAddress) => a.family === 4 && managed.some((s) => contains(s, ipToInt(a.address)));
  // As dockerd, an interface carrying one of the engine's subnets is left out whole (its bridges).
  return single(ctx.interfaces.filter((i) => i.up && !i.loopback && !i.addresses.some(ours))
    .map((i) => ({ name: i.name, addresses: i.addresses.filter((a) => a.global) })));
}

/** The one address among the interfaces' (an interface with one IPv4 and one IPv6 address counts as its IPv4 one). */
function single(interfaces: { name: string; addresses: HostAddress[] }[]): string {
  let chosen: { name: string; address: string } | undefined;
  for (const i of interfaces) {
    const v4 = i.addresses.filter((a) => a.family === 4);
    const v6 = i.addresses.filter((a) => a.family === 6);
    if (v4.length > 1) throw multiple(i.name, i.name, v4[0]!.address, v4[1]!.address);
    if (v6.length > 1) throw multiple(i.name, i.name, v6[0]!.address, v6[1]!.address);
    const a = v4[0] ?? v6[0];
    if (!a) continue;
    if (chosen) throw multiple(chosen.name, i.name, chosen.address, a.address);
    chosen = { name: i.name, address: a.address };
  }
  if (!chosen) throw new InvalidParameterError(NO_IP);
  return chosen.address;
}

function multiple(nameA: string, nameB: string, a: string, b: string): InvalidParameterError {
  return new InvalidParameterError(nameA === nameB
    ? `could not choose an IP address to advertise since this system has multiple addresses on interface ${nameA} (${a} and ${b})`
    : `could not choose an IP address to advertise since this system has multiple addresses on different interfaces (${a} on ${nameA} and ${b} on ${nameB})`);
}
