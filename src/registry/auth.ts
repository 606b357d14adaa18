// Registry authentication: htpasswd (bcrypt) users, an access policy, basic auth, and bearer tokens (signed JWTs) with per-repository scopes.
import * as bcrypt from 'bcryptjs';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import * as fs from 'node:fs';
import type { IncomingMessage } from 'node:http';
import * as jwt from 'jsonwebtoken';
import { formatScope, parseScope, type ErrorCode, type ResourceActions, type TokenClaims, type TokenResponse } from '../wire/distribution';

/** A request that lacks access: the server answers with `status`, the spec's `code` and this challenge. */
export class AuthChallenge extends Error {
  constructor(
    readonly status: 401 | 403,
    readonly code: ErrorCode,
    message: string,
    readonly challenge: string | undefined,
    readonly detail?: unknown,
  ) {
    super(message);
    this.name = 'AuthChallenge';
  }
}

// ---------- users ----------

/**
 * An htpasswd file of bcrypt entries ("user:$2y$..."), as `htpasswd -B` writes it. Re-read when it changes;
 * a password once checked is remembered by its hash, so bcrypt's cost is paid once per user, not per request.
 */
export class Htpasswd {
  private users = new Map<string, string>();
  private mtimeMs = -1;
  private readonly verified = new Map<string, string>();

  constructor(readonly file: string) {
    this.reload();
  }

  private reload(): void {
    const st = fs.statSync(this.file);
    if (st.mtimeMs === this.mtimeMs) return;
    const users = new Map<string, string>();
    for (const raw of fs.readFileSync(this.file, 'utf8').split('\n')) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      const i = line.indexOf(':');
      if (i <= 0) continue;
      const hash = line.slice(i + 1);
      // Only bcrypt, as the reference registry: MD5/SHA1/crypt entries are ignored.
      if (/^\$2[aby]\$\d\d\$/.test(hash)) users.set(line.slice(0, i), hash);
    }
    this.users = users;
    this.mtimeMs = st.mtimeMs;
    this.verified.clear();
  }

  async verify(user: string, password: string): Promise<boolean> {
    try {
      this.reload();
    } catch {
      return false;
    }
    const hash = this.users.get(user);
    if (!hash) return false;
    const key = `${user}\0${createHash('sha256').update(password).digest('hex')}`;
    if (this.verified.get(key) === hash) return true;
    const ok = await bcrypt.compare(password, hash.replace(/^\$2y\$/, '$2b$'));
    if (ok) this.verified.set(key, hash);
    return ok;
  }

  get size(): number { return this.users.size; }
}

/** An htpasswd line for `user` (bcrypt, cost 10 by default). */
export async function htpasswdLine(user: string, password: string, cost = 10): Promise<string> {
  if (!user || user.includes(':')) throw new Error('a user name must be non-empty and hold no ":"');
  return `${user}:${await bcrypt.hash(password, cost)}`;
}

// ---------- access policy ----------

/** One rule of an access policy file: who (a user, "*" for any signed-in user, "anonymous"), which repositories (glob), which actions. */
export interface AccessRule { account: string; name: string; actions: string[] }

/**
 * Who may do what. Without rules, a signed-in user may do everything and an anonymous one nothing
 * (the reference registry's htpasswd behaviour); with rules, what the matching rules grant.
 */
export class AccessPolicy {
  constructor(private readonly rules: AccessRule[] | null = null) {}

  static fromFile(file: string): AccessPolicy {
    const v = JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
    if (!Array.isArray(v)) throw new Error(`${file}: an access policy is a JSON array of {account, name, actions}`);
    for (const r of v as AccessRule[]) {
      if (typeof r?.account !== 'string' || typeof r?.name !== 'string' || !Array.isArray(r?.actions)) {
        throw new Error(`${file}: each rule needs account, name and actions`);
      }
    }
    return new AccessPolicy(v as AccessRule[]);
  }

