// Several -f files merged as compose-go's override package does, with !reset and !override.
import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { load, projectDir } from './compose-load-fixture';

const BASE = `services:
  web:
    image: busybox
    command: [sh, -c, "echo base"]
    entrypoint: /bin/sh
    environment: {A: "1", B: "2"}
    labels: [x=1]
    ports: ["8080:80", "9090:90"]
    volumes: [data:/data, ./a:/a]
    dns: [1.1.1.1]
    cap_add: [NET_ADMIN]
    networks: [front]
    depends_on: [db]
    healthcheck: {test: [CMD, a], interval: 5s}
    secrets: [s1]
    ulimits: {nofile: {soft: 10, hard: 20}}
  db:
    image: postgres
networks:
  front: {}
  back: {}
volumes:
  data: {}
secrets:
  s1: {file: ./s1.txt}
`;

async function merged(override: string) {
  const dir = projectDir({ 'compose.yaml': BASE, 'override.yaml': override });
  return (await load(dir, { files: ['compose.yaml', 'override.yaml'] })).project;
}

test('mappings merge, scalars and command/entrypoint/healthcheck.test are replaced, sequences append', async () => {
  const p = await merged(`services:
  web:
    image: alpine
    command: echo over
    entrypoint: [/bin/bash]
    environment: [B=3, C=4]
    labels: {y: "2"}
    dns: [8.8.8.8, 1.1.1.1]
    cap_add: [NET_ADMIN, SYS_ADMIN]
    healthcheck: {test: [CMD, b]}
    ulimits: {nofile: 99}
`);
  const web = p.services.web;
  assert.equal(web.image, 'alpine');
  assert.deepEqual(web.command, ['echo', 'over']);
  assert.deepEqual(web.entrypoint, ['/bin/bash']);
  assert.deepEqual(web.environment, { A: '1', B: '3', C: '4' });
  assert.deepEqual(web.labels, { x: '1', y: '2' });
  assert.deepEqual(web.dns, ['1.1.1.1', '8.8.8.8']);
  assert.deepEqual(web.cap_add, ['NET_ADMIN', 'SYS_ADMIN']);
  assert.deepEqual(web.healthcheck, { test: ['CMD', 'b'], interval: '5s' });
  assert.deepEqual(web.ulimits, { nofile: { soft: 99, hard: 99 } });
});

test('ports merge by (ip, published, target, protocol); volumes by target; secrets by target', async () => {
  const p = await merged(`services:
  web:
    ports: ["8080:80", "127.0.0.1:7070:70"]
    volumes: [./b:/a, other:/o]
    secrets: [{source: s1, mode: 0400}]
volumes:
  other: {}
`);
  const web = p.services.web;
  assert.deepEqual(web.ports?.map((x) => `${x.host_ip ?? ''}:${x.published}:${x.target}`), [':8080:80', ':9090:90', '127.0.0.1:7070:70']);
  const dir = p.working_dir;
  assert.deepEqual(web.volumes?.map((v) => `${v.source}:${v.target}`), ['data:/data', `${join(dir, 'b')}:/a`, 'other:/o']);
  assert.deepEqual(web.secrets, [{ source: 's1', mode: 0o400 }]);
});

test('networks and depends_on merge by name', async () => {
  const p = await merged(`services:
  web:
    networks:
      front: {aliases: [w]}
      back: {}
    depends_on:
      db: {condition: service_healthy}
`);
  assert.deepEqual(p.services.web.networks, { front: { aliases: ['w'] }, back: {} });
  assert.deepEqual(p.services.web.depends_on, { db: { condition: 'service_healthy', required: true } });
});

test('!reset removes and !override replaces', async () => {
  const p = await merged(`services:
  web:
    ports: !reset []
    environment: !override {ONLY: "me"}
    dns: !reset null
    volumes: !override [data:/data]
    healthcheck: !reset {}
    depends_on: !reset []
`);
  const web = p.services.web;
  assert.equal(web.ports, undefined);
  assert.deepEqual(web.environment, { ONLY: 'me' });
  assert.equal(web.dns, undefined);
  assert.deepEqual(web.volumes, [{ type: 'volume', source: 'data', target: '/data' }]);
  assert.equal(web.healthcheck, undefined);
  assert.equal(web.depends_on, undefined);
});

test('a whole service can be reset, and the override file adds services and top-level keys', async () => {
  const p = await merged(`services:
  db: !reset
  web:
    depends_on: !reset []
  cache:
    image: redis
networks:
  front:
    labels: [a=b]
`);
  assert.deepEqual(Object.keys(p.services).sort(), ['cache', 'web']);
  assert.equal(p.services.db, undefined);
  assert.deepEqual(p.networks.front.labels, { a: 'b' });
});

test('compose.override.yaml is found beside compose.yaml; -f disables that discovery', async () => {
  const dir = projectDir({ 'compose.yaml': 'services:\n  a: {image: busybox}\n', 'compose.override.yaml': 'services:\n  a: {image: alpine}\n' });
  assert.equal((await load(dir)).project.services.a.image, 'alpine');
  assert.equal((await load(dir, { files: ['compose.yaml'] })).project.services.a.image, 'busybox');
  assert.equal((await load(join(dir), { env: { COMPOSE_FILE: 'compose.yaml' } })).project.services.a.image, 'busybox');
});

test('several YAML documents in one file merge in order', async () => {
  const dir = projectDir({ 'compose.yaml': 'services:\n  a: {image: busybox, environment: [A=1]}\n---\nservices:\n  a: {environment: [B=2]}\n' });
  assert.deepEqual((await load(dir)).project.services.a.environment, { A: '1', B: '2' });
});
