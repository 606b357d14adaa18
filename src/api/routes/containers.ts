// Container routes of the Docker Engine API: HTTP in, ContainerService calls, Docker's wire types out.
import type { LogShippingStatus } from '../../engine/log-shipper';
import { pipeline } from 'node:stream/promises';
import type { ContainerSummary, EndpointSettings, MountPoint } from '../../wire/docker';
import type { ContainerRecord, EndpointRecord } from '../../engine/container-record';
import { portList, portMap } from '../../engine/published-ports';
import { statusString } from '../../engine/container-record';
import { isRunning, type ContainerService } from '../../engine/containers';
import { InvalidParameterError } from '../../errdefs';
import { labelFiltersMatch, labelMatch } from '../../engine/filters';
import { dockerTimestamp, type LogEntry } from '../../engine/logs';
import { parseUntil } from '../../wire/timestamps';
import { queryBool, queryFilters, queryInt, type Router } from '../router';
import type { Filters } from '../../wire/filters';
import { frame } from '../streams';
import { detachKeysOf, filterDetachKeys } from '../detach-keys';
import { decodeCreateBody, outputContentType } from '../api-versions';
import { containerCreate } from '../shapes/containers';
import { mountPointsOf, usesVolume } from '../../engine/container-mounts';

/** What the container routes need from services other than ContainerService. */
export interface ContainerRouteDeps {
  imageSize(imageId: string): Promise<number>;
  /** `start?checkpoint=NAME`: restore from a checkpoint (engine/checkpoints.ts); `false` when already running. */
  startFromCheckpoint?(ref: string, checkpoint: string, checkpointDir: string): Promise<boolean>;
  /** The container's live exec sessions, for inspect's ExecIDs (engine/exec.ts). */
  execIds?(containerId: string): string[] | null;
  /** A forwarding log driver's shipping counters, for inspect's State.LogShipping (engine/log-shipping.ts). */
  logShipping?(containerId: string): LogShippingStatus | undefined;
}

