// The API's edge as old and new clients meet it: versions 1.12 through 1.51 (skopeo's docker-daemon: transport
// speaks 1.22), what changes with the version, and the swarm endpoints of a node in no swarm.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TestDaemon } from '../helpers/daemon';
import { tempDir } from '../helpers/tmp';
import type { ErrorBody, IdBody, ImageInspect, ImageSummary, InfoBody, VersionBody } from '../helpers/api-types';
import type { Manifest } from '../../src/wire/oci';

/** A whole HTTP answer. */
interface Answer {
  status: number | undefined;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One HTTP request over the daemon's socket: status, headers and the whole body as text. */
function request(sock: string, method: string, urlPath: string, body?: unknown): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ socketPath: sock, method, path: urlPath, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

function skopeo(args: string[]) {
  return spawnSync('skopeo', args, { encoding: 'utf8', timeout: 120_000 });
}

test('API versions 1.12 to 1.51, as clients of each ask', { timeout: 300_000 }, async (t) => {
  const d = await new TestDaemon('apiver').startWithBusybox();
  t.after(() => d.cleanup());
  const req = (method: string, p: string, body?: unknown) => request(d.sock, method, p, body);

  await t.test('/version and /_ping advertise 1.47 (Docker 27.5\'s, what negotiating clients settle on), and 1.12 as the minimum, as dockerd 20.10 reports its minimum', async () => {
    const v = JSON.parse((await req('GET', '/version')).body) as VersionBody;
    assert.equal(v.ApiVersion, '1.47');
    assert.equal(v.MinAPIVersion, '1.12');
    assert.equal((await req('GET', '/_ping')).headers['api-version'], '1.47');
    // The docker CLI v28 negotiates down to what berthd advertises.
    assert.match(d.dockerOk(['version', '--format', '{{.Client.APIVersion}} {{.Server.APIVersion}} {{.Server.MinAPIVersion}}']).trim(), /^1\.47 1\.47 1\.12$/);
  });

  await t.test('the oldest and the newest versions are served; one past either end is refused with dockerd words', async () => {
    for (const v of ['1.12', '1.22', '1.24', '1.41', '1.47', '1.51']) {
      const r = await req('GET', `/v${v}/version`);
      assert.equal(r.status, 200, `v${v}: ${r.body}`);
      assert.equal((JSON.parse(r.body) as VersionBody).ApiVersion, '1.47');
    }
    assert.equal((await req('GET', '/v1.24/containers/json')).status, 200);
    const tooNew = await req('GET', '/v1.52/version');
    assert.equal(tooNew.status, 400);
    assert.deepEqual(JSON.parse(tooNew.body), { message: 'client version 1.52 is too new. Maximum supported API version is 1.51' });
    const tooOld = await req('GET', '/v1.11/version');
    assert.equal(tooOld.status, 400);
    assert.equal(tooOld.body, 'client version 1.11 is too old. Minimum supported API version is 1.12, please upgrade your client to a newer version\n');
  });

  await t.test('errors are plain text before 1.24 and JSON from 1.24, as dockerd writes them', async () => {
    const old = await req('GET', '/v1.23/containers/nosuch/json');
    assert.equal(old.status, 404);
    assert.match(old.headers['content-type'] ?? '', /^text\/plain/);
    assert.equal(old.body, 'No such container: nosuch\n');
    const json = await req('GET', '/v1.24/containers/nosuch/json');
    assert.equal(json.status, 404);
    assert.equal(json.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(json.body), { message: 'No such container: nosuch' });
  });

  await t.test('skopeo (API 1.22) copies and inspects docker-daemon: images both ways', () => {
    const host = `unix://${d.sock}`;
    const dir = path.join(tempDir('berth-skopeo-'), 'busybox');
    let r = skopeo(['copy', '--src-daemon-host', host, 'docker-daemon:busybox:latest', `dir:${dir}`]);
    assert.equal(r.status, 0, r.stderr);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    const imageId = d.dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'busybox']).trim();
    assert.equal(manifest.config.digest, imageId);

    r = skopeo(['inspect', '--daemon-host', host, 'docker-daemon:busybox:latest']);
    assert.equal(r.status, 0, r.stderr);
    const info = JSON.parse(r.stdout) as { Os: string; Layers: string[] };
    assert.equal(info.Os, 'linux');
    assert.deepEqual(info.Layers, JSON.parse(d.dockerOk(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', 'busybox'])) as string[]);

    r = skopeo(['copy', '--dest-daemon-host', host, `dir:${dir}`, 'docker-daemon:skopeo-copied:1']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(d.dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'skopeo-copied:1']).trim(), imageId);

    // A missing image: the daemon's words, not a JSON body printed raw (the client reads 1.22 errors as text).
    r = skopeo(['inspect', '--daemon-host', host, 'docker-daemon:nosuch:latest']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /Error response from daemon: No such image: nosuch:latest/);
    assert.doesNotMatch(r.stderr, /\{"message"/);
  });

  await t.test('/images/json: <none> names before 1.43, VirtualSize before 1.44, Containers counted from 1.51', async () => {
    const id = (JSON.parse((await req('POST', '/v1.41/containers/create', { Image: 'busybox', Cmd: ['true'] })).body) as IdBody).Id;
    d.dockerOk(['commit', id]); // an untagged image
    const list = async (v: string) => JSON.parse((await req('GET', `/v${v}/images/json`)).body) as ImageSummary[];
    const untagged = (l: ImageSummary[]) => l.find((i) => !i.RepoTags.length || i.RepoTags[0] === '<none>:<none>')!;
    const busyboxIn = (l: ImageSummary[]) => l.find((i) => i.RepoTags.includes('busybox:latest'))!;

    const v142 = await list('1.42');
    assert.deepEqual(untagged(v142).RepoTags, ['<none>:<none>']);
    assert.deepEqual(untagged(v142).RepoDigests, ['<none>@<none>']);
    assert.equal(busyboxIn(v142).VirtualSize, busyboxIn(v142).Size);
    assert.equal(busyboxIn(v142).Containers, -1);

    const v143 = await list('1.43');
    assert.deepEqual(untagged(v143).RepoTags, []);
    assert.deepEqual(untagged(v143).RepoDigests, []);
    assert.equal(busyboxIn(v143).VirtualSize, busyboxIn(v143).Size);

    const v150 = await list('1.50');
    assert.equal('VirtualSize' in busyboxIn(v150), false);
    assert.equal(busyboxIn(v150).Containers, -1);
    assert.equal(busyboxIn(await list('1.51')).Containers, 1);
    d.dockerOk(['rm', id]);
  });

  await t.test('image inspect: VirtualSize before 1.44, Container and ContainerConfig before 1.45', async () => {
    const inspect = async (v: string) => JSON.parse((await req('GET', `/v${v}/images/busybox/json`)).body) as ImageInspect & { VirtualSize?: number };
    const v143 = await inspect('1.43');
    assert.equal(v143.VirtualSize, v143.Size);
    assert.ok('ContainerConfig' in v143);
    const v144 = await inspect('1.44');
    assert.equal('VirtualSize' in v144, false);
    assert.ok('ContainerConfig' in v144 && 'Container' in v144);
    const v145 = await inspect('1.45');
    assert.equal('ContainerConfig' in v145 || 'Container' in v145, false);
  });

  await t.test('create: AutoRemove ignored through 1.24 (the client removes), one network endpoint only before 1.44', async () => {
    const old = await req('POST', '/v1.24/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { AutoRemove: true } });
    assert.equal(old.status, 201, old.body);
    const oldId = (JSON.parse(old.body) as IdBody).Id;
    assert.equal(d.dockerOk(['inspect', '-f', '{{.HostConfig.AutoRemove}}', oldId]).trim(), 'false');
    const now = await req('POST', '/v1.25/containers/create', { Image: 'busybox', Cmd: ['true'], HostConfig: { AutoRemove: true } });
    assert.equal(d.dockerOk(['inspect', '-f', '{{.HostConfig.AutoRemove}}', (JSON.parse(now.body) as IdBody).Id]).trim(), 'true');
    d.dockerOk(['rm', oldId, (JSON.parse(now.body) as IdBody).Id]);

    const two = { Image: 'busybox', Cmd: ['true'], NetworkingConfig: { EndpointsConfig: { bridge: {}, other: {} } } };
    const refused = await req('POST', '/v1.43/containers/create', two);
    assert.equal(refused.status, 400);
    assert.equal((JSON.parse(refused.body) as ErrorBody).message, 'Container cannot be created with multiple network endpoints: bridge, other');
  });

  await t.test('logs without a TTY: a raw-stream content type before 1.42, multiplexed from 1.42', async () => {
    const id = (JSON.parse((await req('POST', '/v1.41/containers/create', { Image: 'busybox', Cmd: ['echo', 'hi'] })).body) as IdBody).Id;
    d.dockerOk(['start', '-a', id]);
    const old = await req('GET', `/v1.41/containers/${id}/logs?stdout=1`);
    assert.equal(old.headers['content-type'], 'application/vnd.docker.raw-stream');
    const now = await req('GET', `/v1.42/containers/${id}/logs?stdout=1`);
    assert.equal(now.headers['content-type'], 'application/vnd.docker.multiplexed-stream');
    // The frames are the same: docker-py and the CLI demultiplex by the container's Tty, not the header.
    assert.equal(old.body, now.body);
    assert.ok(now.body.endsWith('hi\n'));
    d.dockerOk(['rm', id]);
  });
});

test('swarm endpoints on a node in no swarm: 503, as dockerd answers them', { timeout: 120_000 }, async (t) => {
  const d = await new TestDaemon('noswarm').start();
  t.after(() => d.cleanup());
  const req = (method: string, p: string, body?: unknown) => request(d.sock, method, p, body);

  await t.test('/info and /_ping say inactive', async () => {
    const info = JSON.parse((await req('GET', '/v1.41/info')).body) as InfoBody;
    assert.equal(info.Swarm.LocalNodeState, 'inactive');
    assert.equal(info.Swarm.ControlAvailable, false);
    assert.equal((await req('GET', '/_ping')).headers.swarm, 'inactive');
    assert.equal((await req('HEAD', '/_ping')).headers.swarm, 'inactive');
  });

  await t.test('leave: 503 "This node is not part of a swarm" (docker-py teardowns ignore only 503 and 406)', async () => {
    const r = await req('POST', '/v1.41/swarm/leave?force=1');
    assert.equal(r.status, 503);
    assert.deepEqual(JSON.parse(r.body), { message: 'This node is not part of a swarm' });
    assert.match(d.dockerFail(['swarm', 'leave', '--force']), /Error response from daemon: This node is not part of a swarm/);
    const py = spawnSync('/usr/bin/python3', ['-c', `
import docker
c = docker.APIClient(base_url='unix://${d.sock}', version='1.41')
print(c.leave_swarm(force=True))
try:
    c.leave_swarm()
except docker.errors.APIError as e:
    print(e.response.status_code, e.explanation)
`], { encoding: 'utf8' });
    // Forced, docker-py takes the 503 for "nothing to leave"; unforced, it raises it.
    assert.equal(py.stdout, 'True\n503 This node is not part of a swarm\n', py.stderr);
  });

  await t.test('cluster state (swarm, nodes, services, tasks, secrets, configs): 503 "not a swarm manager"', async () => {
    const manager = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
    const asks: [string, string, object?][] = [
      ['GET', '/swarm'], ['GET', '/swarm/unlockkey'], ['POST', '/swarm/update?version=1', {}], ['POST', '/swarm/unlock', { UnlockKey: 'x' }],
      ['GET', '/nodes'], ['GET', '/nodes/n1'], ['POST', '/nodes/n1/update?version=1', {}], ['DELETE', '/nodes/n1'],
      ['GET', '/services'], ['POST', '/services/create', {}], ['GET', '/services/s1'], ['POST', '/services/s1/update?version=1', {}],
      ['DELETE', '/services/s1'], ['GET', '/services/s1/logs?stdout=1'],
      ['GET', '/tasks'], ['GET', '/tasks/t1'], ['GET', '/tasks/t1/logs?stdout=1'],
      ['GET', '/secrets'], ['POST', '/secrets/create', {}], ['GET', '/secrets/x'], ['POST', '/secrets/x/update?version=1', {}], ['DELETE', '/secrets/x'],
      ['GET', '/configs'], ['POST', '/configs/create', {}], ['GET', '/configs/x'], ['POST', '/configs/x/update?version=1', {}], ['DELETE', '/configs/x'],
    ];
    for (const [method, p, body] of asks) {
      const r = await req(method, `/v1.41${p}`, body);
      assert.equal(r.status, 503, `${method} ${p}: ${r.status} ${r.body}`);
      assert.deepEqual(JSON.parse(r.body), { message: manager }, `${method} ${p}`);
    }
    assert.match(d.dockerFail(['node', 'ls']), /This node is not a swarm manager/);
    assert.match(d.dockerFail(['service', 'ls']), /This node is not a swarm manager/);
  });

  await t.test('a join without a manager to reach or a valid token is refused (400) and the node stays inactive', async () => {
    const r = await req('POST', '/v1.41/swarm/join', { ListenAddr: '0.0.0.0:2377', JoinToken: 'SWMTKN-1-bogus' });
    assert.equal(r.status, 400, r.body);
    assert.equal((JSON.parse((await req('GET', '/v1.41/info')).body) as InfoBody).Swarm.LocalNodeState, 'inactive');
  });
});
