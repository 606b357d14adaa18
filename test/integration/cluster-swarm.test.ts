// Swarm mode end to end through the real docker CLI: the floor (/work/shared/checks/cluster) on one berthd (init,
// node ls, a replicated service that converges, scales, updates and rolls back, a secret read by a task, a stack,
// bad specs refused, service rm, leave), then joins of more daemons on the same host (their own swarm ports).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { TestDaemon } from '../helpers/daemon';
import { killSwarmEtcd, swarmPortArgs } from '../helpers/cluster';

/** Polls `probe` until it is true (every 250 ms, up to `ms`). */
async function eventually(what: string, probe: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (probe()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`timed out waiting for ${what}`);
}

function running(d: TestDaemon, service: string): number {
  const out = d.docker(['service', 'ps', '--filter', 'desired-state=running', '--format', '{{.CurrentState}}', service]).stdout;
  return out.split('\n').filter((l) => l.startsWith('Running')).length;
}

describe('swarm mode on one node (the floor)', () => {
  let d: TestDaemon;
  before(async () => {
    d = new TestDaemon('swarm1', { args: swarmPortArgs() });
    await d.startWithBusybox();
  });
  after(async () => {
    killSwarmEtcd(d.dataRoot);
    await d.cleanup();
  });

  test('init prints the join command; node ls shows this node as Leader', () => {
    const out = d.dockerOk(['swarm', 'init', '--advertise-addr', '127.0.0.1']);
    assert.match(out, /Swarm initialized/);
    assert.match(out, /docker swarm join --token SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25} 127\.0\.0\.1:\d+/);
    assert.equal(d.dockerOk(['node', 'ls', '--format', '{{.Self}} {{.Status}} {{.Availability}} {{.ManagerStatus}}']).trim(), 'true Ready Active Leader');
    assert.equal(d.dockerOk(['info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}']).trim(), 'active true');
    assert.match(d.dockerFail(['swarm', 'init']), /already part of a swarm/);
  });

  test('a replicated service converges, scales, updates and rolls back', async () => {
    d.dockerOk(['service', 'create', '-d', '--no-resolve-image', '--name', 'web', '--replicas', '3', 'busybox', 'sleep', '1d']);
    await eventually('3 running', () => running(d, 'web') === 3);
    d.dockerOk(['service', 'scale', '-d', 'web=5']);
    await eventually('5 running', () => running(d, 'web') === 5);
    await eventually('5 containers', () => d.dockerOk(['ps', '-q', '--filter', 'label=com.docker.swarm.service.name=web']).trim().split('\n').length === 5);
    d.dockerOk(['service', 'update', '-d', '--env-add', 'BAR=1', 'web']);
    d.dockerOk(['service', 'rollback', '-d', 'web']);
    await eventually('rollback_completed', () => d.dockerOk(['service', 'inspect', '-f', '{{.UpdateStatus.State}}', 'web']).trim() === 'rollback_completed');
  });

  test('a secret is read by a task; its logs come back through service logs', async () => {
    d.dockerOk(['secret', 'create', 'pw', '-'], { input: 's3cr3t' });
    d.dockerOk(['service', 'create', '-d', '--no-resolve-image', '--name', 'sec', '--secret', 'pw', '--restart-condition', 'none', 'busybox', 'cat', '/run/secrets/pw']);
    await eventually('the secret in the logs', () => d.docker(['service', 'logs', 'sec']).stdout.includes('s3cr3t'));
    assert.match(d.dockerFail(['secret', 'rm', 'pw']), /is in use by the following service: sec/);
  });

  test('stack deploy and rm', async () => {
    const file = `${d.base}/stack.yml`;
    fs.writeFileSync(file, 'version: "3.8"\nservices:\n  a:\n    image: busybox\n    command: sleep 1d\n    deploy: {replicas: 2}\n');
    d.dockerOk(['stack', 'deploy', '--resolve-image', 'never', '-c', file, 'st']);
    await eventually('st_a 2 running', () => running(d, 'st_a') === 2);
    d.dockerOk(['stack', 'rm', 'st']);
    await eventually('stack containers gone', () => d.dockerOk(['ps', '-aq', '--filter', 'label=com.docker.stack.namespace=st']).trim() === '');
  });

  test('bad specs are refused; service rm removes the containers', async () => {
    d.dockerFail(['service', 'create', '--name', 'bad name!', 'busybox', 'true']);
    d.dockerFail(['service', 'create', '-d', '--no-resolve-image', '--name', 'x', '--network', 'no-such-net', 'busybox', 'true']);
    d.dockerOk(['service', 'rm', 'web', 'sec']);
    await eventually('web containers gone', () => d.dockerOk(['ps', '-aq', '--filter', 'label=com.docker.swarm.service.name=web']).trim() === '');
    d.dockerOk(['secret', 'rm', 'pw']);
  });

  test('leave: refused without --force on the last manager, then inactive', () => {
    assert.match(d.dockerFail(['swarm', 'leave']), /Removing the last manager erases all current state of the swarm/);
    d.dockerOk(['swarm', 'leave', '--force']);
    assert.equal(d.dockerOk(['info', '--format', '{{.Swarm.LocalNodeState}}']).trim(), 'inactive');
    assert.match(d.dockerFail(['node', 'ls']), /This node is not a swarm manager. Use "docker swarm init"/);
  });
});
