// The registry's HTTP API (OCI distribution spec v1.1): routes, auth checks, headers and the spec's JSON errors; the work is in RegistryStore.
import * as http from 'node:http';
import * as https from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  API_VERSION_HEADER, API_VERSION_VALUE, ErrorCodes, type ErrorBody, type ResourceActions,
} from '../wire/distribution';
import { AuthChallenge, openAccess, type Authorizer, type TokenAuth } from './auth';
import { MAX_MANIFEST_BYTES, RegistryError, accepts, assertSha256, isValidName } from './manifests';
import { referrersIndex, type ByteRange, type RegistryStore } from './store';

export interface RegistryServerOptions {
  store: RegistryStore;
  auth?: Authorizer;
  /** When set, this server is also the token endpoint (GET/POST /token). */
  tokens?: TokenAuth;
  tls?: { cert: Buffer; key: Buffer };
  /** One line per request and per server error; silent without. */
  log?: (line: string) => void;
}

interface Ctx {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  query: URLSearchParams;
  name: string;
  origin: string;
}

type RouteHandler = (ctx: Ctx, m: RegExpExecArray) => Promise<void>;

interface Route {
  methods: string[];
  re: RegExp;
  /** What the request needs, for the authorizer. */
  access: (ctx: Ctx) => ResourceActions[];
  handler: RouteHandler;
  /** Whether group 1 is a repository name to validate. */
  named: boolean;
}

const pull = (name: string): ResourceActions[] => [{ type: 'repository', name, actions: ['pull'] }];
const push = (name: string): ResourceActions[] => [{ type: 'repository', name, actions: ['pull', 'push'] }];
const del = (name: string): ResourceActions[] => [{ type: 'repository', name, actions: ['delete'] }];

function byMethod(ctx: Ctx): ResourceActions[] {
  const m = ctx.req.method;
  if (m === 'GET' || m === 'HEAD') return pull(ctx.name);
  return push(ctx.name);
}

