// Image routes of the Docker Engine API: HTTP in, calls on the engine's image modules, Docker's wire types and JSON streams out.
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidParameterError, NotFoundError } from '../../errdefs';
import type { ImageArchives } from '../../engine/image-archives';
import type { ImageQueries } from '../../engine/image-queries';
import type { ImageRemoval } from '../../engine/image-removal';
import type { ImageTags } from '../../engine/image-tag';
import { parseNormalizedNamed } from '../../wire/reference';
import { queryBool, queryFilters, type RequestContext, type Router } from '../router';
import { imageInspectFor, imageSummariesFor } from '../api-versions';
import { JsonMessageStream } from '../streams';
import type { JsonMessage } from '../../wire/docker';

async function streamOut(ctx: RequestContext, contentType: string, body: Readable): Promise<void> {
  const res = ctx.res!;
  res.writeHead(200, { 'Content-Type': contentType });
  try {
    await pipeline(body, res);
  } catch {
    res.destroy();
  }
}

/** A registry pull for POST /images/create?fromImage= (the daemon wires engine/distribution.ts in). */
export type PullHandler = (ref: string, opts: { auth: string | string[] | undefined; platform?: string; allTags?: boolean; progress: (msg: JsonMessage) => void }) => Promise<unknown>;

/** The engine's image modules the routes call. */
export interface ImageBackend {
  local: { has(refOrId: string): boolean };
  queries: ImageQueries;
  tags: ImageTags;
  removal: ImageRemoval;
  archives: ImageArchives;
}

export function registerImageRoutes(router: Router, images: ImageBackend, pull?: PullHandler): void {
  // Fixed paths first: the greedy {name:.*} routes below would otherwise swallow them.
  router.get('/images/json', async (ctx) => {
    const list = await images.queries.list({
      all: queryBool(ctx.query, 'all'),
      filters: queryFilters(ctx.query, ['dangling', 'label', 'before', 'since', 'reference', 'until']),
      sharedSize: queryBool(ctx.query, 'shared-size'),
    });
    return imageSummariesFor(list, ctx.apiVersion);
  });

  router.post('/images/create', async (ctx) => {
    const fromImage = ctx.query.get('fromImage');
    const fromSrc = ctx.query.get('fromSrc');
    const stream = new JsonMessageStream(ctx.res!);
    if (fromImage) {
      const tag = ctx.query.get('tag') ?? '';
      let ref = parseNormalizedNamed(fromImage);
      if (tag) ref = /^[a-z0-9]+:[a-f0-9]{32,}$/.test(tag) ? ref.nameOnly().withDigest(tag) : ref.withTag(tag);
      // A bare name with no tag parameter is `docker pull --all-tags`.
      const allTags = ref.isNameOnly;
      ref = ref.withDefaultTag();
      if (pull) {
        // A registry pull (engine/distribution.ts); errors before the first message are HTTP errors.
        try {
          await pull(ref.toString(), { auth: ctx.req.headers['x-registry-auth'], platform: ctx.query.get('platform') || undefined, allTags, progress: (m) => stream.write(m) });
          stream.finish();
        } catch (err) {
          stream.finish(err);
        }
        return;
      }
      if (!images.local.has(ref.toString())) {
        throw new NotFoundError(`pull access denied for ${ref.familiarName}, repository does not exist or may require 'docker login': registry pulls are not supported by Berth yet`);
      }
      stream.write({ status: `Pulling from ${ref.path}`, id: ref.tag ?? ref.digest ?? 'latest' });
      stream.write({ status: `Status: Image is up to date for ${ref.familiar()}` });
      stream.finish();
      return;
    }
    if (fromSrc === null || fromSrc === '') throw new InvalidParameterError('fromImage or fromSrc is required');
    if (fromSrc !== '-') throw new InvalidParameterError('importing from a URL is not supported by Berth; use fromSrc=- with the tarball as the body');
    try {
      const id = await images.archives.importImage(ctx.req, {
        repo: ctx.query.get('repo') ?? undefined,
        tag: ctx.query.get('tag') ?? undefined,
        message: ctx.query.get('message') ?? undefined,
        changes: ctx.query.getAll('changes'),
      });
      stream.write({ status: id });
      stream.finish();
    } catch (err) {
      // Drain what the client still sends so it sees our answer instead of a reset connection.
      ctx.req.resume();
      stream.finish(err);
    }
  });

  router.get('/images/get', async (ctx) => {
    const names = ctx.query.getAll('names').flatMap((n) => n.split(',')).filter(Boolean);
    const tarStream = await images.archives.save(names);
    await streamOut(ctx, 'application/x-tar', tarStream);
  });

  router.post('/images/load', async (ctx) => {
    const stream = new JsonMessageStream(ctx.res!);
    // dockerd answers 200 at once and reports a bad archive in the stream, where docker-py's images.archives.load() looks
    // for it (ImageLoadError) and the docker CLI shows it.
    stream.begin();
    try {
      await images.archives.load(ctx.req, (msg) => stream.write(msg));
      stream.finish();
    } catch (err) {
      // Drain what the client still sends so it sees our answer instead of a reset connection.
      ctx.req.resume();
      stream.finish(err);
    }
  });

  router.post('/images/prune', async (ctx) => images.removal.prune(queryFilters(ctx.query, ['dangling', 'label', 'label!', 'until'])));

  router.get('/images/{name:.*}/json', async (ctx) => {
    return imageInspectFor(await images.queries.inspect(ctx.params.name!), ctx.apiVersion);
  });

  router.get('/images/{name:.*}/history', async (ctx) => images.queries.history(ctx.params.name!));

  router.get('/images/{name:.*}/get', async (ctx) => {
    const tarStream = await images.archives.save([ctx.params.name!]);
    await streamOut(ctx, 'application/x-tar', tarStream);
  });

  router.post('/images/{name:.*}/tag', async (ctx) => {
    const repo = ctx.query.get('repo') ?? '';
    if (!repo) throw new InvalidParameterError('repository name must have at least one component');
    await images.tags.tag(ctx.params.name!, repo, ctx.query.get('tag') ?? '');
    ctx.res!.statusCode = 201;
    return undefined;
  });

  router.delete('/images/{name:.*}', async (ctx) => {
    return images.removal.remove(ctx.params.name!, { force: queryBool(ctx.query, 'force'), noprune: queryBool(ctx.query, 'noprune') });
  });
}
