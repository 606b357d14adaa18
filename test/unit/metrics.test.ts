// The metrics: metrics-addr's grammar, the engine's counters, the per-container families over a fake sampler, the
// sampler's reuse of recent samples (fake cgroups), the API server's request hook and the /metrics listener.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { Registry } from 'prom-client';
import { parseMetricsAddress } from '../../src/metrics/address';
import { EngineMetrics } from '../../src/metrics/engine-metrics';
import { registerContainerMetrics, type ContainerSamples } from '../../src/metrics/container-metrics';
import { startMetricsServer } from '../../src/metrics/server';
import { ContainerStats, type StatsJSON } from '../../src/engine/container-stats';
import type { ContainerService } from '../../src/engine/containers';
import type { ContainerRecord, ContainerStatus } from '../../src/engine/container-record';
import { EventBus } from '../../src/engine/events';
import { Router } from '../../src/api/router';
import { createApiServer, type RequestObserver } from '../../src/api/server';
import { InvalidParameterError, NotFoundError, SystemError } from '../../src/errdefs';
import { FakeCgroupDriver } from '../fakes/cgroups';

const quiet = { info: () => undefined, error: () => undefined };

/** The values of one family as prom-client holds them, by their labels written "k=v,k=v" (sorted). */
async function valuesOf(registry: Registry, name: string): Promise<Map<string, number>> {
  const metric = registry.getSingleMetric(name);
  assert.ok(metric, `${name} is registered`);
  const got = await metric.get();
  return new Map(got.values.map((v) => [Object.entries(v.labels).filter(([k]) => k !== 'le').map(([k, x]) => `${k}=${x}`).sort().join(','), v.value]));
}

test('metrics-addr: a port alone listens on loopback; hosts are IP literals or localhost; anything else is refused by name', () => {
  assert.equal(parseMetricsAddress(undefined), undefined);
  assert.equal(parseMetricsAddress(''), undefined);
  assert.deepEqual(parseMetricsAddress(':9323'), { host: '127.0.0.1', port: 9323, loopback: true });
  assert.deepEqual(parseMetricsAddress('9323'), { host: '127.0.0.1', port: 9323, loopback: true });
  assert.deepEqual(parseMetricsAddress('localhost:9323'), { host: '127.0.0.1', port: 9323, loopback: true });
  assert.deepEqual(parseMetricsAddress('127.0.0.5:1'), { host: '127.0.0.5', port: 1, loopback: true });
  assert.deepEqual(parseMetricsAddress('[::1]:9323'), { host: '::1', port: 9323, loopback: true });
  assert.deepEqual(parseMetricsAddress('[0:0:0:0:0:0:0:1]:9323'), { host: '0:0:0:0:0:0:0:1', port: 9323, loopback: true });
  assert.deepEqual(parseMetricsAddress('0.0.0.0:9323'), { host: '0.0.0.0', port: 9323, loopback: false });
  assert.deepEqual(parseMetricsAddress('10.1.2.3:9323'), { host: '10.1.2.3', port: 9323, loopback: false });
  assert.deepEqual(parseMetricsAddress('[::]:9323'), { host: '::', port: 9323, loopback: false });
  for (const [bad, why] of [
    ['127.0.0.1', /port "127\.0\.0\.1" is not a number/], ['127.0.0.1:', /port "" is not a number/], ['127.0.0.1:65536', /port "65536"/],
    ['127.0.0.1:-1', /port "-1"/], ['example.com:9323', /host "example\.com" is neither an IP address nor localhost/],
    ['::1:9323', /an IPv6 host goes in brackets/], ['[nope]:9323', /"nope" is not an IPv6 address/], ['300.1.1.1:80', /host "300\.1\.1\.1"/],
    [9323, /is not a string/],
  ] as const) {
    assert.throws(() => parseMetricsAddress(bad), (e: Error) => e instanceof InvalidParameterError && /^metrics-addr: /.test(e.message) && why.test(e.message), String(bad));
  }
});

