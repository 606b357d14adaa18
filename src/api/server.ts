// The Docker Engine API over HTTP: version prefix, routing, JSON bodies, hijacked connections, error bodies.
import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { errorMessage, InvalidParameterError, NotFoundError } from '../errdefs';
import { statusOf } from './errors';
import { compareApiVersions, Router, type RequestContext } from './router';
import { decode, type Shape } from './shapes/decode';
import { hijackConnection, RequestBody } from './hijack';
import { versionServed } from './api-versions';
import { API_VERSION, FIRST_JSON_ERRORS_VERSION, MAX_API_VERSION, MIN_API_VERSION } from '../wire/docker';

const VERSION_PREFIX = /^\/v(\d+\.\d+)(\/.*)$/;
/** Connections taken over by attach or exec: Node's HTTP error handling no longer speaks on them. */
const hijackedSockets = new WeakSet<Duplex>();

export interface ApiLogger {
  error(msg: string): void;
}

/** Go's http.DefaultMaxHeaderBytes. */
const MAX_HEADER_BYTES = 1 << 20;

/** Told of each request once it is over (metrics): the route it matched as registered, or "unmatched". */
export type RequestObserver = (r: { method: string; route: string; status: number; seconds: number }) => void;

export function createApiServer(router: Router, log: ApiLogger, observe?: RequestObserver): http.Server {
  // Request heads up to 1 MiB, as Go's http.DefaultMaxHeaderBytes in dockerd (Node's own limit is 16 KiB): an
  // X-Registry-Auth header with an identity token, or a long query, is accepted as dockerd accepts it.
  const server = http.createServer({ keepAlive: true, requestTimeout: 0, headersTimeout: 0, maxHeaderSize: MAX_HEADER_BYTES });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    void dispatch(router, req, res, undefined, log, 0, observe);
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (head.length) socket.unshift(head);
    void dispatch(router, req, undefined, socket, log, head.length, observe);
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex & { _httpMessage?: http.ServerResponse }) => {
    // As Node's own handler: a 400 only for a malformed request, never into a response already under way (a
    // stats stream whose client reset), and the socket always goes, so nothing is left open.
    const inFlight = (socket._httpMessage?.headersSent ?? false) || hijackedSockets.has(socket);
    if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE' && socket.writable && !inFlight) {
      const answer = err.code === 'HPE_HEADER_OVERFLOW'
        ? '431 Request Header Fields Too Large\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"message":"request header fields larger than 1 MiB"}\n'
        : '400 Bad Request\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{"message":"malformed HTTP request"}\n';
      socket.end(`HTTP/1.1 ${answer}`, () => socket.destroy());
    } else socket.destroy();
  });
  // After listen: a failed accept (EMFILE) costs that connection, logged, never the daemon.
  server.on('error', (err) => log.error(`API server: ${err.message}`));
  return server;
}

