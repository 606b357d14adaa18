// Name resolution for containers: their /etc/hosts lines and resolv.conf servers, their names and aliases in
// aardvark-dns, and legacy links (/etc/hosts entries and environment on the default bridge, aliases on user networks).
import type { ContainerRecord } from './container-record';
import { ConflictError, errorMessage } from '../errdefs';
import type { NetworkDriver } from '../network/netavark';
import type { Attachment } from '../network/network-store';
import type { Protocol } from '../network/ports';
import type { ContainerDirectory, NetworkService } from './networks';
import type { SandboxTable } from './network-sandboxes';
import { parsePortKey } from '../wire/ports';
import { isDnsFileName } from '../network/aardvark-files';

export interface NetworkDnsOptions {
  networks: NetworkService;
  sandboxes: SandboxTable;
  containers: ContainerDirectory;
  driver: NetworkDriver;
  log: { error(msg: string): void };
}

export class NetworkDns {
  constructor(private readonly o: NetworkDnsOptions) {}

  /** Lines for /etc/hosts after localhost and --add-host: legacy links, then the container's own address. */
  hostsEntries(c: ContainerRecord): string {
    let out = '';
    for (const l of this.liveLinks(c)) out += `${l.ip}\t${[l.alias, l.target.config.Hostname, l.target.name].filter((v, i, a) => v && a.indexOf(v) === i).join(' ')}\n`;
    const own = c.network?.endpoints.find((e) => e.ip);
    if (own) out += `${own.ip}\t${c.config.Hostname ?? c.id.slice(0, 12)}\n`;
    const own6 = c.network?.endpoints.find((e) => e.ip6);
    if (own6) out += `${own6.ip6}\t${c.config.Hostname ?? c.id.slice(0, 12)}\n`;
    return out;
  }

  /** aardvark-dns's addresses for a container on user networks (Docker's 127.0.0.11); empty on the default bridge. */
  dnsServers(c: ContainerRecord): string[] {
    const out: string[] = [];
    for (const ep of c.network?.endpoints ?? []) {
      const n = this.o.networks.byId(ep.networkId);
      if (ep.ip && n && !n.builtin && (n.driver === 'bridge' || n.driver === 'overlay') && !out.includes(n.gateway)) out.push(n.gateway);
    }
    return out;
  }

  /** The default bridge's gateway, for --add-host NAME:host-gateway. */
  hostGateway(): string {
    return this.o.networks.byName('bridge')?.gateway ?? '';
  }

  /** Legacy link environment variables (ALIAS_PORT_80_TCP=tcp://ip:80, ALIAS_NAME, ALIAS_ENV_x), as moby makes them. */
  linkEnv(c: ContainerRecord): string[] {
    const env: string[] = [];
    for (const { target, alias, ip } of this.liveLinks(c)) {
      const prefix = alias.toUpperCase().replace(/-/g, '_');
      env.push(`${prefix}_NAME=/${c.name}/${alias}`);
      const ports = Object.keys(target.config.ExposedPorts ?? {}).map(parsePortKey).filter((p): p is { port: number; proto: Protocol } => !!p)
        .sort((a, b) => a.port - b.port || a.proto.localeCompare(b.proto));
      if (ports[0]) env.push(`${prefix}_PORT=${ports[0].proto}://${ip}:${ports[0].port}`);
      for (const p of ports) {
        const k = `${prefix}_PORT_${p.port}_${p.proto.toUpperCase()}`;
        env.push(`${k}=${p.proto}://${ip}:${p.port}`, `${k}_ADDR=${ip}`, `${k}_PORT=${p.port}`, `${k}_PROTO=${p.proto}`);
      }
      for (const e of target.config.Env ?? []) {
        const i = e.indexOf('=');
        if (i < 0) continue;
        const k = e.slice(0, i);
        if (k === 'HOME' || k === 'PATH') continue;
        env.push(`${prefix}_ENV_${k}=${e.slice(i + 1)}`);
      }
    }
    return env;
  }

