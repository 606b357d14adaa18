// Wires Berth's services together; nothing else constructs them.
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { Server } from 'node:http';
import { createApiServer } from './api/server';
import { Router } from './api/router';
import { registerSystemRoutes } from './api/routes/system';
import { systemInfo } from './engine/system-info';
import { linuxHostFacts } from './host/system-facts';
import { registerContainerRoutes } from './api/routes/containers';
import { registerContainerOpsRoutes } from './api/routes/container-ops';
import { registerCheckpointRoutes } from './api/routes/checkpoints';
import { CheckpointService } from './engine/checkpoints';
import { ContainerArchive } from './engine/archive';
import { ContainerStats } from './engine/container-stats';
import { ContainerStatsFeed } from './engine/container-stats-feed';
import { ContainerUpdate } from './engine/container-update';
import { RestartManager } from './engine/restart-manager';
import { HealthMonitor } from './engine/health';
import { HostSpecialFiles } from './host/special-files';
import { registerExecRoutes } from './api/routes/exec';
import { registerImageRoutes } from './api/routes/images';
import { registerDistributionRoutes, registryPull } from './api/routes/distribution';
import { DistributionService } from './engine/distribution';
import { registerBuildRoutes } from './api/routes/build';
import { BuildService } from './build/service';
import { containerEngineOf } from './engine/build-containers';
import { baseImageFetcher } from './build/base-image';
import { DebianBootstrap, bootstrapSettings } from './image/bootstrap';
import { registerBootstrapRoutes } from './api/routes/bootstrap';
import { registerVolumeRoutes } from './api/routes/volumes';
import { registerNetworkRoutes } from './api/routes/networks';
import { registerSwarmRoutes } from './api/routes/swarm';
import { registerNodeRoutes } from './api/routes/nodes';
import { registerServiceRoutes } from './api/routes/services';
import { registerTaskRoutes } from './api/routes/tasks';
import { registerSecretRoutes } from './api/routes/secrets';
import { registerConfigRoutes } from './api/routes/configs';
import { NetworkService, type ContainerDirectory } from './engine/networks';
import { NetworkEndpoints } from './engine/network-endpoints';
import { NetworkDns } from './engine/network-dns';
import { SandboxTable } from './engine/network-sandboxes';
import type { AddressPool, BridgeIp } from './network/address-pools';
import type { Subnet4 } from './network/addresses';
import { AddressAllocator } from './network/ipam';
import { NetworkStore } from './network/network-store';
import { DEFAULT_AARDVARK } from './network/netavark';
import { BerthBridgeDriver, bridgeNetworkInfo } from './network/bridge/driver';
import { errorMessage } from './errdefs';
import { IprouteBridgeLinks } from './network/bridge/links-iproute';
import { AardvarkBridgeDns } from './network/bridge/dns';
import { IptablesBridgeFirewall } from './network/bridge/iptables-firewall';
import { LinuxNetns } from './network/netns';
import { SocketHostPorts } from './network/ports';
import { probeHostInterfaces } from './network/host-interfaces';
import { probeHostRoutes } from './network/host-routes';
import { VolumeService } from './engine/volumes';
import { EventBus } from './engine/events';
import { ContainerService, isRunning } from './engine/containers';
import { LogShippingService } from './engine/log-shipping';
import { realLogHostProbe } from './engine/log-destinations';
import type { LogConfig } from './engine/log-drivers';
import { dialLogEndpoint } from './network/log-links';
import { LocalImages } from './image/local-images';
import { hostArchitecture } from './image/platform';
import { ImageQueries } from './engine/image-queries';
import { ImageTags } from './engine/image-tag';
import { ImageRemoval } from './engine/image-removal';
import { ImageArchives } from './engine/image-archives';
import { ImageCommit } from './engine/image-commit';
import { OciRuntime } from './runtime/oci-runtime';
import { RuntimeBinaryViews } from './runtime/runtime-binary-view';
import { connectStdin } from './runtime/stdin';
import { startExecProcess } from './runtime/exec-process';
import { startDirectExec } from './runtime/exec-direct';
import { FifoStock } from './runtime/fifo-stock';
import { resizeConsole } from './runtime/console';
import { ExecService } from './engine/exec';
import { CAPABILITY_NAMES } from './runtime/spec';
import { LinuxMounter } from './host/mount';
import { prepareHost } from './host/prepare';
import { createCgroupDriver } from './host/cgroups';
import { createCgroupLockWarmer } from './host/cgroup-lock-warmer';
import { readHostResources } from './host/resources';
import { BERTH_VERSION, COMPAT_DOCKER_VERSION } from './wire/docker';
import { EtcdOverlayAllocator } from './cluster/overlay/allocator-etcd';
import { AardvarkOverlayDns } from './cluster/overlay/overlay-dns-aardvark';
import { IprouteOverlayHost } from './network/overlay/host-overlay-ip';
import { daemonOverlayTag } from './network/overlay/host-overlay';
import { IptablesMeshRules } from './network/overlay/mesh-rules';
import { meshChains } from './network/overlay/mesh';
import { IpXfrmTunnels } from './network/overlay/xfrm-ip';
import { Cluster } from './cluster/cluster';
import { OpensslSigner } from './cluster/ca/openssl';
import { traceFromEnv } from './util/phase-trace';
import { clusterRoles } from './cluster/node/roles';
import { EngineTaskRuntime } from './cluster/agent/task-runtime-engine';
import { startControlServer } from './cluster/control/server';
import { joinThrough, peerImage, peerTaskLogs, promoteThrough } from './cluster/control/client';
import type { MetricsAddress } from './metrics/address';
import { EngineMetrics } from './metrics/engine-metrics';
import { registerContainerMetrics } from './metrics/container-metrics';
import { startMetricsServer, type MetricsServer } from './metrics/server';

