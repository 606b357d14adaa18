// metrics-addr on a real berthd: /metrics in a format promtool accepts, the engine's and the containers' figures
// moving as containers run, build, push and pull; Debian's prometheus scraping it; a malformed address refused at start.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TestDaemon } from '../helpers/daemon';
import { TestRegistry } from '../helpers/registry';
import { repoRoot } from '../helpers/paths';
import { parseExposition, samplesOf, TestPrometheus, valueOf, type Sample } from '../helpers/prometheus';
import { sleep, until } from '../helpers/wait';

let d: TestDaemon;
let metricsUrl = '';
let configDir = '';

before(async () => {
  configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-metrics-'));
  const config = path.join(configDir, 'daemon.json');
  // Port 0: the kernel's choice, which berthd writes in its log.
  fs.writeFileSync(config, JSON.stringify({ 'metrics-addr': '127.0.0.1:0' }));
  d = new TestDaemon('metrics', { args: ['--config-file', config] });
  await d.startWithBusybox();
  const m = /metrics: serving GET (http:\/\/127\.0\.0\.1:\d+\/metrics)/.exec(fs.readFileSync(d.logFile, 'utf8'));
  assert.ok(m, d.logTail());
  metricsUrl = m[1]!;
});

after(async () => {
  await d?.cleanup();
  fs.rmSync(configDir, { recursive: true, force: true });
});

async function scrape(): Promise<{ text: string; samples: Sample[] }> {
  const res = await fetch(metricsUrl);
  assert.equal(res.status, 200, d.logTail());
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return { text, samples: parseExposition(text) };
}

function promtoolAccepts(text: string): void {
  const r = spawnSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.equal(r.status, 0, `promtool check metrics: ${r.stdout}${r.stderr}`);
}

test('the engine\'s and each container\'s figures move as containers run, and promtool accepts every scrape', async () => {
  const first = await scrape();
  promtoolAccepts(first.text);
  assert.ok(valueOf(first.samples, 'process_cpu_seconds_total')! > 0, "berthd's process metrics");
  assert.equal(valueOf(first.samples, 'berth_containers', { state: 'running' }), 0);

  const gateway = d.dockerOk(['network', 'inspect', 'bridge', '--format', '{{(index .IPAM.Config 0).Gateway}}']).trim();
  // Busy on the CPU, a few pings through its interface, some memory: each of its families has something to move.
  const id = d.dockerOk(['run', '-d', '--name', 'busy', '-l', 'com.docker.compose.project=shop', '-l', 'com.docker.compose.service=web',
    'busybox', 'sh', '-c', `ping -c 3 -i 0.2 ${gateway}; while :; do :; done`]).trim();
  d.dockerOk(['create', '--name', 'idle', 'busybox', 'true']);
  const labels = { id, name: 'busy', image: 'busybox', compose_project: 'shop', compose_service: 'web' };
  const cpu = (s: Sample[]) => valueOf(s, 'berth_container_cpu_usage_seconds_total', labels);
  const early = await until(async () => {
    const s = (await scrape()).samples;
    return (valueOf(s, 'berth_container_network_transmit_bytes_total', { ...labels, interface: 'eth0' }) ?? 0) > 0 && s;
  }, 'the busy container\'s interface to have sent its pings', 100);
  assert.ok(cpu(early)! > 0, d.logTail());
  assert.ok(valueOf(early, 'berth_container_memory_usage_bytes', labels)! > 0);
  assert.ok(valueOf(early, 'berth_container_pids', labels)! >= 1);
  assert.equal(valueOf(early, 'berth_containers', { state: 'running' }), 1);
  assert.equal(valueOf(early, 'berth_containers', { state: 'created' }), 1);
  // Past the sampler's reuse age: the next scrape samples again and the CPU counter has grown.
  await sleep(2500);
  const later = await scrape();
  promtoolAccepts(later.text);
  assert.ok(cpu(later.samples)! > cpu(early)! + 0.2, `cpu ${cpu(early)} then ${cpu(later.samples)}`);
  assert.equal(valueOf(later.samples, 'berth_container_samples'), 1, 'only running containers are sampled');

  // Routes as registered (bounded), never a raw path with an ID in it.
  assert.ok(valueOf(later.samples, 'berth_api_requests_total', { method: 'POST', route: '/containers/create', status: '201' })! >= 2);
  assert.ok(valueOf(later.samples, 'berth_api_requests_total', { method: 'POST', route: '/containers/{id}/start', status: '204' })! >= 1);
  assert.ok(samplesOf(later.samples, 'berth_api_requests_total').every((s) => !s.labels.route!.includes(id.slice(0, 12))));
  assert.ok(valueOf(later.samples, 'berth_api_request_duration_seconds_count', { method: 'POST', route: '/containers/create' })! >= 2);
  assert.equal(valueOf(later.samples, 'berth_events_total', { type: 'container', action: 'start' }), 1);
  assert.equal(valueOf(later.samples, 'berth_events_total', { type: 'container', action: 'create' }), 2);

  // A removed container's series go with it.
  d.dockerOk(['rm', '-f', 'busy', 'idle']);
  const gone = await scrape();
  assert.equal(samplesOf(gone.samples, 'berth_container_cpu_usage_seconds_total', { id }).length, 0);
  assert.equal(valueOf(gone.samples, 'berth_containers', { state: 'running' }), 0);
  assert.equal(valueOf(gone.samples, 'berth_events_total', { type: 'container', action: 'destroy' }), 2);
});

