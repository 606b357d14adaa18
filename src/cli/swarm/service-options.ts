// The flags `service create` and `service update` share (docker/cli's serviceOptions), registered on a
// commander command, and the groups of them that become RestartPolicy, UpdateConfig, RollbackConfig and Resources.
import { Command } from 'commander';
import { collect } from '../command';
import { InvalidFlagError } from '../container-options';
import type { FailureAction, Resources, RestartPolicy, UpdateConfig } from '../../wire/swarm';
import { durationFlag, memBytes, nanoCpus, uintFlag } from './service-flags';

/** Commander's view of the flags (camelCased names; repeatable ones as arrays). */
export interface ServiceFlags {
  name?: string;
  mode?: string;
  replicas?: string;
  maxConcurrent?: string;
  env?: string[]; envFile?: string[]; label?: string[]; containerLabel?: string[];
  constraint?: string[]; placementPref?: string[]; replicasMaxPerNode?: string;
  publish?: string[]; mount?: string[]; secret?: string[]; config?: string[]; network?: string[];
  restartCondition?: string; restartDelay?: string; restartMaxAttempts?: string; restartWindow?: string;
  updateParallelism?: string; updateDelay?: string; updateFailureAction?: string; updateMonitor?: string; updateOrder?: string; updateMaxFailureRatio?: string;
  rollbackParallelism?: string; rollbackDelay?: string; rollbackFailureAction?: string; rollbackMonitor?: string; rollbackOrder?: string; rollbackMaxFailureRatio?: string;
  limitCpu?: string; limitMemory?: string; limitPids?: string; reserveCpu?: string; reserveMemory?: string;
  healthCmd?: string; healthInterval?: string; healthTimeout?: string; healthRetries?: string; healthStartPeriod?: string; healthStartInterval?: string; healthcheck?: boolean;
  user?: string; workdir?: string; hostname?: string; entrypoint?: string; stopGracePeriod?: string; stopSignal?: string;
  tty?: boolean; init?: boolean; readOnly?: boolean;
  dns?: string[]; dnsSearch?: string[]; dnsOption?: string[]; host?: string[]; group?: string[];
  endpointMode?: string; logDriver?: string; logOpt?: string[];
  detach?: boolean; quiet?: boolean; resolveImage?: boolean; withRegistryAuth?: boolean;
  // update only
  image?: string; args?: string; force?: boolean; rollback?: boolean;
  envAdd?: string[]; envRm?: string[]; labelAdd?: string[]; labelRm?: string[]; containerLabelAdd?: string[]; containerLabelRm?: string[];
  constraintAdd?: string[]; constraintRm?: string[]; placementPrefAdd?: string[]; placementPrefRm?: string[];
  publishAdd?: string[]; publishRm?: string[]; mountAdd?: string[]; mountRm?: string[];
  secretAdd?: string[]; secretRm?: string[]; configAdd?: string[]; configRm?: string[]; networkAdd?: string[]; networkRm?: string[];
  dnsAdd?: string[]; dnsRm?: string[]; dnsSearchAdd?: string[]; dnsSearchRm?: string[]; dnsOptionAdd?: string[]; dnsOptionRm?: string[];
  hostAdd?: string[]; hostRm?: string[]; groupAdd?: string[]; groupRm?: string[];
}

