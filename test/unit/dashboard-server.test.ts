// `berth dashboard`'s server pieces without berthd: the gate (token, cookie, Host, Origin, Sec-Fetch-Site), static
// paths that try to leave assets/, the terminal's URL and control frames, the exec bridge over a real WebSocket with a
// fake daemon, the /api proxy against a fake daemon socket, and the TLS rule at start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Duplex, PassThrough } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import {
  allowedHosts, cookieValue, newSecrets, refusal, sameSecret, sessionCookie, type GateConfig,
} from '../../src/dashboard/server/gate';
import { resolveStatic } from '../../src/dashboard/server/static-files';
import { bridgeExec, parseControlFrame, parseExecRequest, type ExecDaemon } from '../../src/dashboard/server/exec-bridge';
import { ApiProxy } from '../../src/dashboard/server/api-proxy';
import { serveDashboard } from '../../src/dashboard/server/serve';
import { InvalidParameterError } from '../../src/errdefs';
import { tempDir } from '../helpers/tmp';
import { until } from '../helpers/wait';

const secrets = { token: 'a'.repeat(64), session: 'b'.repeat(64), cookieName: 'berth_dashboard_0a0b0c0d' };
const gate: GateConfig = { secrets, tls: false, hosts: allowedHosts({ host: '127.0.0.1', port: 7475 }, false) };
const req = (o: { method?: string; url?: string; headers?: Record<string, string> }) =>
  ({ method: o.method ?? 'GET', url: o.url ?? '/', headers: { host: '127.0.0.1:7475', ...o.headers } }) as unknown as http.IncomingMessage;

test('secrets compare in constant time whatever their lengths; the cookie is HttpOnly, SameSite=Strict, Secure under TLS', () => {
  assert.equal(sameSecret('a'.repeat(64), secrets.token), true);
  assert.equal(sameSecret('a'.repeat(63), secrets.token), false);
  assert.equal(sameSecret('', secrets.token), false);
  assert.equal(sameSecret('a'.repeat(65), secrets.token), false);
  assert.equal(cookieValue('x=1; berth_dashboard=abc ; y=2', 'berth_dashboard'), 'abc');
  assert.equal(cookieValue('berth_dashboard_old=abc', 'berth_dashboard'), undefined);
  assert.equal(cookieValue(undefined, 'berth_dashboard'), undefined);
  assert.equal(sessionCookie(secrets, false), `berth_dashboard_0a0b0c0d=${'b'.repeat(64)}; HttpOnly; SameSite=Strict; Path=/`);
  // Cookies do not tell ports apart: two dashboards on one host each sign in under a name of their own.
  const [one, two] = [newSecrets(), newSecrets()];
  assert.match(one.cookieName, /^berth_dashboard_[0-9a-f]{8}$/);
  assert.notEqual(one.cookieName, two.cookieName);
  assert.match(sessionCookie(secrets, true), /; Secure$/);
});

test('the Host must name this dashboard: loopback names with its port; a wildcard address adds the host\'s own', () => {
  assert.deepEqual([...gate.hosts].sort(), ['127.0.0.1:7475', '[::1]:7475', 'localhost:7475']);
  const wild = allowedHosts({ host: '0.0.0.0', port: 443 }, true, { eth0: [{ address: '10.1.2.3' } as never] }, 'box');
  for (const h of ['10.1.2.3:443', '10.1.2.3', 'box:443', 'box', 'localhost']) assert.ok(wild.has(h), h);
  assert.equal(wild.has('evil.example:443'), false);
});

