// Build routes of the Docker Engine API (the classic builder, as the docker CLI uses it with DOCKER_BUILDKIT=0):
// POST /build streams Docker's JSON messages; POST /build/prune and /build/cancel.
import type { ServerResponse } from 'node:http';
import { InvalidParameterError, NotImplementedError } from '../../errdefs';
import type { BuildOptions, BuildOutput } from '../../build/builder-ports';
import { RunStepError } from '../../build/builder-ports';
import type { BuildService } from '../../build/service';
import type { JsonMessage } from '../../wire/docker';
import { queryBool, queryFilters, type Router } from '../router';
import { JsonMessageStream } from '../streams';
import { jsonQuery } from '../shapes/decode';
import { buildArgs as buildArgsShape, buildLabels, buildUlimits, cacheFrom as cacheFromShape } from '../shapes/build';
import { parseNormalizedNamed } from '../../wire/reference';

/** Docker's sanitizeRepoAndTags: every -t is a valid reference without a digest, refused before the build runs. */
function checkedTags(tags: string[]): string[] {
  for (const t of tags) {
    if (parseNormalizedNamed(t).digest !== undefined) throw new InvalidParameterError('refusing to create a tag with a digest reference');
  }
  return tags;
}

function int(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw new InvalidParameterError(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

/** moby's newImageBuildOptions: the query parameters of POST /build. */
export function buildOptionsFrom(q: URLSearchParams): BuildOptions & { quiet: boolean } {
  const buildArgs = jsonQuery(q, 'buildargs', buildArgsShape, 'build args') ?? {};
  const labels = jsonQuery(q, 'labels', buildLabels, 'labels') ?? {};
  const cacheFrom = jsonQuery(q, 'cachefrom', cacheFromShape, 'cache-from');
  const ulimits = jsonQuery(q, 'ulimits', buildUlimits, 'ulimit settings') as { Name: string; Soft: number; Hard: number }[] | undefined;
  if (q.getAll('securityopt').length) throw new InvalidParameterError('security options are not supported on linux');
  const version = q.get('version');
  if (version && version !== '1') {
    if (version === '2') throw new NotImplementedError('BuildKit is not supported by Berth: build with the classic builder (DOCKER_BUILDKIT=0)');
    throw new InvalidParameterError(`invalid version ${JSON.stringify(version)}`);
  }
  if (queryBool(q, 'squash')) throw new InvalidParameterError('squash is only supported with experimental mode');
  if (q.get('remote')) throw new NotImplementedError('remote build contexts are not supported by Berth: send the context as the request body');
  const forceRemove = queryBool(q, 'forcerm');
  const rm = q.get('rm');
  return {
    dockerfile: q.get('dockerfile') ?? '',
    tags: checkedTags(q.getAll('t').filter(Boolean)),
    buildArgs: new Map(Object.entries(buildArgs)),
    ...(q.get('target') ? { target: q.get('target')! } : {}),
    noCache: queryBool(q, 'nocache'),
    ...(cacheFrom?.length ? { cacheFrom } : {}),
    labels,
    remove: forceRemove || rm === null || rm === '' ? true : queryBool(q, 'rm'),
    forceRemove,
    ...(q.get('networkmode') ? { networkMode: q.get('networkmode')! } : {}),
    ...(q.get('platform') ? { platform: q.get('platform')! } : {}),
    extraHosts: q.getAll('extrahosts').flatMap((h) => h.split(',')).filter(Boolean),
    shmSize: int(q, 'shmsize'),
    memory: int(q, 'memory'),
    memorySwap: int(q, 'memswap'),
    cpuShares: int(q, 'cpushares'),
    cpusetCpus: q.get('cpusetcpus') || undefined,
    cpuPeriod: int(q, 'cpuperiod'),
    cpuQuota: int(q, 'cpuquota'),
    ...(ulimits ? { ulimits } : {}),
    quiet: queryBool(q, 'q'),
  };
}

/**
 * The response of a build: headers go out with the first message, so an error before that (a bad Dockerfile) is
 * an ordinary HTTP error. With `q` the progress is held back and sent only if the build fails (as Docker does).
 */
class BuildStream implements BuildOutput {
  private readonly json: JsonMessageStream;
  private readonly held: JsonMessage[] = [];

  constructor(res: ServerResponse, private readonly quiet: boolean) {
    this.json = new JsonMessageStream(res);
  }

  private write(msg: JsonMessage, force = false): void {
    if (this.quiet && !force) { this.held.push(msg); return; }
    this.json.write(msg);
  }

  stream(text: string): void { this.write({ stream: text }); }
  // The image IDs go out even with `q`, as moby's aux formatter writes past the quiet buffer (clients take the ID from them).
  aux(id: string): void { this.write({ aux: { ID: id } }, true); }
  progress(msg: JsonMessage): void { this.write(msg); }

  succeed(imageId: string): void {
    if (this.quiet) this.write({ stream: `${imageId}\n` }, true);
    this.json.finish();
  }

  /** Sends the error in the stream, or rethrows it when nothing was sent (the server answers with its status). */
  fail(err: unknown): void {
    if (this.quiet) for (const m of this.held.splice(0)) this.write(m, true);
    this.json.finish(err, err instanceof RunStepError ? err.code : undefined);
  }
}

export function registerBuildRoutes(router: Router, builds: BuildService): void {
  router.post('/build', async (ctx) => {
    let opts: ReturnType<typeof buildOptionsFrom>;
    try {
      opts = buildOptionsFrom(ctx.query);
    } catch (err) {
      ctx.req.resume();
      throw err;
    }
    const res = ctx.res!;
    const out = new BuildStream(res, opts.quiet);
    const abort = new AbortController();
    let done = false;
    // The client hanging up (Ctrl-C) cancels the build: the step's container is stopped and removed.
    res.on('close', () => { if (!done) abort.abort(); });
    try {
      const id = await builds.build(ctx.req, opts, out, abort.signal);
      done = true;
      out.succeed(id);
    } catch (err) {
      done = true;
      ctx.req.resume();
      if (abort.signal.aborted) { res.destroy(); return; }
      out.fail(err);
    }
  });

  router.post('/build/prune', async (ctx) => {
    queryFilters(ctx.query, ['until', 'unused-for', 'id', 'parent', 'type', 'description', 'inuse', 'shared', 'private']);
    return builds.prune(queryBool(ctx.query, 'all'));
  });

  router.post('/build/cancel', async (ctx) => {
    if (!ctx.query.get('id')) throw new InvalidParameterError('build ID not provided');
    return undefined;
  });
}
