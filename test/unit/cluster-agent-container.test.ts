// A task → its container: name, labels, the create body from the ContainerSpec (moby's executor mapping), templates.
import test from 'node:test';
import assert from 'node:assert/strict';
import { taskContainer, taskImage, type TaskContainerInput } from '../../src/cluster/agent/task-container';
import { expandTemplate } from '../../src/cluster/agent/task-templates';
import type { Task } from '../../src/wire/swarm';

function task(over: Partial<Task> = {}): Task {
  return {
    ID: 'taskid0000000000000000001', Version: { Index: 5 }, CreatedAt: '', UpdatedAt: '', Labels: {},
    Spec: { ContainerSpec: { Image: 'busybox' } }, ServiceID: 'svcid', Slot: 2, NodeID: 'nodeid', DesiredState: 'running',
    Status: { Timestamp: '', State: 'assigned', Message: '', PortStatus: {} }, Volumes: null, ...over,
  };
}

function input(t: Task, over: Partial<TaskContainerInput> = {}): TaskContainerInput {
  return {
    task: t,
    service: { ID: 'svcid', Name: 'web', Labels: { tier: 'front' } },
    node: { ID: 'nodeid', Hostname: 'node1', Platform: { OS: 'linux', Architecture: 'x86_64' } },
    networks: [], files: [], ...over,
  };
}

test('name is <service>.<slot>.<task id>, or <service>.<node id>.<task id> for global tasks', () => {
  assert.equal(taskContainer(input(task())).name, 'web.2.taskid0000000000000000001');
  assert.equal(taskContainer(input(task({ Slot: undefined }))).name, 'web.nodeid.taskid0000000000000000001');
  assert.equal(taskContainer(input(task({ Slot: 0 }))).name, 'web.nodeid.taskid0000000000000000001');
  assert.equal(taskContainer(input(task({ Name: 'custom' }))).name, 'custom');
});

test('labels: container labels, then task labels, then the six com.docker.swarm.* ones; service labels are not copied', () => {
  const t = task({ Labels: { fromTask: '1' }, Spec: { ContainerSpec: { Image: 'busybox', Labels: { a: 'b', 'com.docker.swarm.task.id': 'spoof' } } } });
  assert.deepEqual(taskContainer(input(t)).body.Labels, {
    a: 'b', fromTask: '1',
    'com.docker.swarm.task': '',
    'com.docker.swarm.task.id': t.ID,
    'com.docker.swarm.task.name': `web.2.${t.ID}`,
    'com.docker.swarm.node.id': 'nodeid',
    'com.docker.swarm.service.id': 'svcid',
    'com.docker.swarm.service.name': 'web',
  });
});

test('image gets :latest unless it has a tag or digest', () => {
  assert.equal(taskImage('busybox'), 'busybox:latest');
  assert.equal(taskImage('docker.io/library/busybox'), 'busybox:latest');
  assert.equal(taskImage('localhost:5000/app:1'), 'localhost:5000/app:1');
  const digest = `sha256:${'a'.repeat(64)}`;
  assert.equal(taskImage(`nginx@${digest}`), `nginx@${digest}`);
  assert.equal(taskImage(`nginx:1@${digest}`), `nginx:1@${digest}`);
});

test('Command replaces the entrypoint and Args are Cmd; Args alone keep the image entrypoint', () => {
  const a = taskContainer(input(task({ Spec: { ContainerSpec: { Image: 'busybox', Command: ['sh', '-c'], Args: ['echo hi'] } } }))).body;
  assert.deepEqual([a.Entrypoint, a.Cmd], [['sh', '-c'], ['echo hi']]);
  const b = taskContainer(input(task({ Spec: { ContainerSpec: { Image: 'busybox', Args: ['sleep', '1'] } } }))).body;
  assert.equal(b.Entrypoint, undefined);
  assert.deepEqual(b.Cmd, ['sleep', '1']);
  const c = taskContainer(input(task())).body;
  assert.equal(c.Cmd, undefined);
});

