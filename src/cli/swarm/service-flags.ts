// The grammars of `service create/update` flag values (docker/cli's opts: PortOpt, SecretOpt, ConfigOpt,
// placement preferences, NanoCPUs, Go durations, --host), each read into its swarm wire shape.
import { InvalidFlagError, parseMount } from '../container-options';
import { parseGoDuration } from '../../wire/durations';
import { ramInBytes } from '../../util/units';
import type { ConfigReference, HealthConfig, Mount, PortConfig, SecretReference, ServiceMode } from '../../wire/swarm';

/** A Go duration flag (`--restart-delay 5s`) in nanoseconds, its error worded as pflag's. */
export function durationFlag(name: string, value: string): number {
  try {
    return parseGoDuration(value);
  } catch (err) {
    throw new InvalidFlagError(`invalid argument "${value}" for "--${name}" flag: ${(err as Error).message}`);
  }
}

/** opts.NanoCPUs: "0.5" → 500000000. */
export function nanoCpus(name: string, value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidFlagError(`invalid argument "${value}" for "--${name}" flag: failed to parse ${value} as a rational number`);
  return Math.round(n * 1e9);
}

/** opts.MemBytes: "512m" → bytes (binary multiples). */
export function memBytes(name: string, value: string): number {
  try {
    return ramInBytes(value);
  } catch {
    throw new InvalidFlagError(`invalid argument "${value}" for "--${name}" flag: invalid size: '${value}'`);
  }
}

export function uintFlag(name: string, value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidFlagError(`invalid argument "${value}" for "--${name}" flag: strconv.ParseUint: parsing "${value}": invalid syntax`);
  return Number(value);
}

/** Comma-separated key=value fields of the long flag forms (csv as docker reads them). */
function fields(value: string): [string, string | undefined][] {
  return value.split(',').filter((f) => f !== '').map((f) => {
    const i = f.indexOf('=');
    return i < 0 ? [f.trim().toLowerCase(), undefined] : [f.slice(0, i).trim().toLowerCase(), f.slice(i + 1)];
  });
}

/** opts.PortOpt: `8080:80/udp`, `80`, `8080-8081:80-81`, or `published=8080,target=80,protocol=udp,mode=host`. */
export function parsePublish(value: string): PortConfig[] {
  if (/[a-z_-]+=/.test(value)) {
    const p: PortConfig = { Protocol: 'tcp', PublishMode: 'ingress' };
    for (const [k, v] of fields(value)) {
      if (v === undefined) throw new InvalidFlagError(`invalid field ${k}`);
      switch (k) {
        case 'mode':
          if (v !== 'ingress' && v !== 'host') throw new InvalidFlagError(`invalid publish mode value (${v}): must be either 'ingress' or 'host'`);
          p.PublishMode = v; break;
        case 'target': p.TargetPort = uintFlag('publish', v); break;
        case 'published': p.PublishedPort = uintFlag('publish', v); break;
        case 'protocol':
          if (v !== 'tcp' && v !== 'udp' && v !== 'sctp') throw new InvalidFlagError(`invalid protocol value '${v}'`);
          p.Protocol = v; break;
        default: throw new InvalidFlagError(`invalid field key ${k}`);
      }
    }
    if (!p.TargetPort) throw new InvalidFlagError(`missing mandatory field "target"`);
    return [{ Protocol: p.Protocol, TargetPort: p.TargetPort, PublishedPort: p.PublishedPort ?? 0, PublishMode: p.PublishMode }];
  }
  const slash = value.lastIndexOf('/');
  const proto = (slash >= 0 ? value.slice(slash + 1) : 'tcp').toLowerCase();
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') throw new InvalidFlagError(`invalid proto: ${proto}`);
  const body = slash >= 0 ? value.slice(0, slash) : value;
  const parts = body.split(':');
  if (parts.length > 2) throw new InvalidFlagError(`hostip is not supported: ${value}`);
  const range = (s: string): [number, number] => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(s);
    if (!m) throw new InvalidFlagError(`invalid containerPort: ${s}`);
    return [Number(m[1]), Number(m[2] ?? m[1])];
  };
  const [t0, t1] = range(parts[parts.length - 1]!);
  const [p0, p1] = parts.length === 2 && parts[0] !== '' ? range(parts[0]!) : [0, 0];
  if (p0 && p1 - p0 !== t1 - t0) throw new InvalidFlagError(`invalid ranges specified for container and host Ports: ${body}`);
  const out: PortConfig[] = [];
  for (let i = 0; i <= t1 - t0; i++) {
    out.push({ Protocol: proto, TargetPort: t0 + i, PublishedPort: p0 ? p0 + i : 0, PublishMode: 'ingress' });
  }
  return out;
}

