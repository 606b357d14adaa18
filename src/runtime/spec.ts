// Builds the OCI runtime spec (a bundle's config.json) for a container, with Docker's defaults.
import type { RuntimeMount, RuntimeSpec } from '../wire/oci';

export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

export const MASKED_PATHS = [
  '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap',
];

export const READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Docker's default device cgroup rules: deny all, then the usual character devices. */
const DEFAULT_DEVICE_RULES = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
  { allow: true, type: 'c', major: 136, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: true, type: 'c', major: 10, minor: 200, access: 'rwm' },
];

export interface SpecInput {
  /** Every capability of the running kernel: what a privileged container gets. */
  hostCapabilities: readonly string[];
  id: string;
  rootfs: string;
  readonlyRootfs: boolean;
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids: number[] };
  hostname: string;
  terminal: boolean;
  /** 'host' shares the host's network namespace; otherwise a new one (loopback only until bridge networking). */
  network: 'host' | 'private' | { joinPath: string };
  /** Files Berth writes per container and binds over the image's. */
  etcFiles: { hosts: string; hostname: string; resolvConf: string };
  extraMounts: RuntimeMount[];
  cgroupsPath: string;
  shmSize: number;
  privileged: boolean;
  capabilities: string[];
  noNewPrivileges: boolean;
  rlimits: { type: string; hard: number; soft: number }[];
  sysctl: Record<string, string>;
  resources: NonNullable<NonNullable<RuntimeSpec['linux']>['resources']>;
  annotations: Record<string, string>;
  /** linux.seccomp; none for --privileged or seccomp=unconfined. */
  seccomp?: unknown;
  /** Device nodes created in the container (--device; the host's for --privileged) and their cgroup rules. */
  devices?: NonNullable<NonNullable<RuntimeSpec['linux']>['devices']>;
  deviceRules?: NonNullable<NonNullable<NonNullable<RuntimeSpec['linux']>['resources']>['devices']>;
}

export function buildSpec(i: SpecInput): RuntimeSpec {
  const mounts: RuntimeMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', i.privileged ? 'rw' : 'ro'] },
    { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', i.privileged ? 'rw' : 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${i.shmSize}`] },
    { destination: '/etc/resolv.conf', type: 'bind', source: i.etcFiles.resolvConf, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hostname', type: 'bind', source: i.etcFiles.hostname, options: ['rbind', 'rprivate'] },
    { destination: '/etc/hosts', type: 'bind', source: i.etcFiles.hosts, options: ['rbind', 'rprivate'] },
    ...i.extraMounts,
  ];
  const namespaces: NonNullable<NonNullable<RuntimeSpec['linux']>['namespaces']> = [
    { type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' },
  ];
  if (i.network === 'private') namespaces.push({ type: 'network' });
  else if (typeof i.network === 'object') namespaces.push({ type: 'network', path: i.network.joinPath });
  const caps = i.privileged ? [...i.hostCapabilities] : i.capabilities;
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: i.terminal,
      user: { uid: i.user.uid, gid: i.user.gid, ...(i.user.additionalGids.length ? { additionalGids: i.user.additionalGids } : {}) },
      args: i.args,
      env: i.env,
      cwd: i.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      ...(i.rlimits.length ? { rlimits: i.rlimits } : {}),
      noNewPrivileges: i.noNewPrivileges,
    },
    root: { path: i.rootfs, readonly: i.readonlyRootfs },
    hostname: i.hostname,
    mounts,
    annotations: i.annotations,
    linux: {
      namespaces,
      cgroupsPath: i.cgroupsPath,
      resources: { ...i.resources, devices: i.privileged ? [{ allow: true, access: 'rwm' }] : [...DEFAULT_DEVICE_RULES, ...(i.deviceRules ?? [])] },
      ...(i.devices?.length ? { devices: i.devices } : {}),
      ...(i.seccomp ? { seccomp: i.seccomp } : {}),
      ...(Object.keys(i.sysctl).length ? { sysctl: i.sysctl } : {}),
      ...(i.privileged ? {} : { maskedPaths: MASKED_PATHS, readonlyPaths: READONLY_PATHS }),
    },
  };
}

export const CAPABILITY_NAMES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW',
  'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD',
  'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/**
 * Applies --cap-add/--cap-drop (names with or without CAP_, "ALL") to Docker's default set; "ALL" means every
 * capability of `hostCapabilities` (the running kernel's, read once at start-up from /proc/sys/kernel/cap_last_cap).
 */
export function effectiveCapabilities(add: string[], drop: string[], hostCapabilities: readonly string[]): string[] {
  const norm = (c: string) => { const u = c.toUpperCase(); return u === 'ALL' ? 'ALL' : u.startsWith('CAP_') ? u : `CAP_${u}`; };
  const adds = add.map(norm);
  const drops = drop.map(norm);
  let caps = adds.includes('ALL') ? [...hostCapabilities] : [...DEFAULT_CAPABILITIES];
  for (const c of adds) if (c !== 'ALL' && !caps.includes(c)) caps.push(c);
  if (drops.includes('ALL')) caps = adds.filter((c) => c !== 'ALL');
  else caps = caps.filter((c) => !drops.includes(c));
  return caps;
}
