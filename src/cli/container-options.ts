// The flags `run` and `create` share and their mapping onto the create request, as the docker CLI's
// cli/command/container/opts.go does it (same names, same defaults, same body).
import * as fs from 'node:fs';
import { Command, Option } from 'commander';
import type { ContainerCreateBody, EndpointSettings, HealthConfig, HostConfig, MountSpec, PortBinding, RestartPolicy, Ulimit } from '../wire/docker';
import { collect } from './command';
import { ramInBytes } from '../util/units';
import { parseGoDuration } from '../wire/durations';
import { InvalidParameterError } from '../errdefs';
import { parsePortRange, parsePortSpecs as parseNatPortSpecs, portKey, splitProtoPort } from '../wire/ports';

/** A bad flag value: run/create exit 125 with it. */
export class InvalidFlagError extends Error {}

/** Adds docker's container-creation flags to a command. */
export function addCreateFlags(cmd: Command): Command {
  const many = (flags: string, desc: string) => cmd.option(flags, desc, collect);
  cmd
    .option('-a, --attach <stream>', 'Attach to STDIN, STDOUT or STDERR', collect)
    .option('--cidfile <file>', 'Write the container ID to the file')
    .option('--detach-keys <keys>', 'Override the key sequence for detaching a container')
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('--name <name>', 'Assign a name to the container')
    .option('--platform <platform>', 'Set platform if server is multi-platform capable')
    .option('--pull <policy>', 'Pull image before running ("always", "missing", "never")', 'missing')
    .option('-q, --quiet', 'Suppress the pull output')
    .option('--rm', 'Automatically remove the container and its associated anonymous volumes when it exits')
    .option('-h, --hostname <name>', 'Container host name')
    .option('--domainname <name>', 'Container NIS domain name')
    .option('-u, --user <user>', 'Username or UID (format: <name|uid>[:<group|gid>])')
    .option('-w, --workdir <dir>', 'Working directory inside the container')
    .option('--entrypoint <cmd>', 'Overwrite the default ENTRYPOINT of the image')
    .option('--stop-signal <signal>', 'Signal to stop the container')
    .option('--stop-timeout <seconds>', 'Timeout (in seconds) to stop a container')
    .option('--network <network>', 'Connect a container to a network')
    .addOption(new Option('--net <network>').hideHelp())
    .option('--ip <address>', 'IPv4 address (e.g., 172.30.100.104)')
    .option('--ip6 <address>', 'IPv6 address (e.g., 2001:db8::33)')
    .option('--mac-address <mac>', 'Container MAC address (e.g., 92:d0:c6:0a:29:33)')
    .option('--restart <policy>', 'Restart policy to apply when a container exits', 'no')
    .option('-P, --publish-all', 'Publish all exposed ports to random ports')
    .option('--read-only', "Mount the container's root filesystem as read only")
    .option('--privileged', 'Give extended privileges to this container')
    .option('--init', 'Run an init inside the container that forwards signals and reaps processes')
    .option('--runtime <runtime>', 'Runtime to use for this container')
    .option('-m, --memory <bytes>', 'Memory limit')
    .option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    .option('--memory-reservation <bytes>', 'Memory soft limit')
    .option('--memory-swappiness <n>', 'Tune container memory swappiness (0 to 100)')
    .option('--kernel-memory <bytes>', 'Kernel memory limit (deprecated)')
    .option('--oom-kill-disable', 'Disable OOM Killer')
    .option('--oom-score-adj <n>', "Tune host's OOM preferences (-1000 to 1000)")
    .option('--cpus <n>', 'Number of CPUs')
    .option('-c, --cpu-shares <n>', 'CPU shares (relative weight)')
    .option('--cpu-period <n>', 'Limit CPU CFS (Completely Fair Scheduler) period')
    .option('--cpu-quota <n>', 'Limit CPU CFS (Completely Fair Scheduler) quota')
    .option('--cpuset-cpus <cpus>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--cpuset-mems <mems>', 'MEMs in which to allow execution (0-3, 0,1)')
    .option('--pids-limit <n>', 'Tune container pids limit (set -1 for unlimited)')
    .option('--blkio-weight <n>', 'Block IO (relative weight), between 10 and 1000, or 0 to disable')
    .option('--shm-size <bytes>', 'Size of /dev/shm')
    .option('--cgroup-parent <path>', 'Optional parent cgroup for the container')
    .option('--cgroupns <mode>', 'Cgroup namespace to use (host|private)')
    .option('--ipc <mode>', 'IPC mode to use')
    .option('--pid <mode>', 'PID namespace to use')
    .option('--uts <mode>', 'UTS namespace to use')
    .option('--userns <mode>', 'User namespace to use')
    .option('--isolation <tech>', 'Container isolation technology')
    .option('--log-driver <driver>', 'Logging driver for the container')
    .option('--health-cmd <cmd>', 'Command to run to check health')
    .option('--health-interval <duration>', 'Time between running the check (ms|s|m|h)')
    .option('--health-timeout <duration>', 'Maximum time to allow one check to run (ms|s|m|h)')
    .option('--health-retries <n>', 'Consecutive failures needed to report unhealthy')
    .option('--health-start-period <duration>', 'Start period for the container to initialize before starting health-retries countdown (ms|s|m|h)')
    .option('--health-start-interval <duration>', 'Time between running the check during the start period (ms|s|m|h)')
    .option('--no-healthcheck', 'Disable any container-specified HEALTHCHECK');
  many('-e, --env <env>', 'Set environment variables');
  many('--env-file <file>', 'Read in a file of environment variables');
  many('-l, --label <label>', 'Set meta data on a container');
  many('--label-file <file>', 'Read in a line delimited file of labels');
  many('-p, --publish <port>', "Publish a container's port(s) to the host");
  many('--expose <port>', 'Expose a port or a range of ports');
  many('-v, --volume <volume>', 'Bind mount a volume');
  many('--mount <mount>', 'Attach a filesystem mount to the container');
  many('--tmpfs <tmpfs>', 'Mount a tmpfs directory');
  many('--volumes-from <container>', 'Mount volumes from the specified container(s)');
  many('--cap-add <cap>', 'Add Linux capabilities');
  many('--cap-drop <cap>', 'Drop Linux capabilities');
  many('--security-opt <opt>', 'Security Options');
  many('--ulimit <ulimit>', 'Ulimit options');
  many('--add-host <host>', 'Add a custom host-to-IP mapping (host:ip)');
  many('--dns <ip>', 'Set custom DNS servers');
  many('--dns-search <domain>', 'Set custom DNS search domains');
  many('--dns-option <option>', 'Set DNS options');
  cmd.addOption(new Option('--dns-opt <option>').argParser(collect).hideHelp());
  many('--network-alias <alias>', 'Add network-scoped alias for the container');
  many('--link <link>', 'Add link to another container');
  many('--device <device>', 'Add a host device to the container');
  many('--device-cgroup-rule <rule>', 'Add a rule to the cgroup allowed devices list');
  many('--group-add <group>', 'Add additional groups to join');
  many('--log-opt <opt>', 'Log driver options');
  many('--sysctl <sysctl>', 'Sysctl options');
  many('--storage-opt <opt>', 'Storage driver options for the container');
  return cmd;
}