test('build steps by instruction and outcome; pushes and pulls with their bytes, and a failed pull', async (t) => {
  const ctx = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-metrics-build-'));
  t.after(() => fs.rmSync(ctx, { recursive: true, force: true }));
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM busybox\nRUN echo ${process.pid}-${Date.now()} > /stamp\nCOPY Dockerfile /\n`);
  d.dockerOk(['build', '-q', '-t', 'metrics/built', ctx]);
  d.dockerOk(['build', '-q', '-t', 'metrics/built', ctx]);
  const built = (await scrape()).samples;
  assert.equal(valueOf(built, 'berth_build_steps_total', { instruction: 'RUN', outcome: 'built' }), 1);
  assert.equal(valueOf(built, 'berth_build_steps_total', { instruction: 'RUN', outcome: 'cached' }), 1);
  assert.equal(valueOf(built, 'berth_build_steps_total', { instruction: 'COPY', outcome: 'cached' }), 1);
  assert.equal(valueOf(built, 'berth_build_steps_total', { instruction: 'FROM', outcome: 'built' }), 2);
  fs.writeFileSync(path.join(ctx, 'Dockerfile.bad'), 'FROM busybox\nRUN exit 3\n');
  d.dockerFail(['build', '--force-rm', '-f', path.join(ctx, 'Dockerfile.bad'), ctx]);
  assert.equal(valueOf((await scrape()).samples, 'berth_build_steps_total', { instruction: 'RUN', outcome: 'failed' }), 1);

  const registry = await new TestRegistry().start();
  t.after(() => registry.cleanup());
  const ref = `${registry.host}/metrics/built:1`;
  d.dockerOk(['tag', 'metrics/built', ref]);
  d.dockerOk(['push', ref]);
  const pushed = (await scrape()).samples;
  assert.equal(valueOf(pushed, 'berth_image_transfers_total', { kind: 'push' }), 1);
  assert.ok(valueOf(pushed, 'berth_image_transfer_bytes_total', { kind: 'push' })! > 100_000, 'busybox\'s layer went up');
  // Nothing of it left here: the pull downloads every layer.
  d.dockerOk(['rmi', ref, 'metrics/built', 'busybox']);
  d.dockerOk(['pull', ref]);
  d.dockerFail(['pull', `${registry.host}/metrics/absent:1`]);
  const pulled = (await scrape()).samples;
  assert.equal(valueOf(pulled, 'berth_image_transfers_total', { kind: 'pull' }), 2);
  assert.equal(valueOf(pulled, 'berth_image_transfer_failures_total', { kind: 'pull' }), 1);
  assert.equal(valueOf(pulled, 'berth_image_transfer_failures_total', { kind: 'push' }), 0);
  assert.equal(valueOf(pulled, 'berth_image_transfer_bytes_total', { kind: 'pull' }), valueOf(pushed, 'berth_image_transfer_bytes_total', { kind: 'push' }), 'the same compressed layers came back down');
  assert.equal(valueOf(pulled, 'berth_events_total', { type: 'image', action: 'pull' }), 1);
  // busybox back for whoever comes next.
  d.dockerOk(['tag', ref, 'busybox:latest']);
});

test('Debian\'s prometheus scrapes berthd: up is 1 and the containers\' series are there', async (t) => {
  d.dockerOk(['run', '-d', '--name', 'scraped', 'busybox', 'sleep', '300']);
  t.after(() => d.docker(['rm', '-f', 'scraped']));
  const prometheus = await new TestPrometheus(new URL(metricsUrl).host).start();
  t.after(() => prometheus.stop());
  try {
    await until(async () => (await prometheus.query('up{job="berth"}'))[0]?.value[1] === '1', 'prometheus to scrape berthd (up{job="berth"} = 1)', 300);
    const series = await until(async () => {
      const r = await prometheus.query('berth_container_memory_usage_bytes{name="scraped"}');
      return r.length === 1 && r;
    }, 'the scraped container\'s memory series in prometheus', 100);
    assert.equal(series[0]!.metric.image, 'busybox');
    assert.equal(series[0]!.metric.job, 'berth');
    assert.ok(Number(series[0]!.value[1]) > 0);
    const requests = await prometheus.query('sum(berth_api_requests_total{job="berth"})');
    assert.ok(Number(requests[0]!.value[1]) > 0);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${prometheus.logTail()}\n${d.logTail()}`);
  }
});

