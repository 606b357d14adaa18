// The CLI end to end against a fake daemon on a temporary unix socket: request order for run, the pull on
// "No such image", hijacked attach with stdin half-close, exit codes, logs demultiplexing, errors.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import { tempDir } from '../helpers/tmp';
import * as path from 'node:path';
import { PassThrough, Readable, type Duplex } from 'node:stream';
import { main } from '../../src/cli/main';
import { Cli, type CliStreams } from '../../src/cli/command';
import { StreamDemultiplexer, frame, demultiplex } from '../../src/cli/stdcopy';
import { jsonValues, encodeQuery, encodeFilters, parseHost, resolveHost } from '../../src/cli/api-client';
import type { ContainerCreateBody } from '../../src/wire/docker';

const ID = 'c'.repeat(64);

/** A request the fake daemon saw; the only bodies the tests read are create bodies. */
interface LoggedRequest { method?: string; path: string; query: Record<string, string>; body?: ContainerCreateBody; upgrade?: string }
/** What the fake daemon knows: whether busybox was pulled, the container's Tty, its attach sockets, the pending wait. */
interface DaemonState { hasImage: boolean; tty: boolean; sockets: Duplex[]; finishWait?: () => void }
/** A test's own answer to `METHOD /path`. */
type Route = (req: http.IncomingMessage, res: http.ServerResponse, ctx: { body: string; url: URL; json: (status: number, obj?: unknown) => void; state: DaemonState }) => void;