  /** The part of `requested` that `user` (undefined: anonymous) is granted. */
  grant(user: string | undefined, requested: ResourceActions[]): ResourceActions[] {
    const out: ResourceActions[] = [];
    for (const r of requested) {
      const allowed = new Set<string>();
      if (this.rules === null) {
        if (user !== undefined) for (const a of r.actions) allowed.add(a);
      } else {
        for (const rule of this.rules) {
          const who = rule.account === '*' ? user !== undefined : rule.account === 'anonymous' ? true : rule.account === user;
          const name = r.type === 'registry' ? `registry:${r.name}` : r.name;
          if (!who || !globMatch(rule.name, name)) continue;
          for (const a of r.actions) if (rule.actions.includes(a) || rule.actions.includes('*')) allowed.add(a);
        }
      }
      const actions = r.actions.filter((a) => allowed.has(a));
      if (actions.length) out.push({ type: r.type, name: r.name, actions });
    }
    return out;
  }
}

function globMatch(pattern: string, s: string): boolean {
  const re = new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*') + '$');
  return re.test(s);
}

/** Whether `granted` covers every action of `needed`. */
export function covers(granted: ResourceActions[], needed: ResourceActions[]): boolean {
  return needed.every((n) => n.actions.every((a) => granted.some((g) => g.type === n.type && g.name === n.name && (g.actions.includes(a) || g.actions.includes('*')))));
}

// ---------- authorizers ----------

export interface AuthContext {
  req: IncomingMessage;
  /** "http://host:port" as the client reached the server (for the token realm). */
  origin: string;
}

export interface Authorizer {
  /** Resolves to the user (undefined: anonymous) when the request may do `needed`; throws AuthChallenge otherwise. */
  authorize(ctx: AuthContext, needed: ResourceActions[]): Promise<string | undefined>;
}

export const openAccess: Authorizer = { authorize: async () => undefined };

