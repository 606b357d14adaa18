// Container operations as real clients drive them — dockerode, Debian's python3-docker (docker-py 5.0.3) and the
// docker CLI: archives that see the container's view (its /etc files, volumes, binds, live tmpfs), commit with
// pause of a container that is exiting, removing a legacy link, kill as docker-py's KillTest expects, and
// docker-py's image tests (remove_image, images() against info()'s count, load errors, build with cache_from).
import test from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import Docker from 'dockerode';
import { TestDaemon } from '../helpers/daemon';
import { tarOf, readAll, untar } from '../helpers/tar-files';
import type { IdBody, ModemError, PathStat } from '../helpers/api-types';

/** Runs Debian's docker-py (5.0.3, only /usr/bin/python3 has it) with `client` and `api` bound to the daemon. */
function py(d: TestDaemon, code: string) {
  const prelude = `import docker, io, signal\nclient = docker.DockerClient(base_url='unix://${d.sock}', version='1.41')\napi = client.api\n`;
  const r = spawnSync('/usr/bin/python3', ['-c', prelude + code], { encoding: 'utf8', timeout: 240_000 });
  assert.equal(r.status, 0, `python failed: ${r.stderr}`);
  return r.stdout;
}

/** HEAD /containers/{id}/archive: the decoded X-Docker-Container-Path-Stat, or the status when it is not 200. */
function statPath(d: TestDaemon, id: string, p: string): Promise<Partial<PathStat> & { status?: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: d.sock, method: 'HEAD', path: `/v1.41/containers/${id}/archive?path=${encodeURIComponent(p)}` }, (res) => {
      res.resume();
      const h = res.headers['x-docker-container-path-stat'];
      resolve(res.statusCode === 200 ? JSON.parse(Buffer.from(String(h), 'base64').toString()) as PathStat : { status: res.statusCode });
    });
    req.on('error', reject);
    req.end();
  });
}