/** A --secret/--config value, its name still to be resolved to an ID. */
export interface FileRefFlag { source: string; target: string; uid: string; gid: string; mode: number }

/** opts.SecretOpt / ConfigOpt: `name` or `source=name,target=path,uid=0,gid=0,mode=0444`. */
export function parseFileRef(value: string, kind: 'secret' | 'config'): FileRefFlag {
  const ref: FileRefFlag = { source: '', target: '', uid: '0', gid: '0', mode: 0o444 };
  if (!value.includes('=')) return { ...ref, source: value, target: value };
  for (const [k, v] of fields(value)) {
    if (v === undefined) throw new InvalidFlagError(`invalid field '${k}' must be a key=value pair`);
    switch (k) {
      case 'source': case 'src': ref.source = v; break;
      case 'target': ref.target = v; break;
      case 'uid': ref.uid = v; break;
      case 'gid': ref.gid = v; break;
      case 'mode': {
        const m = parseInt(v, 8);
        if (Number.isNaN(m)) throw new InvalidFlagError(`invalid mode specified: ${v}`);
        ref.mode = m;
        break;
      }
      default: throw new InvalidFlagError(`invalid field in ${kind} request: ${k}`);
    }
  }
  if (!ref.source) throw new InvalidFlagError(`source is required`);
  if (!ref.target) ref.target = ref.source;
  return ref;
}

export function secretReference(ref: FileRefFlag, id: string): SecretReference {
  return { File: { Name: ref.target, UID: ref.uid, GID: ref.gid, Mode: ref.mode }, SecretID: id, SecretName: ref.source };
}

export function configReference(ref: FileRefFlag, id: string): ConfigReference {
  return { File: { Name: ref.target, UID: ref.uid, GID: ref.gid, Mode: ref.mode }, ConfigID: id, ConfigName: ref.source };
}

/** `--mount` for services: the container grammar, in the swarm Mount shape. */
export function parseServiceMount(value: string): Mount {
  const m = parseMount(value);
  const out: Mount = { Type: m.Type as Mount['Type'], Target: m.Target };
  if (m.Source !== undefined) out.Source = m.Source;
  if (m.ReadOnly) out.ReadOnly = true;
  if (m.Consistency) out.Consistency = m.Consistency;
  if (m.BindOptions) out.BindOptions = m.BindOptions as Record<string, unknown>;
  if (m.VolumeOptions) out.VolumeOptions = m.VolumeOptions as Mount['VolumeOptions'];
  if (m.TmpfsOptions) out.TmpfsOptions = m.TmpfsOptions;
  return out;
}

/** `--placement-pref spread=node.labels.zone`. */
export function parsePlacementPref(value: string): { Spread: { SpreadDescriptor: string } } {
  const i = value.indexOf('=');
  if (i < 0) throw new InvalidFlagError(`placement preference must be of the format "<strategy>=<arg>"`);
  const strategy = value.slice(0, i);
  if (strategy.toLowerCase() !== 'spread') throw new InvalidFlagError(`unsupported placement preference ${strategy} (only spread is supported)`);
  return { Spread: { SpreadDescriptor: value.slice(i + 1) } };
}

/** `--host name:ip` → the hosts(5) line swarm stores ("ip name"). */
export function swarmHost(value: string): string {
  const i = value.indexOf(':');
  if (i < 0) throw new InvalidFlagError(`bad format for add-host: "${value}"`);
  return `${value.slice(i + 1)} ${value.slice(0, i)}`;
}

