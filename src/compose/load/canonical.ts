// Short syntaxes to the model's long forms, one document at a time (before files are merged, so merging can
// match ports, volumes, secrets and maps by key): ports, volumes, environment, labels, depends_on, networks,
// command, build, healthcheck, extra_hosts, ulimits…; relative paths made absolute against the document's
// base directory (the project directory, or the extended/included file's own directory).
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import type { Port, ServiceVolume } from '../model';
import { ComposeFileError } from './errors';
import { RESET, Override, childPath, lineOf, type LineMap } from './yaml';
import { shellSplit, ShellWordsError } from './shell-words';
import { parsePortSpec as parseDockerPortSpec } from '../../wire/ports';
import { InvalidParameterError } from '../../errdefs';

export interface DocumentContext {
  file: string;
  /** Relative paths in this document resolve against it. */
  baseDir: string;
  lines?: LineMap;
  /** `config --no-interpolate`: a value that does not parse yet (`${PORT}:80`) is kept as written. */
  lenient?: boolean;
}

type Dict = Record<string, unknown>;

export function fail(ctx: DocumentContext, path: string, problem: string): never {
  throw new ComposeFileError(ctx.file, problem, path, lineOf(ctx.lines, path));
}

const isDict = (v: unknown): v is Dict => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Override);

/** Applies f to a value, looking through `!override` and leaving `!reset` alone. */
function through(v: unknown, f: (x: unknown) => unknown): unknown {
  if (v === RESET || v === undefined) return v;
  if (v instanceof Override) return new Override(f(v.value));
  return f(v);
}

export function expandHome(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return resolve(homedir(), p.slice(2));
  return p;
}

export function absolutePath(baseDir: string, p: string): string {
  const e = expandHome(p);
  return isAbsolute(e) ? e : resolve(baseDir, e);
}

/** A build context or an extends file may be a remote: left as written. */
export function isRemote(p: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(p) || p.startsWith('git@') || p.startsWith('github.com/');
}

const scalarString = (v: unknown): string | null => (v === null || v === undefined ? null : typeof v === 'object' ? JSON.stringify(v) : String(v));

/** environment/labels/args/sysctls: list of `K=V` (or `K`) or a mapping → mapping of strings. */
export function toMapping(v: unknown, bareValue: null | '' = null): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (Array.isArray(v)) {
    for (const item of v) {
      const s = String(item);
      const eq = s.indexOf('=');
      if (eq < 0) out[s] = bareValue;
      else out[s.slice(0, eq)] = s.slice(eq + 1);
    }
  } else if (isDict(v)) {
    for (const [k, x] of Object.entries(v)) out[k] = x === RESET ? (x as never) : scalarString(x);
  }
  return out;
}

