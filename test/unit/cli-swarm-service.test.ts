// `berth service create/update/scale` flags → the ServiceSpec posted (docker/cli's ToService and updateService),
// and the flag grammars (publish long/short, secrets, modes) with their errors.
import test from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main';
import { parseFileRef, parsePublish, serviceMode, splitCommand } from '../../src/cli/swarm/service-flags';
import { updateSpec } from '../../src/cli/swarm/service-spec';
import type { ServiceSpec } from '../../src/wire/swarm';
import { swarmDaemon } from '../fakes/swarm-daemon';

const resolver = {
  secretIds: async (names: string[]) => Object.fromEntries(names.filter((n) => n !== 'nope').map((n) => [n, `id-${n}`])),
  configIds: async (names: string[]) => Object.fromEntries(names.map((n) => [n, `cid-${n}`])),
  networkId: async (name: string) => `net-${name}`,
};

test('service create: flags become the spec docker posts', async () => {
  const d = await swarmDaemon({
    'GET /secrets': () => [{ ID: 'sec1', Spec: { Name: 'pw' } }, { ID: 'other', Spec: { Name: 'pw2' } }],
    'GET /networks/backend': () => ({ Id: 'n1', Name: 'backend' }),
    'POST /services/create': () => ({ status: 201, body: { ID: 'svc1', Warnings: null } }),
    'GET /distribution/busybox:latest/json': () => ({ Descriptor: { digest: 'sha256:bb' }, Platforms: [{ architecture: 'amd64', os: 'linux' }, { architecture: 'arm', os: 'linux' }] }),
  });
  const code = await main(d.argv('service', 'create', '-d', '--name', 'web', '--replicas', '3', '-e', 'A=1', '--env', 'B=2', '-e', 'A=3',
    '-l', 'tier=front', '--container-label', 'c=d', '--constraint', 'node.role==worker', '--placement-pref', 'spread=node.labels.zone',
    '--replicas-max-per-node', '2', '-p', '8080:80', '--publish', 'published=53,target=53,protocol=udp,mode=host',
    '--mount', 'type=volume,source=data,target=/data', '--secret', 'pw', '--network', 'backend',
    '--restart-condition', 'on-failure', '--restart-delay', '3s', '--update-parallelism', '2', '--update-delay', '10s',
    '--update-order', 'start-first', '--limit-cpu', '0.5', '--limit-memory', '64m', '--reserve-memory', '32m',
    '--health-cmd', 'true', '--health-interval', '5s', '--user', 'nobody', '--workdir', '/w', '--hostname', 'h',
    '--entrypoint', 'sh -c', '--stop-grace-period', '20s', '--stop-signal', 'SIGINT', '--tty', '--init', '--read-only',
    '--dns', '1.1.1.1', '--host', 'db:10.0.0.2', 'busybox', 'echo', 'hi', '--flag-of-the-command'), d.cli);
  await d.close();
  assert.equal(code, 0, d.err());
  assert.equal(d.out(), 'svc1\n');
  const spec = d.log.find((r) => r.path === '/services/create')!.body as ServiceSpec;
  assert.deepEqual(spec, {
    Name: 'web', Labels: { tier: 'front' },
    TaskTemplate: {
      ContainerSpec: {
        Image: 'busybox:latest@sha256:bb', Init: true, DNSConfig: { Nameservers: ['1.1.1.1'] }, Args: ['echo', 'hi', '--flag-of-the-command'],
        Command: ['sh', '-c'], Env: ['B=2', 'A=3'], Hostname: 'h', Labels: { c: 'd' }, Dir: '/w', User: 'nobody',
        StopSignal: 'SIGINT', TTY: true, ReadOnly: true, Mounts: [{ Type: 'volume', Source: 'data', Target: '/data' }],
        Hosts: ['10.0.0.2 db'], StopGracePeriod: 20e9, Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 5e9 },
        Secrets: [{ File: { Name: 'pw', UID: '0', GID: '0', Mode: 0o444 }, SecretID: 'sec1', SecretName: 'pw' }],
      },
      Resources: { Limits: { NanoCPUs: 5e8, MemoryBytes: 64 * 2 ** 20 }, Reservations: { MemoryBytes: 32 * 2 ** 20 } },
      Placement: { Constraints: ['node.role==worker'], Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }], MaxReplicas: 2,
        Platforms: [{ Architecture: 'amd64', OS: 'linux' }, { Architecture: '', OS: 'linux' }] },
      Networks: [{ Target: 'n1' }],
      RestartPolicy: { Condition: 'on-failure', MaxAttempts: 0, Delay: 3e9 },
    },
    Mode: { Replicated: { Replicas: 3 } },
    EndpointSpec: { Mode: 'vip', Ports: [
      { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' },
      { Protocol: 'udp', TargetPort: 53, PublishedPort: 53, PublishMode: 'host' },
    ] },
    UpdateConfig: { Parallelism: 2, Delay: 10e9, FailureAction: 'pause', MaxFailureRatio: 0, Order: 'start-first' },
  });
  assert.deepEqual(JSON.parse(d.log.find((r) => r.path === '/secrets')!.query.filters!), { name: { pw: true } });
});

