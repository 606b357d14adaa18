// GET /info: the daemon's figures in Docker's SystemInfo shape, from the services and the host's facts.
import type { HostFacts } from '../host/system-facts';
import { hostArchitecture } from '../image/platform';
import { API_VERSION, BERTH_VERSION, COMPAT_DOCKER_VERSION } from '../wire/docker';
import type { ContainerRecord } from './container-record';
import { DEFAULT_LOG_DRIVER, LOG_DRIVERS } from './log-drivers';

export interface SystemInfoSources {
  containers: { all(): ContainerRecord[] };
  /** Every image, intermediate build steps too, as moby's CountImages (docker-py's test_images compares them). */
  imageCount(): Promise<number>;
  host: HostFacts;
  dataRoot: string;
  cgroupVersion: '1' | '2';
  experimental: boolean;
  insecureRegistries: string[];
  /** Runtime name → binary. */
  runtimes: Record<string, string>;
  defaultRuntime: string;
}

export async function systemInfo(s: SystemInfoSources): Promise<Record<string, unknown>> {
  const all = s.containers.all();
  const running = all.filter((c) => c.state.status === 'running').length;
  const paused = all.filter((c) => c.state.status === 'paused').length;
  const cidrs = s.insecureRegistries.filter((r) => r.includes('/'));
  const hosts = s.insecureRegistries.filter((r) => !r.includes('/'));
  return {
    ID: await s.host.daemonId(),
    Containers: all.length,
    ContainersRunning: running,
    ContainersPaused: paused,
    ContainersStopped: all.length - running - paused,
    Images: await s.imageCount(),
    Driver: 'overlay2',
    DriverStatus: [['Backing Filesystem', 'extfs'], ['Supports d_type', 'true']],
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: null, Log: LOG_DRIVERS },
    MemoryLimit: true, SwapLimit: true, CpuCfsPeriod: true, CpuCfsQuota: true, CPUShares: true, CPUSet: true, PidsLimit: true,
    IPv4Forwarding: true, Debug: false, NFd: await s.host.openFds(), OomKillDisable: false, NGoroutines: 0,
    SystemTime: new Date().toISOString(), LoggingDriver: DEFAULT_LOG_DRIVER,
    CgroupDriver: 'cgroupfs', CgroupVersion: s.cgroupVersion,
    NEventsListener: 0, KernelVersion: s.host.kernelVersion(), OperatingSystem: await s.host.operatingSystem(), OSVersion: '', OSType: 'linux',
    Architecture: s.host.machine(), IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: {
      InsecureRegistryCIDRs: ['127.0.0.0/8', ...cidrs],
      IndexConfigs: Object.fromEntries(hosts.map((r) => [r, { Name: r, Mirrors: [], Secure: false, Official: false }])),
      Mirrors: [],
    },
    NCPU: s.host.cpus(), MemTotal: s.host.memTotal(), DockerRootDir: s.dataRoot,
    HttpProxy: process.env.HTTP_PROXY ?? '', HttpsProxy: process.env.HTTPS_PROXY ?? '', NoProxy: process.env.NO_PROXY ?? '',
    Name: s.host.hostname(), Labels: [], ExperimentalBuild: s.experimental, ServerVersion: COMPAT_DOCKER_VERSION,
    Runtimes: Object.fromEntries(Object.entries(s.runtimes).map(([n, p]) => [n, { path: p }])),
    DefaultRuntime: s.defaultRuntime,
    Swarm: { LocalNodeState: 'inactive', ControlAvailable: false, NodeID: '', NodeAddr: '', Error: '', RemoteManagers: null },
    LiveRestoreEnabled: true, Isolation: '', InitBinary: '', ContainerdCommit: { ID: '' }, RuncCommit: { ID: '' }, InitCommit: { ID: '' },
    SecurityOptions: ['name=seccomp,profile=builtin'], Warnings: null,
    ProductLicense: `Berth ${BERTH_VERSION} (Docker Engine API ${API_VERSION}, ${hostArchitecture()})`,
  };
}
