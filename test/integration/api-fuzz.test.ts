// An API fuzzer driven by the Engine API's own specification (moby's api/swagger.yaml, derived into
// test/fixtures/engine-api-write-endpoints.json by scripts/derive-swagger-fixture.py): for every write endpoint it
// sends bodies generated from the declared schema, then mutated with wrong types, nulls, huge and hostile values,
// deep nesting, unknown keys, bad path ids and invalid JSON. It asserts no 500 caused by input, a daemon that stays
// up, and that nothing is stored from a refused request. FUZZ_SEED and FUZZ_COUNT choose the run (defaults: a fixed
// seed and 10,000 requests, as make test runs it).
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { repoRoot } from '../helpers/paths';
import { swarmEtcdPid, TestDaemon } from '../helpers/daemon';
import { swarmPortArgs } from '../helpers/cluster';

interface Schema {
  type?: string;
  format?: string;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema;
}
interface Param extends Schema { name: string; in: 'path' | 'query' | 'header' | 'body'; required: boolean; schema?: Schema }
interface Endpoint { method: string; path: string; operationId: string; consumes: string[]; parameters: Param[] }

const fixture = JSON.parse(fs.readFileSync(path.join(repoRoot, 'test/fixtures/engine-api-write-endpoints.json'), 'utf8')) as { endpoints: Endpoint[] };

/**
 * Write endpoints the swagger leaves out (experimental in dockerd) but Berth serves. Checkpoints never name the
 * victim (a checkpoint stops it) and declare no CheckpointDir or ?dir= (host paths).
 */
const EXTRA: Endpoint[] = [
  {
    method: 'POST', path: '/containers/{id}/checkpoints', operationId: 'ContainerCheckpointCreate', consumes: ['application/json'],
    parameters: [{ name: 'body', in: 'body', required: true, schema: { type: 'object', properties: { CheckpointID: { type: 'string' }, Exit: { type: 'boolean' } } } }],
  },
  {
    method: 'DELETE', path: '/containers/{id}/checkpoints/{checkpoint}', operationId: 'ContainerCheckpointDelete', consumes: [], parameters: [],
  },
];
const SEED = Number(process.env.FUZZ_SEED ?? 18);
const COUNT = Number(process.env.FUZZ_COUNT ?? 10_000);
const CONCURRENCY = 8;

/**
 * Left out: hijacked streams that stay open (attach, the session endpoint) and a wait that blocks on a running
 * container. Every other write endpoint is fuzzed.
 */
const SKIPPED = new Set(['POST /containers/{id}/attach', 'POST /session']);

