// Container routes for operations on a container's contents and resources: archive (cp), top, stats, update, and
// Berth's stats of all running containers in one stream (/berth/stats, the dashboard's).
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { ContainerArchive, PathStat } from '../../engine/archive';
import type { ContainerStats } from '../../engine/container-stats';
import type { ContainerStatsFeed } from '../../engine/container-stats-feed';
import type { ContainerUpdate, UpdateConfig } from '../../engine/container-update';
import { InvalidParameterError } from '../../errdefs';
import { queryBool, queryInt, type Router } from '../router';
import { BERTH_STATS_DEFAULT_INTERVAL_MS, BERTH_STATS_MAX_INTERVAL_MS, BERTH_STATS_MIN_INTERVAL_MS } from '../../wire/container-stats';
import { startJsonStream } from '../streams';
import { containerUpdate } from '../shapes/containers';

export interface ContainerOps { archive: ContainerArchive; stats: ContainerStats; feed: ContainerStatsFeed; update: ContainerUpdate }

const STAT_HEADER = 'X-Docker-Container-Path-Stat';

function encodeStat(s: PathStat): string {
  return Buffer.from(JSON.stringify(s)).toString('base64');
}

function pathParam(q: URLSearchParams): string {
  const p = q.get('path');
  if (!p) throw new InvalidParameterError('path parameter is required');
  return p;
}

/** Resolves once `res` can take more, or the client is gone. */
function drained(res: ServerResponse, signal: AbortSignal): Promise<void> {
  return once(res, 'drain', { signal }).then(() => undefined, () => undefined);
}

export function registerContainerOpsRoutes(router: Router, ops: ContainerOps): void {
  router.head('/containers/{id}/archive', async (ctx) => {
    const stat = await ops.archive.stat(ctx.params.id!, pathParam(ctx.query));
    ctx.res!.writeHead(200, { [STAT_HEADER]: encodeStat(stat), 'Content-Type': 'application/json' });
    ctx.res!.end();
  });

  router.get('/containers/{id}/archive', async (ctx) => {
    const { stat, tar } = await ops.archive.get(ctx.params.id!, pathParam(ctx.query));
    const res = ctx.res!;
    res.writeHead(200, { [STAT_HEADER]: encodeStat(stat), 'Content-Type': 'application/x-tar' });
    res.on('close', () => tar.destroy());
    await pipeline(tar, res).catch(() => undefined);
  });

  router.put('/containers/{id}/archive', async (ctx) => {
    await ops.archive.put(ctx.params.id!, pathParam(ctx.query), ctx.req, { noOverwriteDirNonDir: queryBool(ctx.query, 'noOverwriteDirNonDir') });
    ctx.res!.statusCode = 200;
    ctx.res!.end();
  });

  router.get('/containers/{id}/top', async (ctx) => ops.stats.top(ctx.params.id!, ctx.query.get('ps_args') ?? ''));

  router.get('/containers/{id}/stats', async (ctx) => {
    const stream = queryBool(ctx.query, 'stream', true);
    const oneShot = queryBool(ctx.query, 'one-shot');
    if (oneShot && stream) throw new InvalidParameterError('cannot have stream=true and one-shot=true');
    const abort = new AbortController();
    const samples = ops.stats.stats(ctx.params.id!, { stream, oneShot, signal: abort.signal });
    const res = ctx.res!;
    // The client may go at any moment (a killed `docker stats`): sampling stops at once, nothing is written after.
    // Not after the last sample: the close of every answered request would make an AbortError (a DOMException with
    // its stack) costing 10 ms of berthd's CPU in `docker stats --no-stream` of 1,000 containers.
    let sampling = true;
    const leave = () => { if (sampling) abort.abort(); };
    res.on('close', leave);
    res.on('error', leave);
    // Headers at once: `docker stats` shows its table as soon as the response starts.
    startJsonStream(res);
    try {
      for await (const s of samples) {
        if (res.destroyed || res.writableEnded) break;
        // A client that stops reading holds the next sample back, as Go's blocking write does in dockerd: the
        // daemon never queues samples for it without bound.
        if (!res.write(JSON.stringify(s) + '\n')) await drained(res, abort.signal);
      }
    } finally {
      sampling = false;
    }
    if (!res.destroyed && !res.writableEnded) res.end();
  });

  // Berth's own: every running container's figures in one line per tick, one sampling shared by all its clients.
  router.get('/berth/stats', async (ctx) => {
    const interval = queryInt(ctx.query, 'interval') ?? BERTH_STATS_DEFAULT_INTERVAL_MS;
    if (interval < BERTH_STATS_MIN_INTERVAL_MS || interval > BERTH_STATS_MAX_INTERVAL_MS) {
      throw new InvalidParameterError(`invalid value for interval: ${interval} ms is outside ${BERTH_STATS_MIN_INTERVAL_MS}..${BERTH_STATS_MAX_INTERVAL_MS}`);
    }
    const res = ctx.res!;
    startJsonStream(res);
    // A client that does not keep up skips lines (the next one has the same counters, newer): none queue for it.
    let waiting = false;
    const leave = ops.feed.subscribe(interval, (line) => {
      if (waiting || res.destroyed || res.writableEnded) return;
      if (!res.write(line)) {
        waiting = true;
        res.once('drain', () => { waiting = false; });
      }
    });
    // The stream ends when the client leaves; the feed's loop stops with its last client.
    await new Promise<void>((resolve) => {
      if (res.destroyed) resolve();
      res.once('close', resolve);
    });
    leave();
  });

  router.post('/containers/{id}/update', async (ctx) => ops.update.update(ctx.params.id!, await ctx.body(containerUpdate) as UpdateConfig | undefined));
}
