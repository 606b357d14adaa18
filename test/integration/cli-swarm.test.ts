// Our own CLI's swarm verbs (`berth swarm|node|service|secret|config|stack`) against a real berthd in swarm mode,
// compared with what the docker CLI v28 prints for the same where the output is deterministic.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { TestDaemon, type RunOpts } from '../helpers/daemon';
import { killSwarmEtcd, swarmPortArgs } from '../helpers/cluster';
import { until } from '../helpers/wait';

/** Ages and durations made equal between two runs a moment apart. */
const normalize = (text: string) => text.replace(/(Less than a second|\d+ seconds?|About a minute)( ago)?/gi, 'N$2').replace(/ {2,}/g, '  ');

describe('berth swarm verbs on a real berthd', { timeout: 180_000 }, () => {
  let d: TestDaemon;
  let nodeId = '';
  const berth = (args: string[], opts: RunOpts = {}) => d.berth(['-H', `unix://${d.sock}`, ...args], opts);
  const ok = (args: string[], opts: RunOpts = {}) => {
    const r = berth(args, opts);
    assert.equal(r.code, 0, `berth ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const sameAsDocker = (args: string[]) => {
    const b = ok(args);
    assert.equal(normalize(b), normalize(d.dockerOk(args)), `berth ${args.join(' ')}`);
    return b;
  };
  const runningTasks = (service: string) => ok(['service', 'ps', '--filter', 'desired-state=running', '--format', '{{.CurrentState}}', service])
    .split('\n').filter((l) => l.startsWith('Running')).length;

  before(async () => {
    d = new TestDaemon('cliswarm', { args: swarmPortArgs() });
    await d.startWithBusybox();
  });
  after(async () => {
    killSwarmEtcd(d.dataRoot);
    await d.cleanup();
  });

  test('swarm init prints the join command; join-token -q and --rotate', () => {
    const out = ok(['swarm', 'init', '--advertise-addr', '127.0.0.1']);
    const m = /^Swarm initialized: current node \(([0-9a-z]{25})\) is now a manager\.\n\nTo add a worker to this swarm, run the following command:\n\n {4}docker swarm join --token (SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}) 127\.0\.0\.1:\d+\n\nTo add a manager to this swarm, run 'docker swarm join-token manager' and follow the instructions\.\n$/.exec(out);
    assert.ok(m, out);
    nodeId = m[1]!;
    assert.equal(ok(['swarm', 'join-token', '-q', 'worker']).trim(), m[2]);
    const rotated = ok(['swarm', 'join-token', '--rotate', 'worker']);
    assert.match(rotated, /^Successfully rotated worker join token\.\n\nTo add a worker to this swarm, run the following command:\n\n {4}docker swarm join --token SWMTKN-1-/);
    const token = ok(['swarm', 'join-token', '-q', 'worker']).trim();
    assert.notEqual(token, m[2]);
    assert.equal(token.slice(0, 60), m[2]!.slice(0, 60), 'the same cluster CA part');
    sameAsDocker(['swarm', 'join-token', 'manager']);
  });

  test('node ls, inspect self, update --label-add', () => {
    const ls = sameAsDocker(['node', 'ls']);
    assert.match(ls, /^ID +HOSTNAME +STATUS +AVAILABILITY +MANAGER STATUS +ENGINE VERSION\n/);
    assert.match(ls, new RegExp(`^${nodeId} \\* +\\S+ +Ready +Active +Leader +\\S+\\n`, 'm'));
    assert.equal(JSON.parse(ok(['node', 'inspect', 'self']))[0].ID, nodeId);
    sameAsDocker(['node', 'inspect', '--pretty', 'self']);
    assert.equal(ok(['node', 'update', '--label-add', 'zone=a', 'self']), 'self\n');
    assert.equal(ok(['node', 'inspect', '-f', '{{.Spec.Labels.zone}}', 'self']), 'a\n');
  });

  test('secret and config: create from a file and stdin, ls, inspect, rm', () => {
    const file = path.join(d.base, 'pw.txt');
    fs.writeFileSync(file, 's3cr3t');
    for (const kind of ['secret', 'config']) {
      assert.match(ok([kind, 'create', '-l', 'k=v', `${kind}1`, file]), /^[0-9a-z]{25}\n$/);
      assert.match(ok([kind, 'create', `${kind}2`, '-'], { input: 'from-stdin' }), /^[0-9a-z]{25}\n$/);
      const ls = sameAsDocker([kind, 'ls']);
      assert.equal(ls.split('\n').filter((l) => l.includes(`${kind}`)).length, 2);
      sameAsDocker([kind, 'inspect', `${kind}1`]);
      sameAsDocker([kind, 'inspect', '--pretty', `${kind}1`]);
    }
    assert.equal(Buffer.from(ok(['config', 'inspect', '-f', '{{.Spec.Data}}', 'config2']).trim(), 'base64').toString(), 'from-stdin');
    assert.equal(ok(['config', 'rm', 'config2']), 'config2\n');
    const miss = berth(['secret', 'inspect', 'nope']);
    assert.equal(miss.code, 1);
    assert.match(miss.stderr, /No such secret: nope/);
  });

  test('service create waits until converged; -d returns at once; ls, ps, inspect --pretty', async () => {
    const out = ok(['service', 'create', '--name', 'web', '--replicas', '3', '-e', 'FOO=bar', '--secret', 'secret1',
      '--constraint', 'node.role==manager', 'busybox', 'sh', '-c', 'echo hello-$FOO; echo "$(cat /run/secrets/secret1)"; sleep 1d'], { timeout: 60_000 });
    const lines = out.trim().split('\n');
    assert.match(lines[0]!, /^[0-9a-z]{25}$/);
    assert.ok(lines.includes('overall progress: 3 out of 3 tasks'), out);
    assert.match(lines.at(-1)!, /^verify: Service [0-9a-z]{25} converged$/);
    const svc = JSON.parse(ok(['service', 'inspect', 'web']))[0];
    assert.equal(svc.Spec.TaskTemplate.ContainerSpec.Image, 'busybox:latest');
    assert.deepEqual(svc.Spec.TaskTemplate.Placement.Constraints, ['node.role==manager']);
    assert.equal(svc.Spec.TaskTemplate.ContainerSpec.Secrets[0].SecretName, 'secret1');

    const id = ok(['service', 'create', '-d', '--no-resolve-image', '--name', 'hostport', '-p', 'mode=host,published=18080,target=80', 'busybox', 'sleep', '1d']);
    assert.match(id, /^[0-9a-z]{25}\n$/);
    await until(() => runningTasks('hostport') === 1, 'hostport running', 400);
    const ls = sameAsDocker(['service', 'ls']);
    assert.match(ls, /^\S+ +web +replicated +3\/3 +busybox:latest +\n/m);
    const ps = sameAsDocker(['service', 'ps', 'web']);
    assert.deepEqual(ps.trim().split('\n').slice(1).map((l) => l.split(/ {2,}/)[1]), ['web.1', 'web.2', 'web.3']);
    assert.match(sameAsDocker(['service', 'ps', 'hostport']), /\*:18080->80\/tcp/);
    assert.match(sameAsDocker(['service', 'inspect', '--pretty', 'web']), /Secrets:\n Target:\tsecret1\n  Source:\tsecret1\n/);
  });

  test('service logs: name.slot.id@node prefixes, --no-task-ids, --raw', async () => {
    await until(() => (ok(['service', 'logs', 'web']).match(/hello-bar/g) ?? []).length === 3, '3 log lines', 400);
    const logs = ok(['service', 'logs', 'web']);
    assert.match(logs, /^web\.[1-3]\.[0-9a-z]{12}@\S+ +\| hello-bar$/m);
    assert.match(logs, /^web\.[1-3]\.[0-9a-z]{12}@\S+ +\| s3cr3t$/m);
    const sort = (s: string) => s.split('\n').sort().join('\n');
    assert.equal(sort(ok(['service', 'logs', '--no-task-ids', 'web'])), sort(d.dockerOk(['service', 'logs', '--no-task-ids', 'web'])));
    assert.match(ok(['service', 'logs', '--no-task-ids', 'web']), /^web\.[1-3]@\S+ +\| hello-bar$/m);
    assert.equal(sort(ok(['service', 'logs', '--raw', 'web'])), sort('hello-bar\ns3cr3t\n'.repeat(3)));
  });

  test('update --env-add / --image / --replicas, ps history, rollback, scale', async () => {
    const out = ok(['service', 'update', '--env-add', 'BAR=1', 'web'], { timeout: 90_000 });
    assert.match(out, /^web\n/);
    assert.match(out, /verify: Service [0-9a-z]{25} converged\n$/);
    assert.equal(ok(['service', 'inspect', '-f', '{{.UpdateStatus.State}}', 'web']), 'completed\n');
    const ps = sameAsDocker(['service', 'ps', 'web']).trim().split('\n').slice(1).map((l) => /^\S+ +( \\_ )?(web\.\d)/.exec(l)!.slice(1).join(''));
    assert.deepEqual(ps, ['web.1', ' \\_ web.1', 'web.2', ' \\_ web.2', 'web.3', ' \\_ web.3']);

    ok(['service', 'update', '-d', '--no-resolve-image', '--image', 'busybox:latest', '--replicas', '2', 'web']);
    assert.equal(ok(['service', 'inspect', '-f', '{{.Spec.Mode.Replicated.Replicas}} {{.Spec.TaskTemplate.ContainerSpec.Image}}', 'web']), '2 busybox:latest\n');
    await until(() => runningTasks('web') === 2, '2 running', 400);
    const rb = ok(['service', 'rollback', 'web'], { timeout: 60_000 });
    assert.match(rb, /^web\n/);
    assert.match(rb, /converged\n$/);
    assert.equal(ok(['service', 'inspect', '-f', '{{.UpdateStatus.State}} {{.Spec.Mode.Replicated.Replicas}}', 'web']), 'rollback_completed 3\n');
    assert.match(ok(['service', 'scale', '-d', 'web=4']), /^web scaled to 4\n$/);
    await until(() => runningTasks('web') === 4, '4 running', 400);
    assert.match(sameAsDocker(['service', 'ls']), /web +replicated +4\/4 /);
  });

  test('stack deploy: two services, a network, a secret file, replicas; redeploy updates; rm leaves nothing', async () => {
    const dir = path.join(d.base, 'stack');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'token.txt'), 'tok');
    const compose = (replicas: number) => [
      'services:',
      '  api:',
      '    image: busybox',
      '    command: sh -c "cat /run/secrets/token; sleep 1d"',
      '    networks: [back]',
      '    secrets: [token]',
      `    deploy: {replicas: ${replicas}}`,
      '  worker:',
      '    image: busybox',
      '    command: sleep 1d',
      '    networks: [back]',
      'networks:',
      '  back: {}',
      'secrets:',
      '  token: {file: ./token.txt}',
      '',
    ].join('\n');
    const file = path.join(dir, 'compose.yaml');
    fs.writeFileSync(file, compose(2));
    const out = ok(['stack', 'deploy', '--resolve-image', 'never', '-c', file, 'st']);
    assert.equal(out, 'Creating network st_back\nCreating secret st_token\nCreating service st_api\nCreating service st_worker\n');
    assert.match(sameAsDocker(['stack', 'ls']), /^NAME +SERVICES\nst +2\n$/);
    await until(() => runningTasks('st_api') === 2 && runningTasks('st_worker') === 1, 'st_api 2 running', 400);
    const services = sameAsDocker(['stack', 'services', 'st']);
    assert.match(services, /st_api +replicated +2\/2 +busybox:latest/);
    assert.match(services, /st_worker +replicated +1\/1 +busybox:latest/);
    assert.deepEqual(ok(['stack', 'ps', '--format', '{{.Name}} {{.DesiredState}}', 'st']).trim().split('\n').sort(),
      ['st_api.1 Running', 'st_api.2 Running', 'st_worker.1 Running']);
    await until(() => ok(['service', 'logs', '--raw', 'st_api']).includes('tok'), 'the secret in the logs', 400);

    fs.writeFileSync(file, compose(3));
    assert.match(ok(['stack', 'deploy', '--resolve-image', 'never', '-c', file, 'st']), /Updating service st_api \(id: [0-9a-z]{25}\)\nUpdating service st_worker/);
    await until(() => runningTasks('st_api') === 3, 'st_api 3 running', 400);

    const rm = ok(['stack', 'rm', 'st']);
    assert.equal(rm, 'Removing service st_api\nRemoving service st_worker\nRemoving secret st_token\nRemoving network st_back\n');
    assert.equal(ok(['service', 'ls', '-q', '--filter', 'label=com.docker.stack.namespace=st']), '');
    assert.equal(ok(['secret', 'ls', '-q', '--filter', 'label=com.docker.stack.namespace=st']), '');
    assert.equal(d.dockerOk(['network', 'ls', '-q', '--filter', 'label=com.docker.stack.namespace=st']), '');
    await until(() => d.dockerOk(['ps', '-aq', '--filter', 'label=com.docker.stack.namespace=st']).trim() === '', 'stack containers gone', 400);
  });

  test('service rm, secret rm, config rm', async () => {
    assert.equal(ok(['service', 'rm', 'web', 'hostport']), 'web\nhostport\n');
    assert.equal(ok(['service', 'ls', '-q']), '');
    assert.equal(ok(['secret', 'rm', 'secret1', 'secret2']), 'secret1\nsecret2\n');
    assert.equal(ok(['config', 'rm', 'config1']), 'config1\n');
    await until(() => d.dockerOk(['ps', '-aq']).trim() === '', 'service containers gone', 400);
  });
});
