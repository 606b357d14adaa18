// The connections log shipping sends through: TCP (TLS optional), unix stream sockets, UDP, and unix datagram
// sockets (syslog's /dev/log, the journal), each as one LogLink that reports when it breaks.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { spawn } from 'node:child_process';
import { once } from 'node:events';

export type LogEndpoint =
  | { kind: 'tcp'; host: string; port: number; tls?: LogTls }
  | { kind: 'udp'; host: string; port: number }
  | { kind: 'unix'; path: string }
  | { kind: 'unixgram'; path: string };

export interface LogTls { ca?: Buffer; cert?: Buffer; key?: Buffer; skipVerify: boolean }

/** One open connection to a log receiver. */
export interface LogLink {
  /**
   * Sends messages (each message's frames: one datagram each on a datagram link, back to back on a stream). Resolves
   * once the kernel has them, rejects when the link is broken.
   */
  send(messages: Buffer[][]): Promise<void>;
  /** Settles (with the reason) when the link breaks: the receiver closed or reset it, or refused a datagram. */
  readonly broken: Promise<Error>;
  close(): void;
}

export type LogDialer = (endpoint: LogEndpoint) => Promise<LogLink>;

export function describeEndpoint(e: LogEndpoint): string {
  switch (e.kind) {
    case 'tcp': return `${e.tls ? 'tcp+tls' : 'tcp'}://${hostPort(e.host, e.port)}`;
    case 'udp': return `udp://${hostPort(e.host, e.port)}`;
    default: return `${e.kind}://${e.path}`;
  }
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The real dialer. */
export const dialLogEndpoint: LogDialer = (e) => {
  switch (e.kind) {
    case 'tcp':
    case 'unix': return dialStream(e);
    case 'udp': return dialUdp(e.host, e.port);
    case 'unixgram': return dialUnixgram(e.path);
  }
};

const DIAL_TIMEOUT_MS = 5000;

async function dialStream(e: Extract<LogEndpoint, { kind: 'tcp' | 'unix' }>): Promise<LogLink> {
  let socket: net.Socket;
  if (e.kind === 'unix') socket = net.connect({ path: e.path });
  else if (e.tls) {
    socket = tls.connect({
      host: e.host, port: e.port, ca: e.tls.ca, cert: e.tls.cert, key: e.tls.key, rejectUnauthorized: !e.tls.skipVerify,
      servername: net.isIP(e.host) ? undefined : e.host,
    });
  } else socket = net.connect({ host: e.host, port: e.port });
  const timer = setTimeout(() => socket.destroy(new Error(`connect ${describeEndpoint(e)}: timed out`)), DIAL_TIMEOUT_MS);
  try {
    await once(socket, e.kind === 'tcp' && e.tls ? 'secureConnect' : 'connect');
  } finally {
    clearTimeout(timer);
  }
  socket.setNoDelay(true);
  const broken = new Promise<Error>((resolve) => {
    socket.on('error', (err) => resolve(err));
    // A receiver that closes its side reads nothing more: what is sent after would be lost.
    socket.on('end', () => resolve(new Error('the receiver closed the connection')));
    socket.on('close', () => resolve(new Error('connection closed')));
  });
  // Receivers of these protocols may answer (fluentd acks); nothing is read, so drain what comes.
  socket.resume();
  let down: Error | undefined;
  void broken.then((err) => { down = err; socket.destroy(); });
  return {
    broken,
    send: (messages) => new Promise<void>((resolve, reject) => {
      if (down) return reject(down);
      const bytes = Buffer.concat(messages.flat());
      socket.write(bytes, (err) => (err ? reject(err) : resolve()));
    }),
    close: () => socket.destroy(),
  };
}

async function dialUdp(host: string, port: number): Promise<LogLink> {
  const socket = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
  // Connected, so the kernel reports the ICMP "port unreachable" of a receiver that is down (ECONNREFUSED).
  socket.connect(port, host);
  await Promise.race([once(socket, 'connect'), once(socket, 'error').then(([err]) => { throw err as Error; })]);
  let down: Error | undefined;
  const broken = new Promise<Error>((resolve) => socket.on('error', resolve));
  void broken.then((err) => { down = err; try { socket.close(); } catch { /* closed */ } });
  return {
    broken,
    // All of a batch's datagrams handed to the kernel at once; the batch settles when the last is sent or one fails.
    send: (messages) => new Promise<void>((resolve, reject) => {
      if (down) return reject(down);
      let pending = 0;
      let failed = false;
      const done = (err: Error | null) => {
        if (failed) return;
        if (err) { failed = true; return reject(err); }
        if (--pending === 0) resolve();
      };
      for (const frames of messages) for (const frame of frames) { pending++; socket.send(frame, done); }
      if (pending === 0) resolve();
    }),
    close: () => { try { socket.close(); } catch { /* closed */ } },
  };
}

/**
 * Node has no unix datagram sockets; Perl (perl-base, on every Debian system) has, so a small perl process holds the
 * socket and sends each length-prefixed frame it reads on stdin as one datagram. It dies on a send error (the
 * receiver gone: ECONNREFUSED), which breaks the link like any other.
 */
const UNIXGRAM_SENDER = [
  'use strict; use IO::Socket::UNIX; use Socket;',
  'my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Peer => $ARGV[0]) or die "connect $ARGV[0]: $!\\n";',
  'binmode STDIN; print STDOUT "ready\\n"; STDOUT->flush();',
  'while (read(STDIN, my $h, 4) == 4) { my $n = unpack("N", $h); my $m = "";',
  '  while (length($m) < $n) { read(STDIN, $m, $n - length($m), length($m)) or exit 0; }',
  '  defined $s->send($m) or die "send: $!\\n"; }',
].join('\n');

async function dialUnixgram(path: string): Promise<LogLink> {
  const child = spawn('perl', ['-e', UNIXGRAM_SENDER, path], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<Error>((resolve) => {
    child.on('error', resolve);
    child.on('exit', () => resolve(new Error(stderr.trim() || `unix datagram sender for ${path} exited`)));
  });
  const ready = new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  const first = await Promise.race([ready.then(() => undefined), exited]);
  if (first) throw first;
  child.stdin.on('error', () => undefined);
  let down: Error | undefined;
  void exited.then((err) => { down = err; });
  return {
    broken: exited,
    send: (messages) => new Promise<void>((resolve, reject) => {
      if (down) return reject(down);
      const parts: Buffer[] = [];
      for (const frames of messages) {
        for (const frame of frames) {
          const len = Buffer.alloc(4);
          len.writeUInt32BE(frame.length);
          parts.push(len, frame);
        }
      }
      child.stdin.write(Buffer.concat(parts), (err) => (err ? reject(err) : resolve()));
    }),
    close: () => { child.stdin.end(); child.kill(); },
  };
}
