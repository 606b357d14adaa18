// dockerode (the npm package, unchanged) against berthd: the calls Node.js users script Docker with — system,
// images, build with its progress stream, events, networks, volumes, logs, stats, put/get archives, prune.
import test from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import Docker from 'dockerode';
import { TestDaemon } from '../helpers/daemon';
import { tarOf, readAll, untar } from '../helpers/tar-files';
import type { EventMessage, ModemError } from '../helpers/api-types';

/** One message of a build's progress stream. */
interface ProgressMessage {
  stream?: string;
  error?: string;
  message?: string;
}

test('dockerode against berthd', { timeout: 300_000 }, async (t) => {
  const d = new TestDaemon('dockerode');
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  const docker = new Docker({ socketPath: d.sock });

  await t.test('ping, version, info', async () => {
    assert.equal(String(await docker.ping()), 'OK');
    const v = await docker.version();
    assert.match(v.ApiVersion, /^1\.\d+$/);
    assert.equal(v.Os, 'linux');
    const info = await docker.info();
    assert.ok(info.Images >= 1);
    assert.equal(typeof info.Containers, 'number');
  });

  await t.test('images: list, inspect, tag, history, remove', async () => {
    const list = await docker.listImages();
    assert.ok(list.some((i) => (i.RepoTags || []).includes('busybox:latest')));
    const img = docker.getImage('busybox:latest');
    const info = await img.inspect();
    assert.match(info.Id, /^sha256:[0-9a-f]{64}$/);
    await img.tag({ repo: 'dockerode/bb', tag: 'v1' });
    assert.equal((await docker.getImage('dockerode/bb:v1').inspect()).Id, info.Id);
    const history = await img.history();
    assert.ok(Array.isArray(history) && history.length >= 1);
    const removed = await docker.getImage('dockerode/bb:v1').remove();
    assert.deepEqual(removed, [{ Untagged: 'dockerode/bb:v1' }]);
    await assert.rejects(docker.getImage('dockerode/bb:v1').inspect(), (err) => (err as ModemError).statusCode === 404);
  });

  await t.test('build from a tar stream, progress followed to the end, then the image runs', async () => {
    const context = tarOf({
      Dockerfile: 'FROM busybox\nCOPY greeting /greeting\nRUN echo built >> /greeting\nCMD ["cat", "/greeting"]\n',
      greeting: 'hello from dockerode\n',
    });
    const stream = await docker.buildImage(context, { t: 'dockerode/built:1' });
    const events = await new Promise<ProgressMessage[]>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null, res: ProgressMessage[]) => (err ? reject(err) : resolve(res))));
    assert.ok(events.some((e) => /Successfully built [0-9a-f]{12}/.test(e.stream || '')), JSON.stringify(events));
    assert.ok(!events.some((e) => e.error), JSON.stringify(events));
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c) => chunks.push(c));
    const [result] = await docker.run('dockerode/built:1', [], out, { HostConfig: { AutoRemove: true } });
    assert.equal(result.StatusCode, 0);
    // run resolves with wait's answer, which comes on another connection than the output: read the output to its end
    // (the attach stream ends with the container) before looking at it, as the client may not have read it yet.
    await finished(out);
    // docker.run creates with Tty: true by default: the terminal turns \n into \r\n, as on dockerd.
    assert.equal(Buffer.concat(chunks).toString(), 'hello from dockerode\r\nbuilt\r\n');
  });

  await t.test('a failing build reports its error through the progress stream', async () => {
    const stream = await docker.buildImage(tarOf({ Dockerfile: 'FROM busybox\nRUN exit 3\n' }), { t: 'dockerode/broken:1' });
    const failure = await new Promise<ProgressMessage | undefined>((resolve) => docker.modem.followProgress(stream, (err: Error | null, res: ProgressMessage[]) => resolve(err || res.find((e) => e.error))));
    assert.match(String(failure?.message || failure?.error), /returned a non-zero code: 3/);
  });

  await t.test('events: a container\'s create, start and die arrive on the stream', async () => {
    const since = Math.floor(Date.now() / 1000) - 1;
    const container = await docker.createContainer({ Image: 'busybox', Cmd: ['true'], Labels: { dockerode: 'events' } });
    await container.start();
    await container.wait();
    const until = Math.floor(Date.now() / 1000) + 1;
    const stream = await docker.getEvents({ since, until, filters: { label: ['dockerode=events'] } });
    const lines = (await readAll(stream)).toString().split('\n').filter(Boolean).map((l) => JSON.parse(l) as EventMessage);
    const actions = lines.filter((e) => e.Type === 'container' && e.Actor.ID === container.id).map((e) => e.Action);
    assert.deepEqual(actions.filter((a) => ['create', 'start', 'die'].includes(a)), ['create', 'start', 'die']);
    await container.remove();
  });

  await t.test('networks: create, connect, names resolved, inspect, disconnect, remove', async () => {
    const net = await docker.createNetwork({ Name: 'dockerode-net', Labels: { via: 'dockerode' } });
    const server = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '60'], name: 'dockerode-srv' });
    await server.start();
    await net.connect({ Container: server.id, EndpointConfig: { Aliases: ['srv-alias'] } });
    const netInfo = await net.inspect();
    assert.equal(netInfo.Name, 'dockerode-net');
    assert.deepEqual(netInfo.Labels, { via: 'dockerode' });
    assert.ok(netInfo.Containers?.[server.id], JSON.stringify(netInfo.Containers));
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c) => chunks.push(c));
    const [res] = await docker.run('busybox', ['ping', '-c', '1', '-W', '5', 'srv-alias'], out, { HostConfig: { NetworkMode: 'dockerode-net', AutoRemove: true } });
    assert.equal(res.StatusCode, 0, Buffer.concat(chunks).toString());
    const listed = await docker.listNetworks({ filters: { label: ['via=dockerode'] } });
    assert.deepEqual(listed.map((n) => n.Name), ['dockerode-net']);
    await net.disconnect({ Container: server.id });
    assert.equal(Object.keys((await net.inspect()).Containers || {}).length, 0);
    await server.remove({ force: true });
    await net.remove();
    await assert.rejects(net.inspect(), (err) => (err as ModemError).statusCode === 404);
  });

  await t.test('volumes: create, list, data kept across containers, remove', async () => {
    const vol = await docker.createVolume({ Name: 'dockerode-vol', Labels: { via: 'dockerode' } });
    assert.equal(vol.name, 'dockerode-vol');
    const { Volumes } = await docker.listVolumes({ filters: { label: ['via=dockerode'] } });
    assert.deepEqual(Volumes.map((v) => v.Name), ['dockerode-vol']);
    const [w] = await docker.run('busybox', ['sh', '-c', 'echo kept > /v/f'], new PassThrough(), { HostConfig: { Binds: ['dockerode-vol:/v'], AutoRemove: true } });
    assert.equal(w.StatusCode, 0);
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c) => chunks.push(c));
    await docker.run('busybox', ['cat', '/v/f'], out, { HostConfig: { Binds: ['dockerode-vol:/v'], AutoRemove: true } });
    await finished(out);
    assert.equal(Buffer.concat(chunks).toString(), 'kept\r\n'); // Tty: true, as docker.run creates
    // docker.run resolves at the exit; AutoRemove follows it (on dockerd as well), so the volume frees a moment later.
    for (let i = 0; ; i++) {
      try { await docker.getVolume('dockerode-vol').remove(); break; } catch (err) {
        if ((err as ModemError).statusCode !== 409 || i === 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await assert.rejects(docker.getVolume('dockerode-vol').inspect(), (err) => (err as ModemError).statusCode === 404);
  });

  await t.test('logs demuxed into stdout and stderr, stats without streaming', async () => {
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo to-out; echo to-err >&2; sleep 30'] });
    await c.start();
    let logs: Buffer = Buffer.alloc(0);
    for (let i = 0; i < 50 && !/to-err/.test(logs.toString()); i++) {
      logs = await c.logs({ stdout: true, stderr: true, follow: false });
      await new Promise((r) => setTimeout(r, 100));
    }
    const out = new PassThrough();
    const err = new PassThrough();
    const o: Buffer[] = [];
    const e: Buffer[] = [];
    out.on('data', (x) => o.push(x));
    err.on('data', (x) => e.push(x));
    const source = new PassThrough();
    docker.modem.demuxStream(source, out, err);
    source.end(logs);
    await new Promise((r) => setImmediate(r));
    assert.equal(Buffer.concat(o).toString(), 'to-out\n');
    assert.equal(Buffer.concat(e).toString(), 'to-err\n');
    const stats = await c.stats({ stream: false });
    assert.ok(stats.memory_stats && typeof stats.memory_stats.usage === 'number', JSON.stringify(stats.memory_stats));
    assert.ok(stats.cpu_stats && stats.cpu_stats.cpu_usage, JSON.stringify(stats.cpu_stats));
    await c.remove({ force: true });
  });

  await t.test('putArchive then getArchive round-trips a file; export streams the filesystem', async () => {
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '30'] });
    await c.start();
    await c.putArchive(tarOf({ 'note.txt': 'from dockerode\n' }), { path: '/tmp' });
    const files = await untar(await readAll(await c.getArchive({ path: '/tmp/note.txt' })));
    assert.deepEqual(files, { 'note.txt': 'from dockerode\n' });
    const exported = await untar(await readAll(await c.export()));
    assert.equal(exported['tmp/note.txt'], 'from dockerode\n');
    await c.remove({ force: true });
  });

  await t.test('prune containers and images', async () => {
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['true'] });
    const pruned = await docker.pruneContainers();
    assert.ok(pruned.ContainersDeleted.includes(c.id));
    const images = await docker.pruneImages({ filters: { dangling: { false: true } } });
    assert.ok(Array.isArray(images.ImagesDeleted) || images.ImagesDeleted === null);
    assert.equal(typeof images.SpaceReclaimed, 'number');
  });
});
