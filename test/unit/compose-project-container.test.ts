// A service of the model → the container create body (service-container.ts).
import test from 'node:test';
import assert from 'node:assert/strict';
import { containerBody, injectedFiles, resolveEnvironment, secondaryNetworks } from '../../src/compose/project/service-container';
import { ComposeProjectError } from '../../src/compose/project/naming';
import { projectOf } from '../fakes/compose-project';

const project = projectOf('app', {
  db: { image: 'busybox' },
  web: {
    image: 'busybox',
    command: ['httpd', '-f'],
    entrypoint: ['/bin/sh', '-c'],
    environment: { A: '1', FROM_SHELL: null, GONE: null },
    ports: [{ mode: 'ingress', target: 80, published: '8080', host_ip: '127.0.0.1', protocol: 'tcp' }, { mode: 'ingress', target: 53, protocol: 'udp' }],
    expose: ['3000', '4000/udp'],
    volumes: [
      { type: 'volume', source: 'data', target: '/data' },
      { type: 'bind', source: '/srv/conf', target: '/conf', read_only: true },
      { type: 'tmpfs', target: '/scratch', tmpfs: { size: 1024 } },
      { type: 'volume', target: '/anon' },
    ],
    networks: { back: { aliases: ['api'], ipv4_address: '10.5.0.9' }, front: null },
    healthcheck: { test: ['CMD', 'true'], interval: '1s', timeout: '500ms', retries: 3, start_period: '1m' },
    restart: 'on-failure:3',
    user: '1000', working_dir: '/w', hostname: 'h', domainname: 'd.example', tty: true, stdin_open: true,
    cap_add: ['NET_ADMIN'], cap_drop: ['ALL'], privileged: true, read_only: true, init: true,
    tmpfs: ['/run:size=1m', '/tmp'], ulimits: { nofile: { soft: 100, hard: 200 } },
    stop_signal: 'SIGINT', stop_grace_period: '1m30s', extra_hosts: ['h:1.2.3.4'], dns: ['9.9.9.9'], dns_search: ['x'], dns_opt: ['ndots:1'],
    logging: { driver: 'json-file', options: { 'max-size': '1m' } },
    links: ['db:database'], sysctls: { 'net.core.somaxconn': '1024' }, security_opt: ['no-new-privileges'], shm_size: '64m',
    deploy: { resources: { limits: { cpus: '0.5', memory: '256m', pids: 50 }, reservations: { memory: '64m' } } },
    secrets: [{ source: 'token' }, { source: 'token', target: 'alt' }],
    configs: [{ source: 'conf' }, { source: 'conf', target: '/etc/c.conf' }],
  },
}, {
  networks: { back: { name: 'app_back' }, front: { name: 'app_front' } },
  volumes: { data: { name: 'app_data' } },
  secrets: { token: { name: 'token', file: '/srv/token.txt' } },
  configs: { conf: { name: 'conf', file: '/srv/c.conf' } },
});

test('environment: null values come from the shell or are dropped', () => {
  assert.deepEqual(resolveEnvironment({ A: '1', B: null, C: null }, { B: 'shell' }), ['A=1', 'B=shell']);
});

test('the create body carries every service field where the Engine API wants it', () => {
  const b = containerBody(project, project.services.web, { image: 'busybox', labels: { l: '1' }, ports: true, env: { FROM_SHELL: 'yes' } });
  assert.equal(b.Image, 'busybox');
  assert.deepEqual(b.Cmd, ['httpd', '-f']);
  assert.deepEqual(b.Entrypoint, ['/bin/sh', '-c']);
  assert.deepEqual(b.Env, ['A=1', 'FROM_SHELL=yes']);
  assert.deepEqual(b.Labels, { l: '1' });
  assert.deepEqual(b.ExposedPorts, { '80/tcp': {}, '53/udp': {}, '3000/tcp': {}, '4000/udp': {} });
  assert.deepEqual([b.Hostname, b.Domainname, b.User, b.WorkingDir, b.Tty, b.OpenStdin, b.StopSignal, b.StopTimeout], ['h', 'd.example', '1000', '/w', true, true, 'SIGINT', 90]);
  assert.deepEqual(b.Healthcheck, { Test: ['CMD', 'true'], Interval: 1e9, Timeout: 5e8, StartPeriod: 60e9, StartInterval: undefined, Retries: 3 });
  const h = b.HostConfig!;
  assert.deepEqual(h.Binds, ['/srv/conf:/conf:ro']);
  assert.deepEqual(h.Mounts, [
    { Type: 'volume', Source: 'app_data', Target: '/data', ReadOnly: undefined, VolumeOptions: undefined },
    { Type: 'tmpfs', Target: '/scratch', TmpfsOptions: { SizeBytes: 1024, Mode: undefined } },
    { Type: 'volume', Source: undefined, Target: '/anon', ReadOnly: undefined, VolumeOptions: undefined },
    { Type: 'bind', Source: '/srv/token.txt', Target: '/run/secrets/token', ReadOnly: true },
    { Type: 'bind', Source: '/srv/token.txt', Target: '/run/secrets/alt', ReadOnly: true },
    { Type: 'bind', Source: '/srv/c.conf', Target: '/conf', ReadOnly: true },
    { Type: 'bind', Source: '/srv/c.conf', Target: '/etc/c.conf', ReadOnly: true },
  ]);
  assert.deepEqual(h.PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '53/udp': [{ HostIp: '', HostPort: '' }] });
  assert.deepEqual(h.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual([h.CapAdd, h.CapDrop, h.Privileged, h.ReadonlyRootfs, h.Init], [['NET_ADMIN'], ['ALL'], true, true, true]);
  assert.deepEqual(h.Tmpfs, { '/run': 'size=1m', '/tmp': '' });
  assert.deepEqual(h.Ulimits, [{ Name: 'nofile', Soft: 100, Hard: 200 }]);
  assert.deepEqual([h.ExtraHosts, h.Dns, h.DnsSearch, h.DnsOptions], [['h:1.2.3.4'], ['9.9.9.9'], ['x'], ['ndots:1']]);
  assert.deepEqual(h.LogConfig, { Type: 'json-file', Config: { 'max-size': '1m' } });
  assert.deepEqual(h.Links, ['app-db-1:database']);
  assert.deepEqual(h.Sysctls, { 'net.core.somaxconn': '1024' });
  assert.deepEqual(h.SecurityOpt, ['no-new-privileges']);
  assert.equal(h.ShmSize, 64 * 1024 * 1024);
  assert.equal(h.Memory, 256 * 1024 * 1024);
  assert.equal(h.MemoryReservation, 64 * 1024 * 1024);
  assert.equal(h.NanoCpus, 5e8);
  assert.equal(h.PidsLimit, 50);
  // The first network by name (no priorities): back; front is connected before start.
  assert.equal(h.NetworkMode, 'app_back');
  assert.deepEqual(b.NetworkingConfig, { EndpointsConfig: { app_back: { Aliases: ['web', 'api'], IPAMConfig: { IPv4Address: '10.5.0.9', IPv6Address: undefined } } } });
  assert.deepEqual(secondaryNetworks(project, project.services.web), [{ name: 'app_front', endpoint: { Aliases: ['web'] } }]);
});