export function createRegistryServer(opts: RegistryServerOptions): http.Server {
  const store = opts.store;
  const auth = opts.auth ?? openAccess;
  const log = opts.log ?? (() => undefined);
  const scheme = opts.tls ? 'https' : 'http';

  const routes: Route[] = [
    { methods: ['GET', 'HEAD'], re: /^\/v2\/?$/, named: false, access: () => [], handler: async ({ res, req }) => sendJson(res, req, 200, {}) },
    {
      methods: ['GET'], re: /^\/v2\/_catalog$/, named: false,
      access: () => [{ type: 'registry', name: 'catalog', actions: ['*'] }],
      handler: async ({ res, req, query }) => {
        const page = paginate(await store.repositories(), query, '/v2/_catalog');
        if (page.link) res.setHeader('Link', page.link);
        sendJson(res, req, 200, { repositories: page.items });
      },
    },
    {
      methods: ['GET'], re: /^\/v2\/(.+)\/tags\/list$/, named: true, access: (c) => pull(c.name),
      handler: async ({ res, req, query, name }) => {
        const page = paginate(await store.tags(name), query, `/v2/${name}/tags/list`);
        if (page.link) res.setHeader('Link', page.link);
        sendJson(res, req, 200, { name, tags: page.items });
      },
    },
    {
      methods: ['GET'], re: /^\/v2\/(.+)\/referrers\/([^/]+)$/, named: true, access: (c) => pull(c.name),
      handler: async ({ res, req, query, name }, m) => {
        const digest = pathParam(m[2]!, 'DIGEST_INVALID');
        const artifactType = query.get('artifactType') ?? undefined;
        const list = await store.referrers(name, digest, artifactType);
        if (artifactType) res.setHeader('OCI-Filters-Applied', 'artifactType');
        sendJson(res, req, 200, referrersIndex(list), 'application/vnd.oci.image.index.v1+json');
      },
    },
    {
      methods: ['GET', 'HEAD', 'PUT', 'DELETE'], re: /^\/v2\/(.+)\/manifests\/([^/]+)$/, named: true,
      access: (c) => (c.req.method === 'DELETE' ? del(c.name) : byMethod(c)),
      handler: async (ctx, m) => manifest(ctx, pathParam(m[2]!, 'MANIFEST_INVALID')),
    },
    {
      methods: ['POST'], re: /^\/v2\/(.+)\/blobs\/uploads\/?$/, named: true, access: (c) => push(c.name),
      handler: async (ctx) => startUpload(ctx),
    },
    {
      methods: ['GET', 'PATCH', 'PUT', 'DELETE'], re: /^\/v2\/(.+)\/blobs\/uploads\/([^/]+)$/, named: true,
      access: (c) => push(c.name),
      handler: async (ctx, m) => upload(ctx, m[2]!),
    },
    {
      methods: ['GET', 'HEAD', 'DELETE'], re: /^\/v2\/(.+)\/blobs\/([^/]+)$/, named: true,
      access: (c) => (c.req.method === 'DELETE' ? del(c.name) : pull(c.name)),
      handler: async (ctx, m) => blob(ctx, pathParam(m[2]!, 'DIGEST_INVALID')),
    },
  ];

  async function blob(ctx: Ctx, digest: string): Promise<void> {
    const { req, res, name } = ctx;
    if (req.method === 'DELETE') {
      await store.deleteBlob(name, digest);
      res.writeHead(202, { 'Content-Length': '0' }).end();
      return;
    }
    const size = await store.statBlob(name, digest);
    if (size === null) throw new RegistryError('BLOB_UNKNOWN', `blob unknown to registry: ${digest}`, { digest });
    const headers: http.OutgoingHttpHeaders = {
      'Content-Type': 'application/octet-stream',
      'Docker-Content-Digest': digest,
      ETag: `"${digest}"`,
      'Accept-Ranges': 'bytes',
      'Cache-Control': 'max-age=31536000',
    };
    const range = parseRangeHeader(req.headers.range, size);
    if (range === 'invalid') {
      res.writeHead(416, { 'Content-Range': `bytes */${size}`, 'Content-Type': 'application/json' });
      res.end(JSON.stringify(errorBody('BLOB_UNKNOWN', 'requested range not satisfiable')));
      return;
    }
    const start = range ? range.start : 0;
    const length = range ? range.end - range.start + 1 : size;
    headers['Content-Length'] = String(length);
    if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
    res.writeHead(range ? 206 : 200, headers);
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      return;
    }
    const body = await store.blobReader(digest, start, length);
    await pipeline(body, res).catch(() => res.destroy());
  }

  async function startUpload(ctx: Ctx): Promise<void> {
    const { req, res, query, name } = ctx;
    const mount = query.get('mount');
    const from = query.get('from');
    if (mount) {
      assertSha256(mount);
      let allowed = !!from;
      if (from) {
        try {
          await auth.authorize({ req, origin: ctx.origin }, pull(from));
        } catch {
          allowed = false;
        }
      }
      // Without access to `from`, or when it does not hold the blob, an ordinary upload begins (202).
      const size = allowed && from ? await store.mountBlob(name, from, mount) : null;
      if (size !== null) {
        drain(req);
        res.writeHead(201, { Location: `/v2/${name}/blobs/${mount}`, 'Docker-Content-Digest': mount, 'Content-Length': '0' }).end();
        return;
      }
    }
    const digest = query.get('digest');
    const id = await store.startUpload(name);
    if (digest) {
      try {
        await store.completeUpload(name, id, digest, req, undefined, contentLength(req));
      } catch (err) {
        await store.cancelUpload(name, id).catch(() => undefined);
        throw err;
      }
      res.writeHead(201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': '0' }).end();
      return;
    }
    drain(req);
    res.writeHead(202, uploadHeaders(name, id, 0)).end();
  }

  async function upload(ctx: Ctx, id: string): Promise<void> {
    const { req, res, query, name } = ctx;
    switch (req.method) {
      case 'GET': {
        const offset = await store.uploadOffset(name, id);
        res.writeHead(204, uploadHeaders(name, id, offset)).end();
        return;
      }
      case 'DELETE':
        await store.cancelUpload(name, id);
        drain(req);
        res.writeHead(204, { 'Content-Length': '0' }).end();
        return;
      case 'PATCH': {
        const offset = await store.appendUpload(name, id, req, parseContentRange(req), contentLength(req));
        res.writeHead(202, uploadHeaders(name, id, offset)).end();
        return;
      }
      case 'PUT': {
        const digest = query.get('digest');
        if (!digest) {
          drain(req);
          throw new RegistryError('DIGEST_INVALID', 'the closing PUT of an upload needs ?digest=');
        }
        await store.completeUpload(name, id, digest, req, parseContentRange(req), contentLength(req));
        res.writeHead(201, { Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': '0' }).end();
        return;
      }
    }
  }

  async function manifest(ctx: Ctx, reference: string): Promise<void> {
    const { req, res, name, query } = ctx;
    if (req.method === 'PUT') {
      const body = await readBody(req, MAX_MANIFEST_BYTES);
      const { digest, parsed, tags } = await store.putManifest(name, reference, body, req.headers['content-type'], query.getAll('tag'));
      const headers: http.OutgoingHttpHeaders = { Location: `/v2/${name}/manifests/${digest}`, 'Docker-Content-Digest': digest, 'Content-Length': '0' };
      if (parsed.subject) headers['OCI-Subject'] = parsed.subject.digest;
      if (query.getAll('tag').length) headers['OCI-Tag'] = tags.join(', ');
      res.writeHead(201, headers).end();
      return;
    }
    if (req.method === 'DELETE') {
      await store.deleteManifest(name, reference);
      res.writeHead(202, { 'Content-Length': '0' }).end();
      return;
    }
    const m = await store.getManifest(name, reference);
    if (!accepts(req.headers.accept, m.mediaType)) {
      throw new RegistryError('MANIFEST_UNKNOWN', `manifest unknown: ${reference} is a ${m.mediaType}, which the Accept header does not list`, { mediaType: m.mediaType });
    }
    res.writeHead(200, {
      'Content-Type': m.mediaType,
      'Content-Length': String(m.body.length),
      'Docker-Content-Digest': m.digest,
      ETag: `"${m.digest}"`,
    });
    res.end(req.method === 'HEAD' ? undefined : m.body);
  }

  async function token(req: http.IncomingMessage, res: http.ServerResponse, query: URLSearchParams): Promise<void> {
    const tokens = opts.tokens!;
    let form: URLSearchParams | undefined;
    if (req.method === 'POST') form = new URLSearchParams((await readBody(req, 64 * 1024)).toString('utf8'));
    const out = await tokens.issue(req, query, form);
    sendJson(res, req, 200, out);
  }

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const started = Date.now();
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const query = new URLSearchParams(q === -1 ? '' : rawUrl.slice(q + 1));
    const origin = `${scheme}://${req.headers.host ?? 'localhost'}`;
    res.setHeader(API_VERSION_HEADER, API_VERSION_VALUE);
    let user: string | undefined;
    res.once('close', () => log(`${req.method} ${path} ${res.statusCode}${res.writableFinished ? '' : ' (aborted)'} ${Date.now() - started}ms${user ? ` user=${user}` : ''}`));
    try {
      if (opts.tokens && (path === '/token' || path === '/token/') && (req.method === 'GET' || req.method === 'POST')) {
        await token(req, res, query);
        return;
      }
      let matched: { route: Route; m: RegExpExecArray } | undefined;
      const allowed = new Set<string>();
      for (const route of routes) {
        const m = route.re.exec(path);
        if (!m) continue;
        if (route.methods.includes(req.method ?? '')) { matched = { route, m }; break; }
        route.methods.forEach((x) => allowed.add(x));
      }
      if (!matched) {
        drain(req);
        if (allowed.size) {
          res.setHeader('Allow', [...allowed].join(', '));
          throw new RegistryError('UNSUPPORTED', `method ${req.method} not allowed on ${path}`);
        }
        if (!path.startsWith('/v2/')) {
          res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
          return;
        }
        throw new RegistryError('NAME_INVALID', `invalid repository name or path ${JSON.stringify(path)}`);
      }
      const name = matched.route.named ? matched.m[1]! : '';
      if (matched.route.named && !isValidName(name)) throw new RegistryError('NAME_INVALID', `invalid repository name: ${JSON.stringify(name)}`, { name });
      const ctx: Ctx = { req, res, query, name, origin };
      user = await auth.authorize({ req, origin }, matched.route.access(ctx));
      await matched.route.handler(ctx, matched.m);
    } catch (err) {
      sendError(req, res, err, log);
    }
  };

  const server = opts.tls
    ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, (req, res) => void handle(req, res))
    : http.createServer((req, res) => void handle(req, res));
  // Large uploads may take long; a connection idle for five minutes (a stalled client) is dropped.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  server.setTimeout(300_000);
  return server as http.Server;
}

