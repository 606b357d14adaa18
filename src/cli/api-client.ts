// The CLI's only door into Berth: HTTP requests to berthd's Docker Engine API over its socket.
import * as http from 'node:http';
import * as net from 'node:net';
import { Readable } from 'node:stream';
import { API_VERSION } from '../wire/docker';

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

/** Where the daemon listens, parsed from -H, BERTH_HOST or DOCKER_HOST. */
export type DaemonAddress = { socketPath: string } | { host: string; port: number };

/**
 * `instanceof` for the client's errors that holds across copies of this module: the `berth` bundle holds one copy
 * and the components it loads lazily (compose, the dashboard) require the built module, another copy. A class
 * identity check would fail between them (a 404 from the bundle's client would not be a DaemonError to compose), so
 * each class is recognised by a process-wide symbol instead.
 */
function brandedInstanceCheck(brand: symbol): (value: unknown) => boolean {
  return (value) => typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true;
}

const DAEMON_ERROR = Symbol.for('berth.cli.DaemonError');
const CONNECTION_ERROR = Symbol.for('berth.cli.ConnectionError');

/** An error the daemon answered with; `message` is its `{"message": ...}` body. */
export class DaemonError extends Error {
  static override [Symbol.hasInstance] = brandedInstanceCheck(DAEMON_ERROR);
  readonly [DAEMON_ERROR] = true;
  constructor(readonly statusCode: number, message: string) {
    super(message);
    this.name = 'DaemonError';
  }
}

/** The daemon could not be reached at all. */
export class ConnectionError extends Error {
  static override [Symbol.hasInstance] = brandedInstanceCheck(CONNECTION_ERROR);
  readonly [CONNECTION_ERROR] = true;
  constructor(readonly address: string, cause: Error) {
    super(`Cannot connect to the Berth daemon at ${address}. Is the berth daemon running? (${cause.message})`);
    this.name = 'ConnectionError';
  }
}

export function resolveHost(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.BERTH_HOST || env.DOCKER_HOST || DEFAULT_HOST;
}

export function parseHost(spec: string): DaemonAddress {
  if (spec.startsWith('unix://')) return { socketPath: spec.slice('unix://'.length) };
  if (spec.startsWith('/')) return { socketPath: spec };
  if (spec.startsWith('tcp://') || spec.startsWith('http://')) {
    const u = new URL(spec.replace(/^tcp:/, 'http:'));
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port ? Number(u.port) : 2375 };
  }
  throw new Error(`invalid host "${spec}": only unix:// and tcp:// are supported`);
}

export type QueryValue = string | number | boolean | string[] | undefined | null;

/** Docker's url.Values encoding: booleans as 1/0 (true only, mostly), arrays as repeated keys, sorted keys. */
export function encodeQuery(query: Record<string, QueryValue> | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const key of Object.keys(query).sort()) {
    const v = query[key];
    if (v === undefined || v === null) continue;
    if (Array.isArray(v)) for (const item of v) params.append(key, item);
    else if (typeof v === 'boolean') params.append(key, v ? '1' : '0');
    else params.append(key, String(v));
  }
  const s = params.toString();
  return s ? `?${s}` : '';
}

/** Filters as the docker CLI sends them: {"key": {"value": true}}; undefined when empty. */
export function encodeFilters(filters: string[] | Record<string, string[]>): string | undefined {
  const out: Record<string, Record<string, boolean>> = {};
  const add = (k: string, v: string) => { (out[k] ??= {})[v] = true; };
  if (Array.isArray(filters)) {
    for (const f of filters) {
      const i = f.indexOf('=');
      if (i < 0) throw new Error(`bad format of filter (expected name=value)`);
      add(f.slice(0, i).trim().toLowerCase(), f.slice(i + 1));
    }
  } else {
    for (const [k, vs] of Object.entries(filters)) for (const v of vs) add(k, v);
  }
  return Object.keys(out).length ? JSON.stringify(out) : undefined;
}

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  /** A JSON value, or a stream/buffer sent as is (give content-type in headers). */
  body?: unknown;
  headers?: Record<string, string>;
}

/** A hijacked connection: bytes the daemon writes arrive on `output`, stdin goes to `input`. */
export interface HijackedStream {
  socket: net.Socket;
  /** Whether the daemon announced a multiplexed (non-TTY) stream. */
  multiplexed: boolean | undefined;
}

export class ApiClient {
  readonly address: DaemonAddress;

  constructor(readonly hostSpec: string = DEFAULT_HOST) {
    this.address = parseHost(hostSpec);
  }