test('ports are left out for a one-off without --service-ports; no networks means the default one', () => {
  const b = containerBody(project, project.services.web, { image: 'busybox', labels: {}, ports: false });
  assert.equal(b.HostConfig!.PortBindings, undefined);
  assert.deepEqual(b.ExposedPorts, { '3000/tcp': {}, '4000/udp': {} });
  const db = containerBody(project, project.services.db, { image: 'busybox', labels: {}, ports: true });
  assert.equal(db.HostConfig!.NetworkMode, 'app_default');
  assert.deepEqual(db.NetworkingConfig, { EndpointsConfig: { app_default: { Aliases: ['db'] } } });
});

test('network_mode, restart from deploy, cpus and mem_limit; errors name the service and field', () => {
  const p = projectOf('app', {
    a: { image: 'x', network_mode: 'service:b', deploy: { restart_policy: { condition: 'any' } }, cpus: 1.5, mem_limit: '1g', healthcheck: { disable: true } },
    b: { image: 'x', network_mode: 'host' },
    bad: { image: 'x', stop_grace_period: '10 s' },
    vol: { image: 'x', volumes: [{ type: 'volume', source: 'nope', target: '/x' }] },
  });
  const a = containerBody(p, p.services.a, { image: 'x', labels: {}, ports: true });
  assert.equal(a.HostConfig!.NetworkMode, 'container:app-b-1');
  assert.equal(a.NetworkingConfig, undefined);
  assert.deepEqual(a.HostConfig!.RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
  assert.equal(a.HostConfig!.NanoCpus, 1.5e9);
  assert.equal(a.HostConfig!.Memory, 1024 ** 3);
  assert.deepEqual(a.Healthcheck, { Test: ['NONE'] });
  assert.equal(containerBody(p, p.services.b, { image: 'x', labels: {}, ports: true }).HostConfig!.NetworkMode, 'host');
  assert.throws(() => containerBody(p, p.services.bad, { image: 'x', labels: {}, ports: true }), (e: Error) => e instanceof ComposeProjectError && /^services\.bad\.stop_grace_period: time: /.test(e.message));
  assert.throws(() => containerBody(p, p.services.vol, { image: 'x', labels: {}, ports: true }), /services\.vol\.volumes: service "vol" refers to undefined volume nope/);
});

test('secrets and configs from the environment or inline content are copied in, not mounted', () => {
  const p = projectOf('app', { s: { image: 'x', secrets: [{ source: 'env', mode: 0o400 }], configs: [{ source: 'inline', target: 'etc/app.conf' }] }, ext: { image: 'x', secrets: [{ source: 'far' }] }, miss: { image: 'x', secrets: [{ source: 'nope' }] } }, {
    secrets: { env: { name: 'env', environment: 'TOKEN' }, far: { name: 'far', external: true } },
    configs: { inline: { name: 'inline', content: 'a=1' } },
  });
  assert.deepEqual(injectedFiles(p, p.services.s, { TOKEN: 't0k' }), [
    { path: '/run/secrets/env', content: 't0k', mode: 0o400, uid: undefined, gid: undefined },
    { path: '/etc/app.conf', content: 'a=1', mode: 0o444, uid: undefined, gid: undefined },
  ]);
  assert.equal(containerBody(p, p.services.s, { image: 'x', labels: {}, ports: true }).HostConfig!.Mounts, undefined);
  assert.throws(() => injectedFiles(p, p.services.s, {}), /services\.s\.secrets: secret "env" comes from environment variable TOKEN, which is not set/);
  assert.throws(() => injectedFiles(p, p.services.ext, {}), /services\.ext\.secrets: secret "far" is external/);
  assert.throws(() => injectedFiles(p, p.services.miss, {}), /services\.miss\.secrets: secret "nope" is not defined in the project/);
});
