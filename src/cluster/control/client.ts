// Calls to other nodes' control endpoints: a join (pinning the manager's CA to the digest in the token before the
// token's secret is sent), and, with this node's certificate, a peer's task logs and image export, and a promoted
// node's manager material.
import * as https from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import { X509Certificate } from 'node:crypto';
import { InvalidParameterError, UnavailableError } from '../../errdefs';
import type { LogOptions } from '../backend';
import { caDigest, parseJoinToken, INVALID_JOIN_TOKEN } from '../ca/tokens';
import type { JoinAnswer, JoinAsk, PromoteAnswer } from './messages';
import type { TlsMaterial } from '../ports';
import { logOptionsToQuery } from './server';

function splitHostPort(addr: string): { host: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(addr);
  return m ? { host: m[1]!, port: Number(m[2]) } : { host: addr, port: 2377 };
}

interface CallOptions {
  method: string;
  path: string;
  body?: unknown;
  tls: { ca?: string; cert?: string; key?: string; verify: boolean };
  timeoutMs?: number;
}

function call(addr: string, o: CallOptions): Promise<{ res: IncomingMessage; peerCert?: Buffer }> {
  const { host, port } = splitHostPort(addr);
  const data = o.body === undefined ? undefined : JSON.stringify(o.body);
  return new Promise((resolve, reject) => {
    const req = https.request({
      host, port, method: o.method, path: o.path,
      ca: o.tls.ca, cert: o.tls.cert, key: o.tls.key,
      // Before the CA is known (GET /ca) the server's chain cannot be checked; the answer is checked instead.
      rejectUnauthorized: o.tls.verify,
      headers: data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {},
      timeout: o.timeoutMs ?? 20_000,
    }, (res) => {
      const socket = res.socket as import('node:tls').TLSSocket;
      resolve({ res, peerCert: socket.getPeerCertificate?.()?.raw });
    });
    req.on('timeout', () => req.destroy(new UnavailableError(`control endpoint ${addr}: timed out`)));
    req.on('error', (err) => reject(err instanceof UnavailableError ? err : new UnavailableError(`control endpoint ${addr}: ${err.message}`)));
    req.end(data);
  });
}

async function text(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

/** Joins through a manager: fetch its CA, pin it to the token's digest, check the server's certificate is from it, then ask. */
export async function joinThrough(remote: string, token: string, ask: JoinAsk): Promise<JoinAnswer> {
  const parsed = parseJoinToken(token);
  if (!parsed) throw new InvalidParameterError(INVALID_JOIN_TOKEN);
  const first = await call(remote, { method: 'GET', path: '/ca', tls: { verify: false } });
  const caPem = await text(first.res);
  if (caDigest(caPem) !== parsed.caDigest) {
    throw new InvalidParameterError(`remote CA does not match fingerprint. Expected: ${parsed.caDigest}`);
  }
  if (!first.peerCert || !new X509Certificate(first.peerCert).verify(new X509Certificate(caPem).publicKey)) {
    throw new InvalidParameterError('the manager\'s certificate is not signed by the CA the join token names');
  }
  const { res } = await call(remote, { method: 'POST', path: '/join', body: { token, ...ask }, tls: { ca: caPem, verify: true } });
  const body = await text(res);
  const parsedBody = (() => { try { return JSON.parse(body) as JoinAnswer & { message?: string }; } catch { return { message: body } as { message: string }; } })();
  if (res.statusCode !== 200) {
    const message = (parsedBody as { message?: string }).message ?? `join refused (${res.statusCode})`;
    if (res.statusCode === 400) throw new InvalidParameterError(message);
    throw new UnavailableError(message);
  }
  return parsedBody as JoinAnswer;
}

/** A peer node's task logs (its control endpoint, with this node's certificate). */
export async function peerTaskLogs(addr: string, tls: TlsMaterial, taskId: string, options: LogOptions): Promise<{ tty: boolean; stream: Readable }> {
  const { res } = await call(addr, {
    method: 'GET', path: `/tasks/${encodeURIComponent(taskId)}/logs?${logOptionsToQuery(options)}`,
    tls: { ca: tls.caPem, cert: tls.certPem, key: tls.keyPem, verify: true }, timeoutMs: 0,
  });
  if (res.statusCode !== 200) throw new UnavailableError(`logs of task ${taskId} from ${addr}: ${await text(res)}`);
  return { tty: res.headers['x-berth-tty'] === 'true', stream: res };
}

/** An image tar from a peer that has it; undefined when it does not. */
export async function peerImage(addr: string, tls: TlsMaterial, ref: string): Promise<Readable | undefined> {
  const { res } = await call(addr, { method: 'GET', path: `/images/${encodeURIComponent(ref)}`, tls: { ca: tls.caPem, cert: tls.certPem, key: tls.keyPem, verify: true }, timeoutMs: 0 });
  if (res.statusCode === 200) return res;
  res.resume();
  return undefined;
}

/** A node promoted to manager asks a manager (with its current certificate) for its manager certificate and keys. */
export async function promoteThrough(addr: string, tls: TlsMaterial, csrPem: string): Promise<PromoteAnswer> {
  const { res } = await call(addr, { method: 'POST', path: '/promote', body: { csrPem }, tls: { ca: tls.caPem, cert: tls.certPem, key: tls.keyPem, verify: true } });
  const body = await text(res);
  if (res.statusCode !== 200) throw new UnavailableError(`promotion through ${addr}: ${body}`);
  return JSON.parse(body) as PromoteAnswer;
}
