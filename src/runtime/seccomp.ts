// Seccomp: Docker's default profile semantics as our own data, and the resolution of Docker-format profiles
// (the default one or a user's `--security-opt seccomp=<json>`) into the OCI spec's linux.seccomp section.
import { InvalidParameterError } from '../errdefs';

/** A profile in Docker's format (what `--security-opt seccomp=profile.json` holds). */
export interface DockerSeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] }[];
  syscalls?: DockerSyscallRule[];
  listenerPath?: string;
  flags?: string[];
}

export interface DockerSyscallRule {
  names?: string[];
  /** Old single-name form. */
  name?: string;
  action: string;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  includes?: RuleFilter;
  excludes?: RuleFilter;
}

interface RuleFilter { caps?: string[]; arches?: string[]; minKernel?: string }

export interface SeccompArg { index: number; value: number; valueTwo?: number; op: string }

/** The OCI runtime spec's linux.seccomp. */
export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  syscalls: { names: string[]; action: string; errnoRet?: number; args?: SeccompArg[] }[];
}

/** What a profile's includes/excludes are evaluated against. */
export interface SeccompContext {
  /** The container's capabilities, "CAP_*". */
  capabilities: string[];
  /** Go's GOARCH names, as Docker profiles use them: amd64, arm64, x86, s390x... */
  arch: string;
  /** The running kernel's release, e.g. "6.1.0"; minKernel rules compare against it. */
  kernel: string;
}

const EPERM = 1;
const ENOSYS = 38;

// Namespace flags of clone(2): without CAP_SYS_ADMIN a container may not make new namespaces, above all a user
// namespace, where it would hold every capability again.
const CLONE_NEWNS = 0x00020000;
const CLONE_NEWCGROUP = 0x02000000;
const CLONE_NEWUTS = 0x04000000;
const CLONE_NEWIPC = 0x08000000;
const CLONE_NEWUSER = 0x10000000;
const CLONE_NEWPID = 0x20000000;
const CLONE_NEWNET = 0x40000000;
export const CLONE_NAMESPACE_FLAGS = CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET;

const AF_ALG = 38;
const AF_NFC = 39;
const AF_VSOCK = 40;
// personality(2) values a program may legitimately ask for: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32,
// and 0xffffffff (the query). Anything else could turn off ASLR (ADDR_NO_RANDOMIZE) and the like.
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

/**
 * System calls a container may make whatever its capabilities: files, memory, processes, signals, time reading,
 * sockets, IPC, scheduling. Missing on purpose: namespaces and mounts, kernel modules, keyrings (add_key, keyctl,
 * request_key), kexec, reboot, swapon/off, clock setting, bpf/perf, userfaultfd, the obsolete and the
 * debugging calls — each either needs a capability below or is refused to everyone.
 */
const ALWAYS_ALLOWED = `
  accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod chown chown32 clock_adjtime
  clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep clock_nanosleep_time64
  close close_range connect copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old
  epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat
  faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchmodat2 fchown fchown32 fchownat
  fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs
  fstatfs64 fsync ftruncate ftruncate64 futex futex_requeue futex_time64 futex_wait futex_waitv futex_wake futimesat
  getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer
  getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid getresgid32 getresuid getresuid32 getrlimit
  get_robust_list getrusage getsid getsockname getsockopt get_thread_area gettid gettimeofday getuid getuid32 getxattr
  getxattrat inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents
  io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit ipc kill landlock_add_rule
  landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat listen listmount listxattr
  listxattrat llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise map_shadow_stack membarrier
  memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr
  mq_notify mq_open mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap mseal
  msgctl msgget msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep newfstatat _newselect open
  openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll
  ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev
  pwritev2 read readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages
  removexattr removexattrat rename renameat renameat2 restart_syscall riscv_hwprobe rmdir rseq rt_sigaction
  rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64
  rt_tgsigqueueinfo sched_getaffinity sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min
  sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam
  sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop semtimedop_time64 send sendfile
  sendfile64 sendmmsg sendmsg sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32
  setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32
  setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid setuid32 setxattr setxattrat
  shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn socketcall socketpair splice
  stat stat64 statfs statfs64 statmount statx symlink symlinkat sync sync_file_range syncfs sysinfo tee tgkill time
  timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create
  timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask
  uname unlink unlinkat uretprobe utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid waitpid write
  writev`.trim().split(/\s+/);

