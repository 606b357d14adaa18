// `berth swarm init|join|join-token|leave|update|unlock-key|unlock|ca`: flags to /swarm calls, printed as docker does.
import { Command } from 'commander';
import { BerthCommand, Cli, collect } from '../command';
import { InvalidFlagError } from '../container-options';
import { readAll } from '../api-client';
import type { Node, Swarm, SwarmInfo, SwarmSpec } from '../../wire/swarm';
import { durationFlag, uintFlag } from '../swarm/service-flags';

interface SpecFlags { taskHistoryLimit?: string; dispatcherHeartbeat?: string; certExpiry?: string; maxSnapshots?: string; snapshotInterval?: string; autolock?: string | boolean }

function addSpecFlags(cmd: Command): Command {
  return cmd
    .option('--task-history-limit <n>', 'Task history retention limit (default 5)')
    .option('--dispatcher-heartbeat <duration>', 'Dispatcher heartbeat period (ns|us|ms|s|m|h) (default 5s)')
    .option('--cert-expiry <duration>', 'Validity period for node certificates (ns|us|ms|s|m|h) (default 2160h0m0s)')
    .option('--max-snapshots <n>', 'Number of additional Raft snapshots to retain')
    .option('--snapshot-interval <n>', 'Number of log entries between Raft snapshots (default 10000)')
    .option('--autolock [bool]', 'Enable manager autolocking (requiring an unlock key to start a stopped manager)');
}

function autolockValue(v: string | boolean | undefined): boolean | undefined {
  if (v === undefined || typeof v === 'boolean') return v;
  if (['1', 't', 'true', 'TRUE', 'True'].includes(v)) return true;
  if (['0', 'f', 'false', 'FALSE', 'False'].includes(v)) return false;
  throw new InvalidFlagError(`invalid argument "${v}" for "--autolock" flag: strconv.ParseBool: parsing "${v}": invalid syntax`);
}

/** mergeSwarmSpec: only the flags the user gave change the spec. */
export function mergeSwarmSpec(spec: SwarmSpec, o: SpecFlags): SwarmSpec {
  const out: SwarmSpec = structuredClone(spec);
  if (o.taskHistoryLimit !== undefined) out.Orchestration = { ...out.Orchestration, TaskHistoryRetentionLimit: Number(o.taskHistoryLimit) };
  if (o.dispatcherHeartbeat !== undefined) out.Dispatcher = { ...out.Dispatcher, HeartbeatPeriod: durationFlag('dispatcher-heartbeat', o.dispatcherHeartbeat) };
  if (o.certExpiry !== undefined) out.CAConfig = { ...out.CAConfig, NodeCertExpiry: durationFlag('cert-expiry', o.certExpiry) };
  if (o.maxSnapshots !== undefined) out.Raft = { ...out.Raft, KeepOldSnapshots: uintFlag('max-snapshots', o.maxSnapshots) };
  if (o.snapshotInterval !== undefined) out.Raft = { ...out.Raft, SnapshotInterval: uintFlag('snapshot-interval', o.snapshotInterval) };
  const autolock = autolockValue(o.autolock);
  if (autolock !== undefined) out.EncryptionConfig = { AutoLockManagers: autolock };
  return out;
}

function availability(v: string | undefined): 'active' | 'pause' | 'drain' | undefined {
  if (v === undefined) return undefined;
  const a = v.toLowerCase();
  if (a !== 'active' && a !== 'pause' && a !== 'drain') throw new InvalidFlagError(`invalid availability "${v}", only active, pause and drain are supported`);
  return a;
}

/** host[:port] with docker's default port for the listen address. */
function listenAddr(v: string): string {
  return /:\d+$/.test(v) ? v : `${v}:2377`;
}

async function printJoinCommand(cli: Cli, nodeId: string, worker: boolean, manager: boolean): Promise<void> {
  const node = await cli.api.json<Node>('GET', `/nodes/${encodeURIComponent(nodeId)}`);
  const sw = await cli.api.json<Swarm>('GET', '/swarm');
  if (!node.ManagerStatus) return;
  if (worker) cli.out.write(`To add a worker to this swarm, run the following command:\n\n    docker swarm join --token ${sw.JoinTokens.Worker} ${node.ManagerStatus.Addr}\n\n`);
  if (manager) cli.out.write(`To add a manager to this swarm, run the following command:\n\n    docker swarm join --token ${sw.JoinTokens.Manager} ${node.ManagerStatus.Addr}\n\n`);
}

function printUnlockCommand(cli: Cli, key: string): void {
  if (!key) return;
  cli.out.write('To unlock a swarm manager after it restarts, run the `docker swarm unlock`\ncommand and provide the following key:\n\n'
    + `    ${key}\n\nRemember to store this key in a password manager, since without it you\nwill not be able to restart the manager.\n`);
}