// ---------- helpers ----------

function errorBody(code: keyof typeof ErrorCodes | 'UNKNOWN', message: string, detail?: unknown): ErrorBody {
  const item: { code: string; message: string; detail?: unknown } = { code, message };
  if (detail !== undefined) item.detail = detail;
  return { errors: [item] };
}

function sendError(req: http.IncomingMessage, res: http.ServerResponse, err: unknown, log: (line: string) => void): void {
  let status = 500;
  let body: ErrorBody;
  const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'application/json; charset=utf-8' };
  if (err instanceof RegistryError) {
    status = err.status ?? ErrorCodes[err.code].status;
    const all = (err as RegistryError & { all?: string[] }).all;
    body = all && all.length > 1
      ? { errors: all.map((d) => ({ code: err.code, message: `manifest blob unknown: ${d}`, detail: { digest: d } })) }
      : errorBody(err.code, err.message, err.detail);
  } else if (err instanceof AuthChallenge) {
    status = err.status;
    if (err.challenge) headers['WWW-Authenticate'] = err.challenge;
    body = errorBody(err.code, err.message, err.detail);
  } else {
    log(`error: ${(err as Error)?.stack ?? String(err)}`);
    body = errorBody('UNKNOWN', `unknown error: ${(err as Error)?.message ?? String(err)}`);
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // A request whose body was not read (refused before the upload) closes the connection instead of reading it all.
  if (!req.complete && hasBody(req)) {
    headers.Connection = 'close';
    req.on('error', () => undefined);
  }
  const text = JSON.stringify(body);
  headers['Content-Length'] = String(Buffer.byteLength(text));
  res.writeHead(status, headers);
  res.end(req.method === 'HEAD' ? undefined : text);
}