test('container operations through real clients', { timeout: 900_000 }, async (t) => {
  const d = await new TestDaemon('ctrops').startWithBusybox();
  const bind = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ctrops-bind-'));
  t.after(async () => {
    await d.cleanup();
    fs.rmSync(bind, { recursive: true, force: true });
  });
  const docker = new Docker({ socketPath: d.sock });
  const archiveOf = async (id: string, p: string) => untar(await readAll(await docker.getContainer(id).getArchive({ path: p })));
  const exec = (id: string, ...cmd: string[]) => d.dockerOk(['exec', id, ...cmd]);

  await t.test("archives read the container's /etc files, volumes, binds and live tmpfs, running and stopped", async () => {
    fs.writeFileSync(path.join(bind, 'b.txt'), 'from the host\n');
    const id = d.dockerOk(['run', '-d', '--hostname', 'bar-host', '--tmpfs', '/tm', '-v', 'ctrops-vol:/data', '-v', `${bind}:/bnd`,
      'busybox', 'sh', '-c', 'echo live > /tm/f; echo vol > /data/v; sleep 300']).trim();
    let seen = '';
    for (let i = 0; i < 300 && (seen = d.docker(['exec', id, 'cat', '/tm/f']).stdout) !== 'live\n'; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(seen, 'live\n', 'the container wrote its tmpfs file');

    // What the container sees at its bind-mounted /etc files, not the image's files under them.
    assert.deepEqual(await archiveOf(id, '/etc/hostname'), { hostname: 'bar-host\n' });
    assert.deepEqual(await archiveOf(id, '/etc/hosts'), { hosts: exec(id, 'cat', '/etc/hosts') });
    assert.deepEqual(await archiveOf(id, '/etc/resolv.conf'), { 'resolv.conf': exec(id, 'cat', '/etc/resolv.conf') });
    assert.equal((await archiveOf(id, '/etc'))['etc/hostname'], 'bar-host\n');
    assert.deepEqual(await archiveOf(id, '/tm/f'), { f: 'live\n' });
    assert.equal((await archiveOf(id, '/tm'))['tm/f'], 'live\n');
    assert.deepEqual(await archiveOf(id, '/data/v'), { v: 'vol\n' });
    assert.deepEqual(await archiveOf(id, '/bnd/b.txt'), { 'b.txt': 'from the host\n' });
    const stat = await statPath(d, id, '/etc/hostname');
    assert.equal(stat.name, 'hostname');
    assert.equal(stat.size, 'bar-host\n'.length);
    assert.equal((await statPath(d, id, '/tm/f')).size, 'live\n'.length);
    // The docker CLI and a raw client, as the real-clients floor check asks.
    assert.equal(d.dockerOk(['cp', `${id}:/etc/hostname`, '-'], { encoding: 'buffer' }).subarray(512, 521).toString(), 'bar-host\n');
    const curl = spawnSync('sh', ['-c', `curl -s --unix-socket ${d.sock} "http://x/v1.41/containers/${id}/archive?path=/etc/hostname" | tar -xO`], { encoding: 'utf8' });
    assert.equal(curl.stdout, 'bar-host\n');

    // Extracting at / puts what falls in a volume, a bind or the tmpfs into it (it used to fail, EXDEV).
    await docker.getContainer(id).putArchive(tarOf({ 'data/p.txt': 'put-vol', 'bnd/p.txt': 'put-bind', 'tm/p.txt': 'put-tmpfs', 'top.txt': 'put-root' }), { path: '/' });
    assert.equal(exec(id, 'cat', '/data/p.txt', '/bnd/p.txt', '/tm/p.txt', '/top.txt'), 'put-volput-bindput-tmpfsput-root');
    assert.equal(fs.readFileSync(path.join(bind, 'p.txt'), 'utf8'), 'put-bind');
    // Straight into the tmpfs, through the docker CLI.
    const local = path.join(bind, 'cli.txt');
    fs.writeFileSync(local, 'via docker cp\n');
    d.dockerOk(['cp', local, `${id}:/tm/`]);
    assert.equal(exec(id, 'cat', '/tm/cli.txt'), 'via docker cp\n');
    // A file over a mounted file is refused instead of replacing what is mounted.
    await assert.rejects(docker.getContainer(id).putArchive(tarOf({ hostname: 'x' }), { path: '/etc' }), (e) => (e as ModemError).statusCode === 400 && /mount point/.test((e as ModemError).message));
    assert.equal(exec(id, 'cat', '/etc/hostname'), 'bar-host\n');

    // Stopped: the files Berth writes and mounts, the volume and the bind still apply; the tmpfs is gone.
    d.dockerOk(['stop', '-t', '0', id]);
    // Each read mounts the stopped container's root and unmounts it when done; the next one, asked at once, must
    // not take the root for mounted while that unmount is still under way (it was answered 404 in CI).
    assert.deepEqual(await archiveOf(id, '/etc/hostname'), { hostname: 'bar-host\n' });
    assert.deepEqual(await archiveOf(id, '/data/v'), { v: 'vol\n' });
    assert.deepEqual(await archiveOf(id, '/bnd/b.txt'), { 'b.txt': 'from the host\n' });
    assert.equal((await archiveOf(id, '/tm'))['tm/f'], undefined);
    assert.equal((await statPath(d, id, '/etc/hostname')).size, 'bar-host\n'.length);
    await docker.getContainer(id).putArchive(tarOf({ 'data/s.txt': 'while stopped' }), { path: '/' });
    assert.equal(d.dockerOk(['run', '--rm', '-v', 'ctrops-vol:/v', 'busybox', 'cat', '/v/s.txt']), 'while stopped');
    d.dockerOk(['rm', id]);
    d.dockerOk(['volume', 'rm', 'ctrops-vol']);
  });

  await t.test('commit with pause=1 of a container that has just exited, or is exiting, is a 201', () => {
    for (let i = 0; i < 8; i++) {
      const id = d.dockerOk(['run', '-d', 'busybox', 'touch', '/t']).trim();
      const r = d.api('POST', `/v1.41/commit?container=${id}&pause=1`);
      assert.equal(r.status, 201, `commit ${i}: ${r.body}`);
      d.dockerOk(['rm', '-f', id]);
      d.dockerOk(['rmi', (JSON.parse(r.body) as IdBody).Id]);
    }
    // A running one is paused for the commit and runs on after it.
    const id = d.dockerOk(['run', '-d', 'busybox', 'sh', '-c', 'touch /u; sleep 300']).trim();
    const r = d.api('POST', `/v1.41/commit?container=${id}&pause=1`);
    assert.equal(r.status, 201, r.body);
    assert.equal(d.dockerOk(['inspect', '-f', '{{.State.Status}}', id]).trim(), 'running');
    d.dockerOk(['rm', '-f', id]);
    d.dockerOk(['rmi', (JSON.parse(r.body) as IdBody).Id]);
  });

  await t.test("docker-py's test_remove_link: DELETE /containers/parent/alias?link=1 removes the link, not a container", () => {
    const out = py(d, `
c1 = api.create_container('busybox', 'cat', detach=True, stdin_open=True)
api.start(c1['Id'])
link_path = api.inspect_container(c1['Id'])['Name'][1:]
c2 = api.create_container('busybox', 'cat', stdin_open=True, host_config=api.create_host_config(links={link_path: 'mylink'}))
api.start(c2['Id'])
linked_name = api.inspect_container(c2['Id'])['Name'][1:]
link_name = linked_name + '/mylink'
hosts = lambda: api.exec_start(api.exec_create(c2['Id'], 'cat /etc/hosts')).decode()
# (only these two: containers of the subtests before may still be going away)
print('names-before', sorted(n for x in api.containers(all=True) if x['Id'] in (c1['Id'], c2['Id']) for n in x['Names']) == sorted(['/' + link_path, '/' + linked_name, '/' + link_name]))
print('hosts-before', 'mylink' in hosts())
api.remove_container(link_name, link=True)
containers = api.containers(all=True)
print('gone', [x for x in containers if '/' + link_name in x['Names']] == [])
print('kept', len([x for x in containers if x['Id'] in (c1['Id'], c2['Id'])]))
print('links', api.inspect_container(c2['Id'])['HostConfig']['Links'])
print('hosts-after', 'mylink' in hosts())
for bad in [link_path, link_name, 'nosuch/mylink']:
    try:
        api.remove_container(bad, link=True)
        print('removed?', bad)
    except docker.errors.APIError as e:
        print(e.response.status_code, e.explanation.replace(linked_name, 'P'))
api.remove_container(c1['Id'], force=True)
api.remove_container(c2['Id'], force=True)
`);
    assert.equal(out, [
      'names-before True',
      'hosts-before True',
      'gone True',
      'kept 2',
      'links None',
      'hosts-after False',
      '409 Conflict, cannot remove the default link name of the container',
      '404 No such container: P/mylink',
      '404 No such container: nosuch/mylink',
      '',
    ].join('\n'));
  });

  await t.test("docker-py's KillTest: kill waits for SIGKILL's exit (137), signals by name and number, 409 and 400", () => {
    const out = py(d, `
def started(cmd=['sleep', '9999']):
    c = api.create_container('busybox', cmd)
    api.start(c['Id'])
    return c
def state(c):
    s = api.inspect_container(c['Id'])['State']
    return (s['Running'], s['ExitCode'], s['Status'])
c = started(); api.kill(c['Id']); print('default', state(c))
c = started(); api.kill(c); print('dict', state(c))
for sig in [signal.SIGKILL, 'SIGKILL', 9, 'KILL']:
    c = started(['sleep', '60']); api.kill(c['Id'], signal=sig)
    print(repr(sig), api.wait(c['Id'])['StatusCode'], state(c))
c = started(['sh', '-c', 'trap "exit 3" TERM; while true; do sleep 1; done'])
api.kill(c['Id'], signal='SIGTERM'); print('SIGTERM', api.wait(c['Id'])['StatusCode'], state(c))
try:
    api.kill(c['Id'])
except docker.errors.APIError as e:
    print('stopped', e.response.status_code, 'is not running' in e.explanation)
c = started()
for bad in ['SIGNOPE', '0', '65']:
    try:
        api.kill(c['Id'], signal=bad)
    except docker.errors.APIError as e:
        print('bad', e.response.status_code, e.explanation)
print('still', state(c))
c2 = client.containers.run('busybox', 'sleep 300', detach=True)
c2.kill(); c2.reload(); print('model', c2.status)
c2.remove()
for x in api.containers(all=True, quiet=True):
    api.remove_container(x['Id'], force=True)
`);
    assert.equal(out, [
      "default (False, 137, 'exited')",
      "dict (False, 137, 'exited')",
      "<Signals.SIGKILL: 9> 137 (False, 137, 'exited')",
      "'SIGKILL' 137 (False, 137, 'exited')",
      "9 137 (False, 137, 'exited')",
      "'KILL' 137 (False, 137, 'exited')",
      "SIGTERM 3 (False, 3, 'exited')",
      'stopped 409 True',
      'bad 400 Invalid signal: SIGNOPE',
      'bad 400 Invalid signal: 0',
      'bad 400 Invalid signal: 65',
      "still (True, 0, 'running')",
      'model exited',
      '',
    ].join('\n'));
  });

  await t.test("docker-py's image tests: remove_image, images() and info()'s count, load errors, build cache_from", () => {
    const out = py(d, `
c = api.create_container('busybox', ['touch', '/test'])
api.start(c['Id'])
img_id = api.commit(c['Id'])['Id']
logs = api.remove_image(img_id, force=True)
print('removed', {'Deleted': img_id} in logs, [x for x in api.images(all=True) if x['Id'].startswith(img_id)])
api.remove_container(c['Id'], force=True)
script = io.BytesIO('\\n'.join(['FROM busybox', 'ENV FOO=bar', 'RUN touch baz', 'RUN touch bax']).encode('ascii'))
for _ in api.build(fileobj=script, tag='build1'):
    pass
cached = lambda tag, sources: sum('Using cache' in c.get('stream', '') for c in api.build(fileobj=script, tag=tag, cache_from=sources, decode=True))
print('cache_from build1', cached('build2', ['build1']))
api.remove_image('build2')
print('cache_from nosuchtag', cached('build2', ['nosuchtag']))
print('no cache_from', cached('build3', None))
every = api.images(all=True)
print('count', len({i['Id'] for i in every}) == api.info()['Images'], len(every) > len(api.images()))
print('quiet', all(isinstance(i, str) and i.startswith('sha256:') for i in api.images(quiet=True)))
print('dangling', len(api.images(filters={'dangling': True})), len(api.images(all=True, filters={'dangling': True})) > 0)
try:
    client.images.load('abc')
except docker.errors.ImageLoadError as e:
    print('ImageLoadError', e)
saved = b''.join(client.images.get('busybox').save())
print('load', [i.tags for i in client.images.load(saved)])
`);
    assert.equal(out, [
      'removed True []',
      'cache_from build1 3',
      'cache_from nosuchtag 0',
      'no cache_from 3',
      'count True True',
      'quiet True',
      'dangling 0 True',
      'ImageLoadError invalid tar archive: Unexpected end of data',
      "load [['busybox:latest']]",
      '',
    ].join('\n'));
    // The docker CLI shows a bad archive's error from the stream and fails.
    const r = d.docker(['load'], { input: 'abc' });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /invalid tar archive/);
  });
});