test('service create without flags: the minimal spec (Replicated {}, Init false, DNSConfig {}, Placement {}); an image the registry does not know warns', async () => {
  const d = await swarmDaemon({ 'POST /services/create': () => ({ status: 201, body: { ID: 'x', Warnings: null } }) });
  assert.equal(await main(d.argv('service', 'create', '-d', 'nginx'), d.cli), 0);
  assert.equal(await main(d.argv('service', 'create', '-d', '--no-resolve-image', 'nginx'), d.cli), 0);
  await d.close();
  assert.deepEqual(d.log.map((r) => r.path), ['/distribution/nginx:latest/json', '/services/create', '/services/create']);
  assert.equal(d.err(), 'image nginx:latest could not be accessed on a registry to record\nits digest. Each node will access nginx:latest independently,\n'
    + 'possibly leading to different nodes running different\nversions of the image.\n\n');
  assert.deepEqual(d.log[2]!.body, d.log[1]!.body);
  assert.deepEqual(d.log[1]!.body, {
    Labels: {}, Mode: { Replicated: {} }, EndpointSpec: { Mode: 'vip' },
    TaskTemplate: { ContainerSpec: { Image: 'nginx:latest', Init: false, DNSConfig: {} }, Resources: { Limits: {}, Reservations: {} }, Placement: {} },
  });
});

test('service create: bad flags are refused before any call', async () => {
  const d = await swarmDaemon({});
  assert.equal(await main(d.argv('service', 'create', '--mode', 'global', '--replicas', '2', 'nginx'), d.cli), 125);
  assert.match(d.err(), /replicas can only be used with replicated or replicated-job mode/);
  assert.equal(await main(d.argv('service', 'create', '--mode', 'replicated-job', '--update-delay', '1s', 'nginx'), d.cli), 125);
  assert.match(d.err(), /update and rollback configuration is not supported for jobs/);
  assert.equal(await main(d.argv('service', 'create', '--restart-delay', '5x', 'nginx'), d.cli), 125);
  assert.match(d.err(), /invalid argument "5x" for "--restart-delay" flag: time: unknown unit "x" in duration "5x"/);
  await d.close();
  assert.equal(d.log.length, 0);
});

test('flag grammars: publish, secret refs, modes, entrypoint words', () => {
  assert.deepEqual(parsePublish('80'), [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 0, PublishMode: 'ingress' }]);
  assert.deepEqual(parsePublish('8080-8081:80-81/udp').map((p) => `${p.PublishedPort}->${p.TargetPort}/${p.Protocol}`), ['8080->80/udp', '8081->81/udp']);
  assert.deepEqual(parsePublish('target=80,published=30000'), [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 30000, PublishMode: 'ingress' }]);
  assert.throws(() => parsePublish('published=80'), /missing mandatory field "target"/);
  assert.throws(() => parsePublish('target=80,mode=x'), /invalid publish mode value \(x\)/);
  assert.deepEqual(parseFileRef('source=pw,target=/etc/pw,mode=0400,uid=5', 'secret'), { source: 'pw', target: '/etc/pw', uid: '5', gid: '0', mode: 0o400 });
  assert.deepEqual(serviceMode('replicated-job', 5, undefined, undefined), { ReplicatedJob: { MaxConcurrent: 5, TotalCompletions: 5 } });
  assert.deepEqual(serviceMode('global-job', undefined, undefined, undefined), { GlobalJob: {} });
  assert.throws(() => serviceMode('weird', undefined, undefined, undefined), /Unknown mode: weird, only replicated and global supported/);
  assert.deepEqual(splitCommand(`sh -c 'echo "a b"'`), ['sh', '-c', 'echo "a b"']);
});