function toStringList(v: unknown): string[] {
  if (v === null || v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map((x) => String(x));
}

// ---- ports ---------------------------------------------------------------------------------------------

/** `[[ip:]published[-range]:]target[-range][/proto]` → one Port per container port (nat.ParsePortSpec, as compose-go). */
export function parsePortSpec(spec: string): Port[] | string {
  let mappings: ReturnType<typeof parseDockerPortSpec>;
  try {
    mappings = parseDockerPortSpec(spec);
  } catch (e) {
    if (e instanceof InvalidParameterError) return e.message;
    throw e;
  }
  return mappings.map(({ key, binding }) => {
    const [target, protocol] = key.split('/');
    const port: Port = { mode: 'ingress', target: Number(target), protocol: protocol as Port['protocol'] };
    if (binding.HostIp) port.host_ip = binding.HostIp;
    if (binding.HostPort) port.published = binding.HostPort;
    return port;
  });
}

function ports(ctx: DocumentContext, path: string, v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  const out: unknown[] = [];
  v.forEach((item, i) => {
    const p = childPath(path, i);
    if (typeof item === 'number' || typeof item === 'string') {
      const parsed = parsePortSpec(String(item));
      if (typeof parsed === 'string') {
        if (ctx.lenient) out.push(item);
        else fail(ctx, p, `invalid port ${JSON.stringify(String(item))}: ${parsed}`);
      } else out.push(...parsed);
    } else if (isDict(item)) {
      const target = Number(item.target);
      if (!Number.isInteger(target) || target < 0 || target > 65535) {
        if (!ctx.lenient) fail(ctx, childPath(p, 'target'), `invalid containerPort: ${String(item.target)}`);
      }
      const port: Dict = { ...item, mode: item.mode ?? 'ingress', target: Number.isNaN(target) ? item.target : target, protocol: item.protocol ?? 'tcp' };
      if (item.published !== undefined && item.published !== null) port.published = String(item.published);
      out.push(port);
    } else out.push(item);
  });
  return out;
}

// ---- volumes -------------------------------------------------------------------------------------------

const PROPAGATION = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate']);
const CONSISTENCY = new Set(['consistent', 'cached', 'delegated']);

function isPathSource(s: string): boolean {
  return s.startsWith('.') || s.startsWith('/') || s.startsWith('~') || /^[a-zA-Z]:[\\/]/.test(s);
}

/** `[source:]target[:options]` → a long-form volume. */
export function parseVolumeSpec(spec: string, baseDir: string): ServiceVolume | string {
  const parts = spec.split(':');
  if (parts.some((p) => p === '')) return `invalid volume specification: ${JSON.stringify(spec)}`;
  if (parts.length > 3) return `invalid volume specification: ${JSON.stringify(spec)}: too many colons`;
  if (parts.length === 1) return { type: 'volume', target: parts[0] };
  const [source, target, options] = parts;
  const vol: ServiceVolume = isPathSource(source)
    ? { type: 'bind', source: absolutePath(baseDir, source), target, bind: { create_host_path: true } }
    : { type: 'volume', source, target };
  if (options !== undefined) {
    for (const opt of options.split(',')) {
      if (opt === 'ro') vol.read_only = true;
      else if (opt === 'rw') vol.read_only = false;
      else if (opt === 'z' || opt === 'Z') vol.bind = { ...vol.bind, selinux: opt };
      else if (PROPAGATION.has(opt)) vol.bind = { ...vol.bind, propagation: opt };
      else if (CONSISTENCY.has(opt)) vol.consistency = opt;
      else if (opt === 'nocopy') vol.volume = { ...vol.volume, nocopy: true };
      else return `invalid volume specification: ${JSON.stringify(spec)}: unknown option ${opt}`;
    }
  }
  return vol;
}

function volumes(ctx: DocumentContext, path: string, v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  return v.map((item, i) => {
    const p = childPath(path, i);
    if (typeof item === 'string') {
      const parsed = parseVolumeSpec(item, ctx.baseDir);
      if (typeof parsed === 'string') return ctx.lenient ? item : fail(ctx, p, parsed);
      return parsed;
    }
    if (isDict(item)) {
      const out: Dict = { ...item };
      if (item.type === 'bind' && typeof item.source === 'string') out.source = absolutePath(ctx.baseDir, item.source);
      if (item.type === 'volume' && typeof item.source === 'string' && isPathSource(item.source) && !ctx.lenient) {
        fail(ctx, p, `volume source ${JSON.stringify(item.source)} is a path: use type: bind`);
      }
      return out;
    }
    return item;
  });
}

// ---- services ------------------------------------------------------------------------------------------

function command(ctx: DocumentContext, path: string, v: unknown): unknown {
  if (typeof v !== 'string') return Array.isArray(v) ? v.map(String) : v;
  try {
    return shellSplit(v);
  } catch (e) {
    if (e instanceof ShellWordsError) return fail(ctx, path, e.message);
    throw e;
  }
}

function build(ctx: DocumentContext, v: unknown): unknown {
  const b: Dict = typeof v === 'string' ? { context: v } : isDict(v) ? { ...v } : {};
  if (!isDict(v) && typeof v !== 'string') return v;
  const context = typeof b.context === 'string' ? b.context : '.';
  b.context = isRemote(context) ? context : absolutePath(ctx.baseDir, context);
  if (b.args !== undefined) b.args = through(b.args, (x) => toMapping(x));
  if (b.labels !== undefined) b.labels = through(b.labels, (x) => toMapping(x, ''));
  if (b.extra_hosts !== undefined) b.extra_hosts = through(b.extra_hosts, extraHosts);
  if (b.tags !== undefined) b.tags = toStringList(b.tags);
  if (b.cache_from !== undefined) b.cache_from = toStringList(b.cache_from);
  return b;
}

function extraHosts(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => String(x).replace(/^([^=:]+)=/, '$1:'));
  if (isDict(v)) {
    const out: string[] = [];
    for (const [host, ip] of Object.entries(v)) for (const one of toStringList(ip)) out.push(`${host}:${one}`);
    return out;
  }
  return v;
}