function basicCredentials(req: IncomingMessage): { user: string; password: string } | null {
  const m = /^Basic\s+(\S+)/i.exec(req.headers.authorization ?? '');
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  if (i < 0) return null;
  return { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

/** HTTP basic auth against an htpasswd file (the reference registry's `auth.htpasswd`). */
export class BasicAuth implements Authorizer {
  constructor(private readonly users: Htpasswd, private readonly policy = new AccessPolicy(), readonly realm = 'Registry Realm') {}

  async authorize(ctx: AuthContext, needed: ResourceActions[]): Promise<string | undefined> {
    const challenge = `Basic realm="${this.realm}"`;
    const creds = basicCredentials(ctx.req);
    let user: string | undefined;
    if (creds) {
      if (!(await this.users.verify(creds.user, creds.password))) throw new AuthChallenge(401, 'UNAUTHORIZED', 'authentication required', challenge);
      user = creds.user;
    }
    // /v2/ itself (nothing needed) asks for credentials: that is how `docker login` checks them.
    if (user === undefined) {
      if (!needed.length || !covers(this.policy.grant(undefined, needed), needed)) throw new AuthChallenge(401, 'UNAUTHORIZED', 'authentication required', challenge);
      return undefined;
    }
    if (covers(this.policy.grant(user, needed), needed)) return user;
    throw new AuthChallenge(403, 'DENIED', 'requested access to the resource is denied', undefined, needed.map(formatScope));
  }
}

export interface TokenAuthOptions {
  users: Htpasswd;
  policy?: AccessPolicy;
  /** PEM private key (RSA or EC) the tokens are signed with. */
  key: KeyObject;
  /** The token endpoint clients are sent to; by default this server's own /token. */
  realm?: string;
  service?: string;
  issuer?: string;
  /** Token lifetime in seconds. */
  ttl?: number;
}

/**
 * The bearer-token flow (Docker's token auth spec): a request without a valid token is answered 401 with
 * `WWW-Authenticate: Bearer realm=...,service=...,scope=...`; the client fetches a token for that scope
 * from the realm (this server's /token, with basic auth) and retries with it. Tokens are JWTs signed here;
 * every request checks signature, audience, expiry and that the token's `access` claim covers it.
 */
export class TokenAuth implements Authorizer {
  readonly service: string;
  readonly issuer: string;
  private readonly ttl: number;
  private readonly publicKey: KeyObject;
  private readonly algorithm: jwt.Algorithm;
  private readonly policy: AccessPolicy;

  constructor(private readonly opts: TokenAuthOptions) {
    this.service = opts.service ?? 'berth-registry';
    this.issuer = opts.issuer ?? 'berth-registry-token-issuer';
    this.ttl = opts.ttl ?? 900;
    this.policy = opts.policy ?? new AccessPolicy();
    this.publicKey = createPublicKey(opts.key);
    this.algorithm = opts.key.asymmetricKeyType === 'ec' ? 'ES256' : 'RS256';
  }

  realm(origin: string): string {
    return this.opts.realm ?? `${origin}/token`;
  }

  private challenge(origin: string, needed: ResourceActions[], error?: string): string {
    let h = `Bearer realm="${this.realm(origin)}",service="${this.service}"`;
    if (needed.length) h += `,scope="${needed.map(formatScope).join(' ')}"`;
    if (error) h += `,error="${error}"`;
    return h;
  }

  async authorize(ctx: AuthContext, needed: ResourceActions[]): Promise<string | undefined> {
    const m = /^Bearer\s+(\S+)/i.exec(ctx.req.headers.authorization ?? '');
    if (!m) throw new AuthChallenge(401, 'UNAUTHORIZED', 'authentication required', this.challenge(ctx.origin, needed), needed.map(formatScope));
    let claims: TokenClaims;
    try {
      claims = jwt.verify(m[1]!, this.publicKey, { algorithms: [this.algorithm], audience: this.service, issuer: this.issuer }) as TokenClaims;
    } catch (err) {
      throw new AuthChallenge(401, 'UNAUTHORIZED', `invalid token: ${(err as Error).message}`, this.challenge(ctx.origin, needed, 'invalid_token'));
    }
    if (!covers(Array.isArray(claims.access) ? claims.access : [], needed)) {
      throw new AuthChallenge(401, 'UNAUTHORIZED', 'authentication required', this.challenge(ctx.origin, needed, 'insufficient_scope'), needed.map(formatScope));
    }
    return claims.sub || undefined;
  }

  /**
   * The token endpoint: GET with basic auth (or none, for anonymous access) and `scope` parameters, or
   * POST with an OAuth2 password grant. Returns the JSON body; throws AuthChallenge on bad credentials.
   */
  async issue(req: IncomingMessage, query: URLSearchParams, form?: URLSearchParams): Promise<TokenResponse> {
    let user: string | undefined;
    let password: string | undefined;
    let scopes = query.getAll('scope');
    if (form) {
      const grant = form.get('grant_type');
      if (grant !== 'password') throw new AuthChallenge(401, 'UNSUPPORTED', `unsupported grant_type ${JSON.stringify(grant)}`, undefined);
      user = form.get('username') ?? undefined;
      password = form.get('password') ?? '';
      scopes = form.getAll('scope');
    } else {
      const creds = basicCredentials(req);
      if (creds) ({ user, password } = creds);
    }
    if (user !== undefined && !(await this.opts.users.verify(user, password ?? ''))) {
      throw new AuthChallenge(401, 'UNAUTHORIZED', 'authentication required: invalid username or password', `Basic realm="${this.service}"`);
    }
    const requested = scopes.flatMap((s) => s.split(' ')).map(parseScope).filter((s): s is ResourceActions => s !== null);
    const access = this.policy.grant(user, requested);
    const now = Math.floor(Date.now() / 1000);
    const claims: TokenClaims = {
      iss: this.issuer, sub: user ?? '', aud: query.get('service') ?? form?.get('service') ?? this.service,
      exp: now + this.ttl, nbf: now - 10, iat: now, jti: randomBytes(16).toString('hex'), access,
    };
    const token = jwt.sign(claims, this.opts.key, { algorithm: this.algorithm, noTimestamp: true });
    return { token, access_token: token, expires_in: this.ttl, issued_at: new Date(now * 1000).toISOString() };
  }
}

/** Reads a PEM private key; creates an EC P-256 key there (mode 0600) when the file does not exist. */
export function loadOrCreateSigningKey(file: string): KeyObject {
  if (!fs.existsSync(file)) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    fs.writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  }
  return createPrivateKey(fs.readFileSync(file));
}
