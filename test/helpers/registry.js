// Starts `berth registry serve` as its own process for tests (a free loopback port), and small OCI distribution client helpers.
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');

class TestRegistry {
  /** `args`: serve flags besides --addr; `root` defaults to a fresh temp dir (fs storage). */
  constructor(args = [], opts = {}) {
    this.base = opts.base ?? fs.mkdtempSync(path.join(os.tmpdir(), 'berth-registry-'));
    this.root = opts.root ?? path.join(this.base, 'root');
    this.args = args;
    this.addr = opts.addr ?? '127.0.0.1:0';
    this.starts = 0;
    this.env = { ...process.env, ...(opts.env ?? {}) };
  }

  async start() {
    const storage = this.args.includes('--storage') ? [] : ['--root', this.root];
    // One log per start, so a restart waits for its own "listening" line.
    this.logFile = path.join(this.base, `registry-${++this.starts}.log`);
    const out = fs.openSync(this.logFile, 'a');
    this.proc = spawn(path.join(ROOT, 'bin/berth'), ['registry', 'serve', '--addr', this.addr, ...storage, ...this.args], { stdio: ['ignore', out, out], env: this.env });
    for (let i = 0; i < 300; i++) {
      const m = /registry listening on (\S+)/.exec(this.log());
      if (m) {
        this.url = m[1];
        this.host = new URL(this.url).host;
        // Later restarts reuse the port.
        this.addr = this.host;
        return this;
      }
      if (this.proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`registry did not start:\n${this.log()}`);
  }

  log() {
    try { return fs.readFileSync(this.logFile, 'utf8'); } catch { return ''; }
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
    if (this.proc.exitCode === null && !this.proc.signalCode) { this.proc.kill('SIGKILL'); await exited; }
  }

  async kill9() {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode) return;
    const exited = new Promise((r) => this.proc.once('exit', r));
    this.proc.kill('SIGKILL');
    await exited;
  }

  async cleanup() {
    await this.stop();
    fs.rmSync(this.base, { recursive: true, force: true });
  }
}

const sha256 = (data) => 'sha256:' + crypto.createHash('sha256').update(data).digest('hex');

/** A self-signed certificate for 127.0.0.1, localhost and `ips` (openssl), written into dir: { cert, key }. */
function selfSignedCert(dir, ips = []) {
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', '/CN=127.0.0.1', '-addext', `subjectAltName=${['127.0.0.1', ...ips].map((ip) => `IP:${ip}`).join(',')},DNS:localhost`, '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

/** htpasswd file with one bcrypt user, written by `berth registry htpasswd`. */
function htpasswd(file, user, password) {
  execFileSync(path.join(ROOT, 'bin/berth'), ['registry', 'htpasswd', file, user], { input: password });
  return file;
}

module.exports = { TestRegistry, sha256, selfSignedCert, htpasswd };
