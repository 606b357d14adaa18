// Starts a real berthd for integration tests: its own data root, exec root and socket, busybox:latest imported.
import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from './paths';
import { daemonOverlayTag } from '../../src/network/overlay/host-overlay';

export const ROOT = repoRoot;
export const DOCKER = '/usr/local/bin/docker';
let busyboxTar: string | undefined;

/** The busybox rootfs tar, made once per test process from Debian's busybox-static. */
export function busyboxRootfs(): string {
  if (!busyboxTar) {
    const tar = path.join(os.tmpdir(), `berth-busybox-${process.pid}.tar`);
    busyboxTar = tar;
    execFileSync('node', [path.join(ROOT, 'dist/tools/busybox-rootfs.js')], { stdio: ['ignore', fs.openSync(tar, 'w'), 'inherit'] });
    process.on('exit', () => fs.rmSync(tar, { force: true }));
  }
  return busyboxTar;
}

/** Options of one CLI run: extra environment, stdin, a timeout (60 s unless told). */
export interface RunOpts {
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  timeout?: number;
}

/** What a CLI run gave: its exit code (null when killed), its output as text or bytes. */
export interface RunResult<Out = string> {
  code: number | null;
  stdout: Out;
  stderr: Out;
  error?: Error;
}

/** The answer of a raw API call. */
export interface ApiResponse {
  status: number;
  body: string;
}

export interface TestDaemonOpts {
  /** Extra berthd flags (e.g. a --config-file). */
  args?: string[];
}

