// `berth stack deploy|ls|ps|services|rm`: a compose file converted client side (../swarm/stack-convert) and
// made into networks, secrets, configs and services labelled with the stack's namespace, as docker's stack does.
import { Command } from 'commander';
import { DaemonError, encodeFilters } from '../api-client';
import { BerthCommand, Cli, StatusError, collect } from '../command';
import { renderRows } from '../format/table';
import type { Config, Secret, Service, ServiceSpec, SwarmInfo, Task } from '../../wire/swarm';
import { SERVICE_TABLE, serviceRow } from '../swarm/render';
import { FileObjectCreate, IMAGE_LABEL, NAMESPACE_LABEL, convertStack } from '../swarm/stack-convert';
import { resolveServiceImage } from '../swarm/service-image';
import { printTasks } from '../swarm/tasks';
import { printWarnings } from './service';

const byStack = (stack: string) => encodeFilters({ label: [`${NAMESPACE_LABEL}=${stack}`] });

interface NetworkSummary { Id: string; Name: string; Scope?: string; Labels?: Record<string, string> }

async function requireManager(cli: Cli): Promise<void> {
  const info = await cli.api.json<{ Swarm: SwarmInfo }>('GET', '/info');
  if (!info.Swarm.ControlAvailable) throw new Error('this node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again');
}

/** Secrets and configs: created, or (already there) updated in place at their version. */
async function upsertFileObjects(cli: Cli, kind: 'secret' | 'config', objects: FileObjectCreate[]): Promise<void> {
  for (const o of objects) {
    try {
      const cur = await cli.api.json<Secret>('GET', `/${kind}s/${encodeURIComponent(o.Name)}`);
      cli.out.write(`Updating ${kind} ${o.Name}\n`);
      await cli.api.call('POST', `/${kind}s/${cur.ID}/update`, { query: { version: cur.Version.Index }, body: o });
    } catch (err) {
      if (!(err instanceof DaemonError && err.statusCode === 404)) throw err;
      cli.out.write(`Creating ${kind} ${o.Name}\n`);
      await cli.api.json('POST', `/${kind}s/create`, { body: o });
    }
  }
}

/** Fills the SecretID/ConfigID of references by name (the daemon checks the names match). */
async function fillReferenceIds(cli: Cli, specs: ServiceSpec[]): Promise<void> {
  const ids = async (kind: 'secrets' | 'configs', names: string[]) => {
    if (!names.length) return new Map<string, string>();
    const list = await cli.api.json<Secret[]>('GET', `/${kind}`, { query: { filters: encodeFilters({ name: names }) } });
    return new Map(list.filter((s) => s.Spec.Name && names.includes(s.Spec.Name)).map((s) => [s.Spec.Name!, s.ID]));
  };
  const containers = specs.map((s) => s.TaskTemplate.ContainerSpec!);
  const secretIds = await ids('secrets', [...new Set(containers.flatMap((c) => (c.Secrets ?? []).map((r) => r.SecretName)))]);
  const configIds = await ids('configs', [...new Set(containers.flatMap((c) => (c.Configs ?? []).map((r) => r.ConfigName)))]);
  for (const c of containers) {
    for (const r of c.Secrets ?? []) {
      r.SecretID = secretIds.get(r.SecretName) ?? '';
      if (!r.SecretID) throw new Error(`secret not found: ${r.SecretName}`);
    }
    for (const r of c.Configs ?? []) {
      r.ConfigID = configIds.get(r.ConfigName) ?? '';
      if (!r.ConfigID) throw new Error(`config not found: ${r.ConfigName}`);
    }
  }
}

