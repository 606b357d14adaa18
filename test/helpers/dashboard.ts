// A real `berth dashboard` process for integration and browser tests: started against a TestDaemon, its printed URL
// read, signed in with its token, requests made with exactly the headers a test chooses, stopped by its PID.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import { ROOT, type TestDaemon } from './daemon';

/** An answer read whole. */
export interface DashboardAnswer { status: number; headers: http.IncomingHttpHeaders; body: string }

export interface DashboardRequest {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Send the session cookie (default true once signed in). */
  cookie?: boolean;
}

export class TestDashboard {
  proc: ChildProcess | undefined;
  /** The printed URL, with its token. */
  url = '';
  /** scheme://host:port, without a path. */
  base = '';
  token = '';
  /** The session cookie's name (the process's own) and value once signed in. */
  cookieName = '';
  session = '';
  stderr = '';

  /** `ca`: the certificate a TLS dashboard's clients trust. */
  constructor(readonly daemon: TestDaemon, readonly args: string[] = [], readonly ca?: Buffer) {}

  /** Starts `berth dashboard` (port 0 unless args say) and waits for its URL line. */
  async start(): Promise<this> {
    const args = [path.join(ROOT, 'bin/berth'), 'dashboard', ...(this.args.includes('--addr') ? [] : ['--addr', '127.0.0.1:0']), ...this.args];
    const proc = spawn(process.execPath, args, { env: this.daemon.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stderr!.on('data', (c: Buffer) => { this.stderr += c.toString(); });
    let out = '';
    const line = await new Promise<string>((resolve, reject) => {
      proc.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /^Dashboard: (\S+)\n/m.exec(out);
        if (m) resolve(m[1]!);
      });
      proc.once('exit', (code) => reject(new Error(`berth dashboard exited ${code} before printing its URL: ${this.stderr}`)));
    });
    this.url = line;
    const u = new URL(line);
    this.base = `${u.protocol}//${u.host}`;
    this.token = u.searchParams.get('token') ?? '';
    assert.match(this.token, /^[0-9a-f]{64}$/);
    return this;
  }

  /** The Host header of the printed URL. */
  get host(): string { return new URL(this.base).host; }

  /** Signs in with the token: the 303's cookie is kept for later requests. */
  async signIn(): Promise<DashboardAnswer> {
    const r = await this.request(`/?token=${this.token}`, { cookie: false });
    assert.equal(r.status, 303, `sign-in: ${r.status} ${r.body}`);
    const m = /^(berth_dashboard_[0-9a-f]{8})=([0-9a-f]{64});/.exec(String(r.headers['set-cookie'] ?? ''));
    assert.ok(m, `a session cookie: ${String(r.headers['set-cookie'])}`);
    this.cookieName = m[1]!;
    this.session = m[2]!;
    return r;
  }

  /** Headers a browser on the dashboard's own page would send (Origin for writes, the cookie). */
  ownHeaders(extra: Record<string, string> = {}): Record<string, string> {
    return { Origin: this.base, ...(this.session ? { Cookie: `${this.cookieName}=${this.session}` } : {}), ...extra };
  }

  /** Starts a request and resolves with the response as it begins (for streams). */
  open(urlPath: string, o: DashboardRequest = {}): Promise<http.IncomingMessage> {
    const headers: Record<string, string> = { ...(o.cookie !== false && this.session ? { Cookie: `${this.cookieName}=${this.session}` } : {}), ...o.headers };
    const u = new URL(this.base);
    const lib = u.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      // The path is sent as written (no normalisation of "..": the server must refuse what a raw client sends).
      const req = lib.request({ host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port, method: o.method ?? 'GET', path: urlPath, headers, ca: this.ca, agent: false });
      req.on('response', resolve);
      req.on('error', reject);
      req.end(o.body);
    });
  }

  async request(urlPath: string, o: DashboardRequest = {}): Promise<DashboardAnswer> {
    const res = await this.open(urlPath, o);
    const chunks: Buffer[] = [];
    for await (const c of res) chunks.push(c as Buffer);
    return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() };
  }

  /** SIGTERM by PID, then the exit awaited. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  }
}