/** System calls a capability unlocks (the kernel checks the capability too; seccomp keeps the attack surface shut). */
const BY_CAPABILITY: Record<string, string[]> = {
  CAP_DAC_READ_SEARCH: ['open_by_handle_at'],
  CAP_SYS_ADMIN: [
    'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'lookup_dcookie',
    'lsm_get_self_attr', 'lsm_list_modules', 'lsm_set_self_attr', 'mount', 'mount_setattr', 'move_mount', 'open_tree',
    'perf_event_open', 'quotactl', 'quotactl_fd', 'setdomainname', 'sethostname', 'setns', 'syslog', 'umount', 'umount2',
    'unshare',
  ],
  CAP_SYS_BOOT: ['reboot'],
  CAP_SYS_CHROOT: ['chroot'],
  CAP_SYS_MODULE: ['delete_module', 'init_module', 'finit_module'],
  CAP_SYS_PACCT: ['acct'],
  CAP_SYS_PTRACE: ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace'],
  CAP_SYS_RAWIO: ['iopl', 'ioperm'],
  CAP_SYS_TIME: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64'],
  CAP_SYS_TTY_CONFIG: ['vhangup'],
  CAP_SYS_NICE: ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node'],
  CAP_SYSLOG: ['syslog'],
  CAP_BPF: ['bpf'],
  CAP_PERFMON: ['perf_event_open'],
};

/** Architecture-specific calls, by Go arch names. */
const BY_ARCH: [string[], string[]][] = [
  [['ppc64le'], ['sync_file_range2', 'swapcontext']],
  [['arm', 'arm64'], ['arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint', 'cacheflush', 'set_tls']],
  [['amd64', 'x32'], ['arch_prctl']],
  [['amd64', 'x32', 'x86'], ['modify_ldt']],
  [['s390', 's390x'], ['s390_pci_mmio_read', 's390_pci_mmio_write', 's390_runtime_instr']],
  [['riscv64'], ['riscv_flush_icache']],
];

/** The native architecture and the compat ones its kernel also runs, in libseccomp's names. */
const ARCH_MAP: DockerSeccompProfile['archMap'] = [
  { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
  { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
  { architecture: 'SCMP_ARCH_MIPS64', subArchitectures: ['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64N32'] },
  { architecture: 'SCMP_ARCH_MIPS64N32', subArchitectures: ['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64'] },
  { architecture: 'SCMP_ARCH_MIPSEL64', subArchitectures: ['SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64N32'] },
  { architecture: 'SCMP_ARCH_MIPSEL64N32', subArchitectures: ['SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64'] },
  { architecture: 'SCMP_ARCH_S390X', subArchitectures: ['SCMP_ARCH_S390'] },
  { architecture: 'SCMP_ARCH_RISCV64', subArchitectures: [] },
  { architecture: 'SCMP_ARCH_PPC64LE', subArchitectures: [] },
];

/** Docker's default profile, as a Docker-format profile built from the tables above. */
export function defaultDockerProfile(): DockerSeccompProfile {
  const allow = (names: string[], extra: Partial<DockerSyscallRule> = {}): DockerSyscallRule => ({ names, action: 'SCMP_ACT_ALLOW', ...extra });
  const rules: DockerSyscallRule[] = [
    allow(ALWAYS_ALLOWED),
    // Kernels from 4.8 check seccomp after ptrace, so ptrace can no longer be used to bypass the filter.
    allow(['process_vm_readv', 'process_vm_writev', 'ptrace'], { includes: { minKernel: '4.8' } }),
    // Every socket family but AF_ALG (the kernel's crypto API) and AF_VSOCK (which reaches the hypervisor's host).
    allow(['socket'], { args: [{ index: 0, value: AF_ALG, op: 'SCMP_CMP_LT' }] }),
    allow(['socket'], { args: [{ index: 0, value: AF_NFC, op: 'SCMP_CMP_EQ' }] }),
    allow(['socket'], { args: [{ index: 0, value: AF_VSOCK, op: 'SCMP_CMP_GT' }] }),
    ...PERSONALITIES.map((p) => allow(['personality'], { args: [{ index: 0, value: p, op: 'SCMP_CMP_EQ' }] })),
    ...BY_ARCH.map(([arches, names]) => allow(names, { includes: { arches } })),
    ...Object.entries(BY_CAPABILITY).map(([cap, names]) => allow(names, { includes: { caps: [cap] } })),
    // Without CAP_SYS_ADMIN: clone without namespace flags (s390 swaps clone's first two arguments), and clone3
    // answers ENOSYS, whose flags sit in a struct seccomp cannot read, so that libc falls back to clone.
    allow(['clone'], {
      args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
      excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] },
    }),
    allow(['clone'], {
      args: [{ index: 1, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
      includes: { arches: ['s390', 's390x'] }, excludes: { caps: ['CAP_SYS_ADMIN'] },
    }),
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS, excludes: { caps: ['CAP_SYS_ADMIN'] } },
  ];
  return { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: EPERM, archMap: ARCH_MAP, syscalls: rules };
}

/** The container's seccomp section under Docker's default profile. */
export function defaultSeccomp(ctx: SeccompContext): OciSeccomp {
  return resolveProfile(defaultDockerProfile(), ctx);
}

/** Parses a user's profile (`seccomp=<json>` as the docker CLI sends it, the file's content) and resolves it. */
export function seccompFromJson(text: string, ctx: SeccompContext): OciSeccomp {
  let p: DockerSeccompProfile;
  try {
    p = JSON.parse(text) as DockerSeccompProfile;
  } catch (e) {
    throw new InvalidParameterError(`Decoding seccomp profile failed: ${(e as Error).message}`);
  }
  if (!p || typeof p !== 'object' || Array.isArray(p)) throw new InvalidParameterError('Decoding seccomp profile failed: not a JSON object');
  if (p.architectures?.length && p.archMap?.length) {
    throw new InvalidParameterError("'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  return resolveProfile(p, ctx);
}

/** Evaluates a Docker-format profile's includes/excludes for one container, as moby's setupSeccomp does. */
export function resolveProfile(p: DockerSeccompProfile, ctx: SeccompContext): OciSeccomp {
  if (typeof p.defaultAction !== 'string' || !p.defaultAction) throw new InvalidParameterError('Decoding seccomp profile failed: no defaultAction');
  const native = GO_TO_SCMP[ctx.arch];
  let architectures = p.architectures ?? [];
  if (p.archMap?.length && native) {
    const entry = p.archMap.find((a) => a.architecture === native);
    if (entry) architectures = [entry.architecture, ...(entry.subArchitectures ?? [])];
  }
  const syscalls: OciSeccomp['syscalls'] = [];
  for (const rule of p.syscalls ?? []) {
    if (!applies(rule, ctx)) continue;
    const names = rule.names?.length ? rule.names : rule.name ? [rule.name] : [];
    if (rule.names?.length && rule.name) throw new InvalidParameterError("use either 'name' or 'names' in a seccomp rule, not both");
    if (!names.length) continue;
    syscalls.push({
      names: [...names],
      action: rule.action,
      ...(rule.errnoRet !== undefined ? { errnoRet: rule.errnoRet } : {}),
      ...(rule.args?.length ? { args: rule.args.map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op })) } : {}),
    });
  }
  return {
    defaultAction: p.defaultAction,
    ...(p.defaultErrnoRet !== undefined ? { defaultErrnoRet: p.defaultErrnoRet } : {}),
    ...(architectures.length ? { architectures } : {}),
    ...(p.flags?.length ? { flags: p.flags } : {}),
    ...(p.listenerPath ? { listenerPath: p.listenerPath } : {}),
    syscalls,
  };
}