export function swarmCommand(cli: Cli): Command {
  const swarm = new BerthCommand('swarm').description('Manage Swarm');
  swarm.addCommand(addSpecFlags(new BerthCommand('init'))
    .description('Initialize a swarm')
    .option('--advertise-addr <addr>', 'Advertised address (format: "<ip|interface>[:port]")')
    .option('--listen-addr <addr>', 'Listen address (format: "<ip|interface>[:port]")', '0.0.0.0:2377')
    .option('--data-path-addr <addr>', 'Address or interface to use for data path traffic (format: "<ip|interface>")')
    .option('--data-path-port <port>', 'Port number to use for data path traffic (1024 - 49151). If no value is set or is set to 0, the default port (4789) is used.')
    .option('--force-new-cluster', 'Force create a new cluster from current state')
    .option('--default-addr-pool <cidr>', 'default address pool in CIDR format', collect)
    .option('--default-addr-pool-mask-length <n>', 'default address pool subnet mask length', '24')
    .option('--availability <availability>', 'Availability of the node ("active", "pause", "drain")')
    .action(async (o: SpecFlags & { advertiseAddr?: string; listenAddr: string; dataPathAddr?: string; dataPathPort?: string; forceNewCluster?: boolean; defaultAddrPool?: string[]; defaultAddrPoolMaskLength: string; availability?: string }) => {
      const spec = mergeSwarmSpec({ Labels: {} }, o);
      const nodeId = await cli.api.json<string>('POST', '/swarm/init', {
        body: {
          ListenAddr: listenAddr(o.listenAddr), AdvertiseAddr: o.advertiseAddr ?? '', DataPathAddr: o.dataPathAddr ?? '',
          DataPathPort: o.dataPathPort ? uintFlag('data-path-port', o.dataPathPort) : 0,
          DefaultAddrPool: o.defaultAddrPool ?? null, ForceNewCluster: !!o.forceNewCluster, Spec: spec,
          AutoLockManagers: spec.EncryptionConfig?.AutoLockManagers ?? false, Availability: availability(o.availability) ?? '',
          SubnetSize: uintFlag('default-addr-pool-mask-length', o.defaultAddrPoolMaskLength),
        },
      }).catch((err: Error) => {
        if (/could not choose an IP address to advertise|could not find the system's IP address/.test(err.message)) err.message += ' - specify one with --advertise-addr';
        throw err;
      });
      cli.out.write(`Swarm initialized: current node (${nodeId}) is now a manager.\n\n`);
      await printJoinCommand(cli, nodeId, true, false);
      cli.out.write("To add a manager to this swarm, run 'docker swarm join-token manager' and follow the instructions.\n");
      if (spec.EncryptionConfig?.AutoLockManagers) {
        const r = await cli.api.json<{ UnlockKey: string }>('GET', '/swarm/unlockkey');
        printUnlockCommand(cli, r.UnlockKey);
      }
    }));
  swarm.addCommand(new BerthCommand('join')
    .description('Join a swarm as a node and/or manager')
    .argument('<host:port>')
    .option('--token <token>', 'Token for entry into the swarm')
    .option('--advertise-addr <addr>', 'Advertised address (format: "<ip|interface>[:port]")')
    .option('--listen-addr <addr>', 'Listen address (format: "<ip|interface>[:port]")', '0.0.0.0:2377')
    .option('--data-path-addr <addr>', 'Address or interface to use for data path traffic')
    .option('--availability <availability>', 'Availability of the node ("active", "pause", "drain")')
    .action(async (remote: string, o: { token?: string; advertiseAddr?: string; listenAddr: string; dataPathAddr?: string; availability?: string }) => {
      await cli.api.call('POST', '/swarm/join', {
        body: {
          ListenAddr: listenAddr(o.listenAddr), AdvertiseAddr: o.advertiseAddr ?? '', DataPathAddr: o.dataPathAddr ?? '',
          RemoteAddrs: [remote], JoinToken: o.token ?? '', Availability: availability(o.availability) ?? '',
        },
      });
      const info = await cli.api.json<{ Swarm: SwarmInfo }>('GET', '/info');
      cli.out.write(info.Swarm.ControlAvailable ? 'This node joined a swarm as a manager.\n' : 'This node joined a swarm as a worker.\n');
    }));
  swarm.addCommand(new BerthCommand('join-token')
    .description('Manage join tokens')
    .argument('<role>', '(worker|manager)')
    .option('-q, --quiet', 'Only display token')
    .option('--rotate', 'Rotate join token')
    .action(async (role: string, o: { quiet?: boolean; rotate?: boolean }) => {
      const worker = role === 'worker';
      const manager = role === 'manager';
      if (!worker && !manager) throw new Error(`unknown role ${role}`);
      if (o.rotate) {
        const sw = await cli.api.json<Swarm>('GET', '/swarm');
        await cli.api.call('POST', '/swarm/update', {
          query: { version: sw.Version.Index, rotateWorkerToken: String(worker), rotateManagerToken: String(manager), rotateManagerUnlockKey: 'false' },
          body: sw.Spec,
        });
        if (!o.quiet) cli.out.write(`Successfully rotated ${role} join token.\n\n`);
      }
      const sw = await cli.api.json<Swarm>('GET', '/swarm');
      if (o.quiet) {
        cli.out.write(`${worker ? sw.JoinTokens.Worker : sw.JoinTokens.Manager}\n`);
        return;
      }
      const info = await cli.api.json<{ Swarm: SwarmInfo }>('GET', '/info');
      await printJoinCommand(cli, info.Swarm.NodeID, worker, manager);
    }));
  swarm.addCommand(new BerthCommand('leave')
    .description('Leave the swarm')
    .option('-f, --force', 'Force this node to leave the swarm, ignoring warnings')
    .action(async (o: { force?: boolean }) => {
      await cli.api.call('POST', '/swarm/leave', { query: { force: o.force ? 1 : undefined } });
      cli.out.write('Node left the swarm.\n');
    }));
  swarm.addCommand(addSpecFlags(new BerthCommand('update'))
    .description('Update the swarm')
    .action(async (o: SpecFlags) => {
      if (Object.values(o).every((v) => v === undefined)) throw new Error('at least one flag is required');
      const sw = await cli.api.json<Swarm>('GET', '/swarm');
      const prev = !!sw.Spec.EncryptionConfig?.AutoLockManagers;
      const spec = mergeSwarmSpec(sw.Spec, o);
      await cli.api.call('POST', '/swarm/update', {
        query: { version: sw.Version.Index, rotateWorkerToken: 'false', rotateManagerToken: 'false', rotateManagerUnlockKey: 'false' },
        body: spec,
      });
      cli.out.write('Swarm updated.\n');
      if (spec.EncryptionConfig?.AutoLockManagers && !prev) {
        const r = await cli.api.json<{ UnlockKey: string }>('GET', '/swarm/unlockkey');
        printUnlockCommand(cli, r.UnlockKey);
      }
    }));
  swarm.addCommand(new BerthCommand('unlock-key')
    .description('Manage the unlock key')
    .option('-q, --quiet', 'Only display token')
    .option('--rotate', 'Rotate unlock key')
    .action(async (o: { quiet?: boolean; rotate?: boolean }) => {
      if (o.rotate) {
        const sw = await cli.api.json<Swarm>('GET', '/swarm');
        if (!sw.Spec.EncryptionConfig?.AutoLockManagers) throw new Error('cannot rotate because autolock is not turned on');
        await cli.api.call('POST', '/swarm/update', {
          query: { version: sw.Version.Index, rotateWorkerToken: 'false', rotateManagerToken: 'false', rotateManagerUnlockKey: 'true' },
          body: sw.Spec,
        });
        if (!o.quiet) cli.out.write('Successfully rotated manager unlock key.\n\n');
      }
      const r = await cli.api.json<{ UnlockKey: string }>('GET', '/swarm/unlockkey');
      if (!r.UnlockKey) throw new Error('no unlock key is set');
      if (o.quiet) cli.out.write(`${r.UnlockKey}\n`);
      else printUnlockCommand(cli, r.UnlockKey);
    }));
  swarm.addCommand(new BerthCommand('unlock')
    .description('Unlock swarm')
    .action(async () => {
      const info = await cli.api.json<{ Swarm: SwarmInfo }>('GET', '/info');
      if (info.Swarm.LocalNodeState === 'inactive') throw new Error('Error: This node is not part of a swarm');
      if (info.Swarm.LocalNodeState !== 'locked') throw new Error('Error: swarm is not locked');
      if (cli.in.isTTY) cli.out.write('Enter unlock key: ');
      const key = (await readAll(cli.in)).toString('utf8').split('\n')[0]!.trim();
      await cli.api.call('POST', '/swarm/unlock', { body: { UnlockKey: key } });
    }));
  swarm.addCommand(new BerthCommand('ca')
    .description('Display and rotate the root CA')
    .option('--rotate', 'Rotate the swarm CA')
    .option('--ca-cert <file>', 'Path to the PEM-formatted root CA certificate to use for the new cluster')
    .option('--ca-key <file>', 'Path to the PEM-formatted root CA key to use for the new cluster')
    .option('-q, --quiet', 'Suppress progress output')
    .option('-d, --detach', 'Exit immediately instead of waiting for the root rotation to converge')
    .action(async (o: { rotate?: boolean; caCert?: string; caKey?: string }) => {
      if (o.rotate || o.caCert || o.caKey) throw new Error('berth swarm ca: rotating the root CA is not supported by Berth yet');
      const sw = await cli.api.json<Swarm>('GET', '/swarm');
      cli.out.write(sw.TLSInfo.TrustRoot.endsWith('\n') ? sw.TLSInfo.TrustRoot : `${sw.TLSInfo.TrustRoot}\n`);
    }));
  return swarm;
}
