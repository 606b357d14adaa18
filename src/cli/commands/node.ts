// `berth node ls|inspect|update|promote|demote|rm|ps`: the /nodes calls docker's node commands make.
import { Command } from 'commander';
import { encodeFilters } from '../api-client';
import { BerthCommand, Cli, collect, forEach } from '../command';
import { InvalidFlagError, labelsFrom } from '../container-options';
import { renderRows } from '../format/table';
import type { Node, NodeSpec, SwarmInfo, Task } from '../../wire/swarm';
import { inspectEach } from '../swarm/inspect';
import { NODE_TABLE, nodeRow, prettyPrint, prettyTime, sortNodes } from '../swarm/render';
import { bytesSize } from '../../util/units';
import { printTasks, taskFilters, withTaskListOptions } from '../swarm/tasks';

/** "self" names this node, as docker's node commands accept it. */
async function nodeRef(cli: Cli, ref: string): Promise<string> {
  if (ref !== 'self') return ref;
  const info = await cli.api.json<{ Swarm: SwarmInfo }>('GET', '/info');
  return info.Swarm.NodeID;
}

async function getNode(cli: Cli, ref: string): Promise<Node> {
  return cli.api.json<Node>('GET', `/nodes/${encodeURIComponent(await nodeRef(cli, ref))}`);
}

/** Reads the node, changes its spec, writes it back at the version read (as docker's updateNodes). */
async function updateNode(cli: Cli, ref: string, change: (spec: NodeSpec) => void): Promise<Node> {
  const node = await getNode(cli, ref);
  const spec = structuredClone(node.Spec);
  change(spec);
  await cli.api.call('POST', `/nodes/${node.ID}/update`, { query: { version: node.Version.Index }, body: spec });
  return node;
}

/** docker's nodeInspectPrettyTemplate. */
function prettyNode(n: Node): string {
  const mapLines = (m: Record<string, string> | undefined) => Object.entries(m ?? {}).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => ` - ${k}${v ? `=${v}` : ''}`);
  const lines = [`ID:\t\t\t${n.ID}`];
  if (n.Spec.Name) lines.push(`Name:\t\t\t${n.Spec.Name}`);
  if (Object.keys(n.Spec.Labels ?? {}).length) lines.push('Labels:', ...mapLines(n.Spec.Labels));
  lines.push(`Hostname:              \t${n.Description.Hostname}`, `Joined at:             \t${prettyTime(n.CreatedAt)}`, 'Status:',
    ` State:\t\t\t${prettyPrint(n.Status.State)}`);
  if (n.Status.Message) lines.push(` Message:              \t${prettyPrint(n.Status.Message)}`);
  lines.push(` Availability:         \t${prettyPrint(n.Spec.Availability)}`);
  if (n.Status.Addr) lines.push(` Address:\t\t${n.Status.Addr}`);
  if (n.ManagerStatus) {
    lines.push('Manager Status:', ` Address:\t\t${n.ManagerStatus.Addr}`, ` Raft Status:\t\t${prettyPrint(n.ManagerStatus.Reachability)}`,
      ` Leader:\t\t${n.ManagerStatus.Leader ? 'Yes' : 'No'}`);
  }
  const res = n.Description.Resources;
  lines.push('Platform:', ` Operating System:\t${n.Description.Platform.OS}`, ` Architecture:\t\t${n.Description.Platform.Architecture}`,
    'Resources:', ` CPUs:\t\t\t${Math.trunc((res.NanoCPUs ?? 0) / 1e9)}`, ` Memory:\t\t${res.MemoryBytes ? bytesSize(res.MemoryBytes) : ''}`);
  const plugins = new Map<string, string[]>();
  for (const p of n.Description.Engine.Plugins ?? []) plugins.set(p.Type, [...(plugins.get(p.Type) ?? []), p.Name]);
  if (plugins.size) lines.push('Plugins:', ...[...plugins].sort(([a], [b]) => (a < b ? -1 : 1)).map(([t, names]) => ` ${t}:\t\t${names.join(', ')}`));
  lines.push(`Engine Version:\t\t${n.Description.Engine.EngineVersion}`);
  if (Object.keys(n.Description.Engine.Labels ?? {}).length) lines.push('Engine Labels:', ...mapLines(n.Description.Engine.Labels));
  const tls = n.Description.TLSInfo;
  if (tls && (tls.TrustRoot || tls.CertIssuerSubject || tls.CertIssuerPublicKey)) {
    lines.push('TLS Info:', ' TrustRoot:', tls.TrustRoot, ` Issuer Subject:\t${tls.CertIssuerSubject}`, ` Issuer Public Key:\t${tls.CertIssuerPublicKey}`);
  }
  return `${lines.join('\n')}\n`;
}