async function deploy(cli: Cli, stack: string, o: { composeFile?: string[]; prune?: boolean; resolveImage: string }): Promise<void> {
  if (!o.composeFile?.length) throw new Error('Specify a Compose file (with --compose-file)');
  if (!['always', 'changed', 'never'].includes(o.resolveImage)) throw new Error(`Invalid option ${o.resolveImage} for flag --resolve-image`);
  await requireManager(cli);
  const { loadProject } = require('../../compose/load') as typeof import('../../compose/load');
  const { project } = await loadProject({ files: o.composeFile, projectName: stack, env: cli.env, cwd: process.cwd() });
  const plan = convertStack(stack, project, cli.env);

  const existing = await cli.api.json<Service[]>('GET', '/services', { query: { filters: byStack(stack) } });
  if (o.prune) {
    const keep = new Set(Object.keys(plan.services).map((n) => `${stack}_${n}`));
    for (const s of existing.filter((s) => !keep.has(s.Spec.Name ?? ''))) {
      cli.out.write(`Removing service ${s.Spec.Name}\n`);
      await cli.api.call('DELETE', `/services/${s.ID}`);
    }
  }
  for (const name of plan.externalNetworks) {
    let n: NetworkSummary;
    try {
      n = await cli.api.json<NetworkSummary>('GET', `/networks/${encodeURIComponent(name)}`);
    } catch (err) {
      if (err instanceof DaemonError && err.statusCode === 404) throw new Error(`network "${name}" is declared as external, but could not be found. You need to create a swarm-scoped network before the stack is deployed`);
      throw err;
    }
    if (n.Scope && n.Scope !== 'swarm') throw new Error(`network "${name}" is declared as external, but it is not in the right scope: "${n.Scope}" instead of "swarm"`);
  }
  const have = new Set((await cli.api.json<NetworkSummary[]>('GET', '/networks', { query: { filters: byStack(stack) } })).map((n) => n.Name));
  for (const n of plan.networks) {
    if (have.has(n.Name)) continue;
    cli.out.write(`Creating network ${n.Name}\n`);
    await cli.api.json('POST', '/networks/create', { body: n });
  }
  await upsertFileObjects(cli, 'secret', plan.secrets);
  await upsertFileObjects(cli, 'config', plan.configs);
  const specs = Object.values(plan.services);
  await fillReferenceIds(cli, specs);

  const byName = new Map(existing.map((s) => [s.Spec.Name ?? '', s]));
  for (const spec of specs.sort((a, b) => (a.Name ?? '').localeCompare(b.Name ?? ''))) {
    const cur = byName.get(spec.Name ?? '');
    const image = spec.TaskTemplate.ContainerSpec?.Image ?? '';
    if (cur) {
      cli.out.write(`Updating service ${spec.Name} (id: ${cur.ID})\n`);
      // With "changed" or "never", an unchanged compose image keeps the image the service runs (the digest the
      // registry gave at the last deploy); "always" asks the registry again.
      const changed = image !== cur.Spec.Labels[IMAGE_LABEL];
      if (o.resolveImage !== 'always' && !changed && cur.Spec.TaskTemplate.ContainerSpec) {
        spec.TaskTemplate.ContainerSpec!.Image = cur.Spec.TaskTemplate.ContainerSpec.Image;
      }
      // Stack deploy has no --force: the current ForceUpdate keeps unchanged tasks running.
      spec.TaskTemplate.ForceUpdate = cur.Spec.TaskTemplate.ForceUpdate ?? 0;
      const warning = await resolveServiceImage(cli, spec.TaskTemplate, o.resolveImage === 'always' || (o.resolveImage === 'changed' && changed));
      const r = await cli.api.json<{ Warnings?: string[] | null }>('POST', `/services/${cur.ID}/update`, { query: { version: cur.Version.Index }, body: spec });
      printWarnings(cli, [...(r?.Warnings ?? []), warning]);
    } else {
      cli.out.write(`Creating service ${spec.Name}\n`);
      const warning = await resolveServiceImage(cli, spec.TaskTemplate, o.resolveImage !== 'never');
      const r = await cli.api.json<{ Warnings?: string[] | null }>('POST', '/services/create', { body: spec });
      printWarnings(cli, [...(r?.Warnings ?? []), warning]);
    }
  }
}

async function remove(cli: Cli, stack: string): Promise<boolean> {
  const q = { query: { filters: byStack(stack) } };
  const services = await cli.api.json<Service[]>('GET', '/services', q);
  const networks = await cli.api.json<NetworkSummary[]>('GET', '/networks', q);
  const secrets = await cli.api.json<Secret[]>('GET', '/secrets', q);
  const configs = await cli.api.json<Config[]>('GET', '/configs', q);
  if (!services.length && !networks.length && !secrets.length && !configs.length) {
    cli.err.write(`Nothing found in stack: ${stack}\n`);
    return true;
  }
  let ok = true;
  const attempt = async (what: string, name: string, path: string) => {
    cli.out.write(`Removing ${what} ${name}\n`);
    try { await cli.api.call('DELETE', path); } catch (err) {
      ok = false;
      cli.err.write(`Failed to remove ${what} ${name}: ${(err as Error).message}\n`);
    }
  };
  for (const s of services.sort((a, b) => (a.Spec.Name ?? '').localeCompare(b.Spec.Name ?? ''))) await attempt('service', s.Spec.Name ?? s.ID, `/services/${s.ID}`);
  for (const s of secrets) await attempt('secret', s.Spec.Name ?? s.ID, `/secrets/${s.ID}`);
  for (const c of configs) await attempt('config', c.Spec.Name ?? c.ID, `/configs/${c.ID}`);
  for (const n of networks) await attempt('network', n.Name, `/networks/${n.Id}`);
  return ok;
}

