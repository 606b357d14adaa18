// System routes: /_ping, /version, /info, /events, /system/df.
import * as os from 'node:os';
import type { EventMessage } from '../../wire/docker';
import { API_VERSION, BERTH_VERSION, COMPAT_DOCKER_VERSION, MIN_API_VERSION } from '../../wire/docker';
import type { EventBus } from '../../engine/events';
import { InvalidParameterError } from '../../errdefs';
import { labelMatch } from '../../engine/filters';
import { queryFilters, type Router } from '../router';
import type { Filters } from '../../wire/filters';
import { startJsonStream } from '../streams';
import { hostArchitecture } from '../../image/platform';
import type { ClusterBackend } from '../../cluster/backend';

export interface SystemFacts {
  /** Figures for /info, gathered when asked. */
  info(): Promise<Record<string, unknown>>;
  df(): Promise<Record<string, unknown>>;
}

/** `cluster`, when wired, gives /info its Swarm section and /_ping its Swarm header; without it, a node in no swarm. */
export function registerSystemRoutes(router: Router, facts: SystemFacts, events: EventBus, experimental = false, cluster?: ClusterBackend): void {
  const ping = (ctx: import('../router').RequestContext) => {
    const res = ctx.res!;
    res.writeHead(200, {
      'Content-Type': 'text/plain; charset=utf-8',
      'API-Version': API_VERSION,
      'OSType': 'linux',
      'Docker-Experimental': String(experimental),
      'Builder-Version': '1',
      // The node's swarm state (the docker CLI reads it to offer swarm commands); inactive without a cluster.
      'Swarm': cluster ? cluster.pingHeader() : 'inactive',
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      'Pragma': 'no-cache',
      'Content-Length': ctx.req.method === 'HEAD' ? '0' : '2',
    });
    res.end(ctx.req.method === 'HEAD' ? undefined : 'OK');
  };
  router.get('/_ping', ping);
  router.head('/_ping', ping);

  router.get('/version', () => ({
    Platform: { Name: 'Berth Engine' },
    Components: [{
      Name: 'Engine',
      Version: COMPAT_DOCKER_VERSION,
      Details: { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: hostArchitecture(), KernelVersion: os.release(), BerthVersion: BERTH_VERSION, Experimental: String(experimental) },
    }],
    Version: COMPAT_DOCKER_VERSION,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: `berth-${BERTH_VERSION}`,
    GoVersion: `node${process.versions.node}`,
    Os: 'linux',
    Arch: hostArchitecture(),
    KernelVersion: os.release(),
    ...(experimental ? { Experimental: true } : {}),
    BuildTime: '',
  }));

  router.get('/info', async () => {
    const info = await facts.info();
    return cluster ? { ...info, Swarm: await cluster.info() } : info;
  });
  router.get('/system/df', () => facts.df());

  router.get('/events', async (ctx) => {
    const since = eventTime(ctx.query.get('since'));
    const untilRaw = eventTime(ctx.query.get('until'));
    // The CLI sends `--until 0s` as whole seconds ("now" truncated): a whole-second until covers its whole
    // second, so what happened just before the command is listed. The stream still ends at once.
    const until = untilRaw !== undefined && /^\d+$/.test(ctx.query.get('until') ?? '') ? untilRaw + 999_999_999 : untilRaw;
    const match = eventFilter(queryFilters(ctx.query, EVENT_FILTERS));
    const res = ctx.res!;
    startJsonStream(res);
    // An event can come between the end (the until timer) or the client's leaving and the 'close' that unsubscribes.
    const send = (e: EventMessage) => {
      if (res.writableEnded || res.destroyed) return;
      if (match(e) && (until === undefined || e.timeNano <= until)) res.write(JSON.stringify(e) + '\n');
    };
    if (since !== undefined) for (const e of events.past(since)) send(e);
    if (untilRaw !== undefined && untilRaw <= Date.now() * 1e6) {
      res.end();
      return;
    }
    await new Promise<void>((resolve) => {
      const unsubscribe = events.subscribe(send);
      const timer = until !== undefined ? setTimeout(() => res.end(), Math.max(0, until / 1e6 - Date.now())) : undefined;
      res.on('close', () => { unsubscribe(); if (timer) clearTimeout(timer); resolve(); });
    });
  });
}

/** Event times: Unix seconds with optional fraction, in nanoseconds. */
function eventTime(v: string | null): number | undefined {
  if (!v) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1e9);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new InvalidParameterError(`invalid timestamp: ${v}`);
  return t * 1e6;
}

const EVENT_FILTERS = ['container', 'image', 'event', 'type', 'label', 'volume', 'network', 'daemon', 'plugin', 'scope', 'node', 'service', 'secret', 'config'];

function eventFilter(filters: Filters): (e: EventMessage) => boolean {
  return (e) => {
    const any = (key: string, pred: (v: string) => boolean) => { const vs = filters.get(key); return !vs || vs.some(pred); };
    const a = e.Actor.Attributes;
    return any('type', (t) => e.Type === t)
      && any('event', (ev) => e.Action === ev || e.Action.startsWith(`${ev}:`))
      && any('container', (c) => e.Type === 'container' && (e.Actor.ID.startsWith(c) || a.name === c))
      && any('image', (i) => (e.Type === 'image' && (e.Actor.ID === i || a.name === i)) || (e.Type === 'container' && a.image === i))
      && any('volume', (v) => e.Type === 'volume' && e.Actor.ID === v)
      && any('network', (n) => e.Type === 'network' && (e.Actor.ID.startsWith(n) || a.name === n))
      && any('scope', (s) => e.scope === s)
      && (filters.get('label') ?? []).every((l) => labelMatch(a, l));
  };
}
