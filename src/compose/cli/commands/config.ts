// `compose config`: flag parsing only. The canonical form, the lists and the variables are rendered by the
// loader (load/render.ts), the hash is the one the operations put on containers (project/config-hash.ts).
import * as fs from 'node:fs';
import { Command } from 'commander';
import { BerthCommand, StatusError } from '../../../cli/command';
import type { ComposeSession } from '../session';

interface ConfigFlags {
  format?: string; services?: boolean; volumes?: boolean; networks?: boolean; interpolate: boolean; quiet?: boolean; variables?: boolean;
  output?: string; images?: boolean; profiles?: boolean; hash?: string; resolveImageDigests?: boolean;
}

export function configCommand(s: ComposeSession): Command {
  return new BerthCommand('config')
    .description('Parse, resolve and render compose file in canonical format')
    .argument('[services...]')
    .option('--format <format>', 'Format the output. Values: [yaml | json]')
    .option('--hash <services>', 'Print the service config hash, one per line.')
    .option('--images', 'Print the image names, one per line.')
    .option('--networks', 'Print the network names, one per line.')
    .option('--no-interpolate', "Don't interpolate environment variables")
    .option('-o, --output <file>', 'Save to file (default to stdout)')
    .option('--profiles', 'Print the profile names, one per line.')
    .option('-q, --quiet', 'Only validate the configuration, don\'t print anything')
    .option('--services', 'Print the service names, one per line.')
    .option('--variables', 'Print model variables, their values and where each value comes from.')
    .option('--volumes', 'Print the volume names, one per line.')
    .action(async (services: string[], o: ConfigFlags) => {
      const format = o.format ?? (o.variables ? 'table' : 'yaml');
      const allowed = o.variables ? ['table', 'json', 'yaml'] : ['yaml', 'json'];
      if (!allowed.includes(format)) throw new StatusError(1, `unsupported format "${format}"`);
      const loaded = await s.load({ services, interpolate: o.interpolate });
      const { project } = loaded;
      if (services.length) {
        for (const name of services) if (!project.services[name]) throw new StatusError(1, `no such service: ${name}`);
        project.services = Object.fromEntries(services.map((n) => [n, project.services[n]!]));
      }
      if (o.quiet) return;
      const render = require('../../load/render') as typeof import('../../load/render');
      let text: string;
      if (o.services) text = render.renderServices(project);
      else if (o.volumes) text = render.renderVolumes(project);
      else if (o.networks) text = lines(Object.keys(project.networks));
      else if (o.images) text = lines(Object.values(project.services).map((svc) => svc.image ?? `${project.name}-${svc.name}`));
      else if (o.profiles) text = lines([...new Set(Object.values({ ...project.services, ...project.disabled_services }).flatMap((svc) => svc.profiles ?? []))].sort());
      else if (o.hash !== undefined) {
        const { serviceHash } = require('../../project/config-hash') as typeof import('../../project/config-hash');
        const names = o.hash === '*' ? Object.keys(project.services) : o.hash.split(',');
        text = names.map((n) => {
          const svc = project.services[n];
          if (!svc) throw new StatusError(1, `no such service: ${n}`);
          return `${n} ${serviceHash(svc)}\n`;
        }).join('');
      } else if (o.variables) text = render.renderVariables(loaded.variables, format as 'table' | 'json' | 'yaml');
      else text = render.renderConfig(project, format as 'yaml' | 'json');
      if (o.output) fs.writeFileSync(o.output, text);
      else s.cli.out.write(text);
    });
}

function lines(items: string[]): string {
  return items.map((i) => `${i}\n`).join('');
}