/** `arrivedWithRequest`: for an upgrade, how many bytes Node read past the request's head in the same go. */
async function dispatch(router: Router, req: http.IncomingMessage, res: http.ServerResponse | undefined, upgradeSocket: Duplex | undefined, log: ApiLogger, arrivedWithRequest = 0, observe?: RequestObserver): Promise<void> {
  const started = process.hrtime.bigint();
  let route = 'unmatched';
  // An upgrade's status is its 101, or the error answered instead.
  let upgradeStatus = 101;
  const report = (status: number) => observe?.({ method: req.method ?? 'GET', route, status, seconds: Number(process.hrtime.bigint() - started) / 1e9 });
  if (observe) {
    if (res) res.once('close', () => report(res.statusCode));
    else upgradeSocket?.once('close', () => report(upgradeStatus));
  }
  // A request target Node's parser accepts but WHATWG URL refuses (e.g. "http://[x") is answered 400 below.
  let url: URL | undefined;
  try {
    url = new URL(req.url ?? '/', 'http://berth');
  } catch {
    url = undefined;
  }
  let path = url?.pathname ?? '/';
  let apiVersion = API_VERSION;
  const versioned = VERSION_PREFIX.exec(path);
  let hijacked = false;
  const socket: Duplex = upgradeSocket ?? req.socket;
  const body = new RequestBody(req, upgradeSocket, arrivedWithRequest);
  if (res) endAfterBody(req, res);

  const ctx: RequestContext = {
    req,
    res,
    params: {},
    query: url?.searchParams ?? new URLSearchParams(),
    apiVersion,
    body: async <T>(shape: Shape<T>) => decode(shape, parseJsonBody(await body.read(MAX_JSON_BODY))),
    hijack: (contentType: string) => {
      hijacked = true;
      hijackedSockets.add(socket);
      return hijackConnection(req, res, upgradeSocket, body, contentType);
    },
  };

  try {
    if (!url) throw new InvalidParameterError(`invalid request target ${JSON.stringify(req.url)}`);
    if (versioned) {
      apiVersion = versioned[1]!;
      path = versioned[2]!;
      if (compareApiVersions(apiVersion, MAX_API_VERSION) > 0) {
        throw new InvalidParameterError(`client version ${apiVersion} is too new. Maximum supported API version is ${MAX_API_VERSION}`);
      }
      if (compareApiVersions(apiVersion, MIN_API_VERSION) < 0) {
        throw new InvalidParameterError(`client version ${apiVersion} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
      }
      ctx.apiVersion = versionServed(apiVersion, req.headers['user-agent']);
    }
    const found = router.match(req.method ?? 'GET', path);
    if ('allowed' in found) {
      if (found.allowed.length) throw new MethodNotAllowed(found.allowed);
      throw new NotFoundError('page not found');
    }
    ctx.params = found.params;
    route = found.template;
    const result = await found.handler(ctx);
    if (hijacked) return;
    if (res && !res.headersSent) {
      await drainBody(req, res);
      if (result === undefined) {
        res.writeHead(res.statusCode && res.statusCode !== 200 ? res.statusCode : 204);
        res.end();
      } else {
        sendJson(res, res.statusCode || 200, result, req.method === 'HEAD');
      }
    }
  } catch (err) {
    const status = err instanceof MethodNotAllowed ? 405 : statusOf(err);
    upgradeStatus = status;
    if (status >= 500) log.error(`${req.method} ${req.url}: ${(err as Error)?.stack ?? errorMessage(err)}`);
    if (hijacked) {
      socket.destroy();
      return;
    }
    // A client of a version before 1.24 reads its errors as plain text, as dockerd writes them for it.
    const plain = versioned !== null && compareApiVersions(versioned[1]!, FIRST_JSON_ERRORS_VERSION) < 0;
    const body = plain ? `${errorMessage(err)}\n` : JSON.stringify({ message: errorMessage(err) }) + '\n';
    const contentType = plain ? 'text/plain; charset=utf-8' : 'application/json';
    if (res) {
      if (!res.headersSent) {
        await drainBody(req, res);
        res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...(plain ? { 'X-Content-Type-Options': 'nosniff' } : {}) });
        res.end(req.method === 'HEAD' ? undefined : body);
      } else res.destroy();
    } else if (socket.writable) {
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    }
  }
}

/** How much of a body its handler left unread is read before the answer, as Go's net/http does (256 KiB). */
const MAX_UNREAD_BODY = 256 * 1024;
const UNREAD_BODY_WAIT_MS = 2000;

/**
 * Reads what is left of a body the handler did not read (a refusal before it, a stub) before answering, as Go's
 * server does: a connection closed with unread bytes is reset, and the client loses the answer it was sent (the
 * API fuzzer's 70 KB bodies to swarm stubs, on a Connection: close request). Past 256 KiB or 2 s the connection
 * closes after the answer instead of being kept alive.
 */
function drainBody(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (req.complete || req.destroyed || req.readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    let left = MAX_UNREAD_BODY;
    const giveUp = () => { res.shouldKeepAlive = false; done(); };
    const timer = setTimeout(giveUp, UNREAD_BODY_WAIT_MS);
    const onData = (chunk: Buffer) => { left -= chunk.length; if (left < 0) giveUp(); };
    function done(): void {
      clearTimeout(timer);
      req.off('data', onData).off('end', done).off('close', done).off('error', done);
      resolve();
    }
    req.on('data', onData).on('end', done).on('close', done).on('error', done);
    req.resume();
  });
}

/**
 * Makes every ending of `res` wait for the rest of the request body (bounded by drainBody), whoever ends it: a
 * streamed answer (push, build, import progress) ends while the body the route did not read, or read only in part,
 * may still be arriving, and Node closes a `Connection: close` socket at the end of the answer, which the kernel
 * turns into a reset that takes the answer with it.
 */
function endAfterBody(req: http.IncomingMessage, res: http.ServerResponse): void {
  const end = res.end.bind(res) as (...args: unknown[]) => http.ServerResponse;
  res.end = ((...args: unknown[]) => {
    if (req.complete || req.destroyed || req.readableEnded) return end(...args);
    void drainBody(req, res).then(() => end(...args));
    return res;
  }) as typeof res.end;
}

class MethodNotAllowed extends Error {
  constructor(allowed: string[]) {
    super(`method not allowed; allowed: ${allowed.join(', ')}`);
  }
}

export function sendJson(res: http.ServerResponse, status: number, value: unknown, headOnly = false): void {
  const body = JSON.stringify(value) + '\n';
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(headOnly ? undefined : body);
}

const MAX_JSON_BODY = 16 * 1024 * 1024;

function parseJsonBody<T>(raw: Buffer | undefined): T | undefined {
  const text = raw?.toString('utf8').trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new InvalidParameterError(`invalid JSON in request body: ${errorMessage(err)}`);
  }
}