test('engine metrics: requests by route template and status, latencies, events without their detail, transfers, build steps, containers by state', async () => {
  let states: ContainerStatus[] = ['running', 'running', 'exited'];
  const m = new EngineMetrics(() => states);
  m.observeRequest({ method: 'GET', route: '/containers/{id}/json', status: 200, seconds: 0.002 });
  m.observeRequest({ method: 'GET', route: '/containers/{id}/json', status: 404, seconds: 0.001 });
  m.observeRequest({ method: 'GET', route: '/containers/{id}/json', status: 200, seconds: 0.5 });
  m.observeRequest({ method: 'BREW', route: 'unmatched', status: 404, seconds: 0.001 });
  const requests = await valuesOf(m.registry, 'berth_api_requests_total');
  assert.equal(requests.get('method=GET,route=/containers/{id}/json,status=200'), 2);
  assert.equal(requests.get('method=GET,route=/containers/{id}/json,status=404'), 1);
  assert.equal(requests.get('method=other,route=unmatched,status=404'), 1, 'a method nobody serves is "other": labels stay bounded');
  const latency = (await m.registry.getSingleMetric('berth_api_request_duration_seconds')!.get()).values;
  const bucket = (le: number) => latency.find((v) => v.labels.le === le && v.labels.route === '/containers/{id}/json')?.value;
  assert.equal(bucket(0.001), 1);
  assert.equal(bucket(0.0025), 2);
  assert.equal(bucket(0.5), 3);

  const bus = new EventBus();
  bus.subscribe(m.observeEvent);
  bus.publish('container', 'exec_create: sh -c echo secret', 'c1');
  bus.publish('container', 'exec_create: ls', 'c1');
  bus.publish('container', 'health_status: healthy', 'c1');
  bus.publish('image', 'pull', 'i1');
  const events = await valuesOf(m.registry, 'berth_events_total');
  assert.deepEqual([...events], [['action=exec_create,type=container', 2], ['action=health_status,type=container', 1], ['action=pull,type=image', 1]]);

  assert.equal((await valuesOf(m.registry, 'berth_image_transfers_total')).get('kind=pull'), 0, 'present at 0 before any pull');
  m.bytes('pull', 1000);
  m.bytes('pull', 24);
  m.finished('pull', false);
  m.finished('pull', true);
  m.bytes('push', 7);
  m.finished('push', false);
  assert.deepEqual([...await valuesOf(m.registry, 'berth_image_transfers_total')], [['kind=pull', 2], ['kind=push', 1]]);
  assert.deepEqual([...await valuesOf(m.registry, 'berth_image_transfer_failures_total')], [['kind=pull', 1], ['kind=push', 0]]);
  assert.deepEqual([...await valuesOf(m.registry, 'berth_image_transfer_bytes_total')], [['kind=pull', 1024], ['kind=push', 7]]);

  m.step('RUN', 'built');
  m.step('RUN', 'cached');
  m.step('RUN', 'cached');
  m.step('COPY', 'failed');
  assert.deepEqual([...await valuesOf(m.registry, 'berth_build_steps_total')].sort(), [['instruction=COPY,outcome=failed', 1], ['instruction=RUN,outcome=built', 1], ['instruction=RUN,outcome=cached', 2]]);

  const byState = await valuesOf(m.registry, 'berth_containers');
  assert.equal(byState.get('state=running'), 2);
  assert.equal(byState.get('state=exited'), 1);
  assert.equal(byState.get('state=paused'), 0, 'every state is reported, at 0 when empty');
  states = ['paused'];
  const later = await valuesOf(m.registry, 'berth_containers');
  assert.equal(later.get('state=running'), 0, 'counted afresh at each scrape');
  assert.equal(later.get('state=paused'), 1);
  const text = await m.registry.metrics();
  assert.match(text, /^process_cpu_user_seconds_total \d/m, "berthd's process metrics");
  assert.doesNotMatch(text, /nodejs_active_handles_total/, 'the gauges named *_total that promtool refuses are left out');
});

const record = (id: string, name: string, labels: Record<string, string> = {}, status: ContainerStatus = 'running') =>
  ({ id, name, config: { Image: 'busybox', Labels: labels }, state: { status, pid: 0 } }) as unknown as ContainerRecord;

