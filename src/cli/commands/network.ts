// `berth network ls|create|rm|inspect|connect|disconnect|prune`.
import { Command } from 'commander';
import { encodeFilters } from '../api-client';
import { BerthCommand, Cli, collect, forEach } from '../command';
import { labelsFrom } from '../container-options';
import { renderRows } from '../format/table';
import { shortId } from '../../util/units';
import { confirm } from '../prompt';
import { typedInspectCommand } from './inspect';
import { printPruned } from './lifecycle';

interface NetworkSummary { Id: string; Name: string; Driver: string; Scope: string; IPv6?: boolean; Internal?: boolean; Labels?: Record<string, string>; Created?: string }

export function networkCommand(cli: Cli): Command {
  const net = new BerthCommand('network').description('Manage networks');
  net.addCommand(new BerthCommand('ls').alias('list')
    .description('List networks')
    .option('-f, --filter <filter>', 'Provide filter values (e.g. "driver=bridge")', collect)
    .option('--format <format>', 'Format output using a custom template')
    .option('--no-trunc', 'Do not truncate the output')
    .option('-q, --quiet', 'Only display network IDs')
    .action(async (o: { filter?: string[]; format?: string; trunc: boolean; quiet?: boolean }) => {
      const list = await cli.api.json<NetworkSummary[]>('GET', '/networks', { query: { filters: encodeFilters(o.filter ?? []) } });
      const rows = list.sort((a, b) => a.Name.localeCompare(b.Name)).map((n) => ({
        ID: o.trunc ? shortId(n.Id) : n.Id, Name: n.Name, Driver: n.Driver, Scope: n.Scope,
        IPv6: String(!!n.IPv6), Internal: String(!!n.Internal), CreatedAt: n.Created ?? '',
        Labels: Object.keys(n.Labels ?? {}).sort().map((k) => `${k}=${n.Labels?.[k]}`).join(','),
      }));
      cli.out.write(renderRows(rows, {
        format: o.format ?? '', defaultFormat: 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}', quiet: o.quiet,
        headers: { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', CreatedAt: 'CREATED AT', Labels: 'LABELS' },
      }));
    }));
  net.addCommand(new BerthCommand('create')
    .description('Create a network')
    .argument('<name>')
    .option('--attachable', 'Enable manual container attachment')
    .option('--aux-address <address>', 'Auxiliary IPv4 or IPv6 addresses used by Network driver', collect)
    .option('-d, --driver <driver>', 'Driver to manage the Network', 'bridge')
    .option('--gateway <ip>', 'IPv4 or IPv6 Gateway for the master subnet', collect)
    .option('--internal', 'Restrict external access to the network')
    .option('--ip-range <range>', 'Allocate container ip from a sub-range', collect)
    .option('--ipam-driver <driver>', 'IP Address Management Driver', 'default')
    .option('--ipam-opt <opt>', 'Set IPAM driver specific options', collect)
    .option('--ipv6', 'Enable IPv6 networking')
    .option('--label <label>', 'Set metadata on a network', collect)
    .option('-o, --opt <opt>', 'Set driver specific options', collect)
    .option('--subnet <subnet>', 'Subnet in CIDR format that represents a network segment', collect)
    .action(async (name: string, o: { attachable?: boolean; driver: string; gateway?: string[]; internal?: boolean; ipRange?: string[]; ipamDriver: string; ipamOpt?: string[]; ipv6?: boolean; label?: string[]; opt?: string[]; subnet?: string[] }) => {
      const config = (o.subnet ?? []).map((subnet, i) => ({
        Subnet: subnet, ...(o.ipRange?.[i] ? { IPRange: o.ipRange[i] } : {}), ...(o.gateway?.[i] ? { Gateway: o.gateway[i] } : {}),
      }));
      const r = await cli.api.json<{ Id: string; Warning?: string }>('POST', '/networks/create', {
        body: {
          Name: name, Driver: o.driver, Scope: '', EnableIPv6: o.ipv6 || undefined,
          IPAM: { Driver: o.ipamDriver, Options: labelsFrom(o.ipamOpt ?? []), Config: config },
          Internal: !!o.internal, Attachable: !!o.attachable, Ingress: false, ConfigOnly: false, ConfigFrom: null,
          Options: labelsFrom(o.opt ?? []), Labels: labelsFrom(o.label ?? []),
        },
      });
      if (r.Warning) cli.err.write(`${r.Warning}\n`);
      cli.out.write(`${r.Id}\n`);
    }));
  net.addCommand(new BerthCommand('rm').alias('remove')
    .description('Remove one or more networks')
    .argument('<networks...>')
    .option('-f, --force', 'Do not error if the network does not exist')
    .action(async (names: string[]) => {
      await forEach(cli, names, async (n) => { await cli.api.call('DELETE', `/networks/${encodeURIComponent(n)}`); });
    }));
  net.addCommand(typedInspectCommand(cli, 'network'));
  net.addCommand(new BerthCommand('connect')
    .description('Connect a container to a network')
    .argument('<network>')
    .argument('<container>')
    .option('--alias <alias>', 'Add network-scoped alias for the container', collect)
    .option('--ip <ip>', 'IPv4 address (e.g., "172.30.100.104")')
    .option('--ip6 <ip>', 'IPv6 address (e.g., "2001:db8::33")')
    .option('--link <link>', 'Add link to another container', collect)
    .option('--driver-opt <opt>', 'driver options for the network', collect)
    .action(async (network: string, container: string, o: { alias?: string[]; ip?: string; ip6?: string; link?: string[]; driverOpt?: string[] }) => {
      await cli.api.call('POST', `/networks/${encodeURIComponent(network)}/connect`, {
        body: {
          Container: container,
          EndpointConfig: {
            IPAMConfig: o.ip || o.ip6 ? { IPv4Address: o.ip ?? '', IPv6Address: o.ip6 ?? '' } : null,
            Links: o.link ?? null, Aliases: o.alias ?? null, DriverOpts: o.driverOpt ? labelsFrom(o.driverOpt) : null,
          },
        },
      });
    }));
  net.addCommand(new BerthCommand('disconnect')
    .description('Disconnect a container from a network')
    .argument('<network>')
    .argument('<container>')
    .option('-f, --force', 'Force the container to disconnect from a network')
    .action(async (network: string, container: string, o: { force?: boolean }) => {
      await cli.api.call('POST', `/networks/${encodeURIComponent(network)}/disconnect`, { body: { Container: container, Force: !!o.force } });
    }));
  net.addCommand(new BerthCommand('prune')
    .description('Remove all unused networks')
    .option('--filter <filter>', 'Provide filter values (e.g. "until=<timestamp>")', collect)
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (o: { filter?: string[]; force?: boolean }) => {
      if (!o.force && !(await confirm(cli, 'WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?'))) return;
      const r = await cli.api.json<{ NetworksDeleted?: string[] | null }>('POST', '/networks/prune', { query: { filters: encodeFilters(o.filter ?? []) } });
      printPruned(cli, 'Deleted Networks:', r.NetworksDeleted, 0, false);
    }));
  return net;
}