export interface DaemonConfig {
  dataRoot: string;
  runRoot: string;
  socket: string;
  defaultRuntime: string;
  runtimes: Record<string, string>;
  conmon: string;
  /** Default size cap of each container log (bytes; 0 = none). */
  logSizeMax: number;
  /** daemon.json's log-driver and log-opts (checked at start-up as a container's would be). */
  logDefaults?: LogConfig;
  insecureRegistries: string[];
  /** The signature policy (containers-policy.json) every pull is checked against (--signature-policy, daemon.json "signature-policy"). */
  signaturePolicy: string;
  /** The default bridge's interface name (--bridge, daemon.json "bridge"); unique per daemon on one host. */
  bridge: string;
  /** Where network subnets come from (--default-address-pool, daemon.json "default-address-pools"). */
  addressPools?: AddressPool[];
  /** The default bridge's address and subnet (--bip, daemon.json "bip"). */
  bridgeIp?: BridgeIp;
  /** The default bridge's container addresses (--fixed-cidr, daemon.json "fixed-cidr"). */
  fixedCidr?: Subnet4;
  /** The criu binary runc checkpoints and restores with (scripts/criu.sh installs it). */
  criu: string;
  /** Reported as Docker's experimental mode (daemon.json "experimental"); the docker CLI shows `checkpoint` only then. */
  experimental: boolean;
  /** Swarm mode's ports on the advertise address: the control endpoint (join) and this node's etcd member. */
  swarmPorts: { control: number; etcdClient: number; etcdPeer: number };
  /** Where GET /metrics is served (--metrics-addr, daemon.json "metrics-addr"); none when absent. */
  metricsAddr?: MetricsAddress;
}

export const DEFAULT_CONFIG: DaemonConfig = {
  dataRoot: '/var/lib/berth',
  runRoot: '/run/berth',
  socket: '/run/berth/berth.sock',
  defaultRuntime: 'crun',
  runtimes: { crun: '/usr/bin/crun', runc: '/usr/sbin/runc' },
  conmon: '/usr/bin/conmon',
  logSizeMax: 20 * 1024 * 1024,
  insecureRegistries: [],
  signaturePolicy: '/etc/berth/policy.json',
  bridge: 'berth0',
  criu: '/usr/local/lib/berth/criu/bin/criu',
  experimental: true,
  swarmPorts: { control: 2377, etcdClient: 2379, etcdPeer: 2380 },
};

export interface Daemon {
  server: Server;
  close(): Promise<void>;
}

export interface Logger { info(msg: string): void; error(msg: string): void }

