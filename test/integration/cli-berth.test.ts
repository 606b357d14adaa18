// Our own CLI, `berth`, against a real berthd: the container verbs give the docker CLI v28's output and exit codes.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { TestDaemon, ROOT, type RunOpts } from '../helpers/daemon';

import { until } from '../helpers/wait';
import type { ContainerInspect } from '../helpers/api-types';

/** Output with what differs between two runs of the same thing (IDs, ages, sizes of random names) made equal. */
function normalize(text: string) {
  return text
    .replace(/\b[0-9a-f]{64}\b/g, '<ID>')
    .replace(/\b[0-9a-f]{12}\b/g, '<SHORT>')
    .replace(/(Less than a second|\d+ seconds?|About a minute)( ago)?/g, 'N$2')
    .replace(/^time="[^"]+"/gm, 'time="T"')
    .replace(/ {2,}/g, '  ');
}

test('berth runs the container verbs against berthd as the docker CLI does', { timeout: 300_000 }, async (t) => {
  const d = new TestDaemon('cli');
  t.after(() => d.cleanup());
  await d.startWithBusybox();
  const berthOk = (args: string[], opts?: RunOpts) => {
    const r = d.berth(args, opts);
    if (r.code !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  /** Runs the same arguments through both CLIs; `prep(cli)` may create what the command needs first. */
  const both = (args: (string | ((cli: string) => string))[], opts: RunOpts = {}) => {
    const b = d.berth(args.map((a) => (typeof a === 'function' ? a('berth') : a)), opts);
    const k = d.docker(args.map((a) => (typeof a === 'function' ? a('docker') : a)), opts);
    return { berth: b, docker: k };
  };
  const sameAsDocker = (args: string[], opts?: RunOpts) => {
    const { berth, docker } = both(args, opts);
    assert.equal(berth.code, docker.code, `exit code of ${args.join(' ')}: berth ${berth.stderr} docker ${docker.stderr}`);
    assert.equal(normalize(berth.stdout), normalize(docker.stdout), `stdout of ${args.join(' ')}`);
    assert.equal(normalize(berth.stderr).replace(/\bberth\b/g, 'docker'), normalize(docker.stderr), `stderr of ${args.join(' ')}`);
    return berth;
  };

  await t.test('run --rm, exit codes, -e/-w/-u/--hostname/--entrypoint', () => {
    assert.equal(sameAsDocker(['run', '--rm', 'busybox', 'echo', 'hello']).stdout, 'hello\n');
    const r = sameAsDocker(['run', '--rm', 'busybox', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(r.code, 3);
    assert.equal(r.stderr, 'err\n');
    const flags = ['run', '--rm', '-e', 'A=1', '-w', '/tmp/wd', '-u', 'nobody', '--hostname', 'hh', '--entrypoint', 'sh', 'busybox', '-c', 'echo $A $HOSTNAME $HOME; pwd; id -u'];
    assert.equal(sameAsDocker(flags).stdout, '1 hh /home\n/tmp/wd\n65534\n');
    assert.equal(d.docker(['ps', '-aq']).stdout, '', '--rm removed them all');
    const missing = sameAsDocker(['run', '--rm', 'busybox', 'nosuchcmd']);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr, /^berth: Error response from daemon: .*executable file not found in \$PATH.*\n\nRun 'berth run --help' for more information\n$/m);
  });

  await t.test('run -i with piped stdin', () => {
    const input = 'alpha\nbeta\n';
    assert.equal(sameAsDocker(['run', '-i', '--rm', 'busybox', 'sh', '-c', 'cat; echo end'], { input }).stdout, 'alpha\nbeta\nend\n');
    const big = 'y'.repeat(2 << 20);
    assert.equal(berthOk(['run', '-i', '--rm', 'busybox', 'wc', '-c'], { input: big }).trim(), String(big.length));
  });

  await t.test('a reader that goes away ends berth quietly, as SIGPIPE ends docker', () => {
    const r = spawnSync('bash', ['-c', `set -o pipefail; ${path.join(ROOT, 'bin/berth')} run --rm busybox seq 1 200000 | head -n 1`],
      { env: d.env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.stdout, '1\n');
    assert.equal(r.stderr, '', 'no EPIPE trace and no listener-leak warning');
    assert.equal(r.status, 141);
  });

  await t.test('run -d, ps, logs -f, stop, rm -f', async () => {
    const id = berthOk(['run', '-d', '--name', 'bd', '--label', 'k=v', 'busybox', 'sh', '-c', 'for i in 1 2 3 4; do echo tick $i; echo tock $i >&2; sleep 0.3; done; sleep 1000']).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(d.docker(['inspect', '-f', '{{.State.Running}} {{.Config.Labels.k}}', 'bd']).stdout, 'true v\n');
    sameAsDocker(['ps']);
    sameAsDocker(['ps', '-a']);
    sameAsDocker(['ps', '-q']);
    sameAsDocker(['ps', '-a', '-s']);
    sameAsDocker(['ps', '-a', '--filter', 'label=k=v', '--format', '{{.Names}} {{.Image}} {{.Command}}']);
    sameAsDocker(['ps', '-a', '--filter', 'status=running', '--filter', 'name=bd', '--no-trunc']);
    // logs -f follows until the container stops (the stop comes from the other CLI)
    const follow = spawn(path.join(ROOT, 'bin/berth'), ['logs', '-f', 'bd'], { env: d.env });
    let out = '';
    let err = '';
    follow.stdout.on('data', (b) => { out += b; });
    follow.stderr.on('data', (b) => { err += b; });
    const ended = new Promise((r) => follow.on('close', r));
    await until(() => out.includes('tick 4'), 'berth logs -f to see the 4th line');
    assert.equal(berthOk(['stop', '-t', '1', 'bd']), 'bd\n');
    assert.equal(await ended, 0);
    assert.equal(out, 'tick 1\ntick 2\ntick 3\ntick 4\n');
    assert.equal(err, 'tock 1\ntock 2\ntock 3\ntock 4\n');
    sameAsDocker(['logs', '--tail', '2', 'bd']);
    const stamped = berthOk(['logs', '-t', 'bd']).split('\n').filter(Boolean);
    assert.equal(stamped.length, 4);
    assert.equal(berthOk(['logs', '-t', 'bd']), d.dockerOk(['logs', '-t', 'bd']));
    assert.equal(berthOk(['logs', '--since', stamped[3].split(' ')[0], 'bd']), 'tick 4\n');
    assert.equal(d.docker(['inspect', '-f', '{{.State.ExitCode}}', 'bd']).stdout, '137\n');
    berthOk(['start', 'bd']);
    assert.equal(berthOk(['rm', '-f', 'bd']), 'bd\n');
    assert.equal(d.docker(['ps', '-aq']).stdout, '');
  });

  await t.test('inspect, wait, kill, restart, rename, create/start -a, container prune', async () => {
    berthOk(['run', '-d', '--name', 'life', 'busybox', 'sh', '-c', "trap 'exit 3' TERM; echo ready; while true; do sleep 0.1; done"]);
    const ready = (n: number) => until(() => berthOk(['logs', 'life']).split('ready').length === n + 1, `ready ${n}`);
    await ready(1);
    assert.equal(berthOk(['inspect', '-f', '{{.Name}} {{.State.Status}}', 'life']), '/life running\n');
    assert.deepEqual(JSON.parse(berthOk(['inspect', 'life'])) as ContainerInspect[], JSON.parse(d.dockerOk(['inspect', 'life'])) as ContainerInspect[]);
    sameAsDocker(['inspect', 'nosuch']);
    assert.equal(berthOk(['restart', '-t', '5', 'life']), 'life\n');
    await ready(2);
    assert.equal(d.docker(['inspect', '-f', '{{.State.ExitCode}} {{.State.Running}}', 'life']).stdout, '0 true\n');
    assert.equal(berthOk(['kill', '-s', 'TERM', 'life']), 'life\n');
    assert.equal(berthOk(['wait', 'life']), '3\n');
    sameAsDocker(['kill', 'life']);
    sameAsDocker(['stop', 'life']);
    assert.equal(berthOk(['rename', 'life', 'life2']), '');
    sameAsDocker(['rename', 'life', 'x']);
    const id = berthOk(['create', '--name', 'cr', 'busybox', 'sh', '-c', 'echo made; exit 4']).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const started = d.berth(['start', '-a', 'cr']);
    assert.equal(started.code, 4);
    assert.equal(started.stdout, 'made\n');
    assert.equal(berthOk(['start', 'cr']), 'cr\n');
    sameAsDocker(['create', '--name', 'cr', 'busybox']);
    sameAsDocker(['run', '--name', 'cr', 'busybox']);
    berthOk(['run', '-d', '--name', 'runner', 'busybox', 'sleep', '1000']);
    sameAsDocker(['rm', 'runner']);
    for (const verb of ['logs', 'stop', 'start', 'kill', 'restart', 'wait', 'rm', 'diff', 'export']) sameAsDocker([verb, 'nosuch']);
    sameAsDocker(['rm', '-f', 'nosuch']);
    const pruned = berthOk(['container', 'prune', '-f']);
    assert.match(pruned, /^Deleted Containers:\n[0-9a-f]{64}\n[0-9a-f]{64}\n\nTotal reclaimed space: \d+(\.\d+)?k?B\n$/);
    assert.equal(d.dockerOk(['ps', '-a', '--format', '{{.Names}}']), 'runner\n');
    berthOk(['rm', '-f', 'runner']);
  });

  await t.test('commit, diff, export', () => {
    berthOk(['run', '--name', 'cm', 'busybox', 'sh', '-c', 'echo content > /made; rm /bin/ls; mkdir /newdir']);
    sameAsDocker(['diff', 'cm']);
    assert.match(berthOk(['diff', 'cm']), /^A \/made$/m);
    const imageId = berthOk(['commit', '-m', 'the message', '-a', 'An Author', '--change', 'ENV WHO=berth', '--change', 'CMD ["cat", "/made"]', 'cm', 'bcommit:1']).trim();
    assert.match(imageId, /^sha256:[0-9a-f]{64}$/);
    assert.equal(d.dockerOk(['image', 'inspect', '-f', '{{.Comment}}|{{.Author}}|{{json .Config.Cmd}}', 'bcommit:1']), 'the message|An Author|["cat","/made"]\n');
    assert.equal(berthOk(['run', '--rm', 'bcommit:1']), 'content\n');
    assert.equal(berthOk(['run', '--rm', 'bcommit:1', 'sh', '-c', 'echo $WHO']), 'berth\n');
    const tarB = path.join(d.base, 'b.tar');
    const tarD = path.join(d.base, 'd.tar');
    berthOk(['export', '-o', tarB, 'cm']);
    d.dockerOk(['export', '-o', tarD, 'cm']);
    const list = (f: string) => execFileSync('tar', ['-tvf', f], { encoding: 'utf8' });
    assert.equal(list(tarB), list(tarD));
    assert.match(list(tarB), / made\n/);
    assert.doesNotMatch(list(tarB), / bin\/ls\n/);
    const piped = execFileSync(path.join(ROOT, 'bin/berth'), ['export', 'cm'], { env: d.env, maxBuffer: 64 << 20 });
    assert.equal(piped.length, fs.statSync(tarD).size);
    berthOk(['rm', 'cm']);
    berthOk(['rmi', 'bcommit:1']);
    assert.equal(d.docker(['ps', '-aq']).stdout, '');
  });
});