export function registerContainerRoutes(router: Router, containers: ContainerService, deps: ContainerRouteDeps): void {
  const { imageSize, startFromCheckpoint } = deps;
  router.post('/containers/create', async (ctx) => {
    const body = decodeCreateBody(await ctx.body(containerCreate), ctx.apiVersion);
    const out = await containers.create(body, ctx.query.get('name') ?? undefined);
    ctx.res!.statusCode = 201;
    return out;
  });

  router.get('/containers/json', async (ctx) => {
    const all = queryBool(ctx.query, 'all');
    const size = queryBool(ctx.query, 'size');
    const limit = queryInt(ctx.query, 'limit');
    const filters = queryFilters(ctx.query, ['status', 'name', 'label', 'ancestor', 'id', 'exited', 'before', 'since', 'volume', 'network', 'health', 'is-task', 'publish', 'expose']);
    let list = containers.all().filter((c) => all || isRunning(c.state.status) || filters.has('status') || filters.has('exited'));
    list = list.filter(containerFilter(filters, containers));
    if (limit !== undefined && limit > 0) list = list.slice(0, limit);
    const linkNames = containers.linkNames();
    return Promise.all(list.map(async (c) => summary(c, linkNames.get(c.id) ?? [], size ? await containers.sizeRw(c) : undefined, size ? await imageSize(c.imageId) : undefined)));
  });

  router.post('/containers/prune', async (ctx) => {
    return containers.prune(pruneFilter(queryFilters(ctx.query, ['until', 'label', 'label!'])));
  });

  router.get('/containers/{id}/json', async (ctx) => {
    const c = containers.get(ctx.params.id!);
    const size = queryBool(ctx.query, 'size');
    return inspect(c, containers, deps.execIds?.(c.id) ?? null, size ? await containers.sizeRw(c) : undefined, size ? await imageSize(c.imageId) : undefined, deps.logShipping?.(c.id));
  });

  router.post('/containers/{id}/start', async (ctx) => {
    const checkpoint = ctx.query.get('checkpoint') ?? '';
    const checkpointDir = ctx.query.get('checkpoint-dir') ?? '';
    if ((checkpoint || checkpointDir) && !startFromCheckpoint) throw new InvalidParameterError('checkpoint is only supported in experimental mode');
    const started = checkpoint || checkpointDir
      ? await startFromCheckpoint!(ctx.params.id!, checkpoint, checkpointDir)
      : await containers.start(ctx.params.id!);
    ctx.res!.statusCode = started ? 204 : 304;
  });

  router.post('/containers/{id}/stop', async (ctx) => {
    const stopped = await containers.stop(ctx.params.id!, { timeout: queryInt(ctx.query, 't'), signal: ctx.query.get('signal') ?? undefined });
    ctx.res!.statusCode = stopped ? 204 : 304;
  });

  router.post('/containers/{id}/kill', async (ctx) => {
    await containers.kill(ctx.params.id!, ctx.query.get('signal') ?? 'SIGKILL');
  });

  router.post('/containers/{id}/restart', async (ctx) => {
    await containers.restart(ctx.params.id!, queryInt(ctx.query, 't'));
  });

  router.post('/containers/{id}/pause', async (ctx) => { await containers.pause(ctx.params.id!); });
  router.post('/containers/{id}/unpause', async (ctx) => { await containers.unpause(ctx.params.id!); });

  router.post('/containers/{id}/rename', async (ctx) => {
    await containers.rename(ctx.params.id!, ctx.query.get('name') ?? '');
  });

  const remove = async (ref: string, q: URLSearchParams) => {
    if (queryBool(q, 'link')) await containers.removeLink(ref);
    else await containers.remove(ref, { force: queryBool(q, 'force'), volumes: queryBool(q, 'v') });
  };
  router.delete('/containers/{id}', async (ctx) => remove(ctx.params.id!, ctx.query));
  // A legacy link's name, /parent/alias (docker rm --link, docker-py's remove_container(link=True)).
  router.delete('/containers/{parent}/{alias}', async (ctx) => remove(`${ctx.params.parent!}/${ctx.params.alias!}`, ctx.query));

  router.post('/containers/{id}/wait', async (ctx) => {
    const condition = (ctx.query.get('condition') || 'not-running') as 'not-running' | 'next-exit' | 'removed';
    if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw new InvalidParameterError(`invalid condition: "${condition}"`);
    containers.checkWaitable(ctx.params.id!, condition);
    const res = ctx.res!;
    const abort = new AbortController();
    res.on('close', () => abort.abort());
    // Headers go out at once: the docker CLI waits for them before it starts the container.
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    try {
      const result = await containers.wait(ctx.params.id!, condition, abort.signal);
      res.end(JSON.stringify(result) + '\n');
    } catch (err) {
      if (!abort.signal.aborted) res.end(JSON.stringify({ StatusCode: -1, Error: { Message: (err as Error).message } }) + '\n');
    }
  });

  router.get('/containers/{id}/logs', async (ctx) => {
    const q = ctx.query;
    const stdout = queryBool(q, 'stdout');
    const stderr = queryBool(q, 'stderr');
    if (!stdout && !stderr) throw new InvalidParameterError('Bad parameters: you must choose at least one stream');
    const follow = queryBool(q, 'follow');
    const timestamps = queryBool(q, 'timestamps');
    const tailRaw = q.get('tail');
    const tail = !tailRaw || tailRaw === 'all' ? undefined : Number(tailRaw);
    if (tail !== undefined && !Number.isInteger(tail)) throw new InvalidParameterError(`invalid tail value: ${tailRaw}`);
    const abort = new AbortController();
    const { container, entries } = containers.logs(ctx.params.id!, {
      follow, tail, sinceNano: parseTime(q.get('since')), untilNano: parseTime(q.get('until')), signal: abort.signal,
    });
    const res = ctx.res!;
    res.on('close', () => abort.abort());
    const tty = !!container.config.Tty;
    res.writeHead(200, { 'Content-Type': outputContentType(tty, ctx.apiVersion) });
    res.flushHeaders();
    for await (const e of entries) {
      if ((e.stream === 'stdout' && !stdout) || (e.stream === 'stderr' && !stderr)) continue;
      if (res.destroyed) break;
      const ok = res.write(encodeEntry(e, tty, timestamps));
      if (!ok) await new Promise((r) => res.once('drain', r));
    }
    res.end();
  });

  const attach = async (ctx: import('../router').RequestContext) => {
    const c = containers.get(ctx.params.id!);
    const q = ctx.query;
    const wantStdin = queryBool(q, 'stdin');
    const wantStdout = queryBool(q, 'stdout');
    const wantStderr = queryBool(q, 'stderr');
    const stream = queryBool(q, 'stream');
    const logs = queryBool(q, 'logs');
    const tty = !!c.config.Tty;
    const keys = detachKeysOf(q.get('detachKeys'));
    // Past output first asked for, so a log driver that keeps none is refused before the connection is taken.
    const past = logs ? containers.logs(c.id, { follow: false }).entries : undefined;
    const abort = new AbortController();
    // Where live output begins is fixed before the answer: a client that starts the container once it has the
    // answer (docker run, dockerode's run) gets everything from the first byte.
    const live = stream ? await containers.attachOutput(c, abort.signal) : undefined;
    const { socket: sock, input } = ctx.hijack(outputContentType(tty, ctx.apiVersion));
    sock.on('close', () => abort.abort());
    sock.on('error', () => abort.abort());
    containers.emit(c, 'attach');
    let detached = false;
    if (wantStdin && c.config.OpenStdin) {
      // Detach keys are watched here, as dockerd does: the client's connection ends, the container runs on.
      const filtered = filterDetachKeys(input, keys, () => { detached = true; abort.abort(); sock.end(); });
      void containers.attachStdin(c, filtered);
    } else input.resume();
    const send = (e: LogEntry) => {
      if ((e.stream === 'stdout' && !wantStdout) || (e.stream === 'stderr' && !wantStderr)) return;
      if (!sock.destroyed && !detached) sock.write(encodeEntry(e, tty, false));
    };
    if (past) {
      for await (const e of past) send(e);
    }
    if (live) {
      for await (const e of live) send(e);
    }
    if (!sock.destroyed) sock.end();
  };
  router.post('/containers/{id}/attach', attach);

  router.post('/commit', async (ctx) => {
    const q = ctx.query;
    // moby decodes a commit's body as a create body (runconfig's decoder) and keeps its Config.
    const config = await ctx.body(containerCreate) as import('../../wire/docker').ContainerConfig | null | undefined;
    const id = await containers.commit(q.get('container') ?? '', {
      repo: q.get('repo') || undefined, tag: q.get('tag') || undefined, comment: q.get('comment') || undefined,
      author: q.get('author') || undefined, changes: q.getAll('changes').flatMap((c) => c.split('\n')).filter(Boolean),
      pause: queryBool(q, 'pause', true), config: config ?? undefined,
    });
    ctx.res!.statusCode = 201;
    return { Id: id };
  });

  router.get('/containers/{id}/changes', async (ctx) => containers.changes(ctx.params.id!));

  router.get('/containers/{id}/export', async (ctx) => {
    const tar = await containers.export(ctx.params.id!);
    const res = ctx.res!;
    res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    res.on('close', () => tar.destroy());
    await pipeline(tar, res).catch(() => undefined);
  });

  router.post('/containers/{id}/resize', async (ctx) => {
    const h = queryInt(ctx.query, 'h');
    const w = queryInt(ctx.query, 'w');
    if (h === undefined || w === undefined || h < 0 || w < 0) throw new InvalidParameterError('invalid resize dimensions: h and w are required');
    await containers.resize(ctx.params.id!, h, w);
  });
}

