// Each short syntax to the model's long form, names of project-level resources, and the default network.
import test from 'node:test';
import assert from 'node:assert/strict';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parsePortSpec, parseVolumeSpec } from '../../src/compose/load/canonical';
import type { Port } from '../../src/compose/model';
import { shellSplit } from '../../src/compose/load/shell-words';
import { loadText } from './compose-load-fixture';

const ports = (spec: string): Port[] => {
  const parsed = parsePortSpec(spec);
  assert.ok(Array.isArray(parsed), String(parsed));
  return parsed;
};

test('port short syntax', () => {
  assert.deepEqual(parsePortSpec('80'), [{ mode: 'ingress', target: 80, protocol: 'tcp' }]);
  assert.deepEqual(parsePortSpec('8080:80'), [{ mode: 'ingress', target: 80, protocol: 'tcp', published: '8080' }]);
  assert.deepEqual(parsePortSpec('127.0.0.1:8080:80/udp'), [{ mode: 'ingress', target: 80, protocol: 'udp', host_ip: '127.0.0.1', published: '8080' }]);
  assert.deepEqual(parsePortSpec('127.0.0.1::80'), [{ mode: 'ingress', target: 80, protocol: 'tcp', host_ip: '127.0.0.1' }]);
  assert.deepEqual(parsePortSpec('[::1]:8080:80'), [{ mode: 'ingress', target: 80, protocol: 'tcp', host_ip: '::1', published: '8080' }]);
  assert.deepEqual(
    ports('8080-8081:80-81').map((p) => [p.published, p.target]),
    [['8080', 80], ['8081', 81]],
  );
  assert.deepEqual(ports('80-82').map((p) => p.target), [80, 81, 82]);
  assert.deepEqual(parsePortSpec('9000-9010:80'), [{ mode: 'ingress', target: 80, protocol: 'tcp', published: '9000-9010' }]);
  assert.match(String(parsePortSpec('80/icmp')), /invalid proto/);
  assert.match(String(parsePortSpec('70000')), /invalid containerPort/);
  assert.match(String(parsePortSpec('x:80')), /invalid hostPort/);
});

test('volume short syntax', () => {
  const base = '/proj';
  assert.deepEqual(parseVolumeSpec('/x', base), { type: 'volume', target: '/x' });
  assert.deepEqual(parseVolumeSpec('data:/d:ro', base), { type: 'volume', source: 'data', target: '/d', read_only: true });
  assert.deepEqual(parseVolumeSpec('./src:/app', base), { type: 'bind', source: '/proj/src', target: '/app', bind: { create_host_path: true } });
  assert.deepEqual(parseVolumeSpec('../up:/app', base), { type: 'bind', source: '/up', target: '/app', bind: { create_host_path: true } });
  assert.deepEqual(parseVolumeSpec('/abs:/x:rw,z', base), { type: 'bind', source: '/abs', target: '/x', read_only: false, bind: { create_host_path: true, selinux: 'z' } });
  assert.deepEqual(parseVolumeSpec('~/cfg:/cfg:ro,rshared', base), {
    type: 'bind', source: join(homedir(), 'cfg'), target: '/cfg', read_only: true, bind: { create_host_path: true, propagation: 'rshared' },
  });
  assert.deepEqual(parseVolumeSpec('data:/d:nocopy', base), { type: 'volume', source: 'data', target: '/d', volume: { nocopy: true } });
  assert.match(String(parseVolumeSpec('a:b:c:d', base)), /too many colons/);
});

test('shell words for command and entrypoint', () => {
  assert.deepEqual(shellSplit(`echo "hello world" 'a b' c\\ d "q\\"x" ''`), ['echo', 'hello world', 'a b', 'c d', 'q"x', '']);
  assert.deepEqual(shellSplit('  sh   -c  "exit 1"  '), ['sh', '-c', 'exit 1']);
  assert.throws(() => shellSplit('echo "open'), /unterminated/);
});