function envFiles(ctx: DocumentContext, v: unknown): unknown {
  return toList(v).map((item) => {
    if (typeof item === 'string') return { path: absolutePath(ctx.baseDir, item), required: true };
    if (isDict(item)) {
      const out: Dict = { ...item, path: absolutePath(ctx.baseDir, String(item.path)), required: item.required ?? true };
      return out;
    }
    return item;
  });
}

const toList = (v: unknown): unknown[] => (v === null || v === undefined ? [] : Array.isArray(v) ? v : [v]);

function dependsOn(v: unknown): unknown {
  if (Array.isArray(v)) return Object.fromEntries(v.map((name) => [String(name), { condition: 'service_started', required: true }]));
  if (isDict(v)) {
    const out: Dict = {};
    for (const [name, d] of Object.entries(v)) {
      out[name] = through(d, (x) => (isDict(x) ? { ...x, condition: x.condition ?? 'service_started', required: x.required ?? true } : { condition: 'service_started', required: true }));
    }
    return out;
  }
  return v;
}

function networks(v: unknown): unknown {
  if (Array.isArray(v)) return Object.fromEntries(v.map((n) => [String(n), null]));
  if (isDict(v)) {
    const out: Dict = {};
    for (const [k, x] of Object.entries(v)) out[k] = x === undefined ? null : through(x, (n) => (isDict(n) && n.aliases !== undefined ? { ...n, aliases: toStringList(n.aliases) } : n));
    return out;
  }
  return v;
}

function ulimits(v: unknown): unknown {
  if (!isDict(v)) return v;
  const out: Dict = {};
  for (const [k, x] of Object.entries(v)) out[k] = through(x, (u) => (typeof u === 'number' || typeof u === 'string' ? { soft: Number(u), hard: Number(u) } : u));
  return out;
}

function fileRefs(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  return v.map((x) => (typeof x === 'string' ? { source: x } : x));
}

function healthcheck(v: unknown): unknown {
  if (!isDict(v)) return v;
  const out: Dict = { ...v };
  if (out.test !== undefined) out.test = through(out.test, (t) => (typeof t === 'string' ? ['CMD-SHELL', t] : Array.isArray(t) ? t.map(String) : t));
  return out;
}

function logging(v: unknown): unknown {
  if (!isDict(v) || !isDict(v.options)) return v;
  return { ...v, options: toMapping(v.options) };
}