function encodeEntry(e: LogEntry, tty: boolean, timestamps: boolean): Buffer {
  const payload = timestamps ? Buffer.concat([Buffer.from(dockerTimestamp(e.timeNano) + ' '), e.data]) : e.data;
  return tty ? payload : frame(e.stream === 'stdout' ? 1 : 2, payload);
}

/** Docker's since/until: Unix seconds with optional fraction ("1700000000.123456789"). */
function parseTime(v: string | null): bigint | undefined {
  if (!v) return undefined;
  const m = /^(\d+)(?:\.(\d{1,9}))?$/.exec(v);
  if (!m) throw new InvalidParameterError(`invalid timestamp: ${v}`);
  const nanos = BigInt(m[1]!) * 1_000_000_000n + BigInt(((m[2] ?? '') + '000000000').slice(0, 9));
  return nanos === 0n ? undefined : nanos;
}

function commandText(c: ContainerRecord): string {
  if (!c.args.length) return c.path;
  return `${c.path} ${c.args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`;
}

function networkName(c: ContainerRecord): string {
  return c.hostConfig.NetworkMode ?? 'bridge';
}

function summary(c: ContainerRecord, linkNames: string[], sizeRw?: number, imageSize?: number): ContainerSummary {
  const net = networkName(c);
  return {
    Id: c.id,
    Names: [`/${c.name}`, ...linkNames],
    Image: c.config.Image ?? c.imageId,
    ImageID: c.imageId,
    Command: commandText(c),
    Created: Math.floor(Date.parse(c.created) / 1000),
    Ports: portList(c),
    ...(sizeRw !== undefined ? { SizeRw: sizeRw, SizeRootFs: sizeRw + (imageSize ?? 0) } : {}),
    Labels: c.config.Labels ?? {},
    State: c.state.status,
    Status: statusString(c.state),
    HostConfig: { NetworkMode: net },
    NetworkSettings: { Networks: networksOf(c) },
    Mounts: mountPointsOf(c.mounts) as MountPoint[],
  };
}