test('a malformed metrics-addr stops berthd at start, naming the value', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-metrics-bad-'));
  try {
    const config = path.join(dir, 'daemon.json');
    const start = (args: string[]) => spawnSync(path.join(repoRoot, 'bin/berthd'), ['--config-file', config, '--data-root', path.join(dir, 'data'), '--exec-root', path.join(dir, 'run'), ...args], { encoding: 'utf8', timeout: 20_000 });
    for (const [file, args, want] of [
      [{ 'metrics-addr': 'localhost:http' }, [], /metrics-addr: invalid address "localhost:http": port "http" is not a number from 0 to 65535/],
      [{ 'metrics-addr': 'example.com:9323' }, [], /host "example\.com" is neither an IP address nor localhost/],
      [{ 'metrics-addr': 9323 }, [], /metrics-addr: 9323 is not a string/],
      [{}, ['--metrics-addr', '127.0.0.1:99999'], /port "99999" is not a number from 0 to 65535/],
    ] as const) {
      fs.writeFileSync(config, JSON.stringify(file));
      const r = start([...args]);
      assert.equal(r.status, 1, `${JSON.stringify(file)} ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, want);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('without metrics-addr berthd listens on no TCP port', async (t) => {
  const plain = new TestDaemon('nometrics');
  t.after(() => plain.cleanup());
  await plain.start();
  const listening = spawnSync('ss', ['-Hltnp'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(`pid=${plain.pid},`));
  assert.deepEqual(listening, [], plain.logTail());
  assert.doesNotMatch(fs.readFileSync(plain.logFile, 'utf8'), /metrics:/);
  // The daemon with it does listen, on the address it was given.
  const withMetrics = spawnSync('ss', ['-Hltnp'], { encoding: 'utf8' }).stdout.split('\n').filter((l) => l.includes(`pid=${d.pid},`));
  assert.equal(withMetrics.length, 1, withMetrics.join('\n'));
  assert.ok(withMetrics[0]!.includes(new URL(metricsUrl).host), withMetrics[0]);
});
