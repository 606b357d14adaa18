// The engine's HTTP client for OCI distribution registries: scheme choice, the /v2/ ping, basic and bearer-token auth, the spec's errors.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import type { AuthConfig, ErrorBody, TokenResponse } from '../wire/distribution';

/** A registry answered with an error (the spec's JSON error body when it sent one). */
export class RegistryResponseError extends Error {
  constructor(readonly status: number, readonly code: string | undefined, message: string, readonly url: string) {
    super(message);
    this.name = 'RegistryResponseError';
  }
}

/** The registry could not be reached at all (refused, TLS failure, DNS). */
export class RegistryUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegistryUnreachableError';
  }
}

export interface RegistryClientOptions {
  /** Registries (host[:port], or CIDRs like 10.0.0.0/8) reached over plain HTTP or TLS without verification, as Docker's insecure-registries. */
  insecureRegistries?: string[];
  /** Per-registry CA certificates: <certsDir>/<host[:port]>/*.crt, as /etc/docker/certs.d. */
  certsDir?: string;
  userAgent?: string;
}

export interface Challenge { scheme: 'basic' | 'bearer'; params: Record<string, string> }

/** Parses a WWW-Authenticate header: `Bearer realm="...",service="...",scope="..."` or `Basic realm="..."`. */
export function parseChallenge(header: string | undefined): Challenge | null {
  if (!header) return null;
  const m = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!m) return null;
  const scheme = m[1]!.toLowerCase();
  if (scheme !== 'basic' && scheme !== 'bearer') return null;
  const params: Record<string, string> = {};
  const re = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (let p = re.exec(m[2]!); p; p = re.exec(m[2]!)) params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  return { scheme, params };
}

function isLoopback(host: string): boolean {
  const h = host.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\./.test(h);
}

function ipv4ToInt(ip: string): number | null {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return null;
  return parts.reduce((a, p) => (a << 8) + Number(p), 0) >>> 0;
}

