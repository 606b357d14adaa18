// The swarm-mode routes driven through the real router and server over a unix socket, on a fake ClusterBackend:
// docker-py- and docker-CLI-shaped requests, status codes and texts; and the 503s without a backend.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { Router } from '../../src/api/router';
import { createApiServer } from '../../src/api/server';
import { registerSwarmRoutes } from '../../src/api/routes/swarm';
import { registerNodeRoutes } from '../../src/api/routes/nodes';
import { registerServiceRoutes } from '../../src/api/routes/services';
import { registerTaskRoutes } from '../../src/api/routes/tasks';
import { registerSecretRoutes } from '../../src/api/routes/secrets';
import { registerConfigRoutes } from '../../src/api/routes/configs';
import { registerSystemRoutes } from '../../src/api/routes/system';
import { EventBus } from '../../src/engine/events';
import type { ClusterBackend } from '../../src/cluster/backend';
import { FakeClusterBackend } from '../fakes/cluster-backend';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'swarm-routes-'));
const servers: http.Server[] = [];

async function serve(name: string, cluster?: ClusterBackend): Promise<string> {
  const router = new Router();
  registerSystemRoutes(router, { info: async () => ({ Name: 'host', Swarm: { LocalNodeState: 'inactive' } }), df: async () => ({}) }, new EventBus(), false, cluster);
  registerSwarmRoutes(router, cluster);
  registerNodeRoutes(router, cluster);
  registerServiceRoutes(router, cluster);
  registerTaskRoutes(router, cluster);
  registerSecretRoutes(router, cluster);
  registerConfigRoutes(router, cluster);
  const server = createApiServer(router, { error() {} });
  const sock = path.join(dir, `${name}.sock`);
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  servers.push(server);
  return sock;
}

interface Reply { status: number; body: string; json: unknown; headers: http.IncomingHttpHeaders }