test('service short syntaxes become the long forms', async () => {
  const { project } = await loadText(
    `services:
  web:
    build: ./app
    command: sh -c "echo hi"
    entrypoint: ["/init"]
    environment: [A=1, B, C=x=y]
    env_file:
      - web.env
      - path: missing.env
        required: false
    depends_on: [db]
    networks: [front]
    labels: [a=1, b]
    extra_hosts: {somehost: 10.0.0.1, multi: [10.0.0.2, 10.0.0.3]}
    ulimits: {nofile: 1024, nproc: {soft: 1, hard: 2}}
    healthcheck: {test: curl -f http://localhost}
    deploy: {replicas: 3}
    tmpfs: /run
    dns: 8.8.8.8
    expose: [80, "90"]
    secrets: [token]
    configs: [{source: conf, target: /etc/conf}]
  db:
    image: postgres
    network_mode: host
    extra_hosts: ["a=1.2.3.4", "b:5.6.7.8"]
    build:
      context: db
      args: [X=1, Y]
networks:
  front: {}
secrets:
  token: {file: ./token.txt}
configs:
  conf: {file: conf.ini}
`,
    { 'web.env': 'A=fromfile\nE=env\n' },
  );
  const web = project.services.web;
  const dir = project.working_dir;
  assert.equal(web.name, 'web');
  assert.deepEqual(web.build, { context: join(dir, 'app'), dockerfile: 'Dockerfile' });
  assert.deepEqual(web.command, ['sh', '-c', 'echo hi']);
  assert.deepEqual(web.entrypoint, ['/init']);
  assert.deepEqual(web.environment, { A: '1', B: null, C: 'x=y', E: 'env' });
  assert.deepEqual(web.env_file, [{ path: join(dir, 'web.env'), required: true }, { path: join(dir, 'missing.env'), required: false }]);
  assert.deepEqual(web.depends_on, { db: { condition: 'service_started', required: true } });
  assert.deepEqual(web.networks, { front: null });
  assert.deepEqual(web.labels, { a: '1', b: '' });
  assert.deepEqual(web.extra_hosts, ['somehost:10.0.0.1', 'multi:10.0.0.2', 'multi:10.0.0.3']);
  assert.deepEqual(web.ulimits, { nofile: { soft: 1024, hard: 1024 }, nproc: { soft: 1, hard: 2 } });
  assert.deepEqual(web.healthcheck, { test: ['CMD-SHELL', 'curl -f http://localhost'] });
  assert.equal(web.scale, 3);
  assert.deepEqual(web.tmpfs, ['/run']);
  assert.deepEqual(web.dns, ['8.8.8.8']);
  assert.deepEqual(web.expose, ['80', '90']);
  assert.deepEqual(web.secrets, [{ source: 'token' }]);
  assert.deepEqual(web.configs, [{ source: 'conf', target: '/etc/conf' }]);
  const db = project.services.db;
  assert.equal(db.networks, undefined);
  assert.deepEqual(db.extra_hosts, ['a:1.2.3.4', 'b:5.6.7.8']);
  assert.deepEqual(db.build, { context: join(dir, 'db'), dockerfile: 'Dockerfile', args: { X: '1', Y: null } });
  assert.deepEqual(project.secrets.token, { name: 'app_token', file: join(dir, 'token.txt') });
  assert.deepEqual(project.configs.conf, { name: 'app_conf', file: join(dir, 'conf.ini') });
  // db uses the host network: only web's networks exist, and no default network is made.
  assert.deepEqual(Object.keys(project.networks), ['front']);
});

test('a required env_file that is missing is an error naming the service', async () => {
  await assert.rejects(loadText('services:\n  web: {image: a, env_file: nope.env}\n'), /services\.web\.env_file: env file .*nope\.env not found/);
});

test('project-level names: <project>_<key> unless name: or external; the default network', async () => {
  const { project } = await loadText(
    `services:
  web:
    image: a
    volumes: [data:/d, ext:/e, named:/n]
  other:
    image: a
    networks: [outside]
networks:
  outside: {external: true}
  custom: {name: my-net, driver: bridge}
volumes:
  data:
  ext: {external: true}
  named: {name: exact}
  legacy: {external: {name: old-style}}
`,
  );
  assert.deepEqual(project.networks, { outside: { name: 'outside', external: true }, custom: { name: 'my-net', driver: 'bridge' }, default: { name: 'app_default' } });
  assert.deepEqual(project.volumes, {
    data: { name: 'app_data' },
    ext: { name: 'ext', external: true },
    named: { name: 'exact' },
    legacy: { name: 'old-style', external: true },
  });
  assert.deepEqual(project.services.web.networks, { default: null });
  assert.deepEqual(project.services.web.volumes?.map((v) => [v.type, v.source]), [['volume', 'data'], ['volume', 'ext'], ['volume', 'named']]);
});

test('long-form ports and volumes keep their fields; published becomes a string', async () => {
  const { project } = await loadText(
    `services:
  web:
    image: a
    ports:
      - {target: 80, published: 8080, host_ip: 127.0.0.1, protocol: udp, mode: host, name: http}
    volumes:
      - {type: bind, source: ./x, target: /x, read_only: true}
      - {type: tmpfs, target: /t, tmpfs: {size: 1000}}
`,
  );
  assert.deepEqual(project.services.web.ports, [{ target: 80, published: '8080', host_ip: '127.0.0.1', protocol: 'udp', mode: 'host', name: 'http' }]);
  assert.deepEqual(project.services.web.volumes, [
    { type: 'bind', source: join(project.working_dir, 'x'), target: '/x', read_only: true },
    { type: 'tmpfs', target: '/t', tmpfs: { size: 1000 } },
  ]);
});

test('YAML anchors and merge keys', async () => {
  const { project } = await loadText(
    `x-base: &base
  image: busybox
  environment: {A: "1"}
x-more: &more
  restart: always
  image: ignored
services:
  a:
    <<: [*base, *more]
    environment: {B: "2"}
  b: *base
`,
  );
  assert.equal(project.services.a.image, 'busybox');
  assert.equal(project.services.a.restart, 'always');
  assert.deepEqual(project.services.a.environment, { B: '2' });
  assert.deepEqual(project.services.b.environment, { A: '1' });
});