/** NetworkSettings.Networks: the container's endpoints, with address and MAC while it runs. */
function networksOf(c: ContainerRecord): Record<string, EndpointSettings> {
  if (!c.network) {
    const mode = networkName(c);
    return mode.startsWith('container:') ? {} : { [mode]: endpoint(undefined) };
  }
  return Object.fromEntries(c.network.endpoints.map((e) => [e.network, endpoint(e)]));
}

function endpoint(e: EndpointRecord | undefined): EndpointSettings {
  return {
    IPAMConfig: e?.ipv4Address || e?.ipv6Address || e?.linkLocalIPs?.length
      ? {
        ...(e.ipv4Address ? { IPv4Address: e.ipv4Address } : {}), ...(e.ipv6Address ? { IPv6Address: e.ipv6Address } : {}),
        ...(e.linkLocalIPs?.length ? { LinkLocalIPs: e.linkLocalIPs } : {}),
      }
      : null,
    Links: e?.links.length ? e.links : null,
    Aliases: e?.aliases.length ? e.aliases : null,
    MacAddress: e?.mac || e?.macAddress || '',
    DriverOpts: e?.driverOpts ?? null,
    NetworkID: e?.networkId ?? '', EndpointID: e?.endpointId ?? '',
    Gateway: e?.gateway ?? '', IPAddress: e?.ip ?? '', IPPrefixLen: e?.prefixLen ?? 0,
    IPv6Gateway: e?.gateway6 ?? '', GlobalIPv6Address: e?.ip6 ?? '', GlobalIPv6PrefixLen: e?.prefixLen6 ?? 0, DNSNames: e?.dnsNames.length ? e.dnsNames : null,
  };
}

/** The deprecated top-level address fields: filled from the default bridge only, as dockerd does. */
function defaultBridgeEndpoint(c: ContainerRecord): EndpointSettings {
  const e = c.network?.endpoints.find((x) => x.network === 'bridge');
  return endpoint(e);
}