/** Whether Docker's rules make `host` insecure: loopback, listed by name, or inside a listed CIDR. */
export function isInsecure(host: string, insecure: readonly string[]): boolean {
  if (isLoopback(host)) return true;
  const bare = host.replace(/:\d+$/, '');
  for (const entry of insecure) {
    const e = entry.replace(/^https?:\/\//, '').replace(/\/+$/, '');
    if (e === host || e === bare) return true;
    const cidr = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(e);
    const ip = ipv4ToInt(bare);
    if (cidr && ip !== null) {
      const base = ipv4ToInt(cidr[1]!);
      const bits = Number(cidr[2]);
      const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
      if (base !== null && ((ip & mask) >>> 0) === ((base & mask) >>> 0)) return true;
    }
  }
  return false;
}

export interface RequestOptions {
  /** What the request needs, as a token scope: "repository:bar/bb:pull,push". */
  scope?: string;
  headers?: Record<string, string>;
  /** A body that can be sent more than once (small); a stream is sent once (no retry after a challenge). */
  body?: Buffer | Readable;
  /** Statuses that are not errors (default 2xx). */
  ok?: (status: number) => boolean;
}

/** The URL and the response of a request; the caller consumes or discards `res`. */
export interface Reply { res: http.IncomingMessage; url: URL }

/** Where the engine reaches one registry with one set of credentials: probed once, tokens cached per scope. */
export class RegistrySession {
  private base: URL | null = null;
  private challenge: Challenge | null = null;
  private readonly tokens = new Map<string, { token: string; expires: number }>();
  private pinging: Promise<void> | null = null;

  constructor(
    readonly host: string,
    private readonly auth: AuthConfig,
    private readonly client: RegistryClient,
  ) {}

  /** "https://host" or "http://host" once the ping has chosen. */
  get origin(): string {
    return this.base ? this.base.origin : `https://${this.host}`;
  }

  /**
   * GET /v2/: picks the scheme (https; plain http also for insecure registries, as Docker falls back) and
   * learns the auth challenge. A 401 is expected; anything but 200/401 means this is not a v2 registry.
   */
  async ping(): Promise<void> {
    if (this.base) return;
    this.pinging ??= this.doPing().finally(() => { this.pinging = null; });
    return this.pinging;
  }

  private async doPing(): Promise<void> {
    const insecure = this.client.insecure(this.host);
    const schemes = insecure ? ['https', 'http'] : ['https'];
    let lastError: unknown;
    for (const scheme of schemes) {
      const url = new URL(`${scheme}://${this.host}/v2/`);
      let res: http.IncomingMessage;
      try {
        res = await this.client.send('GET', url, {}, undefined, insecure);
      } catch (err) {
        lastError = err;
        continue;
      }
      res.resume();
      if (res.statusCode === 200 || res.statusCode === 401) {
        this.base = new URL(`${scheme}://${this.host}`);
        this.challenge = res.statusCode === 401 ? parseChallenge(header(res, 'www-authenticate')) : null;
        return;
      }
      lastError = new RegistryUnreachableError(`${url.href} answered ${res.statusCode}: not an OCI distribution registry`);
    }
    throw lastError instanceof RegistryUnreachableError ? lastError : new RegistryUnreachableError(`Get "https://${this.host}/v2/": ${String(lastError)}`);
  }

  /** Signs in: the ping's challenge answered with the credentials (a token fetched for no scope, or basic auth on /v2/). */
  async login(): Promise<{ identityToken?: string }> {
    await this.ping();
    if (!this.challenge) return {};
    if (this.challenge.scheme === 'bearer') {
      const t = await this.fetchToken(this.challenge, [], true);
      return t.refresh ? { identityToken: t.refresh } : {};
    }
    const r = await this.request('GET', '/v2/');
    r.res.resume();
    return {};
  }

  private basicHeader(): string | undefined {
    const { username, password } = this.auth;
    if (username === undefined && password === undefined && this.auth.auth) return `Basic ${this.auth.auth}`;
    if (!username) return undefined;
    return `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
  }

  /** A token for `scopes` from the challenge's realm (Docker's token spec; a POST with the identity token when there is one). */
  private async fetchToken(ch: Challenge, scopes: string[], offline = false): Promise<{ token: string; expires: number; refresh?: string }> {
    const realm = ch.params.realm;
    if (!realm) throw new RegistryResponseError(401, 'UNAUTHORIZED', 'the registry asks for a bearer token but names no realm', this.origin);
    let url: URL;
    try { url = new URL(realm); } catch { throw new RegistryResponseError(500, undefined, `the registry's bearer token realm ${JSON.stringify(realm)} is not a URL`, this.origin); }
    const insecure = this.client.insecure(url.host);
    let res: http.IncomingMessage;
    if (this.auth.identitytoken) {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: this.auth.identitytoken, client_id: 'docker' });
      if (ch.params.service) form.set('service', ch.params.service);
      for (const s of scopes.flatMap((x) => x.split(' '))) form.append('scope', s);
      res = await this.client.send('POST', url, { 'Content-Type': 'application/x-www-form-urlencoded' }, Buffer.from(form.toString()), insecure);
    } else {
      if (ch.params.service) url.searchParams.set('service', ch.params.service);
      for (const s of scopes.flatMap((x) => x.split(' '))) url.searchParams.append('scope', s);
      if (offline && this.auth.username) { url.searchParams.set('offline_token', 'true'); url.searchParams.set('client_id', 'docker'); }
      const headers: Record<string, string> = {};
      const basic = this.basicHeader();
      if (basic) headers.Authorization = basic;
      res = await this.client.send('GET', url, headers, undefined, insecure);
    }
    const body = await readSmall(res, 1 << 20);
    if (res.statusCode !== 200) {
      throw errorFromBody(res.statusCode ?? 0, body, url.href, res.statusCode === 401 ? 'unauthorized: incorrect username or password' : undefined);
    }
    let parsed: Partial<TokenResponse> & { refresh_token?: string };
    try {
      parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
    } catch {
      throw new RegistryResponseError(500, undefined, `the token endpoint ${url.origin}${url.pathname} answered something that is not JSON`, url.href);
    }
    const token = parsed.token || parsed.access_token;
    if (!token) throw new RegistryResponseError(500, undefined, `the token endpoint ${url.origin}${url.pathname} answered no token`, url.href);
    const ttl = Math.max(60, Number(parsed.expires_in) || 60);
    return { token, expires: Date.now() + (ttl - 10) * 1000, refresh: parsed.refresh_token };
  }

  private async authorization(scope: string | undefined, fresh = false): Promise<string | undefined> {
    const ch = this.challenge;
    if (!ch) return undefined;
    if (ch.scheme === 'basic') return this.basicHeader();
    const key = scope ?? '';
    const cached = this.tokens.get(key);
    if (!fresh && cached && cached.expires > Date.now()) return `Bearer ${cached.token}`;
    const t = await this.fetchToken(ch, scope ? [scope] : []);
    this.tokens.set(key, t);
    return `Bearer ${t.token}`;
  }

  /**
   * One request to the registry, `p` an absolute path ("/v2/...") or a Location the registry gave. A 401
   * with a fresh challenge is answered once (a new token), when the body can be sent again.
   */
  async request(method: string, p: string, opts: RequestOptions = {}): Promise<Reply> {
    await this.ping();
    const url = new URL(p, this.base!);
    const ok = opts.ok ?? ((s: number) => s >= 200 && s < 300);
    const replayable = !opts.body || Buffer.isBuffer(opts.body);
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      const authz = await this.authorization(opts.scope, attempt > 0);
      // Credentials go only to the registry itself, never to a redirect target elsewhere.
      if (authz && url.host === this.base!.host) headers.Authorization = authz;
      const res = await this.client.send(method, url, headers, opts.body, this.client.insecure(this.host));
      if (res.statusCode === 401 && attempt === 0 && replayable) {
        const ch = parseChallenge(header(res, 'www-authenticate'));
        if (ch) {
          res.resume();
          this.challenge = ch;
          continue;
        }
      }
      if ([301, 302, 303, 307, 308].includes(res.statusCode ?? 0) && (method === 'GET' || method === 'HEAD')) {
        const loc = header(res, 'location');
        res.resume();
        if (!loc) throw new RegistryResponseError(res.statusCode ?? 0, undefined, `redirect without Location from ${url.href}`, url.href);
        const target = new URL(loc, url);
        const r = await this.client.send(method, target, opts.headers ?? {}, undefined, this.client.insecure(target.host));
        if (!ok(r.statusCode ?? 0)) throw errorFromBody(r.statusCode ?? 0, await readSmall(r, 64 * 1024), target.href);
        return { res: r, url: target };
      }
      if (!ok(res.statusCode ?? 0)) {
        const body = method === 'HEAD' ? Buffer.alloc(0) : await readSmall(res, 64 * 1024);
        throw errorFromBody(res.statusCode ?? 0, body, url.href);
      }
      return { res, url };
    }
  }
}

