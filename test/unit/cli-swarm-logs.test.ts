// `berth service logs` on a fake API: every line is printed with its task prefix before the command returns,
// although the prefix needs lookups that answer after the response has been read.
import test from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../src/cli/main';
import { frame } from '../../src/cli/stdcopy';
import { swarmDaemon } from '../fakes/swarm-daemon';

const details = 'com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=t0123456789abcdefghijklm';

test('service logs: prefixed lines, --no-task-ids, --raw', { timeout: 10_000 }, async () => {
  const d = await swarmDaemon({
    'GET /services/talk': () => ({ ID: 's1', Spec: { Name: 'talk', TaskTemplate: { ContainerSpec: { Image: 'busybox' } }, Mode: { Replicated: { Replicas: 2 } } } }),
    'GET /services/talk/logs': (r) => Buffer.concat([
      frame(1, `${r.query.details ? `${details} ` : ''}one\n`), frame(2, `${r.query.details ? `${details} ` : ''}two\n`)]),
    'GET /services/s1': () => ({ ID: 's1', Spec: { Name: 'talk' } }),
    'GET /nodes/n1': () => ({ ID: 'n1', Spec: {}, Description: { Hostname: 'vm' } }),
    'GET /tasks/t0123456789abcdefghijklm': () => ({ ID: 't0123456789abcdefghijklm', Slot: 2 }),
  });
  assert.equal(await main(d.argv('service', 'logs', 'talk'), d.cli), 0);
  assert.equal(d.out(), 'talk.2.t0123456789a@vm    | one\n');
  assert.equal(d.err(), 'talk.2.t0123456789a@vm    | two\n');
  assert.equal(await main(d.argv('service', 'logs', '--no-task-ids', 'talk'), d.cli), 0);
  assert.equal(await main(d.argv('service', 'logs', '--raw', 'talk'), d.cli), 0);
  await d.close();
  assert.equal(d.out(), 'talk.2.t0123456789a@vm    | one\ntalk.2@vm    | one\none\n');
});
