// Who may use the dashboard: the printed token becomes a session cookie; the Host, Origin and Sec-Fetch-Site
// headers keep other sites (DNS rebinding, cross-site forms and WebSockets) out; the headers every answer carries.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as os from 'node:os';
import { formatListenAddress, isLoopbackIp } from '../../wire/listen-address';

/** The session cookie's name: this prefix and the process's own id (cookies do not tell ports apart, so two
 *  dashboards on one host under one name would sign each other out). */
export const COOKIE_PREFIX = 'berth_dashboard_';

export const CONTENT_SECURITY_POLICY = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'";

export const SIGN_IN_HINT = 'Not signed in: open the URL `berth dashboard` printed (the one with ?token=...) in this browser.\n';

/** A request turned away: its status and a short text saying why. */
export interface Refusal { status: 400 | 401 | 403 | 404 | 405; message: string }

/** The secrets of one dashboard process: the token it prints and the session value its cookie carries. */
export interface Secrets { token: string; session: string; cookieName: string }

/** 32 random bytes each, hex: a token that cannot be guessed, and a cookie that is not the token, under a name of its own. */
export function newSecrets(): Secrets {
  return { token: randomBytes(32).toString('hex'), session: randomBytes(32).toString('hex'), cookieName: `${COOKIE_PREFIX}${randomBytes(4).toString('hex')}` };
}

/** Constant-time equality of two strings of any lengths (their digests are compared, so the length leaks nothing). */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The value of the cookie `name` in a Cookie header, if it is there. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Set-Cookie header that signs a browser in: the page's scripts cannot read it, no other site's request carries it. */
export function sessionCookie(secrets: Secrets, tls: boolean): string {
  return `${secrets.cookieName}=${secrets.session}; HttpOnly; SameSite=Strict; Path=/${tls ? '; Secure' : ''}`;
}

export function hasSession(req: IncomingMessage, secrets: Secrets): boolean {
  const value = cookieValue(req.headers.cookie, secrets.cookieName);
  return value !== undefined && sameSecret(value, secrets.session);
}

/**
 * The Host headers that name this dashboard: its listening address, and localhost / 127.0.0.1 / [::1] with its
 * port. A wildcard address (0.0.0.0, ::) is named by any of the host's own addresses and its hostname.
 */
export function allowedHosts(listen: { host: string; port: number }, tls: boolean, interfaces = os.networkInterfaces(), hostname = os.hostname()): Set<string> {
  const names = ['localhost', '127.0.0.1', '::1', listen.host];
  if (listen.host === '0.0.0.0' || listen.host === '::') {
    names.push(hostname);
    for (const list of Object.values(interfaces)) for (const a of list ?? []) names.push(a.address);
  }
  const defaultPort = tls ? 443 : 80;
  const hosts = new Set<string>();
  for (const name of names) {
    const written = formatListenAddress({ host: name, port: listen.port }).toLowerCase();
    hosts.add(written);
    if (listen.port === defaultPort) hosts.add(written.slice(0, written.lastIndexOf(':')));
  }
  return hosts;
}

/** What the gate knows of the dashboard it guards. */
export interface GateConfig { secrets: Secrets; tls: boolean; hosts: Set<string> }

/**
 * The checks every request and every WebSocket upgrade passes before anything else, in this order: the Host names
 * this dashboard (a rebound DNS name does not), no other site sent it (Sec-Fetch-Site, Origin), and a request
 * that changes something or opens a WebSocket proves where it comes from with its Origin (browsers always send one
 * there). `/api` and `/ws` also refuse same-site requests: another port of localhost is the same site, not the
 * same origin, and SameSite cookies go with its requests.
 */
export function refusal(req: IncomingMessage, config: GateConfig, upgrade: boolean): Refusal | undefined {
  const host = (req.headers.host ?? '').toLowerCase();
  if (!config.hosts.has(host)) {
    return { status: 403, message: `Host ${JSON.stringify(req.headers.host ?? '')} is not this dashboard's address: open the URL \`berth dashboard\` printed\n` };
  }
  const path = (req.url ?? '/').split('?')[0]!;
  const site = String(req.headers['sec-fetch-site'] ?? '').toLowerCase();
  const guarded = upgrade || path === '/api' || path.startsWith('/api/') || path.startsWith('/ws/');
  if (site === 'cross-site' || (site === 'same-site' && guarded)) return { status: 403, message: 'requests from other sites are refused\n' };
  const origin = req.headers.origin;
  const own = `${config.tls ? 'https' : 'http'}://${host}`;
  if (origin !== undefined && origin.toLowerCase() !== own) return { status: 403, message: `Origin ${JSON.stringify(origin)} is not this dashboard's (${own})\n` };
  const changes = req.method !== 'GET' && req.method !== 'HEAD';
  if (origin === undefined && (changes || upgrade)) return { status: 403, message: `a ${upgrade ? 'WebSocket' : req.method} request must carry this dashboard's Origin\n` };
  return undefined;
}

/** The headers on every answer: nothing but the dashboard's own files runs in the page, and no other page frames it. */
export function setSecurityHeaders(res: ServerResponse, path: string): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  if (path === '/api' || path.startsWith('/api/') || path.startsWith('/ws/') || path === '/') res.setHeader('Cache-Control', 'no-store');
}

/** Whether a listening host needs TLS: anything but loopback (the Engine API behind the page is root on this host). */
export function needsTls(host: string): boolean {
  return !isLoopbackIp(host);
}