function sample(id: string, o: { cpuNs: number; mem: number; rx?: number; read?: string }): StatsJSON {
  return {
    read: o.read ?? new Date().toISOString(), preread: '', pids_stats: { current: 3 }, num_procs: 0, storage_stats: {},
    blkio_stats: { io_service_bytes_recursive: [{ major: 8, minor: 0, op: 'read', value: 4096 }, { major: 8, minor: 16, op: 'read', value: 1 }, { major: 8, minor: 0, op: 'write', value: 512 }] },
    cpu_stats: { cpu_usage: { total_usage: o.cpuNs, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    precpu_stats: { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } },
    memory_stats: { usage: o.mem, limit: 1 << 30 }, name: `/${id}`, id,
    ...(o.rx !== undefined ? { networks: { eth0: { rx_bytes: o.rx, rx_packets: 2, rx_errors: 0, rx_dropped: 0, tx_bytes: 9, tx_packets: 1, tx_errors: 0, tx_dropped: 0 } } } : {}),
  };
}

test('per-container families: one sampler call per scrape for every family, labelled by name, image and Compose service; gone containers leave', async () => {
  const web = record('a'.repeat(64), 'shop-web-1', { 'com.docker.compose.project': 'shop', 'com.docker.compose.service': 'web' });
  const db = record('b'.repeat(64), 'db');
  let current = [{ container: web, sample: sample(web.id, { cpuNs: 2_500_000_000, mem: 1000, rx: 77 }) }, { container: db, sample: sample(db.id, { cpuNs: 1, mem: 5 }) }];
  const asked: number[] = [];
  const source: ContainerSamples = { current: async (maxAgeMs) => { asked.push(maxAgeMs); return current; } };
  const registry = new Registry();
  registerContainerMetrics(registry, source);
  const text = await registry.metrics();
  assert.equal(asked.length, 1, 'every family of one scrape reads one snapshot');
  const webLabels = `id="${web.id}",name="shop-web-1",image="busybox",compose_project="shop",compose_service="web"`;
  assert.ok(text.includes(`berth_container_cpu_usage_seconds_total{${webLabels}} 2.5\n`), text);
  assert.ok(text.includes(`berth_container_memory_usage_bytes{${webLabels}} 1000\n`));
  assert.ok(text.includes(`berth_container_memory_limit_bytes{${webLabels}} 1073741824\n`));
  assert.ok(text.includes(`berth_container_pids{${webLabels}} 3\n`));
  assert.ok(text.includes(`berth_container_blkio_read_bytes_total{${webLabels}} 4097\n`), 'every device summed');
  assert.ok(text.includes(`berth_container_blkio_write_bytes_total{${webLabels}} 512\n`));
  assert.ok(text.includes(`berth_container_network_receive_bytes_total{${webLabels},interface="eth0"} 77\n`));
  assert.ok(text.includes(`berth_container_network_transmit_bytes_total{${webLabels},interface="eth0"} 9\n`));
  assert.ok(text.includes(`berth_container_memory_usage_bytes{id="${db.id}",name="db",image="busybox",compose_project="",compose_service=""} 5\n`));
  assert.match(text, /^# TYPE berth_container_cpu_usage_seconds_total counter$/m);
  assert.match(text, /^# TYPE berth_container_memory_usage_bytes gauge$/m);
  assert.match(text, /^berth_container_samples 2$/m);
  assert.match(text, /^berth_container_sampling_seconds \d/m);

  // Two scrapes at once share one snapshot; a container gone (or one whose sample is Docker's zeroed one, as it
  // stopped between the listing and its sample) has no series.
  current = [{ container: web, sample: sample(web.id, { cpuNs: 3_000_000_000, mem: 1000, rx: 80 }) }, { container: db, sample: sample(db.id, { cpuNs: 0, mem: 0, read: '0001-01-01T00:00:00Z' }) }];
  const [a, b] = await Promise.all([registry.metrics(), registry.metrics()]);
  assert.equal(asked.length, 2, 'two scrapes together: one sampler call');
  for (const t of [a, b]) {
    assert.ok(t.includes(`berth_container_cpu_usage_seconds_total{${webLabels}} 3\n`));
    assert.ok(!t.includes(db.id), 'no series of the container that is not running');
    assert.match(t, /^berth_container_samples 1$/m);
  }
  assert.ok(asked.every((ms) => ms > 0 && ms <= 5000), 'recent samples are reused, within the sampler\'s own base age');
});

test('ContainerStats.current: the sampler `docker stats` uses, reusing its recent samples and skipping what failed', async () => {
  const cgroups = new FakeCgroupDriver();
  const running = record('c'.repeat(64), 'one');
  const stopped = record('d'.repeat(64), 'two', {}, 'exited');
  const broken = record('e'.repeat(64), 'three');
  cgroups.add(`/berth/${running.id}`, { stats: { cpu: { usageNanos: 42 }, memory: { usage: 100, limit: 200, cache: 0, stat: {} } } });
  // `broken` has no cgroup: the sampler gives Docker's zeroed sample for it (a container just stopping).
  let reads = 0;
  const stats = cgroups.stats.bind(cgroups);
  cgroups.stats = (p, parts) => { reads++; return stats(p, parts); };
  const containers = { all: () => [running, stopped, broken], find: () => undefined, get: () => { throw new NotFoundError('x'); } } as unknown as ContainerService;
  const errors: string[] = [];
  const sampler = new ContainerStats(containers, cgroups, { error: (m) => errors.push(m) });
  const first = await sampler.current(2000);
  assert.deepEqual(first.map((t) => t.container.name), ['one', 'three'], 'running ones only');
  assert.equal(first[0]!.sample.cpu_stats.cpu_usage.total_usage, 42);
  assert.equal(first[0]!.sample.memory_stats.usage, 100);
  assert.equal(reads, 2);
  const again = await sampler.current(2000);
  assert.equal(reads, 3, 'the sample taken a moment ago serves again; the zeroed one is not kept and is taken anew');
  assert.equal(again[0]!.sample, first[0]!.sample);
  await sampler.current(0);
  assert.equal(reads, 5, 'too old for the caller: taken anew');
  // A host failure (not a cgroup that is gone) leaves that container out of the scrape, said once in the log.
  cgroups.stats = async () => { throw new SystemError('EMFILE: too many open files'); };
  assert.deepEqual(await sampler.current(0), []);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /metrics: 2 container samples failed .*EMFILE/);
});

test('the API server tells its observer each request\'s route template, status and duration', async () => {
  const seen: Parameters<RequestObserver>[0][] = [];
  const router = new Router();
  router.get('/containers/{id}/json', (ctx) => { if (ctx.params.id === 'nope') throw new NotFoundError('No such container: nope'); return { Id: ctx.params.id }; });
  const server = createApiServer(router, quiet, (r) => seen.push(r));
  const sock = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'berth-metrics-')), 'api.sock');
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  try {
    const get = (p: string, method = 'GET') => new Promise<number>((resolve, reject) => {
      http.request({ socketPath: sock, path: p, method }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode!)); }).on('error', reject).end();
    });
    assert.equal(await get('/v1.47/containers/abc/json'), 200);
    assert.equal(await get('/containers/nope/json'), 404);
    assert.equal(await get('/no/such/route'), 404);
    assert.equal(await get('/containers/abc/json', 'DELETE'), 405);
    for (let i = 0; i < 50 && seen.length < 4; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(seen.map((r) => [r.method, r.route, r.status]), [
      ['GET', '/containers/{id}/json', 200], ['GET', '/containers/{id}/json', 404], ['GET', 'unmatched', 404], ['DELETE', 'unmatched', 405],
    ]);
    assert.ok(seen.every((r) => r.seconds >= 0 && r.seconds < 5));
  } finally {
    server.close();
    server.closeAllConnections();
    fs.rmSync(path.dirname(sock), { recursive: true, force: true });
  }
});