function applies(rule: DockerSyscallRule, ctx: SeccompContext): boolean {
  const inc = rule.includes ?? {};
  const exc = rule.excludes ?? {};
  if (exc.arches?.includes(ctx.arch)) return false;
  if (exc.caps?.some((c) => ctx.capabilities.includes(c))) return false;
  if (exc.minKernel && kernelAtLeast(ctx.kernel, exc.minKernel)) return false;
  if (inc.arches?.length && !inc.arches.includes(ctx.arch)) return false;
  if (inc.caps?.length && !inc.caps.every((c) => ctx.capabilities.includes(c))) return false;
  if (inc.minKernel && !kernelAtLeast(ctx.kernel, inc.minKernel)) return false;
  return true;
}

/** "6.1.0-18-amd64" >= "4.8"? */
export function kernelAtLeast(release: string, min: string): boolean {
  const parse = (s: string) => (/^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(s) ?? []).slice(1, 4).map((x) => Number(x ?? 0));
  const a = parse(release);
  const b = parse(min);
  if (!a.length || !b.length) throw new InvalidParameterError(`invalid kernel version: ${min}`);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) > (b[i] ?? 0);
  return true;
}

/** Node's process.arch → Go's GOARCH as profiles name it. */
export function goArch(nodeArch: string = process.arch): string {
  return ({ x64: 'amd64', ia32: 'x86', arm64: 'arm64', arm: 'arm', s390x: 's390x', ppc64: 'ppc64le', riscv64: 'riscv64', mips64el: 'mips64le' } as Record<string, string>)[nodeArch] ?? nodeArch;
}

const GO_TO_SCMP: Record<string, string> = {
  amd64: 'SCMP_ARCH_X86_64', arm64: 'SCMP_ARCH_AARCH64', s390x: 'SCMP_ARCH_S390X', ppc64le: 'SCMP_ARCH_PPC64LE',
  riscv64: 'SCMP_ARCH_RISCV64', mips64: 'SCMP_ARCH_MIPS64', mips64le: 'SCMP_ARCH_MIPSEL64',
};
