// `compose config`: the loaded project in its canonical form (YAML or JSON), or one of its lists
// (--services, --volumes, --images, --profiles), its variables with their sources, or its hash.
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { Command } from 'commander';
import { BerthCommand, StatusError } from '../../../cli/command';
import type { Project } from '../../model';
import type { ComposeSession } from '../session';

interface ConfigFlags {
  format?: string; services?: boolean; volumes?: boolean; networks?: boolean; interpolate: boolean; quiet?: boolean; variables?: boolean;
  output?: string; images?: boolean; profiles?: boolean; hash?: string; resolveImageDigests?: boolean;
}

/** The printed form: the model without what the loader keeps only for itself (disabled services). */
export function printableProject(project: Project): Record<string, unknown> {
  const { disabled_services: _disabled, extensions, working_dir: _wd, config_files: _files, ...rest } = project;
  const out: Record<string, unknown> = { ...rest, ...(extensions ?? {}) };
  for (const key of ['networks', 'volumes', 'secrets', 'configs'] as const) if (!Object.keys(project[key] ?? {}).length) delete out[key];
  return out;
}

export function renderProject(project: Project, format: string): string {
  const printable = printableProject(project);
  if (format === 'json') return `${JSON.stringify(printable, null, 2)}\n`;
  const YAML = require('yaml') as typeof import('yaml');
  return YAML.stringify(printable, { lineWidth: 0 });
}

/** A service's hash as `config --hash` prints it: sha256 of its canonical JSON. */
export function serviceHash(service: unknown): string {
  return createHash('sha256').update(JSON.stringify(service)).digest('hex');
}

export function configCommand(s: ComposeSession): Command {
  return new BerthCommand('config')
    .description('Parse, resolve and render compose file in canonical format')
    .argument('[services...]')
    .option('--format <format>', 'Format the output. Values: [yaml | json]', 'yaml')
    .option('--hash <services>', 'Print the service config hash, one per line.')
    .option('--images', 'Print the image names, one per line.')
    .option('--networks', 'Print the network names, one per line.')
    .option('--no-interpolate', "Don't interpolate environment variables")
    .option('-o, --output <file>', 'Save to file (default to stdout)')
    .option('--profiles', 'Print the profile names, one per line.')
    .option('-q, --quiet', 'Only validate the configuration, don\'t print anything')
    .option('--services', 'Print the service names, one per line.')
    .option('--variables', 'Print model variables and default values.')
    .option('--volumes', 'Print the volume names, one per line.')
    .action(async (services: string[], o: ConfigFlags) => {
      if (o.format !== 'yaml' && o.format !== 'json') throw new StatusError(1, `unsupported format "${o.format}"`);
      const loaded = await s.load({ services, interpolate: o.interpolate });
      const { project } = loaded;
      if (services.length) {
        for (const name of services) if (!project.services[name]) throw new StatusError(1, `no such service: ${name}`);
        project.services = Object.fromEntries(services.map((n) => [n, project.services[n]!]));
      }
      if (o.quiet) return;
      let text: string;
      if (o.services) text = lines(Object.keys(project.services));
      else if (o.volumes) text = lines(Object.keys(project.volumes));
      else if (o.networks) text = lines(Object.keys(project.networks));
      else if (o.images) text = lines(Object.values(project.services).map((svc) => svc.image ?? `${project.name}-${svc.name}`));
      else if (o.profiles) text = lines([...new Set(Object.values({ ...project.services, ...project.disabled_services }).flatMap((svc) => svc.profiles ?? []))].sort());
      else if (o.hash !== undefined) {
        const names = o.hash === '*' ? Object.keys(project.services) : o.hash.split(',');
        text = names.map((n) => {
          const svc = project.services[n];
          if (!svc) throw new StatusError(1, `no such service: ${n}`);
          return `${n} ${serviceHash(svc)}\n`;
        }).join('');
      } else if (o.variables) {
        const rows = loaded.variables.map((v) => `${v.name}\t${v.required}\t${v.defaultValue ?? ''}\t${v.value ?? ''}\t${v.source}\n`);
        const { tabwrite } = require('../../../cli/format/table') as typeof import('../../../cli/format/table');
        text = tabwrite(['NAME\tREQUIRED\tDEFAULT VALUE\tVALUE\tSOURCE\n', ...rows].join(''), 20, 3);
      } else text = renderProject(project, o.format);
      if (o.output) fs.writeFileSync(o.output, text);
      else s.cli.out.write(text);
    });
}

function lines(items: string[]): string {
  return items.map((i) => `${i}\n`).join('');
}
