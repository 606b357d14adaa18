// The cluster's spec: swarmkit's defaults, init's merge of the given fields over them, an update's replacement of
// the whole spec, and the checks (name "default", certificate expiry minimum, data path port range).
import { isIP } from 'node:net';
import { InvalidParameterError } from '../../errdefs';
import type { SwarmSpec } from '../../wire/swarm';

export const DEFAULT_NODE_CERT_EXPIRY = 90 * 24 * 3600 * 1e9;
const MIN_NODE_CERT_EXPIRY = 3600 * 1e9;
export const DEFAULT_DATA_PATH_PORT = 4789;
export const DEFAULT_ADDR_POOL = ['10.0.0.0/8'];
export const DEFAULT_SUBNET_SIZE = 24;
export const DEFAULT_HEARTBEAT_PERIOD = 5_000_000_000;

export function defaultSwarmSpec(): SwarmSpec {
  return {
    Name: 'default',
    Labels: {},
    Orchestration: { TaskHistoryRetentionLimit: 5 },
    Raft: { SnapshotInterval: 10000, KeepOldSnapshots: 0, LogEntriesForSlowFollowers: 500, ElectionTick: 10, HeartbeatTick: 1 },
    Dispatcher: { HeartbeatPeriod: DEFAULT_HEARTBEAT_PERIOD },
    CAConfig: { NodeCertExpiry: DEFAULT_NODE_CERT_EXPIRY },
    TaskDefaults: {},
    EncryptionConfig: { AutoLockManagers: false },
  };
}

/** Init: the given fields that are set (non-zero, non-null) over the defaults; TaskDefaults is never kept. */
export function initSwarmSpec(given: SwarmSpec | undefined, autoLockManagers = false): SwarmSpec {
  const spec = defaultSwarmSpec();
  const g = given ?? ({ Labels: {} } as SwarmSpec);
  checkSwarmSpec(g);
  if (g.Labels && Object.keys(g.Labels).length) spec.Labels = { ...g.Labels };
  const merge = <K extends 'Orchestration' | 'Raft' | 'Dispatcher' | 'CAConfig'>(key: K) => {
    const from = g[key] as Record<string, unknown> | undefined;
    if (!from) return;
    const into = spec[key] as Record<string, unknown>;
    for (const [k, v] of Object.entries(from)) if (v !== undefined && v !== null && v !== 0 && v !== '') into[k] = v;
  };
  merge('Orchestration');
  merge('Raft');
  merge('Dispatcher');
  merge('CAConfig');
  spec.EncryptionConfig = { AutoLockManagers: autoLockManagers || !!g.EncryptionConfig?.AutoLockManagers };
  return spec;
}

/** Update: the body replaces the spec; zero means unset (autolock off, retention 0); HeartbeatPeriod 0 is "default". */
export function updatedSwarmSpec(given: SwarmSpec): SwarmSpec {
  checkSwarmSpec(given);
  const spec: SwarmSpec = {
    Name: 'default',
    Labels: given.Labels ?? {},
    // swarmkit keeps these as plain numbers: an omitted one reads back 0.
    Orchestration: { TaskHistoryRetentionLimit: given.Orchestration?.TaskHistoryRetentionLimit ?? 0 },
    Raft: { SnapshotInterval: 0, KeepOldSnapshots: 0, LogEntriesForSlowFollowers: 0, ElectionTick: 0, HeartbeatTick: 0, ...given.Raft },
    Dispatcher: { ...given.Dispatcher },
    CAConfig: { ...given.CAConfig, NodeCertExpiry: given.CAConfig?.NodeCertExpiry || DEFAULT_NODE_CERT_EXPIRY },
    TaskDefaults: {},
    EncryptionConfig: { AutoLockManagers: !!given.EncryptionConfig?.AutoLockManagers },
  };
  if (!spec.Dispatcher!.HeartbeatPeriod) delete spec.Dispatcher!.HeartbeatPeriod;
  return spec;
}

export function checkSwarmSpec(spec: SwarmSpec): void {
  if (spec.Name && spec.Name !== 'default') throw new InvalidParameterError('swarm spec must be named "default"');
  const expiry = spec.CAConfig?.NodeCertExpiry;
  if (expiry && expiry < MIN_NODE_CERT_EXPIRY) throw new InvalidParameterError('minimum certificate expiry time is: 1h0m0s');
}

/**
 * Init's DefaultAddrPool and SubnetSize as moby's validateDefaultAddrPool checks them (dockerd answers these 500, as
 * plain errors; Berth 400: they are the request's fault). Size 0 is the default 24; at most 29; each pool a CIDR no
 * smaller than the size.
 */
export function checkAddrPool(pools: string[] | null | undefined, subnetSize: number | undefined): void {
  if (!pools) return;
  const size = subnetSize || DEFAULT_SUBNET_SIZE;
  if (size > 29) throw new InvalidParameterError(`subnet size is out of range: ${size}`);
  for (const given of pools) {
    const pool = given.trim();
    const m = /^([^/]+)\/(\d{1,3})$/.exec(pool);
    const bits = m ? Number(m[2]) : -1;
    const family = m ? isIP(m[1]!) : 0;
    if (!m || !family || bits > (family === 4 ? 32 : 128)) throw new InvalidParameterError(`invalid base pool ${pool}: invalid CIDR address: ${pool}`);
    if (size < bits) throw new InvalidParameterError(`invalid CIDR: ${JSON.stringify(pool)}. Subnet size is too small for pool: ${size}`);
  }
}

/** 0 means the default; else within 1024-49151. */
export function dataPathPort(port: number | undefined): number {
  if (!port) return DEFAULT_DATA_PATH_PORT;
  if (port < 1024 || port > 49151) throw new InvalidParameterError(`Datapath port number is not in valid range (1024-49151) : ${port}`);
  return port;
}

/** What a read answers: the CA signing material is never returned. */
export function swarmSpecForRead(spec: SwarmSpec): SwarmSpec {
  if (!spec.CAConfig) return spec;
  const { SigningCACert: _c, SigningCAKey: _k, ...ca } = spec.CAConfig;
  return { ...spec, CAConfig: ca };
}