  private prepare(method: string, path: string, opts: RequestOptions): { req: http.ClientRequest; send: () => void } {
    const headers: Record<string, string> = { 'User-Agent': 'Berth-Client/0.1.0 (linux)', ...opts.headers };
    let payload: Buffer | Readable | undefined;
    if (opts.body instanceof Readable) payload = opts.body;
    else if (Buffer.isBuffer(opts.body)) payload = opts.body;
    else if (opts.body !== undefined) {
      payload = Buffer.from(JSON.stringify(opts.body));
      headers['Content-Type'] ??= 'application/json';
    }
    if (Buffer.isBuffer(payload)) headers['Content-Length'] = String(payload.length);
    const fullPath = `/v${API_VERSION}${path}${encodeQuery(opts.query)}`;
    const target = 'socketPath' in this.address
      ? { socketPath: this.address.socketPath }
      : { host: this.address.host, port: this.address.port };
    const req = http.request({ ...target, method, path: fullPath, headers, agent: false });
    const send = () => {
      if (payload instanceof Readable) payload.pipe(req);
      else req.end(payload);
    };
    return { req, send };
  }

  private connectionError(err: Error): Error {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES') return new ConnectionError(this.hostSpec, err);
    return err;
  }

  /** Sends a request; resolves with the streaming response once it is a success, else rejects with DaemonError. */
  request(method: string, path: string, opts: RequestOptions = {}): Promise<http.IncomingMessage> {
    return new Promise((resolve, reject) => {
      const { req, send } = this.prepare(method, path, opts);
      req.on('error', (err) => reject(this.connectionError(err)));
      req.on('response', (res) => {
        if ((res.statusCode ?? 500) >= 400) {
          readAll(res).then((buf) => reject(errorFromBody(res.statusCode ?? 500, buf)), reject);
        } else resolve(res);
      });
      send();
    });
  }

  /** A request whose JSON answer is parsed; an empty body (204) gives undefined. */
  async json<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, opts);
    const buf = await readAll(res);
    if (buf.length === 0) return undefined as T;
    return JSON.parse(buf.toString('utf8')) as T;
  }

  /** Sends a request and discards the answer. */
  async call(method: string, path: string, opts: RequestOptions = {}): Promise<void> {
    const res = await this.request(method, path, opts);
    res.resume();
    await new Promise((r) => res.on('end', r));
  }

  /** Docker's hijack: upgrade the connection to a raw TCP stream (attach, exec start). */
  hijack(method: string, path: string, opts: RequestOptions = {}): Promise<HijackedStream> {
    return new Promise((resolve, reject) => {
      const { req, send } = this.prepare(method, path, {
        ...opts,
        headers: { Connection: 'Upgrade', Upgrade: 'tcp', ...(opts.body === undefined ? { 'Content-Type': 'text/plain' } : {}), ...opts.headers },
      });
      req.on('error', (err) => reject(this.connectionError(err)));
      req.on('upgrade', (res, socket, head) => {
        if (head.length) socket.unshift(head);
        resolve({ socket, multiplexed: multiplexedFrom(res) });
      });
      req.on('response', (res) => {
        // A daemon that did not upgrade: an error, or a plain streamed body we can read but not write to.
        if ((res.statusCode ?? 500) >= 400) {
          readAll(res).then((buf) => reject(errorFromBody(res.statusCode ?? 500, buf)), reject);
          return;
        }
        resolve({ socket: res.socket as net.Socket, multiplexed: multiplexedFrom(res) });
      });
      send();
    });
  }
}

function multiplexedFrom(res: http.IncomingMessage): boolean | undefined {
  const ct = String(res.headers['content-type'] ?? '');
  if (ct.includes('application/vnd.docker.multiplexed-stream')) return true;
  if (ct.includes('application/vnd.docker.raw-stream')) return false;
  return undefined;
}

export function errorFromBody(status: number, buf: Buffer): DaemonError {
  const text = buf.toString('utf8').trim();
  try {
    const parsed = JSON.parse(text) as { message?: string };
    if (parsed && typeof parsed.message === 'string') return new DaemonError(status, parsed.message);
  } catch { /* not JSON: Docker shows the raw body */ }
  return new DaemonError(status, text || http.STATUS_CODES[status] || `status ${status}`);
}

export function readAll(stream: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

/**
 * Decodes a stream of concatenated JSON values (Docker's json.Decoder streams: pull, build, events, stats),
 * tolerant of values split across chunks and of newline or no separator between them.
 */
export async function* jsonValues<T = unknown>(stream: AsyncIterable<Buffer | string>): AsyncGenerator<T> {
  let buf = '';
  let depth = 0;
  let inString = false;
  let escaped = false;
  let start = -1;
  let scanned = 0;
  for await (const chunk of stream) {
    buf += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    for (let i = scanned; i < buf.length; i++) {
      const ch = buf[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (ch === '\\') escaped = true;
        else if (ch === '"') inString = false;
        continue;
      }
      if (ch === '"') { inString = true; continue; }
      if (ch === '{' || ch === '[') { if (depth === 0) start = i; depth++; }
      else if (ch === '}' || ch === ']') {
        depth--;
        if (depth === 0 && start >= 0) {
          yield JSON.parse(buf.slice(start, i + 1)) as T;
          buf = buf.slice(i + 1);
          i = -1;
          start = -1;
        }
      }
    }
    scanned = buf.length;
    if (depth === 0) { buf = ''; scanned = 0; }
  }
}