/** The parsed flags, as commander hands them over. */
export interface CreateFlags {
  attach?: string[]; cidfile?: string; detachKeys?: string; interactive?: boolean; tty?: boolean; name?: string;
  platform?: string; pull: string; quiet?: boolean; rm?: boolean; detach?: boolean; hostname?: string; domainname?: string;
  user?: string; workdir?: string; entrypoint?: string; stopSignal?: string; stopTimeout?: string; network?: string;
  ip?: string; ip6?: string; macAddress?: string; restart: string; publishAll?: boolean; readOnly?: boolean;
  privileged?: boolean; init?: boolean; runtime?: string; memory?: string; memorySwap?: string; memoryReservation?: string;
  memorySwappiness?: string; kernelMemory?: string; oomKillDisable?: boolean; oomScoreAdj?: string; cpus?: string;
  cpuShares?: string; cpuPeriod?: string; cpuQuota?: string; cpusetCpus?: string; cpusetMems?: string; pidsLimit?: string;
  blkioWeight?: string; shmSize?: string; cgroupParent?: string; cgroupns?: string; ipc?: string; pid?: string; uts?: string;
  userns?: string; isolation?: string; logDriver?: string; healthCmd?: string; healthInterval?: string; healthTimeout?: string;
  healthRetries?: string; healthStartPeriod?: string; healthStartInterval?: string; healthcheck?: boolean;
  env?: string[]; envFile?: string[]; label?: string[]; labelFile?: string[]; publish?: string[]; expose?: string[];
  volume?: string[]; mount?: string[]; tmpfs?: string[]; volumesFrom?: string[]; capAdd?: string[]; capDrop?: string[];
  securityOpt?: string[]; ulimit?: string[]; addHost?: string[]; dns?: string[]; dnsSearch?: string[]; dnsOption?: string[];
  networkAlias?: string[]; link?: string[]; device?: string[]; deviceCgroupRule?: string[]; groupAdd?: string[];
  logOpt?: string[]; sysctl?: string[]; storageOpt?: string[]; net?: string; dnsOpt?: string[];
}