/** mulberry32: a small seeded PRNG, so a failing seed reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Gen {
  constructor(readonly rand: () => number) {}
  int(n: number): number { return Math.floor(this.rand() * n); }
  chance(p: number): boolean { return this.rand() < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]!; }

  /** A string a careless parser trips on. */
  hostileString(): string {
    return this.pick([
      '', ' ', 'a', '0', '-1', 'true', 'null', '{}', '[]', '../../../../etc/passwd', '/', '/..', '..', '.', '\u0000', 'a\u0000b',
      '%', '%zz', '\n', 'x'.repeat(this.pick([256, 4097, 70_000])), '\u{1F600}', '\uD800', '$(id)', '`id`', 'a:b:c:d', ':::',
      'sha256:', 'sha256:' + 'a'.repeat(64), 'sha256:zz', '127.0.0.1:1/x', 'UPPER/Case', 'a@b', '-', '--help', '0x10', '1e400',
      'NaN', '9223372036854775808', 'c:\\x', '*', '?', '\\', '"', "'", '__proto__', 'constructor', 'a=b', '=', 'tcp://', 'none',
      'host', 'container:x', '1:2', '65536/tcp', '80/udp', 'bridge', 'default',
    ]);
  }

  hostileNumber(): number {
    return this.pick([0, -1, 1.5, -0.5, 1e308, -1e308, 2 ** 53 + 1, 2 ** 63, -(2 ** 63), 2 ** 31, 2 ** 32, 1e-300, 65536, 4294967296]);
  }

  /** Any JSON value, nested up to `depth`. */
  anyValue(depth = 2): unknown {
    switch (this.int(depth > 0 ? 8 : 6)) {
      case 0: return null;
      case 1: return this.chance(0.5);
      case 2: return this.hostileNumber();
      case 3: return this.hostileString();
      case 4: return this.int(100);
      case 5: return 'x';
      case 6: return Array.from({ length: this.int(4) }, () => this.anyValue(depth - 1));
      default: return Object.fromEntries(Array.from({ length: this.int(4) }, () => [this.hostileString().slice(0, 40), this.anyValue(depth - 1)]));
    }
  }

  /** A stand-in for deeply nested arrays, expanded in the body's text (JSON.stringify would overflow on them). */
  deep(): string {
    return `@@DEEP${this.pick([100, 1000, 5000])}@@`;
  }

  /** A value of the schema's type, near what a client sends. */
  valid(s: Schema | undefined, depth: number): unknown {
    if (!s) return this.anyValue(1);
    if (s.enum?.length && this.chance(0.9)) return this.pick(s.enum);
    switch (s.type) {
      case 'string': return this.pick(['', 'x', 'busybox', 'fuzz', '1', 'true', 'a.b', '/tmp', 'bridge', 'KILL', '10s', '80/tcp', this.hostileString()]);
      case 'integer': return this.pick([0, 1, 2, 10, 100, 1024, s.minimum ?? 0, s.maximum ?? 5]);
      case 'number': return this.pick([0, 0.5, 1, 10]);
      case 'boolean': return this.chance(0.5);
      case 'array': return depth > 6 ? [] : Array.from({ length: this.int(3) }, () => this.valid(s.items, depth + 1));
      default: {
        if (depth > 6) return {};
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(s.properties ?? {})) if (this.chance(0.35)) out[k] = this.valid(v, depth + 1);
        if (s.additionalProperties) for (let i = this.int(3); i > 0; i--) out[this.pick(['a', 'b', 'com.x', 'k', ''])] = this.valid(s.additionalProperties, depth + 1);
        return out;
      }
    }
  }

  /** The valid value with a few of its nodes replaced by hostile ones (`rate`: the chance per node). */
  mutate(v: unknown, rate: number, depth = 0): unknown {
    if (this.chance(rate)) {
      switch (this.int(9)) {
        case 0: return null;
        case 1: return this.hostileString();
        case 2: return this.hostileNumber();
        case 3: return this.chance(0.5);
        case 4: return [this.anyValue(1)];
        case 5: return { [this.hostileString().slice(0, 20)]: this.anyValue(1) };
        case 6: return depth < 3 && this.chance(0.1) ? this.deep() : this.anyValue(2);
        case 7: return 'y'.repeat(this.pick([1000, 100_000]));
        default: return undefined;
      }
    }
    if (Array.isArray(v)) return v.map((x) => this.mutate(x, rate, depth + 1));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.mutate(x, rate, depth + 1);
      if (this.chance(rate)) out[this.pick(['Unknown', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'x'])] = this.anyValue(1);
      return out;
    }
    return v;
  }
}

/**
 * Keeps fuzzed requests from touching the host or the network: no host paths or devices mounted, no privileges, no
 * host namespaces, every registry or URL on a loopback port nothing listens on.
 */