/** One service's keys in long form. */
export function canonicalService(ctx: DocumentContext, name: string, raw: unknown): unknown {
  if (!isDict(raw)) return raw === null ? {} : raw;
  const path = childPath('services', name);
  const s: Dict = { ...raw };
  const at = (k: string) => childPath(path, k);
  const apply = (k: string, f: (x: unknown) => unknown) => {
    if (k in s) s[k] = through(s[k], f);
  };
  apply('ports', (x) => ports(ctx, at('ports'), x));
  apply('volumes', (x) => volumes(ctx, at('volumes'), x));
  apply('environment', (x) => toMapping(x));
  apply('labels', (x) => toMapping(x, ''));
  apply('annotations', (x) => toMapping(x, ''));
  apply('sysctls', (x) => toMapping(x, ''));
  apply('env_file', (x) => envFiles(ctx, x));
  apply('label_file', (x) => toStringList(x).map((p) => absolutePath(ctx.baseDir, p)));
  apply('depends_on', dependsOn);
  apply('networks', networks);
  apply('command', (x) => command(ctx, at('command'), x));
  apply('entrypoint', (x) => command(ctx, at('entrypoint'), x));
  apply('build', (x) => build(ctx, x));
  apply('healthcheck', healthcheck);
  apply('extra_hosts', extraHosts);
  apply('ulimits', ulimits);
  apply('secrets', fileRefs);
  apply('configs', fileRefs);
  apply('logging', logging);
  for (const k of ['dns', 'dns_search', 'dns_opt', 'tmpfs', 'expose', 'cap_add', 'cap_drop', 'profiles', 'links', 'external_links', 'security_opt', 'group_add', 'volumes_from', 'devices']) {
    apply(k, (x) => (Array.isArray(x) || typeof x === 'string' || typeof x === 'number' ? toStringList(x) : x));
  }
  for (const k of ['mem_limit', 'memswap_limit', 'mem_reservation', 'shm_size']) apply(k, (x) => (typeof x === 'number' ? String(x) : x));
  apply('cpus', (x) => (typeof x === 'string' && x.trim() !== '' && !Number.isNaN(Number(x)) ? Number(x) : x));
  apply('stop_grace_period', (x) => (typeof x === 'number' ? `${x}s` : x));
  if (isDict(s.deploy)) {
    const d: Dict = { ...s.deploy };
    if (d.labels !== undefined) d.labels = through(d.labels, (x) => toMapping(x, ''));
    s.deploy = d;
  }
  if (isDict(s.extends)) s.extends = { ...s.extends };
  else if (typeof s.extends === 'string') s.extends = { service: s.extends };
  if (isDict(s.extends) && typeof s.extends.file === 'string' && !isRemote(s.extends.file)) {
    s.extends.file = absolutePath(ctx.baseDir, s.extends.file);
  }
  return s;
}

/** A top-level network or volume: `null` → {}, legacy `external: {name}` → name + external, labels as a map. */
function resource(v: unknown): unknown {
  if (v === null || v === undefined) return {};
  if (!isDict(v)) return v;
  const out: Dict = { ...v };
  if (isDict(out.external)) {
    if (typeof out.external.name === 'string') out.name = out.external.name;
    out.external = true;
  }
  if (out.labels !== undefined) out.labels = through(out.labels, (x) => toMapping(x, ''));
  if (isDict(out.driver_opts)) out.driver_opts = toMapping(out.driver_opts);
  return out;
}

function fileObject(ctx: DocumentContext, v: unknown): unknown {
  const out = resource(v);
  if (isDict(out) && typeof out.file === 'string') out.file = absolutePath(ctx.baseDir, out.file);
  return out;
}

/** A whole document (one file, interpolated and validated) in long form. */
export function canonicalDocument(ctx: DocumentContext, doc: Dict): Dict {
  const out: Dict = { ...doc };
  delete out.version;
  if (isDict(doc.services)) {
    const services: Dict = {};
    for (const [name, svc] of Object.entries(doc.services)) services[name] = through(svc, (x) => canonicalService(ctx, name, x));
    out.services = services;
  }
  for (const key of ['networks', 'volumes'] as const) {
    if (isDict(doc[key])) out[key] = Object.fromEntries(Object.entries(doc[key] as Dict).map(([k, v]) => [k, through(v, resource) ?? {}]));
  }
  for (const key of ['secrets', 'configs'] as const) {
    if (isDict(doc[key])) out[key] = Object.fromEntries(Object.entries(doc[key] as Dict).map(([k, v]) => [k, through(v, (x) => fileObject(ctx, x))]));
  }
  return out;
}

export { isDict };
