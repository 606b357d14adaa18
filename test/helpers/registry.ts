// Starts `berth registry serve` as its own process for tests (a free loopback port), and small OCI distribution client helpers.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot } from './paths';

const ROOT = repoRoot;

export interface TestRegistryOpts {
  base?: string;
  root?: string;
  addr?: string;
  env?: NodeJS.ProcessEnv;
}

export class TestRegistry {
  readonly base: string;
  readonly root: string;
  readonly args: string[];
  addr: string;
  starts: number;
  readonly env: NodeJS.ProcessEnv;
  logFile = '';
  proc: ChildProcess | undefined;
  /** Set once started: the registry's base URL and its host:port. */
  url = '';
  host = '';

  /** `args`: serve flags besides --addr; `root` defaults to a fresh temp dir (fs storage). */
  constructor(args: string[] = [], opts: TestRegistryOpts = {}) {
    this.base = opts.base ?? fs.mkdtempSync(path.join(os.tmpdir(), 'berth-registry-'));
    this.root = opts.root ?? path.join(this.base, 'root');
    this.args = args;
    this.addr = opts.addr ?? '127.0.0.1:0';
    this.starts = 0;
    this.env = { ...process.env, ...(opts.env ?? {}) };
  }

  async start(): Promise<this> {
    const storage = this.args.includes('--storage') ? [] : ['--root', this.root];
    // One log per start, so a restart waits for its own "listening" line.
    this.logFile = path.join(this.base, `registry-${++this.starts}.log`);
    const out = fs.openSync(this.logFile, 'a');
    const proc = spawn(path.join(ROOT, 'bin/berth'), ['registry', 'serve', '--addr', this.addr, ...storage, ...this.args], { stdio: ['ignore', out, out], env: this.env });
    this.proc = proc;
    for (let i = 0; i < 300; i++) {
      const m = /registry listening on (\S+)/.exec(this.log());
      if (m) {
        this.url = m[1];
        this.host = new URL(this.url).host;
        // Later restarts reuse the port.
        this.addr = this.host;
        return this;
      }
      if (proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`registry did not start:\n${this.log()}`);
  }

  log(): string {
    try { return fs.readFileSync(this.logFile, 'utf8'); } catch { return ''; }
  }

  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (proc.exitCode === null && !proc.signalCode) { proc.kill('SIGKILL'); await exited; }
  }

  async kill9(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  }

  async cleanup(): Promise<void> {
    await this.stop();
    fs.rmSync(this.base, { recursive: true, force: true });
  }
}

/**
 * A request to a registry, sent once more if the connection fails: undici may reuse a kept-alive connection the
 * registry has just closed ('fetch failed' under load). Only for reads and idempotent writes (a PUT by tag or digest).
 */
export const fetchOnceMore = (url: string | URL, init?: RequestInit): Promise<Response> => fetch(url, init).catch(() => fetch(url, init));

export const sha256 = (data: crypto.BinaryLike): string => 'sha256:' + crypto.createHash('sha256').update(data).digest('hex');

/** A self-signed certificate for 127.0.0.1, localhost and `ips` (openssl), written into dir: { cert, key }. */
export function selfSignedCert(dir: string, ips: string[] = []): { cert: string; key: string } {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', `subjectAltName=${['127.0.0.1', ...ips].map((ip) => `IP:${ip}`).join(',')},DNS:localhost`, '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

/** htpasswd file with one bcrypt user, written by `berth registry htpasswd`. */
export function htpasswd(file: string, user: string, password: string): string {
  execFileSync(path.join(ROOT, 'bin/berth'), ['registry', 'htpasswd', file, user], { input: password });
  return file;
}
