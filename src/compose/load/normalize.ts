// The merged long-form document → the project model: services named and given the default network, env_file
// contents read under `environment`, scale from deploy.replicas, project-level networks/volumes/secrets/
// configs given their engine names, and the references between them checked (unknown network, volume,
// secret, config or service; depends_on cycles).
import type { FileObject, Network, Project, Service, Volume } from '../model';
import { ComposeFileError } from './errors';
import { isDict } from './canonical';
import { readEnvFile } from './env-file';
import type { Lookup } from './interpolate';
import { existsSync } from 'node:fs';

type Dict = Record<string, unknown>;

export interface NormalizeOptions {
  name: string;
  workingDir: string;
  configFiles: string[];
  lookup: Lookup;
  /** The first file, named in errors about the whole project. */
  file?: string;
  /**
   * Whether a missing required env_file of this service is an error now. Compose only fails for the
   * services a command acts on, so `up -d a` works while b's env file is missing.
   */
  envFilesNeeded?: (service: string) => boolean;
}

const named = <T>(section: unknown, make: (key: string, def: Dict) => T): Record<string, T> => {
  const out: Record<string, T> = {};
  if (isDict(section)) for (const [k, v] of Object.entries(section)) out[k] = make(k, isDict(v) ? v : {});
  return out;
};

function engineName(project: string, key: string, def: Dict): string {
  if (typeof def.name === 'string' && def.name !== '') return def.name;
  return def.external === true ? key : `${project}_${key}`;
}

function service(name: string, raw: Dict, opts: NormalizeOptions): Service {
  const svc: Service = { ...raw, name } as Service;
  if (svc.env_file && svc.env_file.length > 0) {
    const fromFiles: Record<string, string> = {};
    for (const ef of svc.env_file) {
      if (!existsSync(ef.path)) {
        if (ef.required && (opts.envFilesNeeded?.(name) ?? true)) throw new ComposeFileError(opts.file, `env file ${ef.path} not found`, `services.${name}.env_file`);
        continue;
      }
      Object.assign(fromFiles, readEnvFile(ef.path, opts.lookup));
    }
    // The service's own environment wins over its env files.
    svc.environment = { ...fromFiles, ...(svc.environment ?? {}) };
  }
  if (svc.network_mode === undefined && (svc.networks === undefined || Object.keys(svc.networks).length === 0)) svc.networks = { default: null };
  // Compose's default, printed by `config`: the Dockerfile at the context's root.
  if (svc.build && svc.build.dockerfile === undefined && svc.build.dockerfile_inline === undefined) svc.build = { ...svc.build, dockerfile: 'Dockerfile' };
  const replicas = svc.deploy?.replicas;
  if (replicas !== undefined) {
    if (svc.scale !== undefined && svc.scale !== replicas) {
      throw new ComposeFileError(opts.file, `can't set distinct values on 'scale' and 'deploy.replicas'`, `services.${name}`);
    }
    svc.scale = replicas;
  }
  return svc;
}

export function toProject(doc: Dict, opts: NormalizeOptions): Omit<Project, 'disabled_services'> {
  const services: Record<string, Service> = {};
  if (isDict(doc.services)) for (const [name, raw] of Object.entries(doc.services)) services[name] = service(name, isDict(raw) ? raw : {}, opts);
  const networks = named<Network>(doc.networks, (k, d) => ({ ...d, name: engineName(opts.name, k, d) }) as Network);
  if (Object.values(services).some((s) => s.networks && 'default' in s.networks) && !('default' in networks)) {
    networks.default = { name: `${opts.name}_default` };
  }
  const project: Omit<Project, 'disabled_services'> = {
    name: opts.name,
    working_dir: opts.workingDir,
    config_files: opts.configFiles,
    services,
    networks,
    volumes: named<Volume>(doc.volumes, (k, d) => ({ ...d, name: engineName(opts.name, k, d) }) as Volume),
    secrets: named<FileObject>(doc.secrets, (k, d) => ({ ...d, name: engineName(opts.name, k, d) }) as FileObject),
    configs: named<FileObject>(doc.configs, (k, d) => ({ ...d, name: engineName(opts.name, k, d) }) as FileObject),
  };
  const extensions = Object.fromEntries(Object.entries(doc).filter(([k]) => k.startsWith('x-')));
  if (Object.keys(extensions).length > 0) project.extensions = extensions;
  return project;
}

/** References from the enabled services to things that must exist; throws on the first that does not. */
export function checkConsistency(project: Omit<Project, 'disabled_services'>, disabled: Record<string, Service>, file?: string): void {
  const err = (path: string, problem: string): never => {
    throw new ComposeFileError(file, problem, path);
  };
  for (const [name, svc] of Object.entries(project.services)) {
    const at = `services.${name}`;
    if (svc.image === undefined && svc.build === undefined) err(at, `service ${JSON.stringify(name)} has neither an image nor a build context specified: invalid compose project`);
    for (const net of Object.keys(svc.networks ?? {})) {
      if (!(net in project.networks)) err(`${at}.networks`, `service ${JSON.stringify(name)} refers to undefined network ${net}: invalid compose project`);
    }
    if (svc.network_mode?.startsWith('service:')) {
      const other = svc.network_mode.slice(8);
      if (!(other in project.services)) err(`${at}.network_mode`, `service ${JSON.stringify(name)} uses the network stack of service ${JSON.stringify(other)} which is undefined`);
    }
    (svc.volumes ?? []).forEach((v, i) => {
      if (v.type === 'volume' && v.source && !(v.source in project.volumes)) {
        err(`${at}.volumes[${i}]`, `service ${JSON.stringify(name)} refers to undefined volume ${v.source}: invalid compose project`);
      }
    });
    for (const kind of ['secrets', 'configs'] as const) {
      (svc[kind] ?? []).forEach((ref, i) => {
        if (!(ref.source in project[kind])) err(`${at}.${kind}[${i}]`, `service ${JSON.stringify(name)} refers to undefined ${kind.slice(0, -1)} ${ref.source}: invalid compose project`);
      });
    }
    for (const [dep, d] of Object.entries(svc.depends_on ?? {})) {
      if (dep in project.services) continue;
      if (dep in disabled && d.required === false) continue;
      err(`${at}.depends_on`, `service ${JSON.stringify(name)} depends on undefined service ${JSON.stringify(dep)}: invalid compose project`);
    }
  }
  dependencyCycle(project.services, file);
}

function dependencyCycle(services: Record<string, Service>, file?: string): void {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, chain: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...chain.slice(chain.indexOf(name)), name];
      throw new ComposeFileError(file, `dependency cycle detected: ${cycle.join(' -> ')}`, `services.${name}.depends_on`);
    }
    state.set(name, 'visiting');
    for (const dep of Object.keys(services[name]?.depends_on ?? {})) if (dep in services) visit(dep, [...chain, name]);
    state.set(name, 'done');
  };
  for (const name of Object.keys(services)) visit(name, []);
}