const current: ServiceSpec = {
  Name: 'web', Labels: { a: '1', b: '2' },
  TaskTemplate: {
    ContainerSpec: { Image: 'nginx:1', Env: ['X=1', 'Y=2'], Secrets: [{ File: { Name: 'old', UID: '0', GID: '0', Mode: 292 }, SecretID: 'o', SecretName: 'old' }] },
    Resources: { Limits: {}, Reservations: {} }, Placement: { Constraints: ['node.role==manager'] }, ForceUpdate: 1,
  },
  Mode: { Replicated: { Replicas: 1 } },
  EndpointSpec: { Mode: 'vip', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }] },
};

test('service update: add/rm pairs, image, replicas, force, publish and secrets', async () => {
  const spec = await updateSpec(current, {
    image: 'nginx:2', envAdd: ['Y=3', 'Z=4'], envRm: ['X'], labelAdd: ['c=3'], labelRm: ['a'], replicas: '4', force: true,
    publishRm: ['80'], publishAdd: ['9090:90'], secretAdd: ['new'], secretRm: ['old'], constraintAdd: ['node.labels.x==y'],
    constraintRm: ['node.role==manager'], limitMemory: '1g', updateFailureAction: 'rollback',
  }, resolver, {});
  assert.equal(spec.TaskTemplate.ContainerSpec!.Image, 'nginx:2');
  assert.deepEqual(spec.TaskTemplate.ContainerSpec!.Env, ['Y=3', 'Z=4']);
  assert.deepEqual(spec.Labels, { b: '2', c: '3' });
  assert.deepEqual(spec.Mode, { Replicated: { Replicas: 4 } });
  assert.equal(spec.TaskTemplate.ForceUpdate, 2);
  assert.deepEqual(spec.EndpointSpec!.Ports, [{ Protocol: 'tcp', TargetPort: 90, PublishedPort: 9090, PublishMode: 'ingress' }]);
  assert.deepEqual(spec.TaskTemplate.ContainerSpec!.Secrets, [{ File: { Name: 'new', UID: '0', GID: '0', Mode: 292 }, SecretID: 'id-new', SecretName: 'new' }]);
  assert.deepEqual(spec.TaskTemplate.Placement, { Constraints: ['node.labels.x==y'] });
  assert.equal(spec.TaskTemplate.Resources!.Limits!.MemoryBytes, 2 ** 30);
  assert.deepEqual(spec.UpdateConfig, { Parallelism: 1, Delay: 0, FailureAction: 'rollback', MaxFailureRatio: 0, Order: 'stop-first' });
  // The input is not changed.
  assert.equal(current.TaskTemplate.ContainerSpec!.Image, 'nginx:1');
  await assert.rejects(updateSpec(current, { secretAdd: ['nope'] }, resolver, {}), /secret not found: nope/);
  await assert.rejects(updateSpec({ ...current, Mode: { Global: {} } }, { replicas: '2' }, resolver, {}), /replicas can only be used/);
});

test('service update --rollback and scale: the calls docker makes', async () => {
  const svc = { ID: 'svc1', Version: { Index: 7 }, Spec: current };
  const d = await swarmDaemon({
    'GET /services/web': () => svc,
    'GET /services/glob': () => ({ ...svc, ID: 'g', Spec: { ...current, Mode: { Global: {} } } }),
    'POST /services/svc1/update': () => ({ Warnings: null }),
  });
  assert.equal(await main(d.argv('service', 'update', '-d', '--rollback', 'web'), d.cli), 0);
  const rb = d.log.find((r) => r.method === 'POST')!;
  assert.deepEqual(rb.query, { rollback: 'previous', version: '7' });
  assert.equal(await main(d.argv('service', 'scale', '-d', 'web=5', 'glob=2'), d.cli), 1);
  await d.close();
  const scale = d.log.filter((r) => r.method === 'POST')[1]!;
  assert.deepEqual(scale.body.Mode, { Replicated: { Replicas: 5 } });
  assert.equal(scale.query.version, '7');
  assert.match(d.out(), /web\nweb scaled to 5\n/);
  assert.match(d.err(), /scale can only be used with replicated or replicated-job mode/);
});
