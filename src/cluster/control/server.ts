// The node's control endpoint (HTTPS on <advertise address>:2377 while in a swarm): POST /join for nodes joining
// with a token (answered by managers), and, for peers holding a node certificate of this cluster, GET
// /tasks/<id>/logs (this node's task logs, for a manager merging service logs), GET /images/<ref> (an image
// this node has and no registry does) and POST /promote (a node promoted to manager gets its manager certificate
// and the cluster data key from a manager). GET /ca serves the trust root a joiner pins against its token.
import * as https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BerthError, errorMessage } from '../../errdefs';
import { statusOf } from '../../api/errors';
import type { LogOptions } from '../backend';
import { identityOfCertificate, type NodeIdentity } from '../ca/ca';
import type { JoinAnswer, JoinAsk, PromoteAnswer } from './messages';
import type { Running, TlsMaterial } from '../ports';

export interface ControlHandlers {
  /** Checks the token and admits the node (managers only; workers answer 503). */
  join(token: string, ask: JoinAsk): Promise<JoinAnswer>;
  taskLogs(taskId: string, options: LogOptions): Promise<{ tty: boolean; stream: Readable } | undefined>;
  exportImage(ref: string): Promise<Readable | undefined>;
  /** A node whose certificate says who it is and whose Node is now a manager asks for its manager material. */
  promote(peer: NodeIdentity, csrPem: string): Promise<PromoteAnswer>;
}

export interface ControlServerOptions {
  host: string;
  port: number;
  tls: TlsMaterial;
  handlers: ControlHandlers;
  log: { error(m: string): void };
}

export function logOptionsFromQuery(q: URLSearchParams): LogOptions {
  const bool = (k: string) => ['1', 'true'].includes(q.get(k) ?? '');
  const tail = q.get('tail');
  return {
    follow: bool('follow'), stdout: bool('stdout'), stderr: bool('stderr'), timestamps: bool('timestamps'), details: bool('details'),
    since: Number(q.get('since') ?? 0) || 0, tail: !tail || tail === 'all' ? 'all' : Number(tail),
  };
}

export function logOptionsToQuery(o: LogOptions): string {
  const q = new URLSearchParams({
    follow: String(o.follow), stdout: String(o.stdout), stderr: String(o.stderr), timestamps: String(o.timestamps), details: String(o.details),
    since: String(o.since), tail: String(o.tail),
  });
  return q.toString();
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > 1 << 20) throw new Error('request body too large');
    chunks.push(c);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export async function startControlServer(o: ControlServerOptions): Promise<Running> {
  const server = https.createServer({
    cert: o.tls.certPem + o.tls.caPem, key: o.tls.keyPem, ca: o.tls.caPem,
    // Joiners have no certificate yet: the TLS layer asks for one, each route decides whether it needs it.
    requestCert: true, rejectUnauthorized: false,
  }, (req, res) => void handle(req, res).catch((err) => {
    o.log.error(`control ${req.method} ${req.url}: ${errorMessage(err)}`);
    if (!res.headersSent) answer(res, err instanceof BerthError ? statusOf(err) : 500, { message: errorMessage(err) });
    else res.destroy();
  }));

  /** The peer node's identity from its verified client certificate, or undefined. */
  const peerOf = (req: IncomingMessage): NodeIdentity | undefined => {
    const socket = req.socket as TLSSocket;
    if (!socket.authorized) return undefined;
    const cert = socket.getPeerCertificate();
    return cert?.raw ? identityOfCertificate(cert.raw, o.tls.caPem) : undefined;
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://control');
    if (req.method === 'GET' && url.pathname === '/ca') {
      res.writeHead(200, { 'Content-Type': 'application/x-pem-file' });
      res.end(o.tls.caPem);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/join') {
      const body = await readJson(req) as { token?: unknown } & Partial<JoinAsk>;
      const ask: JoinAsk = {
        nodeId: String(body.nodeId ?? ''), csrPem: String(body.csrPem ?? ''), advertiseAddr: String(body.advertiseAddr ?? ''),
        etcdPeerUrl: String(body.etcdPeerUrl ?? ''), etcdClientUrl: String(body.etcdClientUrl ?? ''),
      };
      answer(res, 200, await o.handlers.join(String(body.token ?? ''), ask));
      return;
    }
    const peer = peerOf(req);
    if (!peer) {
      answer(res, 401, { message: 'a node certificate of this swarm is required' });
      return;
    }
    if (req.method === 'POST' && url.pathname === '/promote') {
      const body = await readJson(req) as { csrPem?: unknown };
      answer(res, 200, await o.handlers.promote(peer, String(body.csrPem ?? '')));
      return;
    }
    const logs = /^\/tasks\/([^/]+)\/logs$/.exec(url.pathname);
    if (req.method === 'GET' && logs) {
      const got = await o.handlers.taskLogs(decodeURIComponent(logs[1]!), logOptionsFromQuery(url.searchParams));
      if (!got) { answer(res, 404, { message: `task ${logs[1]} not found on this node` }); return; }
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'X-Berth-Tty': String(got.tty) });
      req.socket.once('close', () => got.stream.destroy());
      await pipeline(got.stream, res).catch(() => undefined);
      return;
    }
    const image = /^\/images\/(.+)$/.exec(url.pathname);
    if (req.method === 'GET' && image) {
      const tar = await o.handlers.exportImage(decodeURIComponent(image[1]!));
      if (!tar) { answer(res, 404, { message: `No such image: ${image[1]}` }); return; }
      res.writeHead(200, { 'Content-Type': 'application/x-tar' });
      await pipeline(tar, res).catch(() => undefined);
      return;
    }
    answer(res, 404, { message: 'page not found' });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => { server.off('error', reject); resolve(); });
  });
  return {
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