/** `--mode` with `--replicas`/`--max-concurrent`, as ToServiceMode checks them. */
export function serviceMode(mode: string, replicas: number | undefined, maxConcurrent: number | undefined, maxPerNode: number | undefined): ServiceMode {
  const replicasOnly = 'replicas can only be used with replicated or replicated-job mode';
  const maxPerNodeOnly = 'replicas-max-per-node can only be used with replicated or replicated-job mode';
  const concurrentOnly = 'max-concurrent can only be used with replicated-job mode';
  switch (mode) {
    case 'replicated':
      if (maxConcurrent !== undefined) throw new InvalidFlagError(concurrentOnly);
      return { Replicated: replicas === undefined ? {} : { Replicas: replicas } };
    case 'global':
      if (replicas !== undefined) throw new InvalidFlagError(replicasOnly);
      if (maxPerNode) throw new InvalidFlagError(maxPerNodeOnly);
      if (maxConcurrent !== undefined) throw new InvalidFlagError(concurrentOnly);
      return { Global: {} };
    case 'replicated-job': {
      const job: { MaxConcurrent?: number; TotalCompletions?: number } = {};
      const concurrent = maxConcurrent ?? replicas;
      if (concurrent !== undefined) job.MaxConcurrent = concurrent;
      if (replicas !== undefined) job.TotalCompletions = replicas;
      return { ReplicatedJob: job };
    }
    case 'global-job':
      if (maxPerNode) throw new InvalidFlagError(maxPerNodeOnly);
      if (maxConcurrent !== undefined) throw new InvalidFlagError(concurrentOnly);
      if (replicas !== undefined) throw new InvalidFlagError(replicasOnly);
      return { GlobalJob: {} };
    default:
      throw new InvalidFlagError(`Unknown mode: ${mode}, only replicated and global supported`);
  }
}

/** The --health-* flags and --no-healthcheck → HealthConfig (undefined when none was given). */
export function healthConfig(o: { healthCmd?: string; healthInterval?: string; healthTimeout?: string; healthRetries?: string; healthStartPeriod?: string; healthStartInterval?: string; healthcheck?: boolean }): HealthConfig | undefined {
  const any = o.healthCmd !== undefined || o.healthInterval !== undefined || o.healthTimeout !== undefined
    || o.healthRetries !== undefined || o.healthStartPeriod !== undefined || o.healthStartInterval !== undefined;
  if (o.healthcheck === false) {
    if (any) throw new InvalidFlagError('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!any) return undefined;
  const h: HealthConfig = {};
  if (o.healthCmd) h.Test = ['CMD-SHELL', o.healthCmd];
  if (o.healthInterval !== undefined) h.Interval = durationFlag('health-interval', o.healthInterval);
  if (o.healthTimeout !== undefined) h.Timeout = durationFlag('health-timeout', o.healthTimeout);
  if (o.healthStartPeriod !== undefined) h.StartPeriod = durationFlag('health-start-period', o.healthStartPeriod);
  if (o.healthStartInterval !== undefined) h.StartInterval = durationFlag('health-start-interval', o.healthStartInterval);
  if (o.healthRetries !== undefined) h.Retries = uintFlag('health-retries', o.healthRetries);
  return h;
}

/** Environment as makeEnv merges it: a later KEY= replaces an earlier one; a bare KEY takes the shell's value. */
export function mergeEnv(current: string[], add: string[], env: NodeJS.ProcessEnv): string[] {
  const out = [...current];
  for (let e of add) {
    if (!e.includes('=')) {
      const v = env[e];
      if (v === undefined) continue;
      e = `${e}=${v}`;
    }
    const key = e.slice(0, e.indexOf('='));
    const at = out.findIndex((c) => c === key || c.startsWith(`${key}=`));
    if (at >= 0) out.splice(at, 1);
    out.push(e);
  }
  return out;
}

/** Docker's shell-ish split of --entrypoint ("sh -c" → ["sh", "-c"]). */
export function splitCommand(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote = '';
  let has = false;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (quote) {
      if (ch === quote) quote = '';
      else if (ch === '\\' && quote === '"' && i + 1 < value.length) cur += value[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") { quote = ch; has = true; }
    else if (ch === '\\' && i + 1 < value.length) { cur += value[++i]; has = true; }
    else if (/\s/.test(ch)) { if (has || cur) out.push(cur); cur = ''; has = false; }
    else cur += ch;
  }
  if (has || cur) out.push(cur);
  return out;
}
