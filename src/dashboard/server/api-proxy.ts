// /api/<path> → berthd's /<path> over its socket: method, body and answer streamed both ways (events, logs that
// follow, stats), status and Content-Type kept; only the headers the Engine API reads go through.
import * as http from 'node:http';
import type { DaemonAddress } from '../../cli/api-client';

/** Request headers the Engine API reads; the browser's cookies, Origin and Host stay here. */
const FORWARDED_REQUEST_HEADERS = ['content-type', 'content-length', 'transfer-encoding', 'accept', 'x-registry-auth', 'x-registry-config'];

/** Response headers that describe one hop, not the answer (RFC 9110 §7.6.1), or that the dashboard sets itself. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'set-cookie', 'cache-control']);

export class ApiProxy {
  /** Kept-alive connections to berthd: the page's list requests do not each open a socket. */
  private readonly agent = new http.Agent({ keepAlive: true });

  constructor(private readonly daemon: DaemonAddress, private readonly daemonName: string) {}

  /** Forwards `req` (its URL starts with /api/) to berthd and streams the answer back. */
  forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const upstreamPath = req.url!.slice('/api'.length);
    const headers: http.OutgoingHttpHeaders = {};
    for (const name of FORWARDED_REQUEST_HEADERS) if (req.headers[name] !== undefined) headers[name] = req.headers[name];
    const target = 'socketPath' in this.daemon ? { socketPath: this.daemon.socketPath } : { host: this.daemon.host, port: this.daemon.port };
    const upstream = http.request({ ...target, method: req.method, path: upstreamPath, headers, agent: this.agent });
    upstream.on('response', (answer) => {
      const out: http.OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(name) && value !== undefined) out[name] = value;
      res.writeHead(answer.statusCode ?? 502, out);
      // Streams (events, logs, stats) show their headers at once, as berthd sends them.
      res.flushHeaders();
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    upstream.on('error', (err) => {
      if (res.headersSent || res.destroyed) return void res.destroy();
      res.writeHead(502, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`cannot reach berthd at ${this.daemonName}: ${err.message}\n`);
    });
    // The browser went away (a closed log view, a left page): the daemon's stream ends with it.
    res.on('close', () => { if (!res.writableFinished) upstream.destroy(); });
    req.pipe(upstream);
  }

  close(): void { this.agent.destroy(); }
}
