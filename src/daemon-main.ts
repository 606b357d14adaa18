#!/usr/bin/env node
// berthd: parses flags and the config file, starts the daemon, and shuts down on SIGTERM/SIGINT.
import { checkLogConfig } from './engine/log-drivers';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { ramInBytes } from './util/units';
import { DEFAULT_CONFIG, startDaemon, stderrLogger, type DaemonConfig } from './daemon';
import { parseAddressPoolFlag, parseAddressPools, parseBridgeIp, parseFixedCidr } from './network/address-pools';
import { parseMetricsAddress } from './metrics/address';

const USAGE = `Usage: berthd [OPTIONS]

Options:
  --config-file PATH     daemon configuration file (default /etc/berth/daemon.json)
  --data-root PATH       root of persistent state (default /var/lib/berth)
  --exec-root PATH       root of runtime state (default /run/berth)
  -H, --host unix:///PATH  socket to listen on (default unix:///run/berth/berth.sock)
  --default-runtime NAME  crun (default) or runc
  --pidfile PATH         write the daemon's PID here (default <exec-root>/berthd.pid)
  --bridge NAME          the default bridge's interface name (default berth0; at most 15 characters)
  --default-address-pool base=CIDR,size=N
                         where network subnets come from (default base=10.210.0.0/16,size=24; repeatable)
  --bip ADDRESS/PREFIX   the default bridge's address and subnet, e.g. 10.210.0.1/16 (default: a /21 of the pools)
  --fixed-cidr CIDR      the default bridge's container addresses, inside its subnet
  --swarm-control-port N swarm mode's control endpoint (join) on the advertise address (default 2377)
  --etcd-client-port N   this node's etcd member, clients (default 2379)
  --etcd-peer-port N     this node's etcd member, peers (default 2380)
  --metrics-addr HOST:PORT  serve Prometheus metrics at /metrics (default: off; a PORT alone
                         listens on 127.0.0.1; another host only when written out)
  --signature-policy PATH  containers-policy.json checked at each pull (default /etc/berth/policy.json)
`;