function makeSafe(ep: Endpoint, body: unknown, query: Map<string, string>): void {
  const hostKeys = ['Binds', 'Mounts', 'Devices', 'DeviceRequests', 'DeviceCgroupRules', 'Privileged', 'CapAdd', 'PidMode', 'IpcMode', 'UTSMode',
    'UsernsMode', 'CgroupnsMode', 'Cgroup', 'CgroupParent', 'VolumesFrom', 'Volumes', 'SecurityOpt', 'Sysctls', 'Runtime', 'Init', 'PortBindings',
    'Isolation', 'MaskedPaths', 'ReadonlyPaths', 'Links', 'LogConfig', 'VolumeDriver', 'OomKillDisable'];
  const scrub = (o: unknown) => {
    if (!o || typeof o !== 'object' || Array.isArray(o)) return;
    for (const k of hostKeys) delete (o as Record<string, unknown>)[k];
    const net = (o as Record<string, unknown>).NetworkMode;
    if (typeof net === 'string' && /^(host|container:)/i.test(net)) delete (o as Record<string, unknown>).NetworkMode;
  };
  if (ep.path === '/containers/create' || ep.path === '/containers/{id}/update') {
    scrub(body);
    if (body && typeof body === 'object') scrub((body as Record<string, unknown>).HostConfig);
  }
  if (ep.path === '/commit' || ep.path === '/containers/{id}/exec') {
    if (body && typeof body === 'object') { delete (body as Record<string, unknown>).Privileged; delete (body as Record<string, unknown>).Volumes; }
  }
  if (ep.path === '/volumes/create' && body && typeof body === 'object') {
    // The local driver's options mount a device or a remote share.
    delete (body as Record<string, unknown>).DriverOpts;
  }
  const loopback = (v: string | undefined) => `127.0.0.1:1/${(v ?? 'x').replace(/^\/+/, '')}`;
  if (ep.path === '/images/create') {
    if (query.has('fromImage')) query.set('fromImage', loopback(query.get('fromImage')));
    if (query.has('fromSrc')) query.set('fromSrc', query.get('fromSrc') === '-' ? '-' : `http://127.0.0.1:1/${enc(query.get('fromSrc')!)}`);
    query.delete('repo');
  }
  if (ep.path === '/build') {
    if (query.has('remote')) query.set('remote', `http://127.0.0.1:1/${enc(query.get('remote')!)}`);
    query.delete('extrahosts');
    query.delete('networkmode');
  }
  if ((ep.path === '/services/create' || ep.path === '/services/{id}/update') && body && typeof body === 'object' && !Array.isArray(body)) {
    // A task runs a container on this host: no host mounts, privileges or published ports, and few of them.
    const spec = body as Record<string, unknown>;
    delete spec.EndpointSpec;
    const task = spec.TaskTemplate;
    if (task && typeof task === 'object' && !Array.isArray(task)) {
      const t = task as Record<string, unknown>;
      delete t.Resources;
      const cs = t.ContainerSpec;
      if (cs && typeof cs === 'object' && !Array.isArray(cs)) {
        for (const k of ['Mounts', 'Privileges', 'CapabilityAdd', 'Sysctls', 'Init', 'Isolation', 'Ulimits']) delete (cs as Record<string, unknown>)[k];
      }
    }
    const mode = spec.Mode;
    if (mode && typeof mode === 'object' && !Array.isArray(mode)) {
      for (const m of Object.values(mode as Record<string, unknown>)) {
        if (!m || typeof m !== 'object' || Array.isArray(m)) continue;
        const r = m as Record<string, unknown>;
        for (const k of ['Replicas', 'MaxConcurrent', 'TotalCompletions']) if (typeof r[k] === 'number' && (r[k] as number) > 2) r[k] = 2;
      }
    }
  }
  if (ep.path === '/auth' && body && typeof body === 'object' && !Array.isArray(body)) (body as Record<string, unknown>).serveraddress = '127.0.0.1:1';
  if (ep.path === '/plugins/pull' && query.has('remote')) query.set('remote', loopback(query.get('remote')));
}

/**
 * The 500s that are genuine runtime failures, not input: a registry that does not answer (every registry here is
 * a loopback port nothing listens on), as dockerd answers it too.
 */
const GENUINE_500 = /connect ECONNREFUSED 127\.0\.0\.1:1\b/;

/**
 * The 500s dockerd answers on purpose for these requests (plain Go errors that gRPC carries as code Unknown, or that
 * dockerd raises untyped), so Berth answers them alike: each by endpoint and message.
 */