test('the ContainerSpec fields map to the create body and HostConfig; no restart policy; limits but no reservations', () => {
  const t = task({
    Spec: {
      ContainerSpec: {
        Image: 'busybox:1', Env: ['A=1'], Dir: '/w', User: '1000', Groups: ['wheel'], TTY: true, OpenStdin: true, ReadOnly: true, Init: true,
        StopSignal: 'SIGINT', StopGracePeriod: 2_500_000_000, Healthcheck: { Test: ['CMD-SHELL', 'true'], Interval: 500_000_000, Retries: 3 },
        Hosts: ['127.0.0.1 foobar alias', '8.8.8.8 baz'], DNSConfig: { Nameservers: ['8.8.8.8'], Search: ['local'], Options: ['debug'] },
        Sysctls: { 'net.core.somaxconn': '1024' }, CapabilityAdd: ['CAP_SYSLOG'], CapabilityDrop: ['CAP_NET_RAW'],
        Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 2048 }], OomScoreAdj: 5,
        Privileges: { SELinuxContext: { Disable: true }, NoNewPrivileges: true },
      },
      Resources: { Limits: { NanoCPUs: 500_000_000, MemoryBytes: 64 << 20, Pids: 100 }, Reservations: { MemoryBytes: 32 << 20 } },
      LogDriver: { Name: 'json-file', Options: { 'max-size': '10m' } },
    },
    GenericResources: [{ DiscreteResourceSpec: { Kind: 'gpu', Value: 2 } }],
  });
  const body = taskContainer(input(t)).body;
  assert.deepEqual(
    [body.Image, body.Env, body.WorkingDir, body.User, body.Tty, body.OpenStdin, body.StopSignal, body.StopTimeout, body.Healthcheck],
    ['busybox:1', ['A=1', 'DOCKER_RESOURCE_GPU=2'], '/w', '1000', true, true, 'SIGINT', 3, { Test: ['CMD-SHELL', 'true'], Interval: 500_000_000, Retries: 3 }],
  );
  const h = body.HostConfig!;
  assert.deepEqual(h.RestartPolicy, { Name: 'no' });
  assert.deepEqual(h.GroupAdd, ['wheel']);
  assert.equal(h.ReadonlyRootfs, true);
  assert.equal(h.Init, true);
  assert.deepEqual(h.ExtraHosts, ['foobar:127.0.0.1', 'baz:8.8.8.8']);
  assert.deepEqual([h.Dns, h.DnsSearch, h.DnsOptions], [['8.8.8.8'], ['local'], ['debug']]);
  assert.deepEqual([h.CapAdd, h.CapDrop, h.Sysctls, h.OomScoreAdj], [['CAP_SYSLOG'], ['CAP_NET_RAW'], { 'net.core.somaxconn': '1024' }, 5]);
  assert.deepEqual(h.Ulimits, [{ Name: 'nofile', Soft: 1024, Hard: 2048 }]);
  assert.deepEqual(h.SecurityOpt, ['label=disable', 'no-new-privileges=true']);
  assert.deepEqual([h.NanoCpus, h.Memory, h.PidsLimit, h.MemoryReservation], [500_000_000, 64 << 20, 100, undefined]);
  assert.deepEqual(h.LogConfig, { Type: 'json-file', Config: { 'max-size': '10m' } });
  assert.equal(taskContainer(input(task())).body.StopTimeout, 10, 'StopGracePeriod defaults to 10 s');
});