/** Registers the flags; `verb` picks create's lists (--env) or update's pairs (--env-add/--env-rm). */
export function addServiceFlags(cmd: Command, verb: 'create' | 'update'): Command {
  const list = (flag: string, desc: string, short?: string) => {
    if (verb === 'create') cmd.option(`${short ? `-${short}, ` : ''}--${flag} <value>`, desc, collect);
    else {
      cmd.option(`--${flag}-add <value>`, `Add or update ${desc.toLowerCase()}`, collect);
      cmd.option(`--${flag}-rm <value>`, `Remove ${desc.toLowerCase()}`, collect);
    }
  };
  if (verb === 'create') {
    cmd.option('--name <name>', 'Service name')
      .option('--mode <mode>', 'Service mode ("replicated", "global", "replicated-job", "global-job")', 'replicated')
      .option('--env-file <file>', 'Read in a file of environment variables', collect)
      .option('--endpoint-mode <mode>', 'Endpoint mode (vip or dnsrr)', 'vip');
  } else {
    cmd.option('--image <image>', 'Service image tag')
      .option('--args <command>', 'Service command args')
      .option('--force', 'Force update even if no changes require it')
      .option('--rollback', 'Rollback to previous specification')
      .option('--endpoint-mode <mode>', 'Endpoint mode (vip or dnsrr)');
  }
  list('env', 'Environment variables', verb === 'create' ? 'e' : undefined);
  list('label', 'Service labels', verb === 'create' ? 'l' : undefined);
  list('container-label', 'Container labels');
  list('constraint', 'Placement constraints');
  list('placement-pref', 'Placement preferences');
  list('publish', 'Publish a port as a node port', verb === 'create' ? 'p' : undefined);
  list('mount', 'Attach a filesystem mount to the service');
  list('secret', 'Specify secrets to expose to the service');
  list('config', 'Specify configurations to expose to the service');
  list('network', 'Network attachments');
  list('dns', 'Custom DNS servers');
  list('dns-search', 'Custom DNS search domains');
  list('dns-option', 'DNS options');
  list('host', 'Custom host-to-IP mappings ("host:ip")');
  list('group', 'Additional groups for the container process');
  cmd
    .option('--replicas <n>', 'Number of tasks')
    .option('--max-concurrent <n>', 'Number of job tasks to run concurrently (default equal to --replicas)')
    .option('--replicas-max-per-node <n>', 'Maximum number of tasks per node (default 0 = unlimited)')
    .option('--restart-condition <condition>', 'Restart when condition is met ("none", "on-failure", "any")')
    .option('--restart-delay <duration>', 'Delay between restart attempts (ns|us|ms|s|m|h)')
    .option('--restart-max-attempts <n>', 'Maximum number of restarts before giving up')
    .option('--restart-window <duration>', 'Window used to evaluate the restart policy (ns|us|ms|s|m|h)');
  for (const kind of ['update', 'rollback']) {
    cmd.option(`--${kind}-parallelism <n>`, `Maximum number of tasks updated simultaneously (0 to update all at once)`)
      .option(`--${kind}-delay <duration>`, `Delay between ${kind}s (ns|us|ms|s|m|h)`)
      .option(`--${kind}-failure-action <action>`, `Action on ${kind} failure`)
      .option(`--${kind}-monitor <duration>`, `Duration after each task ${kind} to monitor for failure (ns|us|ms|s|m|h)`)
      .option(`--${kind}-order <order>`, `${kind} order ("start-first", "stop-first")`)
      .option(`--${kind}-max-failure-ratio <ratio>`, `Failure rate to tolerate during a ${kind}`);
  }
  cmd
    .option('--limit-cpu <cpus>', 'Limit CPUs')
    .option('--limit-memory <bytes>', 'Limit Memory')
    .option('--limit-pids <n>', 'Limit maximum number of processes')
    .option('--reserve-cpu <cpus>', 'Reserve CPUs')
    .option('--reserve-memory <bytes>', 'Reserve Memory')
    .option('--health-cmd <command>', 'Command to run to check health')
    .option('--health-interval <duration>', 'Time between running the check (ms|s|m|h)')
    .option('--health-timeout <duration>', 'Maximum time to allow one check to run (ms|s|m|h)')
    .option('--health-retries <n>', 'Consecutive failures needed to report unhealthy')
    .option('--health-start-period <duration>', 'Start period for the container to initialize before counting retries towards unstable (ms|s|m|h)')
    .option('--health-start-interval <duration>', 'Time between running the check during the start period (ms|s|m|h)')
    .option('--no-healthcheck', 'Disable any container-specified HEALTHCHECK')
    .option('-u, --user <user>', 'Username or UID (format: <name|uid>[:<group|gid>])')
    .option('-w, --workdir <dir>', 'Working directory inside the container')
    .option('--hostname <name>', 'Container hostname')
    .option('--entrypoint <command>', 'Overwrite the default ENTRYPOINT of the image')
    .option('--stop-grace-period <duration>', 'Time to wait before force killing a container (ns|us|ms|s|m|h)')
    .option('--stop-signal <signal>', 'Signal to stop the container')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('--init', 'Use an init inside each service container to forward signals and reap processes')
    .option('--read-only', "Mount the container's root filesystem as read only")
    .option('--log-driver <driver>', 'Logging driver for service')
    .option('--log-opt <opt>', 'Logging driver options', collect)
    .option('-d, --detach', 'Exit immediately instead of waiting for the service to converge')
    .option('-q, --quiet', 'Suppress progress output')
    .option('--no-resolve-image', 'Do not query the registry to resolve image digest and supported platforms')
    .option('--with-registry-auth', 'Send registry authentication details to swarm agents');
  return cmd;
}