const DOCKERD_500: { endpoint: RegExp; message: RegExp }[] = [
  // swarmkit manager/state/store/memory.go ErrSequenceConflict: an update with a stale ?version=.
  { endpoint: /^POST \/(swarm\/update|(services|nodes|secrets|configs)\/\{id\}\/update)$/, message: /^rpc error: code = Unknown desc = update out of sequence$/ },
  // moby daemon/cluster/services.go UpdateService: ?rollback= other than "previous".
  { endpoint: /^POST \/services\/\{id\}\/update$/, message: /^unrecognized rollback option / },
  // swarmkit manager/constraint/constraint.go Parse, returned as is by controlapi/service.go validatePlacement.
  { endpoint: /^POST \/services\/(create|\{id\}\/update)$/, message: /^rpc error: code = Unknown desc = (constraint expected one operator from ==, !=|key '.*' is invalid|value '.*' is invalid)$/s },
];

function dockerd500(endpoint: string, body: string): boolean {
  let message = '';
  try { message = (JSON.parse(body) as { message?: string }).message ?? ''; } catch { return false; }
  return DOCKERD_500.some((d) => d.endpoint.test(endpoint) && d.message.test(message));
}

interface Reply { status: number; body: string }

/** encodeURIComponent that takes lone surrogates too (as U+FFFD, which is what a client would send). */
function enc(s: string): string {
  return encodeURIComponent(s.replace(/[\uD800-\uDFFF]/g, '\uFFFD'));
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });

/**
 * One request on a kept-alive connection; a connection the daemon closed after its last answer (it may not read a
 * refused request's body) is reset under the next request, so that one is sent again once on a new connection.
 */