function sendJson(res: http.ServerResponse, req: http.IncomingMessage, status: number, value: unknown, type = 'application/json; charset=utf-8'): void {
  drain(req);
  const text = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(req.method === 'HEAD' ? undefined : text);
}

function uploadHeaders(name: string, id: string, offset: number): http.OutgoingHttpHeaders {
  return {
    Location: `/v2/${name}/blobs/uploads/${id}`,
    Range: `0-${offset > 0 ? offset - 1 : 0}`,
    'Docker-Upload-UUID': id,
    'Content-Length': '0',
  };
}

/** A percent-decoded path segment (a digest or tag); a malformed escape is the client's error (400), not a URIError. */
function pathParam(raw: string, code: 'DIGEST_INVALID' | 'MANIFEST_INVALID'): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new RegistryError(code, `invalid reference ${JSON.stringify(raw)}: malformed percent-encoding`);
  }
}

function hasBody(req: http.IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || (contentLength(req) ?? 0) > 0;
}

function drain(req: http.IncomingMessage): void {
  if (!req.complete) req.resume();
}

function contentLength(req: http.IncomingMessage): number | undefined {
  const v = req.headers['content-length'];
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** A PATCH/PUT chunk's Content-Range: "start-end" (inclusive), also as "bytes start-end[/total]". */
function parseContentRange(req: http.IncomingMessage): ByteRange | undefined {
  const v = req.headers['content-range'];
  if (!v) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(v.trim());
  if (!m) throw new RegistryError('BLOB_UPLOAD_INVALID', `invalid Content-Range ${JSON.stringify(v)}`, undefined, 416);
  return { start: Number(m[1]), end: Number(m[2]) };
}

/** A single "bytes=a-b", "bytes=a-" or "bytes=-n" range; undefined for none (or several: the whole body). */
export function parseRangeHeader(v: string | undefined, size: number): ByteRange | undefined | 'invalid' {
  if (!v) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(v.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'invalid';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || end < start) return 'invalid';
  return { start, end };
}

/** n/last pagination with an RFC 5988 Link to the next page. */
function paginate(all: string[], query: URLSearchParams, base: string): { items: string[]; link?: string } {
  const last = query.get('last');
  let items = last ? all.filter((x) => x > last) : all;
  const nRaw = query.get('n');
  if (nRaw === null || nRaw === '') return { items };
  const n = Number(nRaw);
  if (!Number.isSafeInteger(n) || n < 0) throw new RegistryError('UNSUPPORTED', `invalid pagination number n=${JSON.stringify(nRaw)}`, undefined, 400);
  if (n === 0) return { items: [] };
  const more = items.length > n;
  items = items.slice(0, n);
  if (!more) return { items };
  return { items, link: `<${base}?n=${n}&last=${encodeURIComponent(items[items.length - 1]!)}>; rel="next"` };
}

async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const declared = contentLength(req);
  if (declared !== undefined && declared > limit) {
    throw new RegistryError('MANIFEST_INVALID', `body larger than ${limit} bytes`, undefined, 413);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req as Readable) {
    size += (c as Buffer).length;
    if (size > limit) throw new RegistryError('MANIFEST_INVALID', `body larger than ${limit} bytes`, undefined, 413);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}