async function main(argv: string[]): Promise<void> {
  // The daemon never dies of one request's bug: an error nobody handled is logged and serving goes on. Set before
  // start-up, which already runs restored containers' health checks, restart timers and exit monitors in the
  // background (a failure of start-up itself is awaited below and ends berthd with its message).
  process.on('uncaughtException', (err) => stderrLogger.error(`uncaught: ${err.stack ?? err.message}`));
  process.on('unhandledRejection', (err) => stderrLogger.error(`unhandled rejection: ${(err as Error)?.stack ?? String(err)}`));
  const flags = new Map<string, string>();
  const poolFlags: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') { process.stdout.write(USAGE); return; }
    const [k, inline] = a.split(/=(.*)/s) as [string, string | undefined];
    const key = k === '-H' ? '--host' : k;
    if (!['--config-file', '--data-root', '--exec-root', '--host', '--default-runtime', '--pidfile', '--bridge', '--default-address-pool', '--bip', '--fixed-cidr', '--swarm-control-port', '--etcd-client-port', '--etcd-peer-port', '--metrics-addr', '--signature-policy'].includes(key)) {
      process.stderr.write(`berthd: unknown flag: ${a}\n${USAGE}`);
      process.exit(2);
    }
    const value = inline ?? argv[++i];
    if (value === undefined) { process.stderr.write(`berthd: flag needs an argument: ${a}\n`); process.exit(2); }
    // Repeatable: every --default-address-pool is a pool, in order, as dockerd's.
    if (key === '--default-address-pool') poolFlags.push(value);
    flags.set(key, value);
  }
  const configFile = flags.get('--config-file') ?? '/etc/berth/daemon.json';
  const fileCfg: Record<string, unknown> = await fsp.readFile(configFile, 'utf8').then((t) => JSON.parse(t) as Record<string, unknown>).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' && !flags.has('--config-file')) return {} as Record<string, unknown>;
    throw new Error(`cannot read ${configFile}: ${e.message}`);
  });
  const cfg: DaemonConfig = { ...DEFAULT_CONFIG };
  if (typeof fileCfg['data-root'] === 'string') cfg.dataRoot = fileCfg['data-root'];
  if (typeof fileCfg['exec-root'] === 'string') cfg.runRoot = fileCfg['exec-root'];
  if (typeof fileCfg['default-runtime'] === 'string') cfg.defaultRuntime = fileCfg['default-runtime'];
  if (fileCfg.runtimes && typeof fileCfg.runtimes === 'object') {
    for (const [name, v] of Object.entries(fileCfg.runtimes as Record<string, { path?: string }>)) if (v?.path) cfg.runtimes[name] = v.path;
  }
  if (typeof fileCfg.bridge === 'string') cfg.bridge = fileCfg.bridge;
  if (typeof fileCfg.experimental === 'boolean') cfg.experimental = fileCfg.experimental;
  if (Array.isArray(fileCfg['insecure-registries'])) cfg.insecureRegistries = fileCfg['insecure-registries'].map(String);
  if (typeof fileCfg['signature-policy'] === 'string') cfg.signaturePolicy = fileCfg['signature-policy'];
  if (flags.has('--signature-policy')) cfg.signaturePolicy = flags.get('--signature-policy')!;
  if (fileCfg['default-address-pools'] !== undefined) cfg.addressPools = parseAddressPools(fileCfg['default-address-pools']);
  const logOpts = fileCfg['log-opts'] as Record<string, string> | undefined;
  if (logOpts?.['max-size']) cfg.logSizeMax = ramInBytes(logOpts['max-size']);
  if (fileCfg['log-driver'] !== undefined || logOpts !== undefined) {
    // As dockerd, a default that no container could use stops the daemon at start rather than every `docker run`.
    try {
      cfg.logDefaults = checkLogConfig({ Type: fileCfg['log-driver'], Config: logOpts });
    } catch (e) {
      throw new Error(`${configFile}: log-driver/log-opts: ${(e as Error).message}`);
    }
  }
  if (flags.has('--data-root')) cfg.dataRoot = flags.get('--data-root')!;
  if (flags.has('--exec-root')) {
    cfg.runRoot = flags.get('--exec-root')!;
    if (!flags.has('--host') && !fileCfg.hosts) cfg.socket = path.join(cfg.runRoot, 'berth.sock');
  }
  if (flags.has('--bridge')) cfg.bridge = flags.get('--bridge')!;
  if (poolFlags.length) cfg.addressPools = poolFlags.map(parseAddressPoolFlag);
  const bip = flags.get('--bip') ?? fileCfg.bip;
  if (bip !== undefined && bip !== '') cfg.bridgeIp = parseBridgeIp(bip);
  const fixedCidr = flags.get('--fixed-cidr') ?? fileCfg['fixed-cidr'];
  if (fixedCidr !== undefined && fixedCidr !== '') cfg.fixedCidr = parseFixedCidr(fixedCidr, cfg.bridgeIp);
  // Several daemons on one host (tests) each need their own swarm ports.
  cfg.swarmPorts = { ...cfg.swarmPorts };
  for (const [flag, key] of [['--swarm-control-port', 'control'], ['--etcd-client-port', 'etcdClient'], ['--etcd-peer-port', 'etcdPeer']] as const) {
    if (!flags.has(flag)) continue;
    const port = Number(flags.get(flag));
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${flag}: not a port: ${flags.get(flag)}`);
    cfg.swarmPorts[key] = port;
  }
  const metricsAddr = parseMetricsAddress(flags.get('--metrics-addr') ?? fileCfg['metrics-addr']);
  if (metricsAddr) cfg.metricsAddr = metricsAddr;
  if (flags.has('--default-runtime')) cfg.defaultRuntime = flags.get('--default-runtime')!;
  if (flags.has('--host')) cfg.socket = flags.get('--host')!.replace(/^unix:\/\//, '');
  const pidfile = flags.get('--pidfile') ?? path.join(cfg.runRoot, 'berthd.pid');

  const daemon = await startDaemon(cfg);
  await fsp.mkdir(path.dirname(pidfile), { recursive: true });
  await fsp.writeFile(pidfile, `${process.pid}\n`);
  let closing = false;
  const shutdown = async (sig: string) => {
    if (closing) return;
    closing = true;
    stderrLogger.info(`${sig}: shutting down (containers keep running)`);
    const forced = setTimeout(() => process.exit(0), 3000);
    forced.unref();
    await daemon.close().catch(() => undefined);
    await fsp.rm(pidfile, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main(process.argv.slice(2)).catch((err: Error) => {
  stderrLogger.error(err.message);
  process.exit(1);
});
