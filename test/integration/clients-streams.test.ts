// Hijacked streams as real clients drive them: exec start and attach through Debian's docker-py (5.0.3) and
// dockerode, and raw requests for the bytes dockerd answers with. The start's Tty decides the framing, a request's
// body is never stdin, and an attach made before the start gets everything from the first byte.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import { TestDaemon } from '../helpers/daemon';
import type { ExecInspect, IdBody } from '../helpers/api-types';

/** Runs Debian's docker-py (only /usr/bin/python3 has it) with `client`, an APIClient at API 1.41, bound to the daemon. */
/** The script's last output line, a JSON object of what it saw. */
function py(d: TestDaemon, code: string): Record<string, unknown> {
  const prelude = `import docker, json, time\nfrom docker.utils.socket import next_frame_header, read_exactly\nclient = docker.APIClient(base_url='unix://${d.sock}', version='1.41')\n`;
  const r = spawnSync('/usr/bin/python3', ['-c', prelude + code], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `python failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One raw connection to berthd: sends `request`, then runs each step (given a `send` function) in turn, and
 * resolves with the response's head and the bytes after it once the server closes (or `timeoutMs` passes).
 */
/** One step of an exchange: given how to send more bytes on the connection. */
type Step = (send: (bytes: string | Buffer) => void) => Promise<void>;

function exchange(d: TestDaemon, request: string, steps: Step[] = [], timeoutMs = 15_000): Promise<{ head: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const conn = net.connect(d.sock);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => conn.destroy(), timeoutMs);
    conn.on('data', (c) => chunks.push(c));
    conn.on('error', reject);
    conn.on('close', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      resolve({ head: all.subarray(0, end + 4).toString(), body: all.subarray(end + 4) });
    });
    conn.on('connect', async () => {
      conn.write(request);
      for (const step of steps) await step((b) => conn.write(b));
    });
  });
}

/** The payloads of a multiplexed stream, by stream number, joined. */
function demux(buf: Buffer) {
  const out: Record<number, string> = { 1: '', 2: '' };
  for (let i = 0; i + 8 <= buf.length;) {
    const size = buf.readUInt32BE(i + 4);
    assert.ok(buf[i] === 1 || buf[i] === 2, `frame header at ${i}: ${buf.subarray(i, i + 8).toString('hex')}`);
    out[buf[i]] += buf.subarray(i + 8, i + 8 + size).toString();
    i += 8 + size;
  }
  return out;
}

test('hijacked streams with real clients', { timeout: 600_000 }, async (t) => {
  const d = await new TestDaemon('streams').startWithBusybox();
  t.after(() => d.cleanup());
  const docker = new Docker({ socketPath: d.sock });
  const cat = d.dockerOk(['run', '-d', '-i', 'busybox', 'cat']).trim();

  await t.test('docker-py exec_start: output framed by the start\'s Tty, as api_exec_test.py reads it', () => {
    const r = py(d, `
cid = '${cat}'
cmd = 'sh -c "echo hello out ; sleep 0.5 ; echo hello err >&2"'
out = {}
def run(name, tty=False, **kw):
    e = client.exec_create(cid, cmd, tty=tty)
    res = client.exec_start(e, **kw)
    out[name] = repr(list(res) if kw.get('stream') else res)
run('tty_no_stream_no_demux', tty=True)
run('tty_no_stream_demux', tty=True, demux=True)
run('tty_stream_demux', tty=True, demux=True, stream=True)
run('no_stream_no_demux')
run('no_stream_demux', demux=True)
run('stream_demux', demux=True, stream=True)
run('stream_no_demux', stream=True)
e = client.exec_create(cid, ['echo', 'hello'])
out['execute_command'] = repr(client.exec_start(e))
e = client.exec_create(cid, ['printf', 'yay, interactive exec!'], tty=True)
s = client.exec_start(e, socket=True)
h = next_frame_header(s)
out['socket'] = repr((h, read_exactly(s, h[1])))
e = client.exec_create(cid, ['printf', 'asdqwe'])
out['detached'] = repr(client.exec_start(e, detach=True))
print(json.dumps(out))
`);
    assert.equal(r.tty_no_stream_no_demux, "b'hello out\\r\\nhello err\\r\\n'");
    assert.equal(r.tty_no_stream_demux, "(b'hello out\\r\\nhello err\\r\\n', None)");
    assert.equal(r.tty_stream_demux, "[(b'hello out\\r\\n', None), (b'hello err\\r\\n', None)]");
    assert.equal(r.no_stream_no_demux, "b'hello out\\nhello err\\n'");
    assert.equal(r.no_stream_demux, "(b'hello out\\n', b'hello err\\n')");
    assert.equal(r.stream_demux, "[(b'hello out\\n', None), (None, b'hello err\\n')]");
    assert.equal(r.stream_no_demux, "[b'hello out\\n', b'hello err\\n']");
    assert.equal(r.execute_command, "b'hello\\n'");
    assert.equal(r.socket, "((1, 22), b'yay, interactive exec!')");
    assert.equal(r.detached, "''");
  });

  await t.test('exec start answers with dockerd\'s head and framing', async () => {
    const create = (tty: boolean) => (JSON.parse(d.api('POST', `/containers/${cat}/exec`, { Cmd: ['echo', 'hi'], AttachStdout: true, Tty: tty }).body) as IdBody).Id;
    const start = (id: string, v: string, startTty: boolean, upgrade: boolean) => {
      const body = JSON.stringify({ Detach: false, Tty: startTty });
      const up = upgrade ? 'Connection: Upgrade\r\nUpgrade: tcp\r\n' : '';
      return exchange(d, `POST /v${v}/exec/${id}/start HTTP/1.1\r\nHost: x\r\n${up}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    };
    let r = await start(create(true), '1.44', false, true);
    assert.equal(r.head, 'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    assert.deepEqual(r.body, Buffer.concat([Buffer.from([1, 0, 0, 0, 0, 0, 0, 4]), Buffer.from('hi\r\n')]));
    r = await start(create(false), '1.44', true, true);
    assert.equal(r.head, 'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    assert.equal(r.body.toString(), 'hi\n');
    r = await start(create(false), '1.41', false, true);
    assert.equal(r.head, 'HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    assert.deepEqual(demux(r.body), { 1: 'hi\n', 2: '' });
    // Without an upgrade asked for, dockerd answers 200 and names a raw stream whatever it sends.
    r = await start(create(false), '1.44', false, false);
    assert.equal(r.head, 'HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\n');
    assert.deepEqual(demux(r.body), { 1: 'hi\n', 2: '' });
    // A command that cannot start is told on the stream, framed as stdout.
    const bad = (JSON.parse(d.api('POST', `/containers/${cat}/exec`, { Cmd: ['no-such-command'], AttachStdout: true }).body) as IdBody).Id;
    r = await start(bad, '1.44', false, true);
    assert.match(demux(r.body)[1], /executable file not found|no such file/);
    assert.equal((JSON.parse(d.api('GET', `/exec/${bad}/json`).body) as ExecInspect).ExitCode, 127);
  });

  await t.test('a request\'s body is never stdin, nor what came with the request; what the client sends after is', async () => {
    const attachReq = (id: string, head: string, body: string) => `POST /v1.41/containers/${id}/attach?stream=1&stdin=1&stdout=1 HTTP/1.1\r\nHost: x\r\n${head}\r\n${body}`;
    // Bytes written with the request, past its body, are dropped as dockerd drops them (moby's hijack throws the
    // server's read buffer away): 'XX' never reaches the process. A body whose length is declared one byte short
    // (the real-clients floor's request) leaves its '}' with the request: dropped too, not stdin.
    const cases = [
      ['upgrade, Content-Length', 'Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: 14\r\n', '{"stdin":true}XX'],
      ['upgrade, Content-Length one short', 'Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: 13\r\n', '{"stdin":true}'],
      ['upgrade, chunked', 'Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n', '6\r\n{"stdi\r\n8\r\nn":true}\r\n0\r\n\r\nXX'],
      ['no upgrade, Content-Length', 'Content-Type: application/json\r\nContent-Length: 14\r\n', '{"stdin":true}'],
    ];
    for (const [name, head, body] of cases) {
      const id = d.dockerOk(['create', '-i', 'busybox', 'head', '-c', '5']).trim();
      // The first stdin bytes before the container starts, the rest once it runs.
      const r = await exchange(d, attachReq(id, head, body), [
        async (send) => { await sleep(300); send('he'); d.dockerOk(['start', id]); },
        async (send) => { await sleep(300); send('llo'); },
      ], 10_000);
      d.dockerOk(['rm', '-f', id]);
      assert.deepEqual(demux(r.body), { 1: 'hello', 2: '' }, `${name}: ${JSON.stringify(r.body.toString())}`);
    }
    // A malformed chunked body: where it ends is unknown, so nothing the client sends is stdin.
    const id = d.dockerOk(['create', '-i', 'busybox', 'head', '-c', '5']).trim();
    d.dockerOk(['start', id]);
    const broken = await exchange(d, attachReq(id, 'Connection: Upgrade\r\nUpgrade: tcp\r\nTransfer-Encoding: chunked\r\n', 'zz\r\nhello'), [
      async (send) => { await sleep(300); send('hello'); },
    ], 2_000);
    d.dockerOk(['rm', '-f', id]);
    assert.equal(demux(broken.body)[1], '');

    // exec start: its JSON body is read for the route; what came with it is dropped, what follows is stdin.
    const e = (JSON.parse(d.api('POST', `/containers/${cat}/exec`, { Cmd: ['head', '-c', '5'], AttachStdin: true, AttachStdout: true }).body) as IdBody).Id;
    const body = '{"Detach":false,"Tty":false}';
    const r = await exchange(d, `POST /v1.41/exec/${e}/start HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}XX`, [
      async (send) => { await sleep(300); send('hel'); },
      async (send) => { await sleep(100); send('lo'); },
    ], 10_000);
    assert.deepEqual(demux(r.body), { 1: 'hello', 2: '' });
  });

  await t.test('dockerode: attach and exec with hijack and stdin, demuxed', async () => {
    const collect = (s: NodeJS.ReadableStream) => { const b: Buffer[] = []; s.on('data', (c) => b.push(Buffer.from(c))); return () => Buffer.concat(b).toString(); };
    const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'head -c 5; echo; echo err >&2'], OpenStdin: true, StdinOnce: true });
    const stream = await c.attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true });
    const out = new PassThrough();
    const err = new PassThrough();
    const o = collect(out);
    const e = collect(err);
    docker.modem.demuxStream(stream, out, err);
    const ended = new Promise((r) => stream.on('end', r));
    await c.start();
    stream.write('hello');
    assert.equal((await c.wait()).StatusCode, 0);
    await ended;
    assert.deepEqual([o(), e()], ['hello\n', 'err\n']);
    await c.remove();

    for (const tty of [false, true]) {
      const ex = await docker.getContainer(cat).exec({ Cmd: ['sh', '-c', 'head -c 5; echo; echo err >&2'], AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: tty });
      const s = await ex.start({ hijack: true, stdin: true, Tty: tty });
      const xo = new PassThrough();
      const xe = new PassThrough();
      const raw = collect(s);
      const so = collect(xo);
      const se = collect(xe);
      if (!tty) docker.modem.demuxStream(s, xo, xe);
      const done = new Promise((r) => s.on('end', r));
      // A terminal reads a line at a time (and echoes it).
      s.write(tty ? 'hello\n' : 'hello');
      await done;
      if (tty) assert.equal(raw(), 'hello\r\nhello\r\nerr\r\n');
      else assert.deepEqual([so(), se()], ['hello\n', 'err\n']);
      assert.equal((await ex.inspect()).ExitCode, 0);
    }
  });

  await t.test('dockerode run: an attach made before the start has the output, TTY or not, on any network', async () => {
    d.dockerOk(['network', 'create', 'streams-net']);
    try {
      for (const network of ['none', 'bridge', 'streams-net']) {
        for (const tty of [true, false]) {
          for (let i = 0; i < 2; i++) {
            const out = new PassThrough();
            const chunks: Buffer[] = [];
            out.on('data', (c) => chunks.push(Buffer.from(c)));
            const [res, c] = await docker.run('busybox', ['echo', 'at once'], out, { Tty: tty, HostConfig: { NetworkMode: network } });
            assert.equal(res.StatusCode, 0);
            const got = Buffer.concat(chunks);
            if (tty) assert.equal(got.toString(), 'at once\r\n', `${network} tty`);
            else assert.deepEqual(demux(got), { 1: 'at once\n', 2: '' }, `${network}`);
            await c.remove();
          }
        }
      }
    } finally {
      d.docker(['network', 'rm', 'streams-net']);
    }
  });

  await t.test('docker-py attach, attach_socket, detach keys and exec_resize', () => {
    const r = py(d, `
out = {}
line = 'hi there and stuff and things, words!'
c = client.create_container('busybox', "printf '%s'" % line, detach=True, tty=False)
s = client.attach_socket(c, {"stdout": 1, "stream": 1, "logs": 1})
client.start(c)
h = next_frame_header(s)
out['socket_http'] = repr((h, read_exactly(s, h[1])))
c = client.create_container('busybox', 'sh -c "echo hello; echo oops >&2"')
client.start(c)
client.wait(c, condition='not-running')
# (the output's reaching the log right at the exit is a race dockerd loses too; here the replay is what is checked)
for _ in range(50):
    if client.logs(c) == b'hello\\noops\\n':
        break
    time.sleep(0.1)
# docker-py reads the 101 answer through an 8 KiB buffered reader and then the raw socket: frames that arrive in
# the same read as the answer would be lost on its side (its own test_attach_no_stream fails on dockerd for this).
# Berth pads the head to that buffer's size for docker-py (api/hijack.ts), so one ask is enough, under load too.
def replay(**kw):
    return client.attach(c, stream=False, logs=True, **kw)
out['no_stream'] = repr(replay())
out['demux'] = repr(replay(demux=True))
c = client.create_container('busybox', 'cat', detach=True, stdin_open=True, tty=True)
client.start(c)
def detached(sock):
    sk = getattr(sock, '_sock', sock)
    for key in (b'\\x10', b'\\x11'):
        sk.sendall(key)
        time.sleep(0.5)
    try:
        sk.sendall(b'make sure the socket is closed\\n')
        return repr(sk.recv(128))
    except OSError:
        return 'closed'
out['attach_detach'] = detached(client.attach_socket(c, {'stdin': True, 'stream': True}))
out['running'] = client.inspect_container(c)['State']['Running']
e = client.exec_create(c, 'cat', stdin=True, tty=True, stdout=True)
out['exec_detach'] = detached(client.exec_start(e, tty=True, socket=True))
e = client.exec_create(c, 'sh -c "sleep 1; stty size"', tty=True)
s = client.exec_start(e, tty=True, socket=True)
time.sleep(0.3)
client.exec_resize(e, height=20, width=60)
got = b''
while True:
    b = getattr(s, '_sock', s).recv(100)
    if not b:
        break
    got += b
out['resize'] = repr(got)
print(json.dumps(out))
`);
    assert.equal(r.socket_http, "((1, 37), b'hi there and stuff and things, words!')");
    assert.equal(r.no_stream, "b'hello\\noops\\n'");
    assert.equal(r.demux, "(b'hello\\n', b'oops\\n')");
    assert.ok(r.attach_detach === "b''" || r.attach_detach === 'closed', String(r.attach_detach));
    assert.equal(r.running, true);
    assert.ok(r.exec_detach === "b''" || r.exec_detach === 'closed', String(r.exec_detach));
    assert.equal(r.resize, "b'20 60\\r\\n'");
  });

  await t.test("exec bodies' keys match their fields case-insensitively, as Go's json: docker-py's config-file detachKeys detaches", () => {
    const r = py(d, `
client._general_configs['detachKeys'] = 'ctrl-p'
e = client.exec_create('${cat}', 'cat', stdin=True, tty=True, stdout=True)
keys = client.exec_inspect(e['Id'])['DetachKeys']
sock = client.exec_start(e['Id'], tty=True, socket=True)
sock._sock.sendall(b'\\x10')
sock._sock.settimeout(10)
rest = b''
while True:
    chunk = sock._sock.recv(4096)
    if not chunk:
        break
    rest += chunk
print(json.dumps({'keys': keys, 'rest': rest.decode('latin1')}))
`);
    assert.equal(r.keys, 'ctrl-p');
    assert.equal(r.rest, '', 'the connection closes at the detach key, with nothing echoed');
  });
});
