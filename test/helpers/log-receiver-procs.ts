// Real log receivers on loopback as processes a test can kill mid-stream and start again: Debian's rsyslogd with a
// config of the test's own (UDP, TCP, a unix datagram and a unix stream socket, everything into one file), and the
// strict fluentd-forward and GELF receivers of log-receivers.ts.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { until } from './wait';

/** A port free on 127.0.0.1 now (TCP; UDP ports of that number are free alike on a quiet test host). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** The JSON lines a receiver wrote. */
export function receivedRecords<T>(out: string): T[] {
  if (!fs.existsSync(out)) return [];
  return fs.readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
}

export class StrictReceiver {
  private proc?: ChildProcess;
  stderr = '';

  constructor(readonly kind: 'fluentd' | 'gelf-udp' | 'gelf-tcp', readonly port: number, readonly out: string) {}

  async start(): Promise<void> {
    const proc = spawn(process.execPath, [path.join(__dirname, 'log-receivers.js'), this.kind, String(this.port), this.out], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    await new Promise<void>((resolve, reject) => {
      proc.stdout!.once('data', () => resolve());
      proc.once('exit', (code) => reject(new Error(`${this.kind} receiver exited ${code}: ${this.stderr}`)));
    });
  }

  /** kill -9: what it had not read from its sockets is lost with it. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }
}

/** Debian's rsyslogd, run in the foreground with its own config; every message goes to `out`, one line each. */
export class Rsyslog {
  private proc?: ChildProcess;
  readonly conf: string;
  readonly out: string;
  readonly pidFile: string;
  readonly dgramSocket: string;
  readonly streamSocket: string;
  stderr = '';

  constructor(readonly dir: string, readonly udpPort: number, readonly tcpPort: number) {
    fs.mkdirSync(dir, { recursive: true });
    this.conf = path.join(dir, 'rsyslog.conf');
    this.out = path.join(dir, 'messages');
    this.pidFile = path.join(dir, 'rsyslogd.pid');
    this.dgramSocket = path.join(dir, 'dgram.sock');
    this.streamSocket = path.join(dir, 'stream.sock');
    // One line per message: the parts the driver's format decides (tag, app-name, msgid, severity, facility) apart.
    fs.writeFileSync(this.conf, [
      `global(workDirectory="${dir}")`,
      'module(load="imudp")', `input(type="imudp" address="127.0.0.1" port="${udpPort}")`,
      'module(load="imtcp")', `input(type="imtcp" address="127.0.0.1" port="${tcpPort}")`,
      'module(load="imuxsock" SysSock.Use="off")', `input(type="imuxsock" Socket="${this.dgramSocket}" CreatePath="on" UseSpecialParser="off" ParseHostname="on")`,
      'module(load="imptcp")', `input(type="imptcp" path="${this.streamSocket}" unlink="on")`,
      'template(name="line" type="string" string="%syslogtag%|%app-name%|%msgid%|%syslogseverity-text%|%syslogfacility-text%|%msg%\\n")',
      `action(type="omfile" file="${this.out}" template="line" flushOnTXEnd="on" asyncWriting="off")`,
      '',
    ].join('\n'));
  }

  async start(): Promise<void> {
    const proc = spawn('rsyslogd', ['-f', this.conf, '-i', this.pidFile, '-n'], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    proc.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    await until(async () => {
      if (proc.exitCode !== null) throw new Error(`rsyslogd exited ${proc.exitCode}: ${this.stderr}`);
      return fs.existsSync(this.dgramSocket) && fs.existsSync(this.streamSocket) && await canConnect(this.tcpPort);
    }, 'rsyslogd listening', 100);
  }

  /** SIGTERM (rsyslogd writes out its queue and closes its sockets), or SIGKILL. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await exited;
  }

  lines(): string[] {
    return fs.existsSync(this.out) ? fs.readFileSync(this.out, 'utf8').split('\n').filter(Boolean) : [];
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
