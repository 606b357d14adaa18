// A small method+path router for the Docker Engine API; paths may hold names with slashes ({name:.*}).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Hijacked } from './hijack';
import { InvalidParameterError } from '../errdefs';
import type { Shape } from './shapes/decode';
import { parseFilters, type Filters } from '../wire/filters';

export interface RequestContext {
  req: IncomingMessage;
  /** Absent for requests that arrived as an HTTP upgrade; use hijack() there. */
  res?: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** The API version the client asked for (from the /v1.NN/ prefix), or the daemon's own. */
  apiVersion: string;
  /** Parses the body and checks it against its declared shape (api/shapes/), refusing a wrong type with Go's words. */
  body<T>(shape: Shape<T>): Promise<T | undefined>;
  /**
   * Takes over the raw connection (attach, exec start) after writing dockerd's response head (`contentType` is
   * named in a 101 answer to an upgrade); its input starts after the request's body (api/hijack.ts).
   */
  hijack(contentType: string): Hijacked;
}

export type Handler = (ctx: RequestContext) => Promise<unknown> | unknown;

interface Route {
  method: string;
  /** The path as registered ("/containers/{id}/json"): a request's route in the metrics, whatever its parameters. */
  template: string;
  pattern: RegExp;
  names: string[];
  handler: Handler;
}

export class Router {
  private readonly routes: Route[] = [];

  get(path: string, handler: Handler): this { return this.add('GET', path, handler); }
  head(path: string, handler: Handler): this { return this.add('HEAD', path, handler); }
  post(path: string, handler: Handler): this { return this.add('POST', path, handler); }
  put(path: string, handler: Handler): this { return this.add('PUT', path, handler); }
  delete(path: string, handler: Handler): this { return this.add('DELETE', path, handler); }

  /** `{id}` matches one path segment, `{name:.*}` matches the rest including slashes. */
  add(method: string, path: string, handler: Handler): this {
    const names: string[] = [];
    const escape = (literal: string) => literal.replace(/[.+?^$()[\]\\|*]/g, '\\$&');
    let source = '';
    let last = 0;
    for (const m of path.matchAll(/\{(\w+)(:\.\*)?\}/g)) {
      source += escape(path.slice(last, m.index)) + (m[2] ? '(.+)' : '([^/]+)');
      names.push(m[1]!);
      last = m.index! + m[0].length;
    }
    source += escape(path.slice(last));
    this.routes.push({ method, template: path, pattern: new RegExp(`^${source}/?$`), names, handler });
    return this;
  }

  /** Finds the handler; `allowed` lists the methods that match the path when none matches the method. */
  match(method: string, path: string): { handler: Handler; params: Record<string, string>; template: string } | { allowed: string[] } {
    const allowed: string[] = [];
    for (const route of this.routes) {
      const m = route.pattern.exec(path);
      if (!m) continue;
      if (route.method !== method && !(method === 'HEAD' && route.method === 'GET')) {
        allowed.push(route.method);
        continue;
      }
      const params: Record<string, string> = {};
      route.names.forEach((n, i) => { params[n] = decodePathParam(m[i + 1]!); });
      return { handler: route.handler, params, template: route.template };
    }
    return { allowed };
  }
}

function decodePathParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new InvalidParameterError(`invalid escape in request path: ${JSON.stringify(raw)}`);
  }
}

/** Orders API versions ("1.41" < "1.44"): negative when `a` is older than `b`, 0 when the same. */
export function compareApiVersions(a: string, b: string): number {
  const [am, an] = a.split('.').map(Number);
  const [bm, bn] = b.split('.').map(Number);
  return am! - bm! || an! - bn!;
}

/** Docker's boolean query parameters: "1", "true", "True" are true; absent, "0", "false" are false. */
/**
 * A boolean query parameter as moby's httputils.BoolValueOrDefault reads it: `fallback` when the parameter is absent;
 * otherwise false for "", "0", "no", "false" and "none" (any case, spaces trimmed) and true for anything else.
 */
export function queryBool(q: URLSearchParams, name: string, fallback = false): boolean {
  const v = q.get(name);
  if (v === null) return fallback;
  return !['', '0', 'no', 'false', 'none'].includes(v.trim().toLowerCase());
}

export function queryInt(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || !/^-?\d+$/.test(v.trim())) throw new InvalidParameterError(`invalid value for ${name}: ${JSON.stringify(v)} is not an integer`);
  return n;
}

/**
 * The `filters` query parameter, parsed and checked at the edge against the keys the route accepts (moby's
 * `invalid filter 'key'`): the services get a checked Filters only.
 */
export function queryFilters(q: URLSearchParams, accepted: readonly string[]): Filters {
  return parseFilters(q.get('filters'), accepted);
}