export const stderrLogger: Logger = {
  info: (m) => process.stderr.write(`${new Date().toISOString()} info ${m}\n`),
  error: (m) => process.stderr.write(`${new Date().toISOString()} error ${m}\n`),
};

export async function startDaemon(cfg: DaemonConfig, log: Logger = stderrLogger): Promise<Daemon> {
  const mounter = new LinuxMounter();
  const report = await prepareHost({ dataRoot: cfg.dataRoot, runRoot: cfg.runRoot, mounter });
  for (const a of report.actions) log.info(`host: ${a}`);
  const lastCap = Number(await fsp.readFile('/proc/sys/kernel/cap_last_cap', 'utf8').catch(() => '40'));
  const hostResources = await readHostResources(CAPABILITY_NAMES.slice(0, lastCap + 1));
  // --privileged gets every capability berthd itself may pass on: the kernel's, less what its bounding set lacks.

  const events = new EventBus();
  // Without metrics-addr nothing is counted: no registry, no hooks.
  const metrics = cfg.metricsAddr ? new EngineMetrics(() => containers.all().map((c) => c.state.status)) : undefined;
  if (metrics) events.subscribe(metrics.observeEvent);
  // Who uses an image (rmi's conflicts, the release of retained layers) is the container service's answer once it has
  // loaded its containers further down; until then there is no answer, and nothing retained is released.
  let containersLoaded = false;
  const images = new LocalImages({
    root: cfg.dataRoot,
    usage: (imageId) => (containersLoaded ? containers.usersOfImage(imageId).map((c) => ({ id: c.id, running: isRunning(c.state.status) })) : undefined),
  });
  await images.init();
  const imageQueries = new ImageQueries(images);
  const imageTags = new ImageTags(images, events);
  const imageRemoval = new ImageRemoval(images, events);
  const imageArchives = new ImageArchives(images, events);
  const imageCommit = new ImageCommit(images, events);
  // BERTH_TRACE=1: each container's, exec's and pull's phase timings in the log (make bench prints their medians).
  const trace = traceFromEnv(process.env, log);
  const distribution = new DistributionService({
    images, events, imageRoot: path.join(cfg.dataRoot, 'image'), insecureRegistries: cfg.insecureRegistries, certsDir: '/etc/berth/certs.d', trace,
    meter: metrics,
    signaturePolicy: cfg.signaturePolicy,
  });
  // A malformed policy is said at once; berthd still starts, and every pull is refused with the same words until it is fixed.
  try {
    const policy = distribution.trust.load();
    log.info(`signature policy: ${policy ? cfg.signaturePolicy : `none (${cfg.signaturePolicy} absent): every image accepted`}`);
  } catch (err) {
    log.error(`${(err as Error).message}; every pull is refused until the file is fixed`);
  }
  const cgroups = await createCgroupDriver();
  const cgroupLockWarmer = await createCgroupLockWarmer({ env: process.env, log: (msg) => log.info(msg) });
  if (cgroupLockWarmer) log.info('cgroups: the migration lock is kept ready around starts and execs (BERTH_CGROUP_WARM=0 turns it off)');
  const runtimes: Record<string, string> = {};
  for (const [name, bin] of Object.entries(cfg.runtimes)) if (fs.existsSync(bin)) runtimes[name] = bin;
  // Each runtime runs from a read-only view of its binary, which spares it a copy and re-exec of itself per call.
  const runtimeViews = new RuntimeBinaryViews(path.join(cfg.runRoot, 'runtime-bin'), mounter);
  const runtimeBinaries = { runtimes: await runtimeViews.prepare(runtimes, log), conmon: cfg.conmon, stateRoot: path.join(cfg.runRoot, 'runtime'), criu: cfg.criu };
  const runtime = new OciRuntime(runtimeBinaries);
  const specialFiles = new HostSpecialFiles();
  const volumes = new VolumeService({ root: cfg.dataRoot, mounter, events, special: specialFiles, log });
  await volumes.init();
  // The network side looks containers up by name, and the container service starts their endpoints: the directory
  // reaches the container service made below (nothing asks it before that exists).
  const containerDirectory: ContainerDirectory = {
    find: (ref) => containers.find(ref), saveRecord: (c) => containers.saveRecord(c),
  };
  const networkStore = new NetworkStore(path.join(cfg.dataRoot, 'networks'));
  const sandboxes = new SandboxTable(networkStore);
  const addresses = new AddressAllocator();
  // aardvark-dns's config dir (its per-network files), per daemon, on the exec root's tmpfs; still named after
  // netavark, whose layout it keeps, so a berthd upgraded in place finds the running aardvark-dns and its files.
  const netavarkConfigDir = path.join(cfg.runRoot, 'netavark');
  // One manager of the containers' namespaces: the endpoints own them, the bridge's links make fresh ones held.
  const netns = new LinuxNetns(path.join(cfg.runRoot, 'netns'));
  const bridgeDriver = new BerthBridgeDriver({
    links: new IprouteBridgeLinks(netns), firewall: new IptablesBridgeFirewall(), dns: new AardvarkBridgeDns(netavarkConfigDir, DEFAULT_AARDVARK), log,
  });
  const networks = new NetworkService({
    store: networkStore, sandboxes, addresses, containers: containerDirectory, routes: probeHostRoutes, events, bridgeName: cfg.bridge, log,
    driver: bridgeDriver,
    ...(cfg.addressPools ? { pools: cfg.addressPools } : {}),
    ...(cfg.bridgeIp ? { bridgeIp: cfg.bridgeIp } : {}),
    ...(cfg.fixedCidr ? { fixedCidr: cfg.fixedCidr } : {}),
  });
  const networkDns = new NetworkDns({ networks, sandboxes, containers: containerDirectory, driver: bridgeDriver, log });
  const endpoints = new NetworkEndpoints({
    networks, store: networkStore, sandboxes, addresses, dns: networkDns, containers: containerDirectory, driver: bridgeDriver,
    netns, ports: new SocketHostPorts(), routes: probeHostRoutes, events, log,
  });
  await networks.init();
  await endpoints.init();
  // The rules of bridges that are neither a network of this daemon nor under one of its sandboxes (an overlay's
  // bo- bridge with containers still on it) go: removed while berthd was down, or left by a crash.
  await bridgeDriver.reconcile([
    ...networks.all().filter((n) => n.driver === 'bridge').map(bridgeNetworkInfo),
    ...sandboxes.all().flatMap((s) => s.attachments.flatMap((a) => Object.values(a.opts.network_info))),
  ]).catch((e) => log.error(`network: reconciling the bridges' rules: ${errorMessage(e)}`));
  const containers = new ContainerService({
    ...(cgroupLockWarmer ? { cgroupLockWarmer } : {}),
    root: cfg.dataRoot,
    runRoot: cfg.runRoot,
    images: {
      resolve: (ref) => images.resolve(ref),
      lowerDirs: (image) => images.lowerDirs(image),
      commit: (o) => imageCommit.commit(o),
      changes: (upperDir, image) => imageCommit.changes(upperDir, image),
      exportRootfs: (dir, dev) => imageArchives.exportRootfs(dir, dev),
    },
    runtime,
    mounter,
    events,
    stdin: connectStdin,
    cgroups,
    hostResources,
    defaultRuntime: cfg.defaultRuntime,
    hostResolvConf: '/etc/resolv.conf',
    hostHosts: '/etc/hosts',
    logSizeMax: cfg.logSizeMax,
    logDefaults: cfg.logDefaults,
    log,
    volumes,
    networks: { endpoints, dns: networkDns },
    trace,
  });
  const restarts = new RestartManager(containers, events, log);
  restarts.watch();
  // Watching before init: the restart manager's starts below and the clients' later ones start shippers.
  const logShipping = new LogShippingService({ containers, events, dial: dialLogEndpoint, probe: realLogHostProbe, log });
  logShipping.watch();
  await containers.init();
  await logShipping.restoreAll();
  await endpoints.reconcile((id) => isRunning(containers.find(id)?.state.status ?? 'exited'));
  restarts.restoreAll();
  const execFifos = new FifoStock(path.join(cfg.runRoot, 'exec', 'fifos'));
  execFifos.warm();
  const execs = new ExecService({
    runRoot: cfg.runRoot, containers, resize: resizeConsole, stdin: connectStdin, log, trace,
    ...(cgroupLockWarmer ? { cgroupLockWarmer } : {}),
    // A TTY's pty master comes over a console socket, which only conmon can take; without one berthd holds the pipes.
    run: (o) => (o.terminal ? startExecProcess(runtimeBinaries, o) : startDirectExec(runtimeBinaries, execFifos, o)),
    hostCapabilities: hostResources.boundingCapabilities,
  });
  const health = new HealthMonitor(containers, execs, events, log);
  health.watch();
  containersLoaded = true;
  const debian = new DebianBootstrap({
    images: { has: (r) => images.has(r), resolveId: (r) => images.resolveId(r), importImage: (body, o) => imageArchives.importImage(body, o) },
    ...bootstrapSettings(process.env, cfg.dataRoot),
    architecture: hostArchitecture(),
  });
  const builds = new BuildService({
    root: cfg.dataRoot,
    images: {
      resolve: (ref) => images.resolve(ref),
      has: (ref) => images.has(ref),
      parentOf: (id) => images.parentOf(id),
      lowerDirs: (image) => images.lowerDirs(image),
      commitBuildStep: (o) => imageCommit.commitBuildStep(o),
      tag: (source, repo, tag) => imageTags.tag(source, repo, tag),
      list: (o) => imageQueries.list(o),
      remove: (ref) => imageRemoval.remove(ref),
    },
    containers: containerEngineOf(containers), mounter,
    fetchBase: baseImageFetcher((ref, progress) => distribution.pull(ref, { progress }), debian),
    meter: metrics,
  });
  await builds.init();

  const hostFacts = linuxHostFacts(cfg.dataRoot);
  const xfrmTunnels = new IpXfrmTunnels();
  const hostTag = daemonOverlayTag(cfg.dataRoot);
  const cluster = new Cluster({
    dataRoot: cfg.dataRoot,
    runRoot: cfg.runRoot,
    ports: cfg.swarmPorts,
    signer: new OpensslSigner(),
    // etcd's client (gRPC, protobufjs) costs ~0.6 s of CPU to load: loaded when a swarm first needs it, so a node
    // outside a swarm (and every berthd restart) never pays it.
    etcd: { start: async (spec) => (await import('./cluster/node/etcd-adapters.js')).etcdProcesses.start(spec) },
    connect: async (endpoints, tls) => (await import('./cluster/node/etcd-adapters.js')).connectEtcd(endpoints, tls),
    roles: clusterRoles({
      runtime: new EngineTaskRuntime({
        containers, images, pull: (ref) => distribution.pull(ref), events, filesRoot: path.join(cfg.runRoot, 'swarm', 'tasks'),
      }),
      node: { hostname: hostFacts.hostname(), os: 'linux', architecture: hostFacts.machine() },
      fetchFromPeer: (ref) => cluster.fetchImageFromPeers(ref, (tar) => imageArchives.load(tar, () => undefined).then(() => undefined)),
      log,
    }),
    containers: {
      removeNodeContainers: async (nodeId) => {
        for (const c of containers.all().filter((r) => r.config.Labels?.['com.docker.swarm.node.id'] === nodeId)) {
          await containers.remove(c.id, { force: true }).catch((err: Error) => log.error(`swarm leave: removing ${c.id}: ${err.message}`));
        }
      },
    },
    host: { ...hostFacts, engineVersion: COMPAT_DOCKER_VERSION, engineLabels: {} },
    control: startControlServer,
    joinThrough,
    promoteThrough,
    peerTaskLogs,
    peerImage,
    exportImage: async (ref) => ((await images.has(ref)) ? imageArchives.save([ref]) : undefined),
    hostAddresses: async () => ({ interfaces: await probeHostInterfaces(), managedSubnets: networks.all().flatMap((n) => (n.subnet ? [n.subnet] : [])) }),
    overlay: {
      adapters: (store) => ({
        allocator: new EtcdOverlayAllocator(store),
        host: new IprouteOverlayHost(undefined, `berth:${hostTag}`),
        mesh: new IptablesMeshRules({ chains: meshChains(hostTag) }),
        tunnels: xfrmTunnels,
        dns: new AardvarkOverlayDns(netavarkConfigDir),
        runningContainers: async () => new Set(containers.all().filter((c) => c.state.status === 'running').map((c) => c.id)),
      }),
      use: (port) => networks.useOverlay(port),
    },
    encryptionUnsupported: () => xfrmTunnels.unsupported(),
    log,
  });
  const router = new Router();
  registerSystemRoutes(router, {
    info: () => systemInfo({
      containers, imageCount: async () => (await imageQueries.list({ all: true })).length, host: hostFacts,
      dataRoot: cfg.dataRoot, cgroupVersion: report.cgroupMode === 'v2' ? '2' : '1', experimental: cfg.experimental,
      insecureRegistries: cfg.insecureRegistries, runtimes, defaultRuntime: cfg.defaultRuntime,
    }),
    df: async () => ({
      LayersSize: imageQueries.layersSize(),
      // SharedSize lets the CLI count as reclaimable only what removing an unused image frees.
      Images: await imageQueries.list({ all: false, sharedSize: true }),
      Containers: [],
      Volumes: await volumes.usage(),
      BuildCache: await builds.usage(),
    }),
  }, events, cfg.experimental, cluster);
  registerImageRoutes(router, { local: images, queries: imageQueries, tags: imageTags, removal: imageRemoval, archives: imageArchives }, registryPull(distribution));
  registerDistributionRoutes(router, distribution);
  registerBuildRoutes(router, builds);
  registerBootstrapRoutes(router, debian);
  registerVolumeRoutes(router, volumes);
  registerExecRoutes(router, execs);
  // One sampler for `docker stats`, the metrics' per-container figures and /berth/stats.
  const stats = new ContainerStats(containers, cgroups, log);
  if (metrics) registerContainerMetrics(metrics.registry, stats);
  registerContainerOpsRoutes(router, {
    archive: new ContainerArchive(containers, specialFiles),
    stats,
    feed: new ContainerStatsFeed(stats, log),
    update: new ContainerUpdate(containers, runtime, hostResources),
  });
  const checkpoints = new CheckpointService({ containers, runtime, experimental: cfg.experimental });
  if (cfg.experimental) registerCheckpointRoutes(router, checkpoints);
  registerContainerRoutes(router, containers, {
    imageSize: async (id) => {
      try {
        return (await images.resolve(id)).size;
      } catch {
        return 0;
      }
    },
    startFromCheckpoint: (ref, name, dir) => checkpoints.start(ref, name, dir),
    execIds: (id) => execs.idsOf(id),
    logShipping: (id) => logShipping.status(id),
  });
  registerNetworkRoutes(router, networks, endpoints, cluster.swarmNetworks());
  registerSwarmRoutes(router, cluster);
  registerNodeRoutes(router, cluster);
  registerServiceRoutes(router, cluster);
  registerTaskRoutes(router, cluster);
  registerSecretRoutes(router, cluster);
  registerConfigRoutes(router, cluster);

  const server = createApiServer(router, log, metrics?.observeRequest);
  await fsp.mkdir(path.dirname(cfg.socket), { recursive: true });
  await fsp.rm(cfg.socket, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(cfg.socket, () => resolve());
  });
  await fsp.chmod(cfg.socket, 0o660);
  let metricsServer: MetricsServer | undefined;
  if (metrics && cfg.metricsAddr) {
    try {
      metricsServer = await startMetricsServer(cfg.metricsAddr, metrics.registry, log);
    } catch (err) {
      server.close();
      throw err;
    }
  }
  log.info(`berthd ${BERTH_VERSION} listening on ${cfg.socket} (data ${cfg.dataRoot}, cgroups ${report.cgroupMode})`);
  const running = containers.all().filter((c) => isRunning(c.state.status)).length;
  if (running) log.info(`restored ${running} running containers`);
  events.publish('daemon', 'reload', await hostFacts.daemonId(), { name: hostFacts.hostname() });
  await cluster.restore();

  return {
    server,
    close: async () => {
      restarts.stop();
      health.stop();
      await cluster.close();
      await metricsServer?.close();
      await logShipping.close();
      containers.shutdown();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      await runtimeViews.release();
      await images.index.flushNow(); // what is held back for the next write (a re-tag's time)
    },
  };
}