/** PID of the swarm etcd member under a daemon's data root (its pidfile, checked against the command line), if one runs. */
export function swarmEtcdPid(dataRoot: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(dataRoot, 'swarm', 'etcd.pid'), 'utf8').trim());
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return argv.includes(`--data-dir=${path.join(dataRoot, 'swarm', 'etcd')}`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Kills (SIGKILL, by its pidfile) the etcd member under a daemon's data root, if one runs; returns its PID. */
export function killSwarmEtcd(dataRoot: string): number | undefined {
  const pid = swarmEtcdPid(dataRoot);
  if (pid === undefined) return undefined;
  try { process.kill(pid, 'SIGKILL'); } catch { return undefined; }
  return pid;
}

/** Waits (up to 2 s) until a process is gone or a zombie. */
async function gone(pid: number): Promise<void> {
  const state = () => { try { return fs.readFileSync(`/proc/${pid}/status`, 'utf8'); } catch { return ''; } };
  for (let i = 0; i < 100 && state() && !/^State:\s+Z/m.test(state()); i++) await new Promise((r) => setTimeout(r, 20));
}

export class TestDaemon {
  readonly extraArgs: string[];
  readonly base: string;
  readonly dataRoot: string;
  readonly runRoot: string;
  readonly sock: string;
  readonly bridge: string;
  /** --default-address-pool: a /16 of its own among 10.64-191, where its default bridge's /21 and networks' /24s come from. */
  readonly addressPool: string;
  readonly logFile: string;
  readonly env: NodeJS.ProcessEnv;
  proc: ChildProcess | undefined;

  constructor(name: string, opts: TestDaemonOpts = {}) {
    this.extraArgs = opts.args ?? [];
    const tag = `${name}-${process.pid}-${Math.random().toString(36).slice(2, 7)}`;
    this.base = fs.mkdtempSync(path.join(os.tmpdir(), `berth-${name}-`));
    this.dataRoot = path.join(this.base, 'data');
    // The exec root holds conmon's sockets: keep its path short (unix socket paths are limited to 108 bytes).
    this.runRoot = `/run/bt-${tag.slice(-12)}`;
    this.sock = path.join(this.runRoot, 'berth.sock');
    // Its own default bridge: the production berthd (berth0) and other test daemons run beside it (names ≤ 15 chars).
    this.bridge = `bt${process.pid.toString(36)}${Math.random().toString(36).slice(2, 7)}`;
    // Its own address pool: daemons started at the same moment on one host could otherwise both see a /24 unrouted
    // and take it (one host runs one berthd in production; the suite runs several side by side).
    this.addressPool = `base=10.${64 + Math.floor(Math.random() * 128)}.0.0/16,size=24`;
    this.logFile = path.join(this.base, 'berthd.log');
    this.env = { ...process.env, DOCKER_HOST: `unix://${this.sock}`, BERTH_HOST: `unix://${this.sock}`, DOCKER_BUILDKIT: '0', DOCKER_CONFIG: path.join(this.base, 'docker-config') };
    this.proc = undefined;
  }

  /** Starts berthd and waits until /_ping answers. */
  async start(): Promise<this> {
    const out = fs.openSync(this.logFile, 'a');
    // Debian bootstrap tarballs (berth image bootstrap, FROM debian:*) are shared by all test daemons and runs.
    const env = { ...process.env, BERTH_BOOTSTRAP_CACHE: process.env.BERTH_BOOTSTRAP_CACHE || '/var/tmp/berth-bootstrap-cache' };
    const proc = spawn(path.join(ROOT, 'bin/berthd'), ['--data-root', this.dataRoot, '--exec-root', this.runRoot, '--bridge', this.bridge, '--default-address-pool', this.addressPool, ...this.extraArgs], { stdio: ['ignore', out, out], detached: true, env });
    this.proc = proc;
    proc.unref();
    for (let i = 0; i < 200; i++) {
      if (this.ping()) return this;
      if (proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`berthd did not start:\n${fs.readFileSync(this.logFile, 'utf8')}`);
  }

  /** The last lines of berthd's log: what a failing test prints to explain itself (CI shows only the test output). */
  logTail(lines = 30): string {
    const text = fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8') : '';
    return `berthd's log (${this.logFile}) ends:\n${text.split('\n').slice(-lines).join('\n')}`;
  }

  ping(): boolean {
    return spawnSync('curl', ['-sf', '--unix-socket', this.sock, 'http://berth/_ping'], { encoding: 'utf8' }).stdout === 'OK';
  }

  /** Starts the daemon and imports busybox:latest. */
  async startWithBusybox(): Promise<this> {
    await this.start();
    const r = this.docker(['import', '--change', 'CMD ["sh"]', busyboxRootfs(), 'busybox:latest']);
    if (r.code !== 0) throw new Error(`import busybox failed: ${r.stderr}`);
    return this;
  }

  /** Runs the real docker CLI v28 against this daemon. */
  docker(args: string[], opts: RunOpts & { encoding: 'buffer' }): RunResult<Buffer>;
  docker(args: string[], opts?: RunOpts & { encoding?: 'utf8' }): RunResult;
  docker(args: string[], opts: RunOpts & { encoding?: 'utf8' | 'buffer' } = {}): RunResult<string | Buffer> {
    const r = spawnSync(DOCKER, args, { env: { ...this.env, ...(opts.env ?? {}) }, encoding: opts.encoding ?? 'utf8', input: opts.input, timeout: opts.timeout ?? 60_000, maxBuffer: 256 << 20 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, error: r.error };
  }

  /** Like docker() but throws with the output when the command fails. */
  dockerOk(args: string[], opts: RunOpts & { encoding: 'buffer' }): Buffer;
  dockerOk(args: string[], opts?: RunOpts & { encoding?: 'utf8' }): string;
  dockerOk(args: string[], opts: RunOpts & { encoding?: 'utf8' | 'buffer' } = {}): string | Buffer {
    const r = opts.encoding === 'buffer' ? this.docker(args, { ...opts, encoding: 'buffer' }) : this.docker(args, { ...opts, encoding: 'utf8' });
    if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.error ? r.error.message : ''}`);
    return r.stdout;
  }

  /** Like docker() but asserts that the command fails, and returns its stderr. */
  dockerFail(args: string[], opts: RunOpts = {}): string {
    const r = this.docker(args, opts);
    assert.notEqual(r.code, 0, `docker ${args.join(' ')} should fail`);
    return r.stderr;
  }

  /** Runs our own CLI against this daemon. */
  berth(args: string[], opts: RunOpts = {}): RunResult {
    const r = spawnSync(path.join(ROOT, 'bin/berth'), args, { env: { ...this.env, ...(opts.env ?? {}) }, encoding: 'utf8', input: opts.input, timeout: opts.timeout ?? 60_000, maxBuffer: 256 << 20 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Raw HTTP through curl: returns { status, body }. */
  api(method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}): ApiResponse {
    const args = ['-s', '-o', '-', '-w', '\n%{http_code}', '--unix-socket', this.sock, '-X', method];
    for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
    if (body !== undefined) {
      if (!headers['Content-Type']) args.push('-H', 'Content-Type: application/json');
      args.push('--data-binary', typeof body === 'string' ? body : JSON.stringify(body));
    }
    args.push(`http://berth${urlPath}`);
    const r = spawnSync('curl', args, { encoding: 'utf8' });
    const text = r.stdout;
    const i = text.lastIndexOf('\n');
    return { status: Number(text.slice(i + 1)), body: text.slice(0, i) };
  }

  get pid(): number | undefined { return this.proc ? this.proc.pid : undefined; }

  /** SIGKILL the daemon (containers keep running under conmon). */
  async kill9(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    // The child is unref'd so a test can end while it runs; hold the loop open until its exit is seen.
    proc.ref();
    const exited = new Promise((r) => proc.once('exit', r));
    process.kill(proc.pid!, 'SIGKILL');
    await exited;
    proc.unref();
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode) return;
    proc.ref();
    const exited = new Promise((r) => proc.once('exit', r));
    process.kill(proc.pid!, 'SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    proc.unref();
  }

  /** Removes every container, stops the daemon, unmounts and deletes what it made. */
  async cleanup(): Promise<void> {
    if (this.proc && this.proc.exitCode === null && !this.proc.signalCode && this.ping()) {
      const ids = this.docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length) this.docker(['rm', '-f', ...ids]);
    }
    await this.stop();
    // A swarm member outlives berthd on purpose (a restarted daemon adopts it); a test's must not outlive the test.
    const etcd = killSwarmEtcd(this.dataRoot);
    if (etcd !== undefined) await gone(etcd);
    // Containers left running by a failed test: stop their supervisors and runtime state.
    const runtimeRoot = path.join(this.runRoot, 'runtime', 'crun');
    const list = spawnSync('crun', [`--root=${runtimeRoot}`, 'list', '-q'], { encoding: 'utf8' }).stdout || '';
    for (const id of list.split('\n').filter(Boolean)) spawnSync('crun', [`--root=${runtimeRoot}`, 'delete', '-f', id]);
    const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m): m is string => !!m && (m.startsWith(this.base) || m.startsWith(this.runRoot)));
    for (const m of mounts.reverse()) spawnSync('umount', ['-l', m]);
    // A failed test can leave this daemon's aardvark-dns and default bridge behind.
    const dns = spawnSync('pgrep', ['-f', `aardvark-dns --config ${path.join(this.runRoot, 'netavark')}`], { encoding: 'utf8' }).stdout || '';
    for (const pid of dns.split('\n').filter(Boolean)) { try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ } }
    if (fs.existsSync(`/sys/class/net/${this.bridge}`)) spawnSync('ip', ['link', 'del', this.bridge]);
    // A bridge network keeps its bridge and rules for its life, past berthd's (decision 19): a test's go with it.
    for (const bridge of storedBridges(path.join(this.dataRoot, 'networks'))) {
      if (fs.existsSync(`/sys/class/net/${bridge}`)) spawnSync('ip', ['link', 'del', bridge]);
    }
    spawnSync(process.execPath, [path.join(ROOT, 'dist/tools/remove-stale-bridge-rules.js')]);
    removeOverlayLeftovers(this.dataRoot);
    fs.rmSync(this.base, { recursive: true, force: true });
    fs.rmSync(this.runRoot, { recursive: true, force: true });
  }
}

