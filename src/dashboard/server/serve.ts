// `berth dashboard`'s server: the gate before everything, then the page's files, the /api proxy to berthd and the
// /ws/exec terminal bridge, on HTTP for loopback or HTTPS (required anywhere else).
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { ApiClient } from '../../cli/api-client';
import { InvalidParameterError } from '../../errdefs';
import { formatListenAddress, parseListenAddress } from '../../wire/listen-address';
import { ApiProxy } from './api-proxy';
import { bridgeExec, execDaemonOf, parseExecRequest } from './exec-bridge';
import {
  allowedHosts, hasSession, needsTls, newSecrets, refusal, sameSecret, sessionCookie, setSecurityHeaders, SIGN_IN_HINT,
  type GateConfig, type Refusal,
} from './gate';
import { DEFAULT_WEB_ROOT, serveStatic } from './static-files';

export const DEFAULT_ADDR = '127.0.0.1:7475';

export interface DashboardOptions {
  addr?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** berthd's address as the CLI writes it (unix:///run/berth/berth.sock, tcp://...). */
  daemonHost: string;
  /** Where the page's built files are (dist/dashboard unless told). */
  webRoot?: string;
  /** Errors of the server itself, one line each. */
  log(line: string): void;
}

export interface RunningDashboard {
  /** The URL to open, with the token. */
  url: string;
  close(): Promise<void>;
}

/** The listening address and TLS files, checked before anything listens: a non-loopback address without TLS is refused. */
function checkedOptions(o: DashboardOptions): { host: string; port: number; tls?: { cert: Buffer; key: Buffer } } {
  const listen = parseListenAddress(o.addr ?? DEFAULT_ADDR, '--addr', 7475)!;
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw new InvalidParameterError('--tls-cert and --tls-key go together: give both or neither');
  if (o.tlsCert === undefined && needsTls(listen.host)) {
    throw new InvalidParameterError(`--addr ${formatListenAddress(listen)} is not a loopback address: the dashboard drives the Engine API, which is root on this host, so anywhere but loopback it needs TLS (--tls-cert and --tls-key) to keep its token and cookie off the network`);
  }
  if (o.tlsCert === undefined || o.tlsKey === undefined) return listen;
  const read = (flag: string, file: string) => {
    try { return fs.readFileSync(file); } catch (e) { throw new InvalidParameterError(`${flag} ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`); }
  };
  return { ...listen, tls: { cert: read('--tls-cert', o.tlsCert), key: read('--tls-key', o.tlsKey) } };
}

/** A plain-text refusal (the page shows it as it is), with the status it names. */
function answer(res: http.ServerResponse, r: Refusal): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(r.status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(r.message);
}

/** A refusal of a WebSocket upgrade, written on the raw socket (there is no response object yet). */
function refuseUpgrade(socket: Duplex, r: Refusal): void {
  const body = Buffer.from(r.message);
  socket.end(`HTTP/1.1 ${r.status} ${http.STATUS_CODES[r.status]}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${r.message}`);
}

export async function serveDashboard(o: DashboardOptions): Promise<RunningDashboard> {
  const listen = checkedOptions(o);
  const secrets = newSecrets();
  const api = new ApiClient(o.daemonHost);
  const proxy = new ApiProxy(api.address, o.daemonHost);
  const execs = execDaemonOf(api);
  const webRoot = o.webRoot ?? DEFAULT_WEB_ROOT;
  const tls = listen.tls !== undefined;
  // The port is known once listening (0 asks the kernel): the gate's hosts are filled in then.
  const gate: GateConfig = { secrets, tls, hosts: new Set() };

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const pathname = (req.url ?? '/').split('?')[0]!;
    setSecurityHeaders(res, pathname);
    const refused = refusal(req, gate, false);
    if (refused) return answer(res, refused);
    if (pathname === '/' && req.method === 'GET') {
      const token = new URL(req.url!, 'http://dashboard').searchParams.get('token');
      if (token !== null) {
        // Sign in: the token becomes the cookie, and the redirect takes it out of the address bar and history.
        if (!sameSecret(token, secrets.token)) return answer(res, { status: 401, message: 'wrong token: open the URL `berth dashboard` printed\n' });
        res.writeHead(303, { 'Set-Cookie': sessionCookie(secrets, tls), Location: '/', 'Cache-Control': 'no-store' });
        return void res.end();
      }
    }
    if (!hasSession(req, secrets)) return answer(res, { status: 401, message: SIGN_IN_HINT });
    if (pathname.startsWith('/api/')) return proxy.forward(req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return answer(res, { status: 405, message: `${req.method} is not served here: the page's files are read with GET\n` });
    }
    serveStatic(webRoot, req, res, pathname, (r) => answer(res, r)).catch((e: unknown) => {
      o.log(`dashboard: serving ${pathname}: ${String(e)}`);
      res.destroy();
    });
  };

  const server = listen.tls ? https.createServer({ cert: listen.tls.cert, key: listen.tls.key }, onRequest) : http.createServer(onRequest);
  const sockets = new WebSocketServer({ noServer: true, maxPayload: 1 << 20 });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const refused = refusal(req, gate, true) ?? (hasSession(req, secrets) ? undefined : { status: 401 as const, message: SIGN_IN_HINT });
    if (refused) return refuseUpgrade(socket, refused);
    const request = parseExecRequest(req.url ?? '/');
    if (typeof request === 'string') return refuseUpgrade(socket, { status: request.startsWith('no WebSocket') ? 404 : 400, message: `${request}\n` });
    sockets.handleUpgrade(req, socket, head, (ws) => {
      void bridgeExec(ws, execs, request);
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new InvalidParameterError(`--addr ${formatListenAddress(listen)}: cannot listen: ${err.code ?? err.message}`)));
    server.listen(listen.port, listen.host, () => resolve());
  });
  server.on('error', (err) => o.log(`dashboard: ${err.message}`));
  const port = (server.address() as AddressInfo).port;
  for (const h of allowedHosts({ host: listen.host, port }, tls)) gate.hosts.add(h);
  const url = `${tls ? 'https' : 'http'}://${formatListenAddress({ host: listen.host, port })}/?token=${secrets.token}`;
  return {
    url,
    async close() {
      for (const ws of sockets.clients) ws.terminate();
      sockets.close();
      proxy.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