export function stackCommand(cli: Cli): Command {
  const stack = new BerthCommand('stack').description('Manage Swarm stacks');
  stack.addCommand(new BerthCommand('deploy').alias('up')
    .description('Deploy a new stack or update an existing stack')
    .argument('<stack>')
    .option('-c, --compose-file <file>', 'Path to a Compose file, or "-" to read from stdin', collect)
    .option('--prune', 'Prune services that are no longer referenced')
    .option('--resolve-image <when>', 'Query the registry to resolve image digest and supported platforms ("always", "changed", "never")', 'always')
    .option('--with-registry-auth', 'Send registry authentication details to Swarm agents')
    .option('-d, --detach', 'Exit immediately instead of waiting for the stack services to converge', true)
    .option('-q, --quiet', 'Suppress progress output')
    .action(async (name: string, o: { composeFile?: string[]; prune?: boolean; resolveImage: string }) => deploy(cli, name, o)));
  stack.addCommand(new BerthCommand('ls').alias('list')
    .description('List stacks')
    .option('--format <format>', 'Format output using a custom template')
    .action(async (o: { format?: string }) => {
      const services = await cli.api.json<Service[]>('GET', '/services', { query: { filters: encodeFilters({ label: [NAMESPACE_LABEL] }) } });
      const counts = new Map<string, number>();
      for (const s of services) {
        const n = s.Spec.Labels[NAMESPACE_LABEL];
        if (n !== undefined) counts.set(n, (counts.get(n) ?? 0) + 1);
      }
      const rows = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([Name, n]) => ({ Name, Services: String(n) }));
      cli.out.write(renderRows(rows, { format: o.format ?? '', defaultFormat: 'table {{.Name}}\t{{.Services}}', headers: { Name: 'NAME', Services: 'SERVICES' } }));
    }));
  stack.addCommand(new BerthCommand('ps')
    .description('List the tasks in the stack')
    .argument('<stack>')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
    .option('--format <format>', 'Format output using a custom template')
    .option('--no-resolve', 'Do not map IDs to Names')
    .option('--no-trunc', 'Do not truncate output')
    .option('-q, --quiet', 'Only display task IDs')
    .action(async (name: string, o: { filter?: string[]; format?: string; trunc: boolean; quiet?: boolean }) => {
      const filters = JSON.parse(encodeFilters([...(o.filter ?? []), `label=${NAMESPACE_LABEL}=${name}`])!) as Record<string, Record<string, boolean>>;
      const tasks = await cli.api.json<Task[]>('GET', '/tasks', { query: { filters: JSON.stringify(filters) } });
      if (!tasks.length) throw new StatusError(1, `nothing found in stack: ${name}`);
      await printTasks(cli, tasks, { format: o.format, quiet: o.quiet, trunc: o.trunc });
    }));
  stack.addCommand(new BerthCommand('services')
    .description('List the services in the stack')
    .argument('<stack>')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect)
    .option('--format <format>', 'Format output using a custom template')
    .option('-q, --quiet', 'Only display IDs')
    .action(async (name: string, o: { filter?: string[]; format?: string; quiet?: boolean }) => {
      const filters = encodeFilters([...(o.filter ?? []), `label=${NAMESPACE_LABEL}=${name}`]);
      const list = await cli.api.json<Service[]>('GET', '/services', { query: { filters, status: 'true' } });
      if (!list.length) {
        if (!o.quiet) cli.err.write(`Nothing found in stack: ${name}\n`);
        return;
      }
      list.sort((a, b) => (a.Spec.Name ?? '').localeCompare(b.Spec.Name ?? ''));
      cli.out.write(renderRows(list.map(serviceRow), { format: o.format ?? '', ...SERVICE_TABLE, quiet: o.quiet }));
    }));
  stack.addCommand(new BerthCommand('rm').aliases(['remove', 'down'])
    .description('Remove one or more stacks')
    .argument('<stacks...>')
    .option('-d, --detach', 'Do not wait for stack removal', true)
    .action(async (names: string[]) => {
      let ok = true;
      for (const n of names) ok = (await remove(cli, n)) && ok;
      if (!ok) throw new StatusError(1, 'Failed to remove some resources from stack');
    }));
  return stack;
}