async function send(sock: string, method: string, target: string, body: Buffer | undefined, headers: Record<string, string>, timeoutMs = 60_000): Promise<Reply> {
  try {
    return await sendOn(agent, sock, method, target, body, headers, timeoutMs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET' && (err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
    return sendOn(false, sock, method, target, body, headers, timeoutMs);
  }
}

function sendOn(via: http.Agent | false, sock: string, method: string, target: string, body: Buffer | undefined, headers: Record<string, string>, timeoutMs: number): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: sock, method, path: target, agent: via, headers: { ...headers, ...(body ? { 'Content-Length': String(body.length) } : {}) }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => { if (size < 65536) chunks.push(c); size += c.length; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timed out: ${method} ${target}`)));
    req.on('error', reject);
    req.end(body);
  });
}

let d: TestDaemon;
let victim = '';
before(async () => {
  // Its own swarm ports: a fuzzed /swarm/init starts an etcd member and a control endpoint on the host's network.
  d = new TestDaemon('fuzz', { args: swarmPortArgs() });
  await d.startWithBusybox();
  victim = d.dockerOk(['create', '--name', 'fuzz-victim', 'busybox', 'sleep', '3600']).trim();
});
after(async () => {
  agent.destroy();
  if (!d) return;
  // A swarm the fuzzer made is left (its etcd member stops, its task containers go) before the daemon is cleaned up.
  const left = d.ping() ? d.api('POST', '/swarm/leave?force=1') : undefined;
  await d.cleanup();
  assert.ok(!left || left.status === 200 || left.status === 503, `swarm leave: ${left?.status} ${left?.body}`);
  assert.equal(swarmEtcdPid(d.dataRoot), undefined, 'no etcd member of the fuzzed daemon is left running');
});

/** What the daemon stores, by kind; the swarm's objects while it is in one. Task containers name their service. */
function listing(): Record<string, string[]> {
  const lines = (args: string[]) => d.dockerOk(args).split('\n').filter(Boolean).sort();
  const out: Record<string, string[]> = {
    containers: lines(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Label "com.docker.swarm.service.id"}}']),
    images: lines(['image', 'ls', '-aq', '--no-trunc']),
    networks: lines(['network', 'ls', '-q', '--no-trunc']),
    volumes: lines(['volume', 'ls', '-q']),
  };
  if (d.dockerOk(['info', '--format', '{{.Swarm.ControlAvailable}}']).trim() === 'true') {
    for (const kind of ['service', 'secret', 'config'] as const) out[kind] = lines([kind, 'ls', '-q']);
  }
  return out;
}

test(`API fuzz: ${COUNT} requests from the swagger's write endpoints, seed ${SEED}`, { timeout: 900_000 }, async () => {
  const g = new Gen(prng(SEED));
  const endpoints = [...fixture.endpoints, ...EXTRA].filter((e) => !SKIPPED.has(`${e.method} ${e.path}`));
  const before = listing();
  /** Text of every successful answer and every name a successful request gave: what may be stored after. */
  const granted: string[] = [];
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  const serverErrors = new Map<string, number>();
  const ids = (): string => {
    // Path ids: the victim (only for requests that cannot hang), ids and names this run made, hostile strings.
    const r = g.int(10);
    if (r < 2) return 'fuzz-victim';
    if (r < 4) return g.pick(['busybox', 'busybox:latest', 'bridge', 'none', 'host', 'nonexistent', 'fuzz', victim.slice(0, 12)]);
    return enc(g.hostileString().slice(0, 300)) || 'x';
  };

  const one = async (i: number): Promise<void> => {
    const ep = endpoints[i % endpoints.length]!;
    const hostile = g.chance(0.6);
    const query = new Map<string, string>();
    const headers: Record<string, string> = {};
    let body: unknown;
    let raw: Buffer | undefined;
    let target = ep.path.replace(/\{(\w+)\}/g, () => {
      let id = ids();
      // A real container's stop, restart, wait or kill may block for as long as the request asks.
      if (id === 'fuzz-victim' && /\/(stop|restart|wait|archive)$/.test(ep.path)) id = 'nonexistent';
      if (id === 'fuzz-victim' && (ep.method === 'DELETE' || ep.path.includes('/checkpoints'))) id = 'nonexistent';
      if (ep.path.startsWith('/images/') && ep.method === 'DELETE' && id.startsWith('busybox')) id = 'nonexistent';
      if (ep.path === '/images/{name}/push') id = enc(`127.0.0.1:1/${decodeURIComponent(id)}`);
      return id;
    });
    for (const p of ep.parameters) {
      if (p.in === 'query' && (p.required || g.chance(0.4))) {
        const v = !hostile || g.chance(0.5) ? g.valid(p, 0) : g.chance(0.5) ? g.hostileString() : String(g.hostileNumber());
        query.set(p.name, typeof v === 'string' ? v : JSON.stringify(v) ?? '');
        if (p.name === 'filters' && g.chance(0.5)) query.set('filters', JSON.stringify(g.mutate({ label: ['a=b'], until: ['10m'], dangling: ['true'] }, hostile ? 0.4 : 0)) ?? '');
      }
      if (p.in === 'header' && g.chance(0.3)) {
        const v = JSON.stringify(g.mutate({ username: 'u', password: 'p', serveraddress: '127.0.0.1:1' }, 0.3)) ?? '';
        headers[p.name] = g.chance(0.8) ? Buffer.from(v).toString('base64url') : g.hostileString().replace(/[^\x20-\x7e]/g, '');
      }
      if (p.in === 'body') {
        if (p.schema?.type === 'string' && p.schema.format === 'binary') {
          raw = g.chance(0.3) ? Buffer.alloc(0) : Buffer.from(Array.from({ length: g.int(2048) }, () => g.int(256)));
          headers['Content-Type'] = ep.consumes[0] ?? 'application/x-tar';
        } else {
          body = g.valid(p.schema, 0);
          if (ep.path === '/containers/create' && body && typeof body === 'object') {
            const b = body as Record<string, unknown>;
            b.Image = g.chance(0.8) ? 'busybox' : b.Image;
            b.Cmd = g.chance(0.7) ? ['true'] : b.Cmd;
          }
          if ((ep.path === '/swarm/init' || ep.path === '/swarm/join') && body && typeof body === 'object' && g.chance(0.2)) {
            // Addresses that work here at times, so the swarm endpoints behind init are fuzzed too; each init, leave
            // and --force-new-cluster costs a second or more (certificates, an etcd member), so not too often.
            const b = body as Record<string, unknown>;
            b.ListenAddr = g.pick(['0.0.0.0:2377', '127.0.0.1', 'lo', 'lo:4000']);
            b.AdvertiseAddr = g.pick(['127.0.0.1', 'lo', '127.0.0.1:2377', b.AdvertiseAddr]);
            for (const k of ['ForceNewCluster', 'DataPathAddr', 'DefaultAddrPool']) if (g.chance(0.7)) delete b[k];
          }
          if (hostile) body = g.mutate(body, g.pick([0.05, 0.2, 0.5]));
        }
      }
    }
    makeSafe(ep, body, query);
    if (ep.path === '/exec/{id}/start' && body && typeof body === 'object' && !Array.isArray(body)) (body as Record<string, unknown>).Detach = true;
    if (body !== undefined && !raw) {
      const whole = g.int(40);
      let text = JSON.stringify(body) ?? '';
      if (whole === 0) text = text.slice(0, Math.max(1, g.int(text.length)));
      else if (whole === 1) text = JSON.stringify(g.anyValue(2));
      else if (whole === 2) text = g.pick(['', 'null', '{', '{"a":', '[]', '"x"', '1', 'true', '\u0000', '{"a":1}garbage', '{"__proto__":{"x":1}}']);
      else if (whole === 3) text = JSON.stringify(g.deep());
      text = text.replace(/"@@DEEP(\d+)@@"/g, (_, n: string) => '['.repeat(Number(n)) + ']'.repeat(Number(n)));
      raw = Buffer.from(text);
      headers['Content-Type'] = 'application/json';
    }
    if (g.chance(0.02)) target = target.replace(/\/[^/]*$/, (s) => `${s}%zz`);
    const qs = [...query].map(([k, v]) => `${enc(k)}=${enc(v)}`).join('&');
    const url = `/v1.47${target}${qs ? `?${qs}` : ''}`;
    let reply: Reply;
    // A wait on a container this run made and started blocks as long as it runs: a wait still open after 3 s is one.
    const blocking = ep.path === '/containers/{id}/wait';
    try {
      reply = await send(d.sock, ep.method, url, raw, headers, blocking ? 3000 : 60_000);
    } catch (err) {
      if (blocking && /^timed out/.test((err as Error).message)) return;
      failures.push(`${ep.method} ${url}: ${(err as Error).message} (body ${raw?.subarray(0, 300).toString()})`);
      return;
    }
    statuses.set(reply.status, (statuses.get(reply.status) ?? 0) + 1);
    if ((reply.status === 500 && !GENUINE_500.test(reply.body) && !dockerd500(`${ep.method} ${ep.path}`, reply.body)) || reply.status > 503) {
      failures.push(`${reply.status} ${ep.method} ${url} body=${raw?.subarray(0, 400).toString() ?? ''} -> ${reply.body.slice(0, 300)}`);
    }
    if (reply.status >= 500) {
      const key = `${reply.status} ${ep.method} ${ep.path}: ${reply.body.slice(0, 120).trim()}`;
      serverErrors.set(key, (serverErrors.get(key) ?? 0) + 1);
    }
    if (reply.status >= 200 && reply.status < 300) {
      granted.push(reply.body, decodeURIComponent(target), ...query.values());
    }
  };

  const started = Date.now();
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < COUNT) await one(next++);
  }));
  const seconds = (Date.now() - started) / 1000;
  console.log(`fuzz seed ${SEED}: ${COUNT} requests in ${seconds.toFixed(1)} s; statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);

  if (process.env.FUZZ_VERBOSE) for (const [k, n] of serverErrors) console.log(`${n} x ${k}`);
  assert.ok(d.ping(), 'the daemon answers /_ping after the run');
  assert.deepEqual(failures.slice(0, 30), [], `${failures.length} requests answered 500 or failed (seed ${SEED})`);

  // Nothing stored from a refused request: whatever is new was named in a successful answer or request.
  const text = granted.join('\n');
  const now = listing();
  for (const [kind, items] of Object.entries(now)) {
    const made = items.filter((x) => !(before[kind] ?? []).includes(x));
    // An entry is explained when one of its IDs (a task container: its own or its service's) was in a granted answer.
    const unexplained = made.filter((x) => !x.split(' ').filter(Boolean).some((id) => text.includes(id.replace(/^sha256:/, '').slice(0, 12))));
    assert.deepEqual(unexplained, [], `${kind} stored that no successful request made`);
  }
});
