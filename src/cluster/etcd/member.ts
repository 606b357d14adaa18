// This node's etcd member as a process: the command line, start (or adopt one left running by a berthd that was
// killed: the member outlives berthd, as conmon-supervised containers do, found again through a pidfile),
// health, stop. The only place that runs /usr/bin/etcd.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { StoreUnavailable } from '../store/store';

export const ETCD_BINARY = '/usr/bin/etcd';
export const DEFAULT_CLIENT_PORT = 2379;
export const DEFAULT_PEER_PORT = 2380;

/** PEM file paths for one side of etcd's TLS (clients or peers); both sides require client certificates. */
export interface TlsFiles { cert: string; key: string; ca: string }

export interface EtcdMemberOptions {
  /** The member's name in the cluster (the node ID). */
  name: string;
  /** <berthd data root>/swarm/etcd */
  dataDir: string;
  /** The node's advertise address; etcd listens and advertises there. */
  address: string;
  clientPort?: number;
  peerPort?: number;
  /** TLS for clients and peers; plain http when absent (tests). */
  tls?: { client: TlsFiles; peer: TlsFiles };
  /** name → peer URL of every member, this one included; a fresh cluster of one when absent. */
  initialCluster?: Record<string, string>;
  /** 'existing' when joining a running cluster (after memberAdd). */
  initialClusterState?: 'new' | 'existing';
  clusterToken?: string;
  /**
   * Raft timing (ms). A dead leader is replaced after about one election timeout. A whole node crashing costs that
   * plus a full lease TTL (the new raft leader renews leases): with 100/1000 and TTL 5 s the spike measured 7–7.6 s,
   * under the 10 s aim; 500 was faster but calls spurious elections on a loaded 2-core host.
   */
  heartbeatMs?: number;
  electionMs?: number;
  /** Where etcd's own log goes (default <dataDir>.log). */
  logFile?: string;
  /** Default <dataDir>.pid. */
  pidFile?: string;
  binary?: string;
}

export function clientURL(o: EtcdMemberOptions): string {
  return `${o.tls ? 'https' : 'http'}://${hostPort(o.address, o.clientPort ?? DEFAULT_CLIENT_PORT)}`;
}