/** What run/create send: the body plus the query parameters. */
export interface CreateRequest {
  name?: string;
  platform?: string;
  body: ContainerCreateBody;
}

function int(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[+-]?\d+$/.test(v.trim())) throw new InvalidFlagError(`invalid argument "${v}" for "--${flag}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
  return Number(v);
}

function bytes(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  try {
    return ramInBytes(v);
  } catch {
    throw new InvalidFlagError(`invalid argument "${v}" for "--${flag}" flag: invalid size: '${v}'`);
  }
}

function nanoseconds(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  try {
    return parseGoDuration(v);
  } catch (err) {
    throw new InvalidFlagError(`invalid argument "${v}" for "--${flag}" flag: ${(err as Error).message}`);
  }
}

/** opts.ValidateEnv: KEY alone takes its value from the environment, else stays KEY. */
export function expandEnv(value: string, env: NodeJS.ProcessEnv): string {
  if (value.includes('=')) {
    if (value.startsWith('=')) throw new InvalidFlagError(`invalid environment variable: ${value}`);
    return value;
  }
  const v = env[value];
  return v === undefined ? value : `${value}=${v}`;
}

/** opts.ParseEnvFile / ParseLabelFile: skips blanks and comments; a bare KEY comes from `lookup` or is dropped. */
export function parseKeyValueFile(file: string, lookup?: (key: string) => string | undefined): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/^[ \t]+/, '');
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq >= 0 ? line.slice(0, eq) : line.replace(/\s+$/, '');
    if (/\s/.test(key)) throw new InvalidFlagError(`variable '${key}' contains whitespaces`);
    if (key === '') throw new InvalidFlagError(`no variable name on line '${raw}' (${file}:${i + 1})`);
    if (eq >= 0) out.push(line);
    else if (lookup) {
      const v = lookup(key);
      if (v !== undefined) out.push(`${key}=${v}`);
    }
  });
  return out;
}

/** Labels "a=b" / "c" as a map; later wins. */
export function labelsFrom(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const i = l.indexOf('=');
    if (i < 0) out[l] = '';
    else out[l.slice(0, i)] = l.slice(i + 1);
  }
  return out;
}

/** nat.ParsePortSpecs for -p, its errors as flag errors. */
export function parsePortSpecs(specs: string[]): { exposed: Record<string, object>; bindings: Record<string, PortBinding[]> } {
  try {
    return parseNatPortSpecs(specs);
  } catch (err) {
    if (err instanceof InvalidParameterError) throw new InvalidFlagError(err.message);
    throw err;
  }
}

/** --expose: "80", "80/udp" or "8000-8010/tcp", no host part. */
function exposedPorts(spec: string): string[] {
  if (spec.includes(':')) throw new InvalidFlagError(`invalid port format for --expose: ${spec}`);
  const [proto, port] = splitProtoPort(spec);
  const range = parsePortRange(port);
  if (!range) throw new InvalidFlagError(`invalid range format for --expose: ${spec}, error: invalid port range: ${port}`);
  const out: string[] = [];
  for (let p = range[0]; p <= range[1]; p++) out.push(portKey(p, proto.toLowerCase()));
  return out;
}

function parseBool(v: string | undefined, key: string): boolean {
  if (v === undefined || v === '') return true;
  const lower = v.toLowerCase();
  if (['1', 't', 'true'].includes(lower)) return true;
  if (['0', 'f', 'false'].includes(lower)) return false;
  throw new InvalidFlagError(`invalid value for ${key}: ${v}`);
}

/** opts.MountOpt: "type=volume,src=x,dst=/y,readonly". */
export function parseMount(spec: string): MountSpec {
  const m: MountSpec = { Type: 'volume', Target: '' };
  const fields = spec.split(',');
  for (const field of fields) {
    const i = field.indexOf('=');
    const key = (i < 0 ? field : field.slice(0, i)).toLowerCase().trim();
    const value = i < 0 ? undefined : field.slice(i + 1);
    const need = (): string => {
      if (value === undefined) throw new InvalidFlagError(`invalid field '${field}' must be a key=value pair`);
      return value;
    };
    switch (key) {
      case 'type': m.Type = need() as MountSpec['Type']; break;
      case 'source': case 'src': m.Source = need(); break;
      case 'target': case 'dst': case 'destination': m.Target = need(); break;
      case 'readonly': case 'ro': m.ReadOnly = parseBool(value, key); break;
      case 'consistency': m.Consistency = need(); break;
      case 'bind-propagation': (m.BindOptions ??= {}).Propagation = need(); break;
      case 'bind-nonrecursive': (m.BindOptions ??= {}).NonRecursive = parseBool(value, key); break;
      case 'bind-create-mountpoint': (m.BindOptions ??= {}).CreateMountpoint = parseBool(value, key); break;
      case 'volume-nocopy': (m.VolumeOptions ??= {}).NoCopy = parseBool(value, key); break;
      case 'volume-subpath': (m.VolumeOptions ??= {}).Subpath = need(); break;
      case 'volume-label': {
        const [k, ...v] = need().split('=');
        ((m.VolumeOptions ??= {}).Labels ??= {})[k] = v.join('=');
        break;
      }
      case 'volume-driver': ((m.VolumeOptions ??= {}).DriverConfig ??= {}).Name = need(); break;
      case 'volume-opt': {
        const [k, ...v] = need().split('=');
        (((m.VolumeOptions ??= {}).DriverConfig ??= {}).Options ??= {})[k] = v.join('=');
        break;
      }
      case 'tmpfs-size': (m.TmpfsOptions ??= {}).SizeBytes = ramInBytes(need()); break;
      case 'tmpfs-mode': (m.TmpfsOptions ??= {}).Mode = parseInt(need(), 8); break;
      default: throw new InvalidFlagError(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (!m.Target) throw new InvalidFlagError('target is required');
  if (m.Type !== 'bind' && m.BindOptions) throw new InvalidFlagError(`cannot mix 'bind-*' options with mount type '${m.Type}'`);
  if (m.Type !== 'volume' && m.VolumeOptions) throw new InvalidFlagError(`cannot mix 'volume-*' options with mount type '${m.Type}'`);
  if (m.Type !== 'tmpfs' && m.TmpfsOptions) throw new InvalidFlagError(`cannot mix 'tmpfs-*' options with mount type '${m.Type}'`);
  return m;
}

/** --restart: no | always | unless-stopped | on-failure[:max-retries]. */
export function parseRestartPolicy(spec: string): RestartPolicy {
  const [name, count] = spec.split(':');
  if (!['', 'no', 'always', 'unless-stopped', 'on-failure'].includes(name)) throw new InvalidFlagError(`invalid restart policy '${name}'`);
  if (count !== undefined && name !== 'on-failure') throw new InvalidFlagError(`invalid restart policy format: maximum retry count can only be used with 'on-failure'`);
  const retries = count === undefined ? 0 : Number(count);
  if (!Number.isInteger(retries) || retries < 0) throw new InvalidFlagError(`invalid restart policy format: maximum retry count must be a positive integer`);
  return { Name: (name || 'no') as RestartPolicy['Name'], MaximumRetryCount: retries };
}

/** --ulimit name=soft[:hard]. */
export function parseUlimit(spec: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(spec);
  if (!m) throw new InvalidFlagError(`invalid ulimit argument: ${spec}`);
  const soft = Number(m[2]);
  const hard = m[3] === undefined ? soft : Number(m[3]);
  if (soft > hard && hard !== -1) throw new InvalidFlagError(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: m[1], Hard: hard, Soft: soft };
}

/** --device /dev/a[:/dev/b][:rwm]. */
export function parseDevice(spec: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  const parts = spec.split(':');
  const validMode = (s: string) => /^[rwm]{1,3}$/.test(s);
  let src = parts[0];
  let dst = '';
  let perm = 'rwm';
  if (parts.length === 3) { dst = parts[1]; perm = parts[2]; if (!validMode(perm)) throw new InvalidFlagError(`bad mode specified: ${perm}`); }
  else if (parts.length === 2) { if (validMode(parts[1])) perm = parts[1]; else dst = parts[1]; }
  else if (parts.length !== 1) throw new InvalidFlagError(`invalid device specification: ${spec}`);
  if (!dst) dst = src;
  src = src || dst;
  return { PathOnHost: src, PathInContainer: dst, CgroupPermissions: perm };
}

/** Capabilities as the docker CLI sends them: upper case, CAP_ prefixed (but ALL), deduplicated, sorted. */
export function normalizeCapabilities(caps: string[] | undefined): string[] | null {
  if (!caps || caps.length === 0) return null;
  const set = new Set(caps.map((c) => {
    const u = c.trim().toUpperCase();
    return u === 'ALL' || u.startsWith('CAP_') ? u : `CAP_${u}`;
  }));
  return [...set].sort();
}

function isUserDefinedNetwork(mode: string): boolean {
  return !['', 'default', 'bridge', 'host', 'none'].includes(mode) && !mode.startsWith('container:');
}

/** Turns parsed flags, the image and its command into the create request, as `docker run` builds it. */
export function buildCreateRequest(flags: CreateFlags, image: string, command: string[], env: NodeJS.ProcessEnv = process.env): CreateRequest {
  // Hidden aliases docker still accepts.
  flags = { ...flags, network: flags.network ?? flags.net, dnsOption: [...(flags.dnsOption ?? []), ...(flags.dnsOpt ?? [])] };
  if (flags.rm && flags.restart && !['no', ''].includes(flags.restart)) throw new InvalidFlagError('conflicting options: cannot specify both --restart and --rm');
  const detach = !!flags.detach;
  const attach = (flags.attach ?? []).map((s) => s.toLowerCase());
  for (const a of attach) if (!['stdin', 'stdout', 'stderr'].includes(a)) throw new InvalidFlagError(`invalid argument "${a}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`);
  if (detach && attach.length) throw new InvalidFlagError('conflicting options: cannot specify both --attach and --detach');
  let attachStdin = attach.includes('stdin');
  let attachStdout = attach.includes('stdout');
  let attachStderr = attach.includes('stderr');
  if (!detach && attach.length === 0) {
    attachStdout = true;
    attachStderr = true;
    attachStdin = !!flags.interactive;
  }
  if (detach) { attachStdin = false; attachStdout = false; attachStderr = false; }

  const envList = [
    ...(flags.envFile ?? []).flatMap((f) => parseKeyValueFile(f, (k) => env[k])),
    ...(flags.env ?? []).map((e) => expandEnv(e, env)),
  ];
  const labels = labelsFrom([...(flags.labelFile ?? []).flatMap((f) => parseKeyValueFile(f)), ...(flags.label ?? [])]);

  const { exposed, bindings } = parsePortSpecs(flags.publish ?? []);
  for (const e of flags.expose ?? []) for (const key of exposedPorts(e)) exposed[key] = {};

  const binds: string[] = [];
  const volumes: Record<string, object> = {};
  for (const v of flags.volume ?? []) {
    if (v.trim() === '') throw new InvalidFlagError(`invalid empty volume spec`);
    const parts = v.split(':');
    // A lone container path is an anonymous volume (Config.Volumes); anything with a source is a bind.
    if (parts.length === 1) volumes[v] = {};
    else binds.push(v);
  }

  const tmpfs: Record<string, string> = {};
  for (const t of flags.tmpfs ?? []) {
    const i = t.indexOf(':');
    if (i < 0) tmpfs[t] = '';
    else tmpfs[t.slice(0, i)] = t.slice(i + 1);
  }

  let healthcheck: HealthConfig | undefined;
  if (flags.healthcheck === false) {
    if (flags.healthCmd || flags.healthInterval || flags.healthTimeout || flags.healthRetries || flags.healthStartPeriod) {
      throw new InvalidFlagError('--no-healthcheck conflicts with --health-* options');
    }
    healthcheck = { Test: ['NONE'] };
  } else if (flags.healthCmd || flags.healthInterval || flags.healthTimeout || flags.healthRetries || flags.healthStartPeriod || flags.healthStartInterval) {
    healthcheck = {};
    if (flags.healthCmd) healthcheck.Test = ['CMD-SHELL', flags.healthCmd];
    const interval = nanoseconds('health-interval', flags.healthInterval);
    const timeout = nanoseconds('health-timeout', flags.healthTimeout);
    const start = nanoseconds('health-start-period', flags.healthStartPeriod);
    const startInterval = nanoseconds('health-start-interval', flags.healthStartInterval);
    if (interval) healthcheck.Interval = interval;
    if (timeout) healthcheck.Timeout = timeout;
    if (start) healthcheck.StartPeriod = start;
    if (startInterval) healthcheck.StartInterval = startInterval;
    const retries = int('health-retries', flags.healthRetries);
    if (retries) healthcheck.Retries = retries;
  }

  let nanoCpus: number | undefined;
  if (flags.cpus !== undefined) {
    const n = Number(flags.cpus);
    if (!Number.isFinite(n) || flags.cpus.trim() === '') throw new InvalidFlagError(`invalid argument "${flags.cpus}" for "--cpus" flag: failed to parse ${flags.cpus} as a rational number`);
    nanoCpus = Math.round(n * 1e9);
  }

  const logOpts: Record<string, string> = {};
  for (const o of flags.logOpt ?? []) {
    const i = o.indexOf('=');
    if (i < 0) throw new InvalidFlagError(`invalid key-value pair format in log-opts: ${o}`);
    logOpts[o.slice(0, i)] = o.slice(i + 1);
  }
  const keyValues = (list: string[] | undefined, what: string): Record<string, string> | undefined => {
    if (!list?.length) return undefined;
    const out: Record<string, string> = {};
    for (const o of list) {
      const i = o.indexOf('=');
      if (i < 0) throw new InvalidFlagError(`invalid ${what} format: ${o}`);
      out[o.slice(0, i)] = o.slice(i + 1);
    }
    return out;
  };

  const networkMode = flags.network ?? 'default';
  const memorySwap = flags.memorySwap === '-1' ? -1 : bytes('memory-swap', flags.memorySwap);
  const pidsLimit = int('pids-limit', flags.pidsLimit);
  const swappiness = int('memory-swappiness', flags.memorySwappiness);

  const hostConfig: HostConfig = {
    Binds: binds.length ? binds : null,
    ContainerIDFile: flags.cidfile ?? '',
    LogConfig: { Type: flags.logDriver ?? '', Config: logOpts },
    NetworkMode: networkMode,
    PortBindings: bindings,
    RestartPolicy: parseRestartPolicy(flags.restart ?? 'no'),
    AutoRemove: !!flags.rm,
    VolumeDriver: '',
    VolumesFrom: flags.volumesFrom?.length ? flags.volumesFrom : null,
    ConsoleSize: [0, 0],
    CapAdd: normalizeCapabilities(flags.capAdd),
    CapDrop: normalizeCapabilities(flags.capDrop),
    CgroupnsMode: flags.cgroupns ?? '',
    Dns: flags.dns ?? [],
    DnsOptions: flags.dnsOption ?? [],
    DnsSearch: flags.dnsSearch ?? [],
    ExtraHosts: flags.addHost?.length ? flags.addHost.map((h) => h.replace(/^([^:=]+)=/, '$1:')) : null,
    GroupAdd: flags.groupAdd?.length ? flags.groupAdd : null,
    IpcMode: flags.ipc ?? '',
    Cgroup: '',
    Links: flags.link?.length ? flags.link : null,
    OomScoreAdj: int('oom-score-adj', flags.oomScoreAdj) ?? 0,
    PidMode: flags.pid ?? '',
    Privileged: !!flags.privileged,
    PublishAllPorts: !!flags.publishAll,
    ReadonlyRootfs: !!flags.readOnly,
    SecurityOpt: flags.securityOpt?.length ? flags.securityOpt : null,
    StorageOpt: keyValues(flags.storageOpt, 'storage-opt'),
    Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined,
    UTSMode: flags.uts ?? '',
    UsernsMode: flags.userns ?? '',
    ShmSize: bytes('shm-size', flags.shmSize) ?? 0,
    Sysctls: keyValues(flags.sysctl, 'sysctl'),
    Runtime: flags.runtime,
    Isolation: flags.isolation ?? '',
    CpuShares: int('cpu-shares', flags.cpuShares) ?? 0,
    Memory: bytes('memory', flags.memory) ?? 0,
    NanoCpus: nanoCpus ?? 0,
    CgroupParent: flags.cgroupParent ?? '',
    BlkioWeight: int('blkio-weight', flags.blkioWeight) ?? 0,
    CpuPeriod: int('cpu-period', flags.cpuPeriod) ?? 0,
    CpuQuota: int('cpu-quota', flags.cpuQuota) ?? 0,
    CpuRealtimePeriod: 0,
    CpuRealtimeRuntime: 0,
    CpusetCpus: flags.cpusetCpus ?? '',
    CpusetMems: flags.cpusetMems ?? '',
    Devices: (flags.device ?? []).map(parseDevice),
    DeviceCgroupRules: flags.deviceCgroupRule?.length ? flags.deviceCgroupRule : null,
    MemoryReservation: bytes('memory-reservation', flags.memoryReservation) ?? 0,
    MemorySwap: memorySwap ?? 0,
    MemorySwappiness: swappiness ?? -1,
    OomKillDisable: !!flags.oomKillDisable,
    PidsLimit: pidsLimit ?? 0,
    Ulimits: (flags.ulimit ?? []).map(parseUlimit),
    Mounts: flags.mount?.length ? flags.mount.map(parseMount) : undefined,
    MaskedPaths: null as unknown as undefined,
    ReadonlyPaths: null as unknown as undefined,
    Init: flags.init ? true : undefined,
  };

  // The endpoint on the first network carries --ip, --network-alias, --mac-address and, on user-defined
  // networks, --link. Without --network, docker sends an empty "default" endpoint.
  const endpoint: EndpointSettings = {};
  if (flags.ip || flags.ip6) endpoint.IPAMConfig = { ...(flags.ip ? { IPv4Address: flags.ip } : {}), ...(flags.ip6 ? { IPv6Address: flags.ip6 } : {}) };
  if (flags.link?.length && isUserDefinedNetwork(networkMode)) endpoint.Links = flags.link;
  if (flags.networkAlias?.length) endpoint.Aliases = flags.networkAlias;
  if (flags.macAddress) endpoint.MacAddress = flags.macAddress;
  const endpoints: Record<string, EndpointSettings> = {};
  if (Object.keys(endpoint).length || flags.network === undefined) endpoints[networkMode] = endpoint;
  if (flags.networkAlias?.length && !isUserDefinedNetwork(networkMode)) {
    throw new InvalidFlagError('network-scoped aliases are only supported for user-defined networks');
  }

  const body: ContainerCreateBody = {
    Hostname: flags.hostname ?? '',
    Domainname: flags.domainname ?? '',
    User: flags.user ?? '',
    AttachStdin: attachStdin,
    AttachStdout: attachStdout,
    AttachStderr: attachStderr,
    ExposedPorts: Object.keys(exposed).length ? exposed : undefined,
    Tty: !!flags.tty,
    OpenStdin: !!flags.interactive,
    StdinOnce: !!flags.interactive && attachStdin,
    Env: envList.length ? envList : null,
    Cmd: command.length ? command : null,
    Healthcheck: healthcheck,
    Image: image,
    Volumes: volumes,
    WorkingDir: flags.workdir ?? '',
    Entrypoint: flags.entrypoint !== undefined ? [flags.entrypoint] : null,
    OnBuild: null,
    Labels: labels,
    StopSignal: flags.stopSignal,
    StopTimeout: int('stop-timeout', flags.stopTimeout),
    HostConfig: hostConfig,
    NetworkingConfig: { EndpointsConfig: endpoints },
  };
  return { name: flags.name, platform: flags.platform, body: dropUndefined(body) };
}

function dropUndefined<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