export function nodeCommand(cli: Cli): Command {
  const node = new BerthCommand('node').description('Manage Swarm nodes');
  node.addCommand(new BerthCommand('ls').alias('list')
    .description('List nodes in the swarm')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
    .option('--format <format>', 'Format output using a custom template')
    .option('-q, --quiet', 'Only display IDs')
    .action(async (o: { filter?: string[]; format?: string; quiet?: boolean }) => {
      const nodes = await cli.api.json<Node[]>('GET', '/nodes', { query: { filters: encodeFilters(o.filter ?? []) } });
      const selfId = nodes.length && !o.quiet ? (await cli.api.json<{ Swarm: SwarmInfo }>('GET', '/info')).Swarm.NodeID : '';
      const rows = sortNodes(nodes).map((n) => nodeRow(n, selfId));
      cli.out.write(renderRows(rows, { format: o.format ?? '', ...NODE_TABLE, quiet: o.quiet }));
    }));
  node.addCommand(new BerthCommand('inspect')
    .description('Display detailed information on one or more nodes')
    .argument('<nodes...>')
    .option('-f, --format <format>', 'Format output using a custom template')
    .option('--pretty', 'Print the information in a human friendly format')
    .action(async (refs: string[], o: { format?: string; pretty?: boolean }) => {
      if (o.pretty) {
        for (const r of refs) cli.out.write(prettyNode(await getNode(cli, r)));
        return;
      }
      await inspectEach(cli, refs, (r) => getNode(cli, r), o.format, 'node');
    }));
  node.addCommand(new BerthCommand('update')
    .description('Update a node')
    .argument('<node>')
    .option('--availability <availability>', 'Availability of the node ("active", "pause", "drain")')
    .option('--role <role>', 'Role of the node ("worker", "manager")')
    .option('--label-add <label>', 'Add or update a node label (key=value)', collect)
    .option('--label-rm <label>', 'Remove a node label if exists', collect)
    .action(async (ref: string, o: { availability?: string; role?: string; labelAdd?: string[]; labelRm?: string[] }) => {
      if (o.availability !== undefined && !['active', 'pause', 'drain'].includes(o.availability)) throw new InvalidFlagError(`invalid argument "${o.availability}" for "--availability" flag`);
      if (o.role !== undefined && !['worker', 'manager'].includes(o.role)) throw new InvalidFlagError(`invalid argument "${o.role}" for "--role" flag`);
      await updateNode(cli, ref, (spec) => {
        if (o.availability) spec.Availability = o.availability as NodeSpec['Availability'];
        if (o.role) spec.Role = o.role as NodeSpec['Role'];
        const labels = { ...(spec.Labels ?? {}) };
        for (const k of o.labelRm ?? []) {
          if (!(k in labels)) throw new Error(`key ${k} doesn't exist in node's labels`);
          delete labels[k];
        }
        spec.Labels = { ...labels, ...labelsFrom(o.labelAdd ?? []) };
      });
      cli.out.write(`${ref}\n`);
    }));
  for (const [verb, role, desc] of [['promote', 'manager', 'Promote one or more nodes to manager in the swarm'], ['demote', 'worker', 'Demote one or more nodes from manager in the swarm']] as const) {
    node.addCommand(new BerthCommand(verb)
      .description(desc)
      .argument('<nodes...>')
      .action(async (refs: string[]) => {
        for (const ref of refs) {
          const n = await getNode(cli, ref);
          if (n.Spec.Role === role) {
            cli.out.write(`Node ${ref} is already a ${role}.\n`);
            continue;
          }
          await updateNode(cli, ref, (spec) => { spec.Role = role; });
          cli.out.write(`Node ${ref} ${verb}d to a ${role} in the swarm.\n`);
        }
      }));
  }
  node.addCommand(new BerthCommand('rm').alias('remove')
    .description('Remove one or more nodes from the swarm')
    .argument('<nodes...>')
    .option('-f, --force', 'Force remove a node from the swarm')
    .action(async (refs: string[], o: { force?: boolean }) => {
      await forEach(cli, refs, async (r) => { await cli.api.call('DELETE', `/nodes/${encodeURIComponent(r)}`, { query: { force: o.force ? 1 : undefined } }); });
    }));
  node.addCommand(withTaskListOptions(new BerthCommand('ps')
    .description('List tasks running on one or more nodes, defaults to current node')
    .argument('[nodes...]'))
    .action(async (refs: string[], o: { filter?: string[]; format?: string; trunc: boolean; quiet?: boolean }) => {
      const tasks: Task[] = [];
      for (const ref of refs.length ? refs : ['self']) {
        const n = await getNode(cli, ref);
        const filters = taskFilters({ node: [n.ID] }, o.filter, (m) => new Error(m));
        tasks.push(...await cli.api.json<Task[]>('GET', '/tasks', { query: { filters: encodeFilters(filters) } }));
      }
      await printTasks(cli, tasks, { format: o.format, quiet: o.quiet, trunc: o.trunc });
    }));
  return node;
}