export function peerURL(o: EtcdMemberOptions): string {
  return `${o.tls ? 'https' : 'http'}://${hostPort(o.address, o.peerPort ?? DEFAULT_PEER_PORT)}`;
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** etcd's command line for the member (pure: the unit tests read it). */
export function etcdArgs(o: EtcdMemberOptions, forceNewCluster = false): string[] {
  const client = clientURL(o);
  const peer = peerURL(o);
  const cluster = o.initialCluster ?? { [o.name]: peer };
  const args = [
    `--name=${o.name}`,
    `--data-dir=${o.dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=${Object.entries(cluster).map(([n, u]) => `${n}=${u}`).join(',')}`,
    `--initial-cluster-state=${o.initialClusterState ?? 'new'}`,
    `--initial-cluster-token=${o.clusterToken ?? 'berth-swarm'}`,
    `--heartbeat-interval=${o.heartbeatMs ?? 100}`,
    `--election-timeout=${o.electionMs ?? 1000}`,
    // a member cut off and coming back does not depose a working leader
    '--pre-vote=true',
    // history for watchers that fall behind, bounded; a watcher further back re-lists
    '--auto-compaction-mode=revision',
    '--auto-compaction-retention=10000',
    '--snapshot-count=10000',
    '--logger=zap',
    '--log-outputs=stderr',
    '--log-level=warn',
  ];
  if (o.tls) {
    const { client: c, peer: p } = o.tls;
    args.push(`--cert-file=${c.cert}`, `--key-file=${c.key}`, `--trusted-ca-file=${c.ca}`, '--client-cert-auth');
    args.push(`--peer-cert-file=${p.cert}`, `--peer-key-file=${p.key}`, `--peer-trusted-ca-file=${p.ca}`, '--peer-client-cert-auth');
  }
  if (forceNewCluster) args.push('--force-new-cluster');
  return args;
}

export class EtcdMember {
  private pid: number | undefined;
  private exited: Promise<void> | undefined;

  constructor(readonly options: EtcdMemberOptions) {}

  get clientURL(): string {
    return clientURL(this.options);
  }

  get peerURL(): string {
    return peerURL(this.options);
  }

  get pidFile(): string {
    return this.options.pidFile ?? `${this.options.dataDir}.pid`;
  }

  /** The running member's PID, if this adapter started or adopted one. */
  get processId(): number | undefined {
    return this.pid;
  }

  /**
   * Starts the member, or adopts the one a previous berthd left running (same data dir, still alive), and waits
   * until it is healthy. With `forceNewCluster` the member first comes up alone on its data (the survivors'
   * recovery), then restarts normally so the flag never stays on its command line.
   */
  async start(opts: { forceNewCluster?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const running = this.runningPid();
    if (running !== undefined && !opts.forceNewCluster) {
      this.pid = running;
      this.exited = waitGone(running);
      await this.waitHealthy(timeoutMs);
      return;
    }
    if (running !== undefined) {
      this.pid = running;
      this.exited = waitGone(running);
      await this.stop();
    }
    if (opts.forceNewCluster) {
      this.spawn(true);
      await this.waitHealthy(timeoutMs);
      await this.stop();
    }
    this.spawn(false);
    await this.waitHealthy(timeoutMs);
  }

  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    const pid = this.pid ?? this.runningPid();
    if (pid === undefined) return;
    const exited = this.exited ?? waitGone(pid);
    signal(pid, 'SIGTERM');
    // a ref'd timer: the child is unref'd, so waiting on its exit alone would not keep this process running
    let timeout: NodeJS.Timeout | undefined;
    const timer = new Promise<'timeout'>((r) => { timeout = setTimeout(() => r('timeout'), graceMs); });
    const outcome = await Promise.race([exited.then(() => 'gone' as const), timer]);
    clearTimeout(timeout);
    if (outcome === 'timeout') {
      signal(pid, 'SIGKILL');
      await waitGone(pid);
    }
    this.pid = undefined;
    this.exited = undefined;
    fs.rmSync(this.pidFile, { force: true });
  }

  /** True once the member answers /health with a leader. */
  async healthy(): Promise<boolean> {
    const url = `${this.clientURL}/health`;
    const tls = this.options.tls?.client;
    return new Promise((resolve) => {
      const opts = tls ? { ca: fs.readFileSync(tls.ca), cert: fs.readFileSync(tls.cert), key: fs.readFileSync(tls.key), timeout: 1000 } : { timeout: 1000 };
      const req = (url.startsWith('https') ? https : http).get(url, opts, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(res.statusCode === 200 && /"health":\s*"true"/.test(body)));
      });
      req.on('error', () => resolve(false));
      req.on('timeout', () => { req.destroy(); resolve(false); });
    });
  }

  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await this.healthy()) return;
      if (this.pid !== undefined && !alive(this.pid)) {
        throw new StoreUnavailable(`etcd member ${this.options.name} exited during start (see ${this.logFile})`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new StoreUnavailable(`etcd member ${this.options.name} not healthy after ${timeoutMs}ms (see ${this.logFile})`);
  }

  get logFile(): string {
    return this.options.logFile ?? `${this.options.dataDir}.log`;
  }

  private spawn(forceNewCluster: boolean): void {
    fs.mkdirSync(path.dirname(this.options.dataDir), { recursive: true, mode: 0o700 });
    const log = fs.openSync(this.logFile, 'a', 0o600);
    // its own session: the member is not berthd's to take down with it (a killed berthd adopts it on restart)
    const child = spawn(this.options.binary ?? ETCD_BINARY, etcdArgs(this.options, forceNewCluster), {
      detached: true, stdio: ['ignore', log, log],
      // etcd 3.4 refuses to run on arm64 unless told (supported from 3.5)
      env: process.arch === 'arm64' ? { ...process.env, ETCD_UNSUPPORTED_ARCH: 'arm64' } : process.env,
    });
    fs.closeSync(log);
    child.unref();
    if (child.pid === undefined) throw new StoreUnavailable(`cannot start ${this.options.binary ?? ETCD_BINARY}`);
    this.pid = child.pid;
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    fs.writeFileSync(this.pidFile, `${child.pid}\n`, { mode: 0o600 });
  }

  /** The PID in the pidfile, if that process is still this data dir's etcd. */
  private runningPid(): number | undefined {
    let pid: number;
    try {
      pid = Number(fs.readFileSync(this.pidFile, 'utf8').trim());
    } catch {
      return undefined;
    }
    if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return undefined;
    try {
      // the PID may have been reused by another process since
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (!argv.includes(`--data-dir=${this.options.dataDir}`)) return undefined;
    } catch {
      return undefined;
    }
    return pid;
  }
}

/** Alive and not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** For a member this process did not spawn (adopted): poll until the PID is gone. */
async function waitGone(pid: number): Promise<void> {
  while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
}
