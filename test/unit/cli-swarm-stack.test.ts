// `berth stack deploy`'s conversion of a compose file (Berth's loader) to networks, secrets and service specs,
// and the calls deploy and rm make against a fake API.
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProject } from '../../src/compose/load';
import { main } from '../../src/cli/main';
import { convertStack } from '../../src/cli/swarm/stack-convert';
import { swarmDaemon } from '../fakes/swarm-daemon';

const COMPOSE = `
services:
  web:
    image: nginx:1.27
    command: ["nginx", "-g", "daemon off;"]
    environment: { B: "2", A: "1" }
    labels: { role: web }
    ports: ["8080:80", { target: 53, published: 53, protocol: udp, mode: host }]
    networks: [front]
    secrets: [pw]
    healthcheck: { test: ["CMD", "true"], interval: 5s, retries: 2 }
    deploy:
      replicas: 3
      labels: { tier: front }
      resources: { limits: { cpus: "0.5", memory: 64M }, reservations: { memory: 32M } }
      restart_policy: { condition: on-failure, delay: 3s, max_attempts: 2 }
      update_config: { parallelism: 2, delay: 10s, order: start-first }
      placement: { constraints: [node.role==worker], max_replicas_per_node: 2 }
  agent:
    image: busybox
    entrypoint: [sleep]
    command: [1d]
    deploy: { mode: global }
networks:
  front: { attachable: true }
secrets:
  pw: { file: ./pw.txt }
`;

async function project(dir: string) {
  writeFileSync(join(dir, 'compose.yaml'), COMPOSE);
  writeFileSync(join(dir, 'pw.txt'), 's3cr3t');
  return (await loadProject({ files: [join(dir, 'compose.yaml')], projectName: 'st', env: {}, cwd: dir })).project;
}

test('stack conversion: names, namespace labels, networks, secrets and service specs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-stack-'));
  const plan = convertStack('st', await project(dir), {});
  assert.deepEqual(plan.networks, [
    { Name: 'st_default', Driver: 'overlay', Labels: { 'com.docker.stack.namespace': 'st' }, Internal: false, Attachable: false },
    { Name: 'st_front', Driver: 'overlay', Labels: { 'com.docker.stack.namespace': 'st' }, Internal: false, Attachable: true },
  ]);
  assert.deepEqual(plan.secrets, [{ Name: 'st_pw', Labels: { 'com.docker.stack.namespace': 'st' }, Data: Buffer.from('s3cr3t').toString('base64') }]);
  const web = plan.services.web!;
  assert.equal(web.Name, 'st_web');
  assert.deepEqual(web.Labels, { tier: 'front', 'com.docker.stack.namespace': 'st', 'com.docker.stack.image': 'nginx:1.27' });
  assert.deepEqual(web.Mode, { Replicated: { Replicas: 3 } });
  assert.deepEqual(web.TaskTemplate.ContainerSpec, {
    Image: 'nginx:1.27', Labels: { role: 'web', 'com.docker.stack.namespace': 'st' }, Args: ['nginx', '-g', 'daemon off;'],
    Env: ['A=1', 'B=2'], Healthcheck: { Test: ['CMD', 'true'], Interval: 5e9, Retries: 2 },
    Secrets: [{ File: { Name: 'pw', UID: '0', GID: '0', Mode: 0o444 }, SecretID: '', SecretName: 'st_pw' }],
  });
  assert.deepEqual(web.TaskTemplate.Networks, [{ Target: 'st_front', Aliases: ['web'] }]);
  assert.deepEqual(web.TaskTemplate.Resources, { Limits: { NanoCPUs: 5e8, MemoryBytes: 64 * 2 ** 20 }, Reservations: { MemoryBytes: 32 * 2 ** 20 } });
  assert.deepEqual(web.TaskTemplate.RestartPolicy, { Condition: 'on-failure', Delay: 3e9, MaxAttempts: 2 });
  assert.deepEqual(web.TaskTemplate.Placement, { Constraints: ['node.role==worker'], MaxReplicas: 2 });
  assert.deepEqual(web.UpdateConfig, { Parallelism: 2, MaxFailureRatio: 0, Delay: 10e9, Order: 'start-first' });
  assert.deepEqual(web.EndpointSpec, { Mode: 'vip', Ports: [
    { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' },
    { Protocol: 'udp', TargetPort: 53, PublishedPort: 53, PublishMode: 'host' },
  ] });
  const agent = plan.services.agent!;
  assert.deepEqual(agent.Mode, { Global: {} });
  assert.deepEqual(agent.TaskTemplate.ContainerSpec!.Command, ['sleep']);
  assert.deepEqual(agent.TaskTemplate.Networks, [{ Target: 'st_default', Aliases: ['agent'] }]);
});

test('stack deploy then rm: the calls in docker order, existing services updated at their version', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-stack-'));
  await project(dir);
  const existing = { ID: 'old', Version: { Index: 9 }, Spec: { Name: 'st_agent', Labels: { 'com.docker.stack.image': 'busybox' }, TaskTemplate: { ContainerSpec: { Image: 'busybox@sha256:aa' }, ForceUpdate: 2 } } };
  const d = await swarmDaemon({
    'GET /info': () => ({ Swarm: { ControlAvailable: true } }),
    'GET /services': () => [existing],
    'GET /networks': () => [{ Id: 'n0', Name: 'st_default' }],
    'POST /networks/create': () => ({ status: 201, body: { Id: 'n1' } }),
    'GET /secrets/st_pw': () => ({ status: 404, body: { message: 'secret st_pw not found' } }),
    'POST /secrets/create': () => ({ status: 201, body: { ID: 's1' } }),
    'GET /secrets': () => [{ ID: 's1', Spec: { Name: 'st_pw' } }],
    'GET /configs': () => [],
    'POST /services/create': () => ({ status: 201, body: { ID: 'new' } }),
    'POST /services/old/update': () => ({ Warnings: null }),
    'DELETE /services/old': () => undefined,
    'DELETE /secrets/s1': () => ({ status: 204 }),
    'DELETE /networks/n0': () => ({ status: 204 }),
  });
  assert.equal(await main(d.argv('stack', 'deploy', '--resolve-image', 'changed', '-c', join(dir, 'compose.yaml'), 'st'), d.cli), 0, d.err());
  assert.equal(d.out(), 'Creating network st_front\nCreating secret st_pw\nUpdating service st_agent (id: old)\nCreating service st_web\n');
  const update = d.log.find((r) => r.path === '/services/old/update')!;
  assert.equal(update.query.version, '9');
  assert.equal(update.body.TaskTemplate.ContainerSpec.Image, 'busybox@sha256:aa');
  assert.equal(update.body.TaskTemplate.ForceUpdate, 2);
  const created = d.log.find((r) => r.path === '/services/create')!;
  assert.equal(created.body.TaskTemplate.ContainerSpec.Secrets[0].SecretID, 's1');
  assert.deepEqual(JSON.parse(d.log.find((r) => r.path === '/networks')!.query.filters!), { label: { 'com.docker.stack.namespace=st': true } });
  const before = d.out().length;
  assert.equal(await main(d.argv('stack', 'rm', 'st'), d.cli), 0, d.err());
  await d.close();
  assert.equal(d.out().slice(before), 'Removing service st_agent\nRemoving secret st_pw\nRemoving network st_default\n');
});