  /** --link targets on the default bridge that run, with their address there; a stopped target is an error. */
  private liveLinks(c: ContainerRecord): { target: ContainerRecord; alias: string; ip: string }[] {
    const out: { target: ContainerRecord; alias: string; ip: string }[] = [];
    const bridge = this.o.networks.byName('bridge');
    const own = c.network?.endpoints.find((e) => e.networkId === bridge?.id);
    if (!own) return out;
    for (const link of c.hostConfig.Links ?? []) {
      const { name, alias } = parseLink(link);
      const target = this.o.containers.find(name);
      if (!target || (target.state.status !== 'running' && target.state.status !== 'paused')) {
        throw new ConflictError(`Cannot link to a non running container: /${name} AS /${c.name}/${alias}`);
      }
      const ep = target.network?.endpoints.find((e) => e.networkId === bridge?.id && e.ip);
      if (!ep) throw new ConflictError(`Cannot link to /${target.name}, as it does not belong to the default network`);
      out.push({ target, alias, ip: ep.ip });
    }
    return out;
  }

  /**
   * The aliases a container gets on a user network from the legacy links of the containers running there (moby's
   * EndpointConfig.Links). moby's embedded DNS answers a link alias to the linking container only; aardvark-dns has
   * one set of names per network, so Berth gives the alias to the target as a name on the network while a linker
   * is there: every container on the network resolves it (decision 13).
   */
  linkAliasesOn(networkId: string, targetId: string): string[] {
    const out: string[] = [];
    for (const s of this.o.sandboxes.all()) {
      for (const a of s.attachments) {
        if (a.networkId !== networkId || !a.ready || !a.links) continue;
        for (const link of a.links) {
          const { name, alias } = parseLink(link);
          if (!out.includes(alias) && isDnsFileName(alias) && this.findContainer(name)?.id === targetId) out.push(alias);
        }
      }
    }
    return out;
  }

  /** A container by name or ID; an ambiguous ID prefix finds none. */
  private findContainer(ref: string): ContainerRecord | undefined {
    try {
      return this.o.containers.find(ref);
    } catch {
      return undefined;
    }
  }

  /**
   * After a container with legacy links joins or leaves these networks: each container's DNS names there become its
   * own plus the link aliases it gets now (a target started before its linker gains them, one whose last linker left
   * loses them). DNS is not worth failing a start or stop for: a failure is logged.
   */
  async refreshLinkAliases(networkIds: Iterable<string>): Promise<void> {
    for (const id of new Set(networkIds)) {
      const n = this.o.networks.byId(id);
      if (!n || n.builtin) continue;
      const names: Record<string, string[]> = {};
      for (const s of this.o.sandboxes.all()) {
        const a = s.attachments.find((x) => x.networkId === id && x.ready);
        if (!a) continue;
        const own = a.dnsNames.filter(isDnsFileName);
        names[s.containerId] = [...own, ...this.linkAliasesOn(id, s.containerId).filter((x) => !own.includes(x))];
      }
      await this.o.driver.setDnsNames(n.id, names).catch((e) => this.o.log.error(`network ${n.name}: cannot update the names of linked containers: ${errorMessage(e)}`));
    }
  }
}

/** The user networks on which some of these attachments have legacy links. */
export function linkedNetworks(attachments: Attachment[]): string[] {
  return attachments.filter((a) => a.links?.length).map((a) => a.networkId);
}


export { isDnsFileName };

/** "name:alias", "/name:/me/alias" or "name" → the target and the alias it gets. */
export function parseLink(link: string): { name: string; alias: string } {
  const [rawName, rawAlias] = link.split(':') as [string, string | undefined];
  const name = rawName.replace(/^\//, '');
  const alias = (rawAlias ?? name).split('/').filter(Boolean).pop() ?? name;
  return { name, alias };
}