/** The --restart-* flags → RestartPolicy: nil unless one is given, then the others take swarmkit's defaults. */
export function restartPolicy(o: ServiceFlags, base?: RestartPolicy): RestartPolicy | undefined {
  if (o.restartCondition === undefined && o.restartDelay === undefined && o.restartMaxAttempts === undefined && o.restartWindow === undefined) return base;
  const p: RestartPolicy = { ...(base ?? { Condition: 'any', MaxAttempts: 0 }) };
  if (o.restartCondition !== undefined) {
    if (!['none', 'on-failure', 'any'].includes(o.restartCondition)) throw new InvalidFlagError(`invalid RestartCondition: "${o.restartCondition}"`);
    p.Condition = o.restartCondition as RestartPolicy['Condition'];
  }
  if (o.restartDelay !== undefined) p.Delay = durationFlag('restart-delay', o.restartDelay);
  if (o.restartMaxAttempts !== undefined) p.MaxAttempts = uintFlag('restart-max-attempts', o.restartMaxAttempts);
  if (o.restartWindow !== undefined) p.Window = durationFlag('restart-window', o.restartWindow);
  return p;
}

/** --update-* or --rollback-* → UpdateConfig: nil unless one is given (the CLI's defaults fill the rest). */
export function updateConfig(o: ServiceFlags, kind: 'update' | 'rollback', base?: UpdateConfig): UpdateConfig | undefined {
  const get = (suffix: string) => (o as Record<string, unknown>)[`${kind}${suffix}`] as string | undefined;
  const names = ['Parallelism', 'Delay', 'FailureAction', 'Monitor', 'Order', 'MaxFailureRatio'];
  if (names.every((n) => get(n) === undefined)) return base;
  const c: UpdateConfig = { ...(base ?? { Parallelism: 1, Delay: 0, FailureAction: 'pause', MaxFailureRatio: 0, Order: 'stop-first' }) };
  const flag = (n: string) => `${kind}-${n.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}`;
  if (get('Parallelism') !== undefined) c.Parallelism = uintFlag(flag('Parallelism'), get('Parallelism')!);
  if (get('Delay') !== undefined) c.Delay = durationFlag(flag('Delay'), get('Delay')!);
  if (get('Monitor') !== undefined) c.Monitor = durationFlag(flag('Monitor'), get('Monitor')!);
  const action = get('FailureAction');
  if (action !== undefined) {
    const allowed = kind === 'update' ? ['pause', 'continue', 'rollback'] : ['pause', 'continue'];
    if (!allowed.includes(action)) throw new InvalidFlagError(`invalid argument "${action}" for "--${flag('FailureAction')}" flag: value must be one of ${allowed.map((a) => `"${a}"`).join(', ')}`);
    c.FailureAction = action as FailureAction;
  }
  const order = get('Order');
  if (order !== undefined) {
    if (order !== 'start-first' && order !== 'stop-first') throw new InvalidFlagError(`invalid argument "${order}" for "--${flag('Order')}" flag: value must be one of "start-first", "stop-first"`);
    c.Order = order;
  }
  const ratio = get('MaxFailureRatio');
  if (ratio !== undefined) {
    const r = Number(ratio);
    if (ratio.trim() === '' || !Number.isFinite(r)) throw new InvalidFlagError(`invalid argument "${ratio}" for "--${flag('MaxFailureRatio')}" flag: strconv.ParseFloat: parsing "${ratio}": invalid syntax`);
    c.MaxFailureRatio = r;
  }
  return c;
}

/** --limit-* and --reserve-* merged over `base` (create: the CLI always sends both objects). */
export function resources(o: ServiceFlags, base: { Limits?: Resources; Reservations?: Resources } = {}): { Limits: Resources; Reservations: Resources } {
  const limits: Resources = { ...(base.Limits ?? {}) };
  const reservations: Resources = { ...(base.Reservations ?? {}) };
  if (o.limitCpu !== undefined) limits.NanoCPUs = nanoCpus('limit-cpu', o.limitCpu);
  if (o.limitMemory !== undefined) limits.MemoryBytes = memBytes('limit-memory', o.limitMemory);
  if (o.limitPids !== undefined) limits.Pids = uintFlag('limit-pids', o.limitPids);
  if (o.reserveCpu !== undefined) reservations.NanoCPUs = nanoCpus('reserve-cpu', o.reserveCpu);
  if (o.reserveMemory !== undefined) reservations.MemoryBytes = memBytes('reserve-memory', o.reserveMemory);
  return { Limits: limits, Reservations: reservations };
}