function call(sock: string, method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    const req = http.request({ socketPath: sock, method, path: url, headers: { ...headers, ...(data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json: unknown;
        try { json = JSON.parse(text); } catch { json = undefined; }
        resolve({ status: res.statusCode!, body: text, json, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}
const msg = (r: Reply) => (r.json as { message?: string } | undefined)?.message;

let bare = '';
let sock = '';
const fake = new FakeClusterBackend();
before(async () => {
  bare = await serve('bare');
  sock = await serve('swarm', fake);
});
after(() => {
  for (const s of servers) s.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('without a backend: today\'s answers (503s, /_ping inactive, /info untouched)', async () => {
  assert.equal((await call(bare, 'POST', '/v1.45/swarm/init', {})).status, 503);
  const leave = await call(bare, 'POST', '/v1.45/swarm/leave?force=1');
  assert.deepEqual([leave.status, msg(leave)], [503, 'This node is not part of a swarm']);
  for (const [m, p] of [['GET', '/services'], ['GET', '/nodes'], ['GET', '/tasks'], ['GET', '/secrets'], ['POST', '/configs/create'], ['GET', '/swarm']]) {
    const r = await call(bare, m!, `/v1.45${p}`);
    assert.equal(r.status, 503, p);
    assert.match(msg(r)!, /^This node is not a swarm manager\. Use "docker swarm init"/);
  }
  assert.equal((await call(bare, 'GET', '/_ping')).headers.swarm, 'inactive');
  assert.deepEqual((await call(bare, 'GET', '/v1.45/info')).json, { Name: 'host', Swarm: { LocalNodeState: 'inactive' } });
});

test('inactive backend: 503s from the backend, bad bodies still 400, /info from the backend', async () => {
  const r = await call(sock, 'GET', '/v1.45/services');
  assert.equal(r.status, 503);
  assert.equal((await call(sock, 'POST', '/v1.45/services/create', { Name: 5 })).status, 400);
  // An invalid rollback option on a node that is no manager: the 503 first, as dockerd.
  assert.equal((await call(sock, 'POST', '/v1.45/services/x/update?version=1&rollback=bad', { TaskTemplate: {} })).status, 503);
  const info = (await call(sock, 'GET', '/v1.45/info')).json as { Swarm: { LocalNodeState: string } };
  assert.equal(info.Swarm.LocalNodeState, 'inactive');
});

test('init returns a JSON string; /_ping and /info show an active manager', async () => {
  const r = await call(sock, 'POST', '/v1.45/swarm/init', { ListenAddr: '0.0.0.0:2377', AdvertiseAddr: '127.0.0.1', Spec: { Raft: { SnapshotInterval: 5000 } } });
  assert.equal(r.status, 200);
  assert.equal(typeof r.json, 'string');
  assert.equal(r.json, [...fake.nodes.keys()][0]);
  assert.equal((await call(sock, 'HEAD', '/_ping')).headers.swarm, 'active/manager');
  const swarm = (await call(sock, 'GET', '/v1.45/swarm')).json as { Spec: { Raft: { SnapshotInterval: number; LogEntriesForSlowFollowers: number } } };
  assert.deepEqual([swarm.Spec.Raft.SnapshotInterval, swarm.Spec.Raft.LogEntriesForSlowFollowers], [5000, 500]);
  const again = await call(sock, 'POST', '/v1.45/swarm/init', {});
  assert.equal(again.status, 503);
});

test('swarm update: version parsing, ParseBool rotate flags, stale version 500', async () => {
  let r = await call(sock, 'POST', '/v1.45/swarm/update?version=x', {});
  assert.deepEqual([r.status, msg(r)], [400, `invalid swarm version 'x': strconv.ParseUint: parsing "x": invalid syntax`]);
  r = await call(sock, 'POST', `/v1.45/swarm/update?version=${fake.swarm!.Version.Index}&rotateWorkerToken=yes`, {});
  assert.equal(r.status, 400);
  assert.match(msg(r)!, /^invalid value for rotateWorkerToken: yes/);
  r = await call(sock, 'POST', `/v1.45/swarm/update?version=${fake.swarm!.Version.Index}&rotateWorkerToken=True`, { Raft: { SnapshotInterval: 10000 } });
  assert.equal(r.status, 200);
  assert.equal(r.body, '');
  assert.deepEqual(fake.calls.at(-1)!.args[2], { workerToken: true, managerToken: false, unlockKey: false });
  r = await call(sock, 'POST', '/v1.45/swarm/update?version=1', {});
  assert.deepEqual([r.status, msg(r)], [500, 'rpc error: code = Unknown desc = update out of sequence']);
  r = await call(sock, 'POST', `/v1.45/swarm/update?version=${fake.swarm!.Version.Index}`, { Name: 'other' });
  assert.deepEqual([r.status, msg(r)], [400, 'swarm spec must be named "default"']);
});

test('services: create 201 with Warnings null, docker-py lowercase keys, defaults, conflicts, lookups', async () => {
  const spec = { Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'busybox', Command: ['sleep', '300'] }, RestartPolicy: { Condition: 'any', Delay: 5, MaxAttempts: 5, Window: 0 } },
    EndpointSpec: { Ports: [{ TargetPort: 80, PublishedPort: 8080 }] }, Labels: { test_label: 'x' } };
  let r = await call(sock, 'POST', '/v1.45/services/create', spec, { 'X-Registry-Auth': 'eyJ1c2VybmFtZSI6InUifQ==' });
  assert.equal(r.status, 201);
  const { ID, Warnings } = r.json as { ID: string; Warnings: null };
  assert.equal(Warnings, null);
  assert.equal(ID.length, 25);
  assert.equal(fake.calls.at(-1)!.args[1], 'eyJ1c2VybmFtZSI6InUifQ==');
  const svc = (await call(sock, 'GET', '/v1.45/services/web')).json as { ID: string; Spec: Record<string, any>; Version: { Index: number } };
  assert.equal(svc.ID, ID);
  assert.deepEqual(svc.Spec.TaskTemplate.RestartPolicy, { Condition: 'any', Delay: 5, MaxAttempts: 5, Window: 0 });
  assert.deepEqual(svc.Spec.Mode, { Replicated: { Replicas: 1 } });
  assert.deepEqual(svc.Spec.EndpointSpec, { Mode: 'vip', Ports: [{ TargetPort: 80, PublishedPort: 8080, Protocol: 'tcp', PublishMode: 'ingress' }] });
  assert.equal(svc.Spec.TaskTemplate.Runtime, 'container');
  assert.equal(svc.Spec.RollbackConfig, undefined);
  const withDefaults = (await call(sock, 'GET', '/v1.45/services/web?insertDefaults=True')).json as { Spec: Record<string, any> };
  assert.deepEqual(withDefaults.Spec.RollbackConfig, { Parallelism: 1, FailureAction: 'pause', Monitor: 5000000000, MaxFailureRatio: 0, Order: 'stop-first' });
  r = await call(sock, 'GET', '/v1.45/services/web?insertDefaults=maybe');
  assert.equal(r.status, 400);

  r = await call(sock, 'POST', '/v1.45/services/create', { ...spec, Name: 'WEB' });
  assert.deepEqual([r.status, msg(r)], [409, 'rpc error: code = AlreadyExists desc = name conflicts with an existing object: service WEB already exists']);
  r = await call(sock, 'POST', '/v1.45/services/create', { Name: 'a.b', TaskTemplate: { ContainerSpec: { Image: 'busybox' } } });
  assert.deepEqual([r.status, msg(r)], [400, 'rpc error: code = InvalidArgument desc = name must be valid as a DNS name component']);
  r = await call(sock, 'POST', '/v1.45/services/create', { Name: 'c', TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Placement: { Constraints: ['node.role=manager'] } } });
  assert.deepEqual([r.status, msg(r)], [500, 'rpc error: code = Unknown desc = constraint expected one operator from ==, !=']);
  r = await call(sock, 'POST', '/v1.45/services/create', { Name: 'c', TaskTemplate: { ContainerSpec: { Image: 7 } } });
  assert.deepEqual([r.status, msg(r)], [400, 'json: cannot unmarshal number into Go struct field ContainerSpec.TaskTemplate.ContainerSpec.Image of type string']);
  // docker-py's lowercase keys reach the spec as Go's fields.
  r = await call(sock, 'POST', '/v1.45/services/create', { name: 'lower', tasktemplate: { containerspec: { image: 'busybox' } } });
  assert.equal(r.status, 201);
  assert.equal(((await call(sock, 'GET', '/v1.45/services/lower')).json as any).Spec.TaskTemplate.ContainerSpec.Image, 'busybox');
  // A random Docker-style name when none is given.
  r = await call(sock, 'POST', '/v1.45/services/create', { TaskTemplate: { ContainerSpec: { Image: 'busybox' } } });
  const random = (await call(sock, 'GET', `/v1.45/services/${(r.json as { ID: string }).ID}`)).json as any;
  assert.match(random.Spec.Name, /^[a-z]+_[a-z]+\d?$/);

  r = await call(sock, 'GET', '/v1.45/services/nope');
  assert.deepEqual([r.status, msg(r)], [404, 'service nope not found']);
  r = await call(sock, 'GET', '/v1.45/services?filters=' + encodeURIComponent(JSON.stringify({ name: ['we'] })));
  assert.deepEqual((r.json as any[]).map((s) => s.Spec.Name), ['web']);
  r = await call(sock, 'GET', '/v1.45/services?filters=' + encodeURIComponent(JSON.stringify({ label: { test_label: true } })));
  assert.equal((r.json as any[]).length, 1);
  r = await call(sock, 'GET', '/v1.45/services?filters=' + encodeURIComponent(JSON.stringify({ nope: ['x'] })));
  assert.deepEqual([r.status, msg(r)], [400, "invalid filter 'nope'"]);
  assert.equal(((await call(sock, 'GET', '/v1.45/services?status=true')).json as any[])[0].ServiceStatus.DesiredTasks, 1);
  assert.equal(((await call(sock, 'GET', '/v1.45/services?status=false')).json as any[])[0].ServiceStatus, undefined);
  assert.equal(((await call(sock, 'GET', '/v1.40/services?status=true')).json as any[])[0].ServiceStatus, undefined);

  // Updates.
  r = await call(sock, 'POST', `/v1.45/services/web/update?version=${svc.Version.Index}&rollback=bad`, spec);
  assert.deepEqual([r.status, msg(r)], [500, 'unrecognized rollback option bad']);
  r = await call(sock, 'POST', `/v1.45/services/web/update?version=${svc.Version.Index}&registryAuthFrom=x`, spec);
  assert.deepEqual([r.status, msg(r)], [400, "invalid registryAuthFrom 'x'"]);
  r = await call(sock, 'POST', '/v1.45/services/web/update?version=abc', spec);
  assert.deepEqual([r.status, msg(r)], [400, `invalid service version 'abc': strconv.ParseUint: parsing "abc": invalid syntax`]);
  r = await call(sock, 'POST', '/v1.45/services/web/update?version=1', spec);
  assert.deepEqual([r.status, msg(r)], [500, 'rpc error: code = Unknown desc = update out of sequence']);
  r = await call(sock, 'POST', `/v1.45/services/web/update?version=${svc.Version.Index}`, { ...spec, Name: 'web2' });
  assert.deepEqual([r.status, msg(r)], [501, 'rpc error: code = Unimplemented desc = renaming services is not supported']);
  r = await call(sock, 'POST', `/v1.45/services/web/update?version=${svc.Version.Index}&rollback=previous&registryAuthFrom=previous-spec`, spec);
  assert.deepEqual([r.status, r.json], [200, { Warnings: null }]);
  assert.deepEqual(fake.calls.at(-1)!.args[3], { rollback: true, registryAuthFrom: 'previous-spec' });

  r = await call(sock, 'GET', '/v1.45/services/web/logs');
  assert.deepEqual([r.status, msg(r)], [400, "must specify at least one of 'stdout' or 'stderr'"]);
  r = await call(sock, 'GET', '/v1.45/services/web/logs?stdout=1&tail=x');
  assert.deepEqual([r.status, msg(r)], [400, 'tail value must be a positive integer or "all"']);
  fake.logs = Buffer.from([1, 0, 0, 0, 0, 0, 0, 6, ...Buffer.from('hello\n')]);
  r = await call(sock, 'GET', '/v1.45/services/web/logs?stdout=True&tail=10&since=1.5&details=1');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'application/vnd.docker.multiplexed-stream');
  assert.ok(r.body.endsWith('hello\n'));
  assert.deepEqual(fake.calls.at(-1)!.args[1], { follow: false, stdout: true, stderr: false, timestamps: false, details: true, since: 1.5, tail: 10 });

  r = await call(sock, 'DELETE', '/v1.45/services/web');
  assert.deepEqual([r.status, r.body], [200, '']);
});

test('nodes: list filters, inspect by hostname, update needs Role and Availability', async () => {
  const q = (f: unknown) => '/v1.45/nodes?filters=' + encodeURIComponent(JSON.stringify(f));
  assert.equal(((await call(sock, 'GET', q({ role: ['worker'] }))).json as unknown[]).length, 0);
  assert.equal(((await call(sock, 'GET', q({ role: { manager: true } }))).json as unknown[]).length, 1);
  let r = await call(sock, 'GET', q({ role: ['boss'] }));
  assert.deepEqual([r.status, msg(r)], [500, "Invalid role filter: 'boss'"]);
  const node = (await call(sock, 'GET', '/v1.45/nodes/node1')).json as { ID: string; Version: { Index: number } };
  r = await call(sock, 'POST', `/v1.45/nodes/${node.ID}/update?version=${node.Version.Index}`, { Labels: {}, Role: '', Availability: 'active' });
  assert.deepEqual([r.status, msg(r)], [400, 'invalid Role: ""']);
  const spec = { Availability: 'active', Name: 'node-name', Role: 'manager', Labels: { foo: 'bar' } };
  r = await call(sock, 'POST', `/v1.45/nodes/${node.ID}/update?version=${node.Version.Index}`, spec);
  assert.deepEqual([r.status, r.body], [200, '']);
  assert.deepEqual(((await call(sock, 'GET', `/v1.45/nodes/${node.ID}`)).json as { Spec: unknown }).Spec, spec);
  r = await call(sock, 'DELETE', '/v1.45/nodes/foobar01');
  assert.deepEqual([r.status, msg(r)], [404, 'node foobar01 not found']);
});

test('secrets and configs: 201, Data hidden for secrets, 204 delete, API gates, templating, conflicts, labels-only updates', async () => {
  const data = Buffer.from('東方').toString('base64');
  let r = await call(sock, 'POST', '/v1.45/secrets/create', { Name: 'favorite_touhou', Data: data });
  assert.equal(r.status, 201);
  const id = (r.json as { ID: string }).ID;
  const secret = (await call(sock, 'GET', `/v1.45/secrets/${id}`)).json as { Spec: Record<string, unknown>; Version: { Index: number } };
  assert.deepEqual(secret.Spec, { Name: 'favorite_touhou', Labels: {} });
  r = await call(sock, 'POST', '/v1.45/secrets/create', { Name: 'favorite_touhou', Data: data });
  assert.deepEqual([r.status, msg(r)], [409, 'rpc error: code = AlreadyExists desc = secret favorite_touhou already exists']);
  r = await call(sock, 'POST', '/v1.45/secrets/create', { Name: 'empty', Data: '' });
  assert.deepEqual([r.status, msg(r)], [400, 'rpc error: code = InvalidArgument desc = secret data must be larger than 0 and less than 512000 bytes']);
  r = await call(sock, 'GET', '/v1.45/secrets?filters=' + encodeURIComponent(JSON.stringify({ names: ['favorite_touhou'] })));
  assert.equal((r.json as unknown[]).length, 1);
  r = await call(sock, 'POST', `/v1.45/secrets/${id}/update?version=${secret.Version.Index}`, { Name: 'favorite_touhou', Data: Buffer.from('x').toString('base64') });
  assert.deepEqual([r.status, msg(r)], [400, 'rpc error: code = InvalidArgument desc = only updates to Labels are allowed']);
  r = await call(sock, 'POST', `/v1.45/secrets/${id}/update?version=${secret.Version.Index}`, { Name: 'favorite_touhou', Labels: { a: 'b' } });
  assert.equal(r.status, 200);
  r = await call(sock, 'GET', '/v1.24/secrets');
  assert.deepEqual([r.status, msg(r)], [400, 'GET /secrets requires minimum API version 1.25']);
  r = await call(sock, 'DELETE', `/v1.45/secrets/${id}`);
  assert.equal(r.status, 204);
  assert.equal((await call(sock, 'GET', `/v1.45/secrets/${id}`)).status, 404);

  r = await call(sock, 'POST', '/v1.45/configs/create', { Name: 'c1', Data: data, Templating: { name: 'golang' } });
  assert.equal(r.status, 201);
  const config = (await call(sock, 'GET', '/v1.45/configs/c1')).json as { Spec: Record<string, unknown> };
  assert.deepEqual(config.Spec, { Name: 'c1', Labels: {}, Data: data, Templating: { Name: 'golang' } });
  r = await call(sock, 'POST', '/v1.36/configs/create', { Name: 'c2', Data: data, Templating: { Name: 'golang' } });
  assert.deepEqual([r.status, msg(r)], [400, 'config templating is not supported on the specified API version: 1.36']);
  r = await call(sock, 'GET', '/v1.29/configs');
  assert.deepEqual([r.status, msg(r)], [400, 'GET /configs requires minimum API version 1.30']);
  r = await call(sock, 'GET', '/v1.45/configs?filters=' + encodeURIComponent(JSON.stringify({ names: ['c1'] })));
  assert.deepEqual([r.status, msg(r)], [400, "invalid filter 'names'"]);
});

test('leave: force passed as BoolValue; then inactive again', async () => {
  const r = await call(sock, 'POST', '/v1.45/swarm/leave?force=True');
  assert.deepEqual([r.status, r.body], [200, '']);
  assert.equal(fake.calls.at(-1)!.args[0], true);
  assert.equal((await call(sock, 'GET', '/_ping')).headers.swarm, 'inactive');
});