/** The Linux bridges of the bridge networks a daemon's store records (user networks: br-<12>). */
function storedBridges(networksDir: string): string[] {
  const out: string[] = [];
  for (const name of fs.existsSync(networksDir) ? fs.readdirSync(networksDir) : []) {
    if (!name.endsWith('.json')) continue;
    try {
      const rec = JSON.parse(fs.readFileSync(path.join(networksDir, name), 'utf8')) as { driver?: string; bridge?: string };
      if (rec.driver === 'bridge' && rec.bridge && /^br-[0-9a-f]{12}$/.test(rec.bridge)) out.push(rec.bridge);
    } catch { /* a torn record: nothing to clean */ }
  }
  return out;
}

/**
 * A swarm daemon killed without leaving keeps its overlay devices and mesh chains in the namespace it ran in (on
 * purpose: its tasks keep serving); a test's must go with the test. They carry the daemon's tag (daemonOverlayTag) in
 * the devices' alias and the chains' names.
 */
export function removeOverlayLeftovers(dataRoot: string): void {
  const tag = daemonOverlayTag(dataRoot);
  const links = JSON.parse(spawnSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' }).stdout || '[]') as { ifname: string; ifalias?: string }[];
  for (const l of links) if (l.ifalias === `berth:${tag}`) spawnSync('ip', ['link', 'del', l.ifname]);
  const save = spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout || '';
  const doc: string[] = [];
  let table = '';
  const chains: string[] = [];
  const deletes: string[] = [];
  const flush = () => {
    if (table && chains.length) doc.push(`*${table}`, ...chains.map((c) => `:${c} - [0:0]`), ...deletes, ...chains.map((c) => `-X ${c}`), 'COMMIT');
    chains.length = 0;
    deletes.length = 0;
  };
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) { flush(); table = line.slice(1).trim(); }
    const chain = /^:(BERTH-MESH-[A-Z]+-(\w+)) /.exec(line);
    if (chain && chain[2] === tag) chains.push(chain[1]!);
    const jump = /^-A (\S+) (.*-j BERTH-MESH-[A-Z]+-(\w+))$/.exec(line);
    if (jump && jump[3] === tag && !jump[1]!.startsWith('BERTH-MESH-')) deletes.push(`-D ${jump[1]} ${jump[2]}`);
  }
  flush();
  if (doc.length) spawnSync('iptables-restore', ['--noflush', '-w'], { input: `${doc.join('\n')}\n` });
}