function header(res: http.IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Reads a small body whole (error bodies, manifests, configs, tokens); refuses more than `limit` bytes. */
export async function readSmall(res: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res) {
    size += (c as Buffer).length;
    if (size > limit) {
      res.destroy();
      throw new RegistryResponseError(500, undefined, `response larger than ${limit} bytes`, '');
    }
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The registry's own words: "<code lower-cased>: <message>" from the spec's error body, else the HTTP status. */
export function errorFromBody(status: number, body: Buffer, url: string, fallback?: string): RegistryResponseError {
  let code: string | undefined;
  let message: string | undefined;
  try {
    const parsed = JSON.parse(body.toString('utf8')) as ErrorBody & { details?: string };
    const first = parsed.errors?.[0];
    if (first) {
      code = first.code;
      message = `${first.code.toLowerCase()}: ${first.message ?? first.code}`;
    } else if (parsed.details) message = parsed.details;
  } catch {
    // Not JSON: the status says it.
  }
  if (!message) message = fallback ?? (status === 401 ? 'unauthorized: authentication required' : `received unexpected HTTP status: ${status} ${http.STATUS_CODES[status] ?? ''}`.trim());
  return new RegistryResponseError(status, code, message, url);
}

/** Sessions per registry and credentials; one keep-alive agent per scheme. */
export class RegistryClient {
  private readonly sessions = new Map<string, RegistrySession>();
  private readonly httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  private readonly httpsAgents = new Map<string, https.Agent>();
  private readonly insecureList: string[];

  constructor(private readonly opts: RegistryClientOptions = {}) {
    this.insecureList = opts.insecureRegistries ?? [];
  }

  insecure(host: string): boolean {
    return isInsecure(host, this.insecureList);
  }

  session(host: string, auth: AuthConfig = {}): RegistrySession {
    const key = `${host}\0${auth.username ?? ''}\0${auth.password ?? ''}\0${auth.identitytoken ?? ''}\0${auth.auth ?? ''}`;
    let s = this.sessions.get(key);
    if (!s) {
      s = new RegistrySession(host, auth, this);
      this.sessions.set(key, s);
      // A bounded cache: old sessions (and their tokens) go first.
      if (this.sessions.size > 64) this.sessions.delete(this.sessions.keys().next().value as string);
    }
    return s;
  }

  /** A fresh session, not cached (login checks credentials anew). */
  freshSession(host: string, auth: AuthConfig): RegistrySession {
    return new RegistrySession(host, auth, this);
  }

  private httpsAgent(host: string, insecure: boolean): https.Agent {
    // The certs.d files are looked at on every request, as Docker does: a CA added later is used at once.
    const ca = this.caFor(host);
    const key = `${insecure ? 'insecure' : 'verify'}\0${host}\0${createHash('sha256').update(Buffer.concat(ca)).digest('hex')}`;
    let a = this.httpsAgents.get(key);
    if (!a) {
      a = new https.Agent({ keepAlive: true, maxSockets: 16, rejectUnauthorized: !insecure, ...(ca.length ? { ca: [...(https.globalAgent.options.ca as Buffer[] | undefined ?? []), ...ca] } : {}) });
      this.httpsAgents.set(key, a);
    }
    return a;
  }

  /** Extra CAs for a registry from certsDir/<host>/*.crt (none when the directory is absent). */
  private caFor(host: string): Buffer[] {
    if (!this.opts.certsDir) return [];
    const dir = path.join(this.opts.certsDir, host.replace(/[/\\]/g, '_'));
    try {
      return fs.readdirSync(dir).filter((n) => n.endsWith('.crt')).map((n) => fs.readFileSync(path.join(dir, n)));
    } catch {
      return [];
    }
  }

  /** One HTTP exchange; resolves with the response once its headers arrive. */
  send(method: string, url: URL, headers: Record<string, string>, body: Buffer | Readable | undefined, insecure: boolean): Promise<http.IncomingMessage> {
    const isHttps = url.protocol === 'https:';
    const h: Record<string, string> = { 'User-Agent': this.opts.userAgent ?? 'berth', ...headers };
    if (Buffer.isBuffer(body)) h['Content-Length'] = String(body.length);
    else if (!body && method !== 'GET' && method !== 'HEAD' && method !== 'DELETE') h['Content-Length'] = '0';
    return new Promise((resolve, reject) => {
      const req = (isHttps ? https : http).request(url, {
        method, headers: h, agent: isHttps ? this.httpsAgent(url.host, insecure) : this.httpAgent,
      }, resolve);
      // Go's wording, as dockerd reports it: Get "https://host/v2/": <cause>.
      req.on('error', (err) => reject(new RegistryUnreachableError(`${method[0]}${method.slice(1).toLowerCase()} "${url.origin}${url.pathname}": ${err.message}`)));
      // A stalled registry (no byte in five minutes) fails the transfer instead of hanging it.
      req.setTimeout(300_000, () => req.destroy(new Error('timed out')));
      if (!body) req.end();
      else if (Buffer.isBuffer(body)) req.end(body);
      else {
        body.on('error', (err) => req.destroy(err));
        body.pipe(req);
      }
    });
  }

  close(): void {
    this.httpAgent.destroy();
    for (const a of this.httpsAgents.values()) a.destroy();
  }
}