function inspect(c: ContainerRecord, containers: ContainerService, execIds: string[] | null, sizeRw?: number, imageSize?: number, logShipping?: LogShippingStatus) {
  const s = c.state;
  return {
    Id: c.id,
    Created: c.created,
    Path: c.path,
    Args: c.args,
    State: {
      Status: s.status,
      Running: s.status === 'running' || s.status === 'paused',
      Paused: s.status === 'paused',
      Restarting: s.status === 'restarting',
      OOMKilled: s.oomKilled,
      Dead: s.status === 'dead',
      Pid: s.pid,
      ExitCode: s.exitCode,
      Error: s.error,
      StartedAt: s.startedAt,
      FinishedAt: s.finishedAt,
      ...(s.health ? { Health: { Status: s.health.status, FailingStreak: s.health.failingStreak, Log: s.health.log } } : {}),
      // Berth's own: how the forwarding log driver is doing (decision 24); absent for json-file, local and none.
      ...(logShipping ? { LogShipping: logShipping } : {}),
    },
    Image: c.imageId,
    ResolvConfPath: containers.etcPath(c, 'resolv.conf'),
    HostnamePath: containers.etcPath(c, 'hostname'),
    HostsPath: containers.etcPath(c, 'hosts'),
    LogPath: containers.logPath(c),
    Name: `/${c.name}`,
    RestartCount: c.restartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: execIds,
    HostConfig: c.hostConfig,
    GraphDriver: {
      Name: 'overlay2',
      Data: {
        LowerDir: c.lowerDirs.join(':'),
        MergedDir: containers.mergedDir(c),
        UpperDir: containers.upperDir(c),
        WorkDir: containers.workDir(c),
      },
    },
    ...(sizeRw !== undefined ? { SizeRw: sizeRw, SizeRootFs: sizeRw + (imageSize ?? 0) } : {}),
    Mounts: mountPointsOf(c.mounts),
    Config: c.config,
    NetworkSettings: ((d: EndpointSettings) => ({
      Bridge: '', SandboxID: c.network?.sandboxId ?? '', SandboxKey: c.network?.sandboxKey ?? '', Ports: portMap(c), HairpinMode: false,
      LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0, SecondaryIPAddresses: null, SecondaryIPv6Addresses: null,
      EndpointID: d.EndpointID, Gateway: d.Gateway, GlobalIPv6Address: d.GlobalIPv6Address, GlobalIPv6PrefixLen: d.GlobalIPv6PrefixLen,
      IPAddress: d.IPAddress, IPPrefixLen: d.IPPrefixLen, IPv6Gateway: d.IPv6Gateway, MacAddress: d.EndpointID ? d.MacAddress : '',
      Networks: networksOf(c),
    }))(defaultBridgeEndpoint(c)),
  };
}

function containerFilter(filters: Filters, containers: ContainerService): (c: ContainerRecord) => boolean {
  const statuses = filters.get('status');
  if (statuses) for (const s of statuses) {
    if (!['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'].includes(s)) {
      throw new InvalidParameterError(`invalid filter 'status=${s}'`);
    }
  }
  const before = filters.get('before')?.map((r) => containers.get(r));
  const since = filters.get('since')?.map((r) => containers.get(r));
  return (c) => {
    const any = (key: string, pred: (v: string) => boolean) => { const vs = filters.get(key); return !vs || vs.some(pred); };
    return any('status', (s) => c.state.status === s)
      && any('name', (n) => { try { return new RegExp(n).test(`/${c.name}`); } catch { return c.name.includes(n); } })
      && (filters.get('label') ?? []).every((l) => labelMatch(c.config.Labels ?? {}, l))
      && any('ancestor', (a) => c.config.Image === a || c.config.Image === `${a}:latest` || c.imageId === a || c.imageId.replace('sha256:', '').startsWith(a.replace('sha256:', '')) || `${c.config.Image}:latest` === a)
      && any('id', (i) => c.id.startsWith(i))
      && any('exited', (e) => c.state.status === 'exited' && String(c.state.exitCode) === e)
      && (!before || before.every((b) => c.created < b.created))
      && (!since || since.every((b) => c.created > b.created))
      && any('network', (n) => networkName(c) === n || !!c.network?.endpoints.some((e) => e.network === n || e.networkId.startsWith(n)))
      && any('volume', (v) => usesVolume(c.mounts, v))
      && any('health', (h) => (c.state.health?.status ?? 'none') === h);
  };
}

function pruneFilter(filters: Filters): (c: ContainerRecord) => boolean {
  const until = filters.get('until')?.map(parseUntil);
  return (c) => {
    if (until && !until.every((t) => Date.parse(c.created) < t)) return false;
    if (!labelFiltersMatch(c.config.Labels ?? {}, filters)) return false;
    return true;
  };
}
