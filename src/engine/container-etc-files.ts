// A container's /etc/hostname, /etc/hosts and /etc/resolv.conf: written in its directory from the host's files, its
// --add-host, --dns* options and networks, and bind-mounted into it (Docker's way: the image's own are hidden).
import * as fsp from 'node:fs/promises';
import type { ContainerRecord } from './container-record';
import { netMode } from './container-config';
import type { ContainerNetworking } from './container-ports';

export type EtcFile = 'hosts' | 'hostname' | 'resolv.conf';

export interface EtcFilesContext {
  /** The host's files the container's start from. */
  hostHosts: string;
  hostResolvConf: string;
  networks?: ContainerNetworking;
  /** Where a container's copy of the file lives. */
  etcPath(c: ContainerRecord, file: EtcFile): string;
}

/** Writes the three files afresh (at each start, and when a link goes away). */
export async function writeEtcFiles(c: ContainerRecord, ctx: EtcFilesContext): Promise<void> {
  const hc = c.hostConfig;
  const host = netMode(hc.NetworkMode) === 'host';
  const hostname = host ? (await fsp.readFile('/etc/hostname', 'utf8').catch(() => 'localhost\n')) : `${c.config.Hostname}\n`;
  let hosts: string;
  if (host) {
    hosts = await fsp.readFile(ctx.hostHosts, 'utf8').catch(() => '127.0.0.1\tlocalhost\n');
  } else {
    hosts = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';
  }
  for (const extra of hc.ExtraHosts ?? []) {
    const [h, ip] = extra.split(/:(.*)/s);
    if (h && ip) hosts += `${ip === 'host-gateway' ? ctx.networks?.dns.hostGateway() || ip : ip}\t${h}\n`;
  }
  if (!host) hosts += ctx.networks?.dns.hostsEntries(c) ?? '';
  let resolv = await resolvConf(c, host, ctx);
  // container:<name> shares that container's /etc/hosts and resolv.conf along with its network.
  const joined = ctx.networks?.endpoints.joinedContainer(c);
  if (joined) {
    hosts = await fsp.readFile(ctx.etcPath(joined, 'hosts'), 'utf8').catch(() => hosts);
    resolv = await fsp.readFile(ctx.etcPath(joined, 'resolv.conf'), 'utf8').catch(() => resolv);
  }
  await Promise.all([
    fsp.writeFile(ctx.etcPath(c, 'hostname'), hostname),
    fsp.writeFile(ctx.etcPath(c, 'hosts'), hosts),
    fsp.writeFile(ctx.etcPath(c, 'resolv.conf'), resolv),
  ]);
}

async function resolvConf(c: ContainerRecord, host: boolean, ctx: EtcFilesContext): Promise<string> {
  const hc = c.hostConfig;
  const base = await fsp.readFile(ctx.hostResolvConf, 'utf8').catch(() => '');
  const lines = base.split('\n');
  let servers = lines.filter((l) => /^\s*nameserver\s/.test(l)).map((l) => l.trim().split(/\s+/)[1]!);
  let search = lines.filter((l) => /^\s*(search|domain)\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  let options = lines.filter((l) => /^\s*options\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  // A private network namespace cannot reach the host's loopback resolvers; Docker drops them the same way.
  if (!host) servers = servers.filter((s) => !/^127\.|^::1$/.test(s));
  if (hc.Dns?.length) servers = hc.Dns;
  if (hc.DnsSearch?.length) search = hc.DnsSearch.filter((s) => s !== '.');
  if (hc.DnsOptions?.length) options = hc.DnsOptions;
  if (!servers.length && !host) servers = ['8.8.8.8', '8.8.4.4'];
  let out = '';
  // On user networks aardvark-dns answers (Docker's 127.0.0.11): it resolves containers and forwards the rest.
  const internal = host ? [] : ctx.networks?.dns.dnsServers(c) ?? [];
  if (internal.length) {
    out += `# ExtServers: [${hc.Dns?.length ? servers.join(' ') : `host(${servers.join(' ')})`}]\n`;
    servers = internal;
  }
  if (search.length) out += `search ${search.join(' ')}\n`;
  for (const s of servers) out += `nameserver ${s}\n`;
  if (options.length) out += `options ${options.join(' ')}\n`;
  return out;
}
