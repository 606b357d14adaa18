// Registry routes of the Docker Engine API: push, login (POST /auth) and search; pull is POST /images/create (routes/images.ts).
import { InvalidParameterError } from '../../errdefs';
import { parseGoBool } from '../../wire/go-bool';
import type { DistributionService } from '../../engine/distribution';
import { SIGSTORE_SIGN_HEADER, authConfig, registryAuthHeader, sigstoreSignHeader } from '../shapes/registry';
import type { AuthConfig, SearchResult } from '../../wire/distribution';
import { queryFilters, queryInt, type Router } from '../router';
import type { Filters } from '../../wire/filters';
import { JsonMessageStream } from '../streams';
import type { PullHandler } from './images';

/** The pull handler registerImageRoutes takes: X-Registry-Auth decoded, the work done by the distribution service. */
export function registryPull(distribution: DistributionService): PullHandler {
  return (ref, opts) => {
    const pullOpts = { auth: registryAuthHeader(opts.auth), platform: opts.platform, progress: opts.progress };
    return opts.allTags ? distribution.pullAllTags(ref, pullOpts) : distribution.pull(ref, pullOpts);
  };
}

export function registerDistributionRoutes(router: Router, distribution: DistributionService): void {
  router.post('/images/{name:.*}/push', async (ctx) => {
    const auth = registryAuthHeader(ctx.req.headers['x-registry-auth']);
    const signWith = await sigstoreSignHeader(ctx.req.headers[SIGSTORE_SIGN_HEADER]);
    const stream = new JsonMessageStream(ctx.res!);
    try {
      await distribution.push(ctx.params.name!, ctx.query.get('tag') || undefined, { auth, signWith, progress: (m) => stream.write(m) });
      stream.finish();
    } catch (err) {
      stream.finish(err);
    }
  });

  router.post('/auth', async (ctx) => {
    const body = await ctx.body(authConfig) as AuthConfig | null | undefined;
    if (!body) throw new InvalidParameterError('the body must be a JSON AuthConfig object');
    return distribution.login(body);
  });

  router.get('/images/search', async (ctx) => {
    const term = ctx.query.get('term') ?? '';
    const limit = queryInt(ctx.query, 'limit') ?? 25;
    if (limit < 1 || limit > 100) throw new InvalidParameterError(`limit ${limit} is outside the range of [1, 100]`);
    const keep = searchFilter(queryFilters(ctx.query, ['is-automated', 'is-official', 'stars']));
    return (await distribution.search(term, limit, registryAuthHeader(ctx.req.headers['x-registry-auth']))).filter(keep);
  });
}

/** moby's search filters (is-automated, is-official, stars), checked before the registry is asked, as dockerd does. */
function searchFilter(filters: Filters): (r: SearchResult) => boolean {
  const bool = (k: string): boolean | undefined => {
    const v = filters.get(k)?.at(-1);
    if (v === undefined) return undefined;
    const b = parseGoBool(v);
    if (b === undefined) throw new InvalidParameterError(`invalid filter '${k}=${v}'`);
    return b;
  };
  const automated = bool('is-automated');
  const official = bool('is-official');
  let stars = 0;
  for (const v of filters.get('stars') ?? []) {
    if (!/^-?\d+$/.test(v)) throw new InvalidParameterError(`invalid filter 'stars=${v}'`);
    stars = Math.max(stars, Number(v));
  }
  return (r) => (automated === undefined || r.is_automated === automated) && (official === undefined || r.is_official === official) && r.star_count >= stars;
}