/** A fake berthd: records requests; `routes` answers them; attach echoes stdin back as stdout frames. */
async function fakeDaemon(routes: Record<string, Route> = {}) {
  const dir = tempDir('berth-cli-');
  const sock = path.join(dir, 'd.sock');
  const log: LoggedRequest[] = [];
  const state: DaemonState = { hasImage: false, tty: false, sockets: [] };
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => { body += d; });
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      const p = url.pathname.replace(/^\/v1\.\d+/, '');
      log.push({ method: req.method, path: p, query: Object.fromEntries(url.searchParams), body: body ? safeJson(body) as ContainerCreateBody : undefined });
      const json = (status: number, obj?: unknown) => { res.writeHead(status, { 'Content-Type': 'application/json' }); res.end(obj === undefined ? '' : JSON.stringify(obj)); };
      for (const [key, fn] of Object.entries(routes)) {
        if (`${req.method} ${p}` === key) return fn(req, res, { body, url, json, state });
      }
      if (p === '/containers/create') {
        if (!state.hasImage) return json(404, { message: 'No such image: busybox:latest' });
        return json(201, { Id: ID, Warnings: [] });
      }
      if (p === '/images/create') {
        state.hasImage = true;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write(JSON.stringify({ status: 'Pulling from library/busybox', id: 'latest' }) + '\r\n');
        res.end(JSON.stringify({ status: 'Status: Downloaded newer image for busybox:latest' }) + '\r\n');
        return;
      }
      if (p.endsWith('/wait')) {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        state.finishWait = () => res.end(JSON.stringify({ StatusCode: 7 }));
        return;
      }
      if (p.endsWith('/start')) return json(204);
      if (p === `/containers/${ID}/json` || p === '/containers/web/json') return json(200, { Id: ID, Config: { Tty: state.tty, OpenStdin: true }, State: { Running: true, ExitCode: 0 } });
      json(404, { message: `page not found: ${p}` });
    });
  });
  server.on('upgrade', (req, socket) => {
    const url = new URL(req.url!, 'http://x');
    log.push({ method: req.method, path: url.pathname.replace(/^\/v1\.\d+/, ''), query: Object.fromEntries(url.searchParams), upgrade: req.headers.upgrade });
    socket.write('HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n');
    state.sockets.push(socket);
    socket.write(frame(2, 'to stderr\n'));
    // Echo stdin; when the client half-closes, finish the output and the wait.
    socket.on('data', (d: Buffer) => socket.write(frame(1, d)));
    socket.on('end', () => { if (!socket.writableEnded) socket.end(frame(1, 'bye\n')); setTimeout(() => state.finishWait?.(), 10); });
  });
  await new Promise<void>((r) => server.listen(sock, () => r()));
  return { sock, log, state, server, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function safeJson(s: string): unknown { try { return JSON.parse(s); } catch { return s; } }

function fakeCli(stdinText?: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const stdin = stdinText === undefined ? new PassThrough() : Readable.from([Buffer.from(stdinText)]);
  let out = ''; let err = '';
  stdout.on('data', (c) => { out += c; });
  stderr.on('data', (c) => { err += c; });
  // PassThroughs where the CLI has the process's streams.
  const cli = new Cli({ stdin, stdout, stderr } as unknown as CliStreams, { HOME: tempDir('berth-home-') });
  return { cli, out: () => out, err: () => err };
}

test('run: create, 404 → pull → create, attach, wait before start, exit with the container status', async () => {
  const d = await fakeDaemon();
  // The container exits soon after start: its attach stream ends, then the wait answers.
  d.server.on('request', (req) => {
    if (req.url!.endsWith('/start')) setTimeout(() => { for (const s of d.state.sockets) s.end(); setTimeout(() => d.state.finishWait?.(), 10); }, 20);
  });
  const io = fakeCli();
  io.cli.in.end();
  const code = await main(['node', 'berth', '-H', `unix://${d.sock}`, 'run', '--rm', '--name', 'x', 'busybox', 'echo', 'hi'], io.cli);
  await d.close();
  assert.equal(code, 7);
  assert.deepEqual(d.log.map((r) => `${r.method} ${r.path}`), [
    'POST /containers/create', 'POST /images/create', 'POST /containers/create',
    `POST /containers/${ID}/attach`, `POST /containers/${ID}/wait`, `POST /containers/${ID}/start`,
  ]);
  assert.deepEqual(d.log[1].query, { fromImage: 'docker.io/library/busybox', tag: 'latest' });
  assert.deepEqual(d.log[3].query, { stream: '1', stdout: '1', stderr: '1' });
  assert.equal(d.log[3].upgrade, 'tcp');
  assert.deepEqual(d.log[4].query, { condition: 'removed' });
  assert.equal(d.log[0].body!.HostConfig!.AutoRemove, true);
  assert.match(io.err(), /^Unable to find image 'busybox:latest' locally\nlatest: Pulling from library\/busybox\nStatus: Downloaded newer image for busybox:latest\nto stderr\n/);
});

test('run -i: stdin is piped in, EOF half-closes, output keeps flowing', async () => {
  const d = await fakeDaemon();
  d.state.hasImage = true;
  const io = fakeCli('hello from stdin\n');
  const code = await main(['node', 'berth', '-H', `unix://${d.sock}`, 'run', '-i', 'busybox', 'cat'], io.cli);
  await d.close();
  assert.equal(code, 7);
  assert.equal(io.out(), 'hello from stdin\nbye\n');
  const attach = d.log.find((r) => r.path.endsWith('/attach'))!;
  assert.deepEqual(attach.query, { stream: '1', stdin: '1', stdout: '1', stderr: '1' });
  const create = d.log.find((r) => r.path === '/containers/create')!;
  assert.equal(create.body!.AttachStdin, true);
  assert.equal(create.body!.StdinOnce, true);
});

test('run -d prints the full ID and does not attach', async () => {
  const d = await fakeDaemon();
  d.state.hasImage = true;
  const io = fakeCli();
  const code = await main(['node', 'berth', '-H', `unix://${d.sock}`, 'run', '-d', 'busybox', 'true'], io.cli);
  await d.close();
  assert.equal(code, 0);
  assert.equal(io.out(), `${ID}\n`);
  assert.deepEqual(d.log.map((r) => r.path), ['/containers/create', `/containers/${ID}/start`]);
});

test('run failures exit 125 with docker wording; --pull never does not pull', async () => {
  const d = await fakeDaemon();
  const io = fakeCli();
  const code = await main(['node', 'berth', '-H', `unix://${d.sock}`, 'run', '--pull', 'never', 'busybox'], io.cli);
  await d.close();
  assert.equal(code, 125);
  assert.equal(io.err(), "berth: Error response from daemon: No such image: busybox:latest\n\nRun 'berth run --help' for more information\n");
});

test('daemon errors elsewhere: "Error response from daemon", exit 1', async () => {
  const d = await fakeDaemon({
    'POST /containers/nope/stop': (_q, _r, { json }) => json(404, { message: 'No such container: nope' }),
    'POST /containers/ok/stop': (_q, _r, { json }) => json(204),
  });
  const io = fakeCli();
  const code = await main(['node', 'berth', '-H', `unix://${d.sock}`, 'stop', '-t', '3', 'nope', 'ok'], io.cli);
  await d.close();
  assert.equal(code, 1);
  assert.equal(io.out(), 'ok\n');
  assert.equal(io.err(), 'Error response from daemon: No such container: nope\n');
  assert.deepEqual(d.log.find((r) => r.path === '/containers/ok/stop')!.query, { t: '3' });
});

test('unknown flags: docker wording, exit 125', async () => {
  const io = fakeCli();
  assert.equal(await main(['node', 'berth', 'run', '--bogus', 'busybox'], io.cli), 125);
  assert.equal(io.err(), "unknown flag: --bogus\nSee 'berth run --help'.\n");
});

test('logs: multiplexed output split to stdout and stderr', async () => {
  const d = await fakeDaemon({
    'GET /containers/web/logs': (_q, res) => {
      res.writeHead(200, { 'Content-Type': 'application/vnd.docker.multiplexed-stream' });
      res.end(Buffer.concat([frame(1, 'out line\n'), frame(2, 'err line\n'), frame(1, 'more\n')]));
    },
  });
  const io = fakeCli();
  const code = await main(['node', 'berth', '-H', `unix://${d.sock}`, 'logs', '--tail', '5', '-t', 'web'], io.cli);
  await d.close();
  assert.equal(code, 0);
  assert.equal(io.out(), 'out line\nmore\n');
  assert.equal(io.err(), 'err line\n');
  assert.deepEqual(d.log.find((r) => r.path.endsWith('/logs'))!.query, { stderr: '1', stdout: '1', tail: '5', timestamps: '1' });
});

test('ps sends docker filters and renders the table', async () => {
  const d = await fakeDaemon({ 'GET /containers/json': (_q, _r, { json }) => json(200, []) });
  const io = fakeCli();
  await main(['node', 'berth', '-H', `unix://${d.sock}`, 'container', 'ls', '-a', '--filter', 'status=exited', '-n', '3'], io.cli);
  await d.close();
  assert.deepEqual(d.log[0].query, { all: '1', filters: '{"status":{"exited":true}}', limit: '3' });
  assert.equal(io.out(), 'CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n');
});

test('stream demultiplexer handles frames split across chunks', async () => {
  const out = new PassThrough(); const err = new PassThrough();
  let o = ''; let e = '';
  out.on('data', (c) => { o += c; }); err.on('data', (c) => { e += c; });
  const bytes = Buffer.concat([frame(1, 'hello '), frame(2, 'oops'), frame(1, 'world')]);
  const demux = new StreamDemultiplexer(out, err);
  for (let i = 0; i < bytes.length; i += 3) demux.write(bytes.subarray(i, i + 3));
  await new Promise<void>((r) => demux.end(() => r()));
  assert.equal(o, 'hello world');
  assert.equal(e, 'oops');
  assert.deepEqual(demultiplex(bytes).map((f) => f.stream), [1, 2, 1]);
  const bad = new StreamDemultiplexer(out, err);
  await assert.rejects(new Promise<void>((resolve, reject) => { bad.on('error', reject); bad.write(frame(3, 'daemon broke'), (e) => (e ? reject(e) : resolve())); }), /daemon broke/);
});

test('api client helpers: hosts, queries, filters, JSON streams', async () => {
  assert.deepEqual(parseHost('unix:///run/berth/berth.sock'), { socketPath: '/run/berth/berth.sock' });
  assert.deepEqual(parseHost('tcp://127.0.0.1:2375'), { host: '127.0.0.1', port: 2375 });
  assert.equal(resolveHost(undefined, { DOCKER_HOST: 'unix:///d', BERTH_HOST: 'unix:///b' }), 'unix:///b');
  assert.equal(resolveHost(undefined, {}), 'unix:///run/berth/berth.sock');
  assert.equal(encodeQuery({ t: 5, force: true, v: undefined, changes: ['A 1', 'B'] }), '?changes=A+1&changes=B&force=1&t=5');
  assert.equal(encodeFilters(['label=a=b', 'status=exited']), '{"label":{"a=b":true},"status":{"exited":true}}');
  const values = [];
  for await (const v of jsonValues(Readable.from(['{"a":1}{"b":', '"}{"}\n{"c":[1,', '2]}']))) values.push(v);
  assert.deepEqual(values, [{ a: 1 }, { b: '}{' }, { c: [1, 2] }]);
});