test('the /metrics listener: Prometheus text at /metrics, 404 and 405 elsewhere, a taken port a clear start-up error', async () => {
  const registry = new EngineMetrics(() => []).registry;
  const logs: string[] = [];
  const server = await startMetricsServer({ host: '127.0.0.1', port: 0, loopback: true }, registry, { info: (m) => logs.push(m), error: (m) => logs.push(m) });
  try {
    assert.match(server.address, /^127\.0\.0\.1:\d+$/);
    assert.ok(logs.some((l) => l.includes(`http://${server.address}/metrics`)));
    const res = await fetch(`http://${server.address}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(await res.text(), /^# TYPE berth_api_requests_total counter$/m);
    assert.equal((await fetch(`http://${server.address}/`)).status, 404);
    assert.equal((await fetch(`http://${server.address}/metrics`, { method: 'POST' })).status, 405);
    const port = Number(server.address.split(':')[1]);
    await assert.rejects(startMetricsServer({ host: '127.0.0.1', port, loopback: true }, registry, quiet), /metrics-addr 127\.0\.0\.1:\d+: cannot listen: EADDRINUSE/);
  } finally {
    await server.close();
  }
  // Off loopback only when the address says so, and the log says it too.
  const wide = await startMetricsServer({ host: '0.0.0.0', port: 0, loopback: false }, registry, { info: (m) => logs.push(m), error: () => undefined });
  await wide.close();
  assert.ok(logs.some((l) => /warning: 0\.0\.0\.0:\d+ is not a loopback address/.test(l)));
});