test('the gate: DNS rebinding, other sites, forged or missing Origins are refused before anything else', () => {
  assert.equal(refusal(req({}), gate, false), undefined);
  assert.equal(refusal(req({ headers: { host: 'LOCALHOST:7475', 'sec-fetch-site': 'none' } }), gate, false), undefined);
  assert.equal(refusal(req({ method: 'POST', url: '/api/containers/x/stop', headers: { origin: 'http://127.0.0.1:7475', 'sec-fetch-site': 'same-origin' } }), gate, false), undefined);
  const cases: [string, Parameters<typeof req>[0], boolean, RegExp][] = [
    ['a rebound name', { headers: { host: 'attacker.example:7475' } }, false, /Host "attacker\.example:7475" is not this dashboard's address/],
    ['another port', { headers: { host: '127.0.0.1:8080' } }, false, /not this dashboard's address/],
    ['no Host', { headers: { host: '' } }, false, /Host ""/],
    ['cross-site', { headers: { 'sec-fetch-site': 'cross-site' } }, false, /other sites/],
    ['same-site on the API', { url: '/api/info', headers: { 'sec-fetch-site': 'same-site' } }, false, /other sites/],
    ['a forged Origin', { url: '/api/info', headers: { origin: 'http://evil.example' } }, false, /Origin "http:\/\/evil\.example" is not this dashboard's \(http:\/\/127\.0\.0\.1:7475\)/],
    ['the https Origin of an http dashboard', { headers: { origin: 'https://127.0.0.1:7475' } }, false, /is not this dashboard's/],
    ['a POST without Origin', { method: 'POST', url: '/api/containers/x/stop' }, false, /a POST request must carry this dashboard's Origin/],
    ['a DELETE without Origin', { method: 'DELETE', url: '/api/containers/x' }, false, /DELETE request must carry/],
    ['a WebSocket without Origin', { url: '/ws/exec/x?cols=1&rows=1' }, true, /a WebSocket request must carry/],
    ['a WebSocket from another site', { url: '/ws/exec/x', headers: { origin: 'http://localhost:9999' } }, true, /is not this dashboard's/],
  ];
  for (const [what, r, upgrade, why] of cases) {
    const got = refusal(req(r), gate, upgrade);
    assert.equal(got?.status, 403, what);
    assert.match(got!.message, why, what);
  }
  assert.equal(refusal(req({ url: '/ws/exec/x', headers: { origin: 'http://localhost:7475', host: 'localhost:7475' } }), gate, true), undefined);
});

test('static paths: / is index.html, /assets/<file> a file under assets/, nothing that leaves it', () => {
  const root = tempDir('berth-dash-static-');
  fs.mkdirSync(path.join(root, 'assets', 'fonts'), { recursive: true });
  fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html>');
  fs.writeFileSync(path.join(root, 'assets', 'app.js'), '');
  fs.writeFileSync(path.join(root, 'assets', 'fonts', 'a b.woff2'), '');
  fs.writeFileSync(path.join(root, 'secret.txt'), 'no');
  fs.symlinkSync(path.join(root, 'secret.txt'), path.join(root, 'assets', 'link.txt'));
  fs.symlinkSync('/etc', path.join(root, 'assets', 'etc'));
  assert.deepEqual(resolveStatic(root, '/'), { file: path.join(root, 'index.html') });
  assert.deepEqual(resolveStatic(root, '/assets/app.js'), { file: fs.realpathSync(path.join(root, 'assets', 'app.js')) });
  assert.deepEqual(resolveStatic(root, '/assets/fonts/a%20b.woff2'), { file: fs.realpathSync(path.join(root, 'assets', 'fonts', 'a b.woff2')) });
  for (const p of ['/assets/../secret.txt', '/assets/%2e%2e/secret.txt', '/assets/..%2fsecret.txt', '/assets/fonts/..%2F..%2Fsecret.txt',
    '/assets/..%5csecret.txt', '/assets/app.js%00', '/assets//etc/passwd', '/assets/link.txt', '/assets/etc/passwd', '/secret.txt',
    '/index.html/../secret.txt', '/assets/', '/assets/nope.js']) {
    const r = resolveStatic(root, p);
    assert.ok('status' in r && r.status === 404, `${p} is refused (got ${JSON.stringify(r)})`);
  }
  assert.deepEqual(resolveStatic(root, '/assets/%E0%A4%A'), { status: 400, message: 'malformed path encoding\n' });
});

test('the terminal\'s URL and control frames are checked, with what is wrong said', () => {
  assert.deepEqual(parseExecRequest('/ws/exec/web-1?cols=80&rows=24'), { container: 'web-1', cols: 80, rows: 24 });
  assert.deepEqual(parseExecRequest('/ws/exec/abc?cols=1&rows=1000&cmd=ls%20-l'), { container: 'abc', cols: 1, rows: 1000, cmd: 'ls -l' });
  assert.match(parseExecRequest('/ws/exec/abc?rows=24') as string, /cols must be a whole number from 1 to 1000 \(got null\)/);
  assert.match(parseExecRequest('/ws/exec/abc?cols=0&rows=24') as string, /cols must be/);
  assert.match(parseExecRequest('/ws/exec/abc?cols=80&rows=1e3') as string, /rows must be/);
  assert.match(parseExecRequest('/ws/exec/abc?cols=80&rows=24&cmd=') as string, /cmd is empty/);
  assert.match(parseExecRequest('/ws/other') as string, /^no WebSocket at \/ws\/other/);
  assert.match(parseExecRequest('/ws/exec/a/b?cols=1&rows=1') as string, /^no WebSocket/);
  assert.deepEqual(parseControlFrame('{"type":"resize","cols":100,"rows":40}'), { type: 'resize', cols: 100, rows: 40 });
  assert.match(parseControlFrame('resize') as string, /must be JSON/);
  assert.match(parseControlFrame('{"type":"kill"}') as string, /unknown control frame/);
  assert.match(parseControlFrame('{"type":"resize","cols":-1,"rows":40}') as string, /whole numbers/);
  assert.match(parseControlFrame('{"type":"resize","cols":1.5,"rows":40}') as string, /whole numbers/);
  assert.match(parseControlFrame('null') as string, /unknown control frame/);
});

/** A fake daemon's exec: the test plays the shell on the other end of `shell`. */
class FakeExecDaemon implements ExecDaemon {
  created: { container: string; body: object }[] = [];
  resizes: [number, number][] = [];
  shell = new PassThrough();
  toShell = new PassThrough();
  exit: number | null = 0;
  stream: Duplex | undefined;
  failCreate?: Error;
  async create(container: string, body: object): Promise<string> {
    if (this.failCreate) throw this.failCreate;
    this.created.push({ container, body });
    return 'e1';
  }
  async start(): Promise<Duplex> {
    this.stream = Duplex.from({ readable: this.shell, writable: this.toShell });
    return this.stream;
  }
  async resize(_id: string, cols: number, rows: number): Promise<void> { this.resizes.push([cols, rows]); }
  async exitCode(): Promise<number | null> { return this.exit; }
}

/** A WebSocket pair on loopback: the server side runs bridgeExec on `daemon`. */
async function bridged(daemon: ExecDaemon, request = { container: 'web', cols: 80, rows: 24 }) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (ws) => void bridgeExec(ws, daemon, request));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`);
  const binary: Buffer[] = [];
  const text: string[] = [];
  let closed: { code: number; reason: string } | undefined;
  client.on('message', (d: Buffer, isBinary: boolean) => (isBinary ? binary.push(d) : text.push(d.toString())));
  client.on('close', (code, reason) => { closed = { code, reason: reason.toString() }; });
  await new Promise((r) => client.once('open', r));
  return { client, binary, text, closed: () => closed, stop: () => new Promise((r) => wss.close(r)) };
}

test('the exec bridge: a TTY exec of /bin/sh sized as asked, bytes both ways, resizes, the exit frame, the hang-up', async () => {
  const daemon = new FakeExecDaemon();
  daemon.exit = 3;
  const b = await bridged(daemon);
  await until(() => daemon.stream, 'the exec started');
  assert.deepEqual(daemon.created, [{ container: 'web', body: { AttachStdin: true, AttachStdout: true, AttachStderr: true, Tty: true, Cmd: ['/bin/sh'], Env: ['TERM=xterm-256color'], ConsoleSize: [24, 80] } }]);
  const typed: Buffer[] = [];
  daemon.toShell.on('data', (c: Buffer) => typed.push(c));
  b.client.send(Buffer.from('echo hi\n'));
  await until(() => Buffer.concat(typed).toString() === 'echo hi\n', 'the keys reached the exec');
  daemon.shell.write('hi\r\n');
  await until(() => Buffer.concat(b.binary).toString() === 'hi\r\n', 'the output reached the page as binary frames');
  b.client.send(JSON.stringify({ type: 'resize', cols: 100, rows: 40 }));
  await until(() => daemon.resizes.length, 'the resize reached the daemon');
  assert.deepEqual(daemon.resizes, [[100, 40]]);
  daemon.shell.end();
  await until(() => b.closed(), 'the socket closed when the process ended');
  assert.deepEqual(b.text, ['{"type":"exit","code":3}']);
  assert.deepEqual(b.closed(), { code: 1000, reason: 'the process ended' });
  await b.stop();

  const hangUp = new FakeExecDaemon();
  const h = await bridged(hangUp, { container: 'web', cols: 80, rows: 24, cmd: 'top' } as never);
  await until(() => hangUp.stream, 'the exec started');
  assert.deepEqual((hangUp.created[0]!.body as { Cmd: string[] }).Cmd, ['/bin/sh', '-c', 'top']);
  h.client.close();
  await until(() => hangUp.stream!.destroyed, 'a closed page ends the exec\'s stream');
  await h.stop();
});

test('the exec bridge: keys and a resize sent as the socket opens, before the exec has started, reach it in order', async () => {
  const daemon = new FakeExecDaemon();
  let started!: () => void;
  const startNow = daemon.start.bind(daemon);
  daemon.start = async () => { await new Promise<void>((r) => { started = r; }); return startNow(); };
  const b = await bridged(daemon);
  b.client.send(JSON.stringify({ type: 'resize', cols: 120, rows: 50 }));
  b.client.send(Buffer.from('ls\n'));
  await until(() => started, 'the start was asked for');
  await new Promise((r) => setTimeout(r, 50));
  const typed: Buffer[] = [];
  daemon.toShell.on('data', (c: Buffer) => typed.push(c));
  started();
  await until(() => Buffer.concat(typed).toString() === 'ls\n' && daemon.resizes.length, 'the early frames reached the exec');
  assert.deepEqual(daemon.resizes, [[120, 50]]);
  b.client.close();
  await b.stop();
});

test('the exec bridge: a daemon error and a malformed control frame end the session with an error frame saying why', async () => {
  const missing = new FakeExecDaemon();
  missing.failCreate = new Error('No such container: nope');
  const m = await bridged(missing);
  await until(() => m.closed(), 'closed');
  assert.deepEqual(m.text, ['{"type":"error","message":"No such container: nope"}']);
  assert.deepEqual(m.closed(), { code: 1011, reason: 'No such container: nope' });
  await m.stop();
  const bad = new FakeExecDaemon();
  const b = await bridged(bad);
  await until(() => bad.stream, 'the exec started');
  b.client.send('{"type":"resize","cols":"wide"}');
  await until(() => b.closed(), 'closed');
  assert.match(b.text[0]!, /"type":"error".*cols and rows must be whole numbers/);
  assert.equal(bad.resizes.length, 0);
  await b.stop();
});

test('the /api proxy: method, path, query and body go to the daemon\'s socket, cookies and Origin do not; answers stream', async () => {
  const dir = tempDir('berth-dash-proxy-');
  const sock = path.join(dir, 'd.sock');
  const seen: { method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }[] = [];
  let streaming: http.ServerResponse | undefined;
  const daemon = http.createServer((r, res) => {
    const chunks: Buffer[] = [];
    r.on('data', (c: Buffer) => chunks.push(c));
    r.on('end', () => {
      seen.push({ method: r.method, url: r.url, headers: r.headers, body: Buffer.concat(chunks).toString() });
      if (r.url === '/events') {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.flushHeaders();
        res.write('{"Type":"container"}\n');
        streaming = res;
        return;
      }
      res.writeHead(r.method === 'POST' ? 204 : 404, { 'Content-Type': 'application/json', 'Set-Cookie': 'x=1', Connection: 'close' });
      res.end(r.method === 'POST' ? undefined : '{"message":"No such container: x"}');
    });
  });
  await new Promise<void>((r) => daemon.listen(sock, r));
  const proxy = new ApiProxy({ socketPath: sock }, `unix://${sock}`);
  const front = http.createServer((r, res) => proxy.forward(r, res));
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;

  const stop = await fetch(`${base}/api/containers/web/stop?t=1`, { method: 'POST', headers: { Cookie: 'berth_dashboard=s', Origin: base, 'Content-Type': 'application/json' }, body: '{}' });
  assert.equal(stop.status, 204);
  assert.deepEqual([seen[0]!.method, seen[0]!.url, seen[0]!.body, seen[0]!.headers['content-type']], ['POST', '/containers/web/stop?t=1', '{}', 'application/json']);
  assert.equal(seen[0]!.headers.cookie, undefined);
  assert.equal(seen[0]!.headers.origin, undefined);
  const missing = await fetch(`${base}/api/containers/x/json`);
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get('content-type'), 'application/json');
  assert.equal(missing.headers.get('set-cookie'), null, 'the daemon sets no cookie in the dashboard\'s name');
  assert.deepEqual(await missing.json(), { message: 'No such container: x' });

  const events = await fetch(`${base}/api/events`);
  const reader = events.body!.getReader();
  assert.equal(new TextDecoder().decode((await reader.read()).value), '{"Type":"container"}\n', 'the first event arrives before the stream ends');
  await reader.cancel();
  await until(() => streaming?.destroyed || streaming?.socket?.destroyed, 'the daemon\'s stream ended when the browser left');

  proxy.close();
  await new Promise((r) => front.close(r));
  daemon.closeAllConnections();
  await new Promise((r) => daemon.close(r));
  const down = new ApiProxy({ socketPath: sock }, `unix://${sock}`);
  const front2 = http.createServer((r, res) => down.forward(r, res));
  await new Promise<void>((r) => front2.listen(0, '127.0.0.1', r));
  const gone = await fetch(`http://127.0.0.1:${(front2.address() as AddressInfo).port}/api/info`);
  assert.equal(gone.status, 502);
  assert.match(await gone.text(), /cannot reach berthd at unix:\/\/.*d\.sock/);
  down.close();
  await new Promise((r) => front2.close(r));
});

test('anywhere but loopback needs TLS, said at start; the TLS flags go together; a bad --addr is named', async () => {
  const start = (o: object) => serveDashboard({ daemonHost: 'unix:///nonexistent.sock', log: () => undefined, ...o });
  for (const addr of ['0.0.0.0:0', '10.0.0.1:0', '[::]:0']) {
    await assert.rejects(start({ addr }), (e: Error) => e instanceof InvalidParameterError && /is not a loopback address: .*root on this host.*needs TLS \(--tls-cert and --tls-key\)/.test(e.message), addr);
  }
  await assert.rejects(start({ addr: '127.0.0.1:0', tlsCert: '/x.pem' }), /--tls-cert and --tls-key go together/);
  await assert.rejects(start({ addr: '0.0.0.0:0', tlsCert: '/nonexistent/c.pem', tlsKey: '/nonexistent/k.pem' }), /--tls-cert \/nonexistent\/c\.pem: ENOENT/);
  await assert.rejects(start({ addr: 'example.com:80' }), /^InvalidParameterError: --addr: invalid address "example\.com:80": host "example\.com" is neither an IP address nor localhost/);
  const running = await start({ addr: 'localhost:0' });
  assert.match(running.url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/);
  await running.close();
});