test('templates expand in Env, Hostname and mount Source/Target', () => {
  const t = task({
    Spec: {
      ContainerSpec: {
        Image: 'busybox', Hostname: '{{.Node.Hostname}}-{{.Task.Slot}}',
        Env: ['SVC={{.Service.Name}}', 'TIER={{index .Service.Labels "tier"}}', 'TASK={{ .Task.Name }}', 'OS={{.Node.Platform.OS}}'],
        Mounts: [{ Type: 'volume', Source: 'data-{{.Task.Slot}}', Target: '/data/{{.Service.ID}}', VolumeOptions: { Labels: { x: 'y' }, DriverConfig: { Name: 'local' } } }],
      },
    },
  });
  const body = taskContainer(input(t)).body;
  assert.equal(body.Hostname, 'node1-2');
  assert.deepEqual(body.Env, ['SVC=web', 'TIER=front', `TASK=web.2.${t.ID}`, 'OS=linux']);
  assert.deepEqual(body.HostConfig!.Mounts, [
    { Type: 'volume', Source: 'data-2', Target: '/data/svcid', VolumeOptions: { Labels: { x: 'y' }, DriverConfig: { Name: 'local' } } },
  ]);
  const global = task({ Slot: undefined, Spec: { ContainerSpec: { Image: 'busybox', Env: ['S={{.Task.Slot}}'] } } });
  assert.deepEqual(taskContainer(input(global)).body.Env, ['S=nodeid']);
  assert.throws(() => expandTemplate('{{.Nope.X}}', taskTemplateContext()), /can't evaluate field Nope/);
});

function taskTemplateContext() {
  return { Service: { ID: 's', Name: 'n', Labels: {} }, Node: { ID: 'n', Hostname: 'h', Platform: { OS: 'linux', Architecture: 'x86_64' } }, Task: { ID: 't', Name: 'n.1.t', Slot: '1' } };
}

test('secret and config files become read-only binds at their targets', () => {
  const body = taskContainer(input(task(), {
    files: [{ hostPath: '/run/berth/swarm/tasks/t/secrets/0-s', target: '/run/secrets/pw' }, { hostPath: '/run/berth/swarm/tasks/t/configs/0-c', target: '/conf' }],
  })).body;
  assert.deepEqual(body.HostConfig!.Mounts, [
    { Type: 'bind', Source: '/run/berth/swarm/tasks/t/secrets/0-s', Target: '/run/secrets/pw', ReadOnly: true },
    { Type: 'bind', Source: '/run/berth/swarm/tasks/t/configs/0-c', Target: '/conf', ReadOnly: true },
  ]);
});

test('only host-mode ports are published; PublishedPort 0 asks for any host port', () => {
  const body = taskContainer(input(task(), {
    service: {
      ID: 'svcid', Name: 'web', Labels: {},
      EndpointSpec: { Ports: [
        { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' },
        { Protocol: 'udp', TargetPort: 53, PublishedPort: 0, PublishMode: 'host' },
        { Protocol: 'tcp', TargetPort: 443, PublishedPort: 8443, PublishMode: 'ingress' },
      ] },
    },
  })).body;
  assert.deepEqual(body.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.deepEqual(body.HostConfig!.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '8080' }], '53/udp': [{ HostIp: '', HostPort: '' }] });
});

test('networks: the first is the NetworkMode, each swarm network gets the aliases and the manager\'s address; none → the default bridge', () => {
  const none = taskContainer(input(task())).body;
  assert.equal(none.HostConfig!.NetworkMode, undefined);
  assert.equal(none.NetworkingConfig, undefined);
  const two = taskContainer(input(task(), {
    networks: [{ id: 'net1', name: 'net1', aliases: ['w'], ipv4Address: '10.0.1.5' }, { id: 'net2', name: 'net2', aliases: [] }],
  })).body;
  assert.equal(two.HostConfig!.NetworkMode, 'net1');
  assert.deepEqual(two.NetworkingConfig, { EndpointsConfig: { net1: { Aliases: ['w'], IPAMConfig: { IPv4Address: '10.0.1.5' } }, net2: { Aliases: [] } } });
  const host = taskContainer(input(task(), { networks: [{ id: 'hostid', name: 'host', aliases: ['web'] }] })).body;
  assert.equal(host.HostConfig!.NetworkMode, 'host');
  assert.equal(host.NetworkingConfig, undefined);
});
