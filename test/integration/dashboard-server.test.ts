// `berth dashboard` against a real berthd, driven by plain HTTP and `ws` clients: the token gate and its cookie, Host
// and Origin checks on the API and the terminal, static paths, the /api proxy (a list, a stop, the events stream),
// /berth/stats with a running container's numbers, the terminal (echo, resize, exit), TLS and the rule that
// anywhere but loopback needs it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WebSocket } from 'ws';
import { ROOT, TestDaemon } from '../helpers/daemon';
import { TestDashboard } from '../helpers/dashboard';
import { tempDir } from '../helpers/tmp';
import { until } from '../helpers/wait';
import type { BerthStatsLine } from '../../src/wire/container-stats';

let d: TestDaemon;
let dash: TestDashboard;
let webRoot = '';

before(async () => {
  d = new TestDaemon('dashboard');
  await d.startWithBusybox();
  // A stand-in page in this test's own directory (the real one is the page's build, dist/dashboard), and a file
  // beside assets/ that no request may reach.
  webRoot = tempDir('berth-dash-web-');
  fs.mkdirSync(path.join(webRoot, 'assets'));
  fs.writeFileSync(path.join(webRoot, 'index.html'), '<!doctype html><title>Berth</title><script src="/assets/app.js"></script>');
  fs.writeFileSync(path.join(webRoot, 'assets', 'app.js'), 'console.log("berth")');
  fs.writeFileSync(path.join(webRoot, 'secret.txt'), 'SECRET-OUTSIDE-ASSETS');
  dash = await new TestDashboard(d, ['--web-root', webRoot]).start();
});

after(async () => {
  await dash?.stop();
  await d?.cleanup();
});

const explain = () => `${d.logTail()}\ndashboard's stderr: ${dash.stderr}`;

test('no token, a wrong token or a wrong cookie: 401; the token gives a cookie and a 303 to /; the cookie works', async () => {
  for (const p of ['/', '/api/containers/json', '/assets/app.js', '/api/_ping']) {
    const r = await dash.request(p, { cookie: false });
    assert.equal(r.status, 401, p);
    assert.match(r.body, /open the URL `berth dashboard` printed/);
  }
  const wrong = await dash.request(`/?token=${'0'.repeat(64)}`, { cookie: false });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers['set-cookie'], undefined, 'no cookie for a wrong token');
  const signIn = await dash.signIn();
  assert.equal(signIn.headers.location, '/');
  assert.match(String(signIn.headers['set-cookie']), /^berth_dashboard_[0-9a-f]{8}=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=\/$/);
  const page = await dash.request('/');
  assert.equal(page.status, 200, explain());
  assert.match(page.body, /<title>Berth<\/title>/);
  assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(page.headers['content-security-policy'], "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  assert.equal(page.headers['referrer-policy'], 'no-referrer');
  const script = await dash.request('/assets/app.js');
  assert.equal(script.status, 200);
  assert.equal(script.headers['content-type'], 'text/javascript; charset=utf-8');
  const forged = await dash.request('/api/_ping', { cookie: false, headers: { Cookie: `${dash.cookieName}=${'f'.repeat(64)}` } });
  assert.equal(forged.status, 401);
});

test('a wrong Host, a forged Origin, a write without Origin and cross-site requests are refused with 403', async () => {
  const cases: [string, string, Record<string, string>, string?][] = [
    ['a rebound DNS name', '/api/containers/json', { Host: `attacker.example:${new URL(dash.base).port}` }],
    ['a forged Origin on a read', '/api/containers/json', { Origin: 'http://attacker.example' }],
    ['a forged Origin on a write', '/api/containers/nope/stop', { Origin: 'http://attacker.example' }, 'POST'],
    ['a write without Origin', '/api/containers/nope/stop', {}, 'POST'],
    ['cross-site', '/api/containers/json', { 'Sec-Fetch-Site': 'cross-site' }],
    ['same-site (another port of localhost) on the API', '/api/info', { 'Sec-Fetch-Site': 'same-site' }],
    ['cross-site on the page', '/', { 'Sec-Fetch-Site': 'cross-site' }],
  ];
  for (const [what, p, headers, method] of cases) {
    const r = await dash.request(p, { headers, method });
    assert.equal(r.status, 403, `${what}: ${r.status} ${r.body}`);
    assert.equal(r.headers['cache-control'], 'no-store');
  }
  const own = await dash.request('/api/info', { headers: { Origin: dash.base, 'Sec-Fetch-Site': 'same-origin' } });
  assert.equal(own.status, 200, explain());
});

test('static paths that leave assets/ are refused', async () => {
  for (const p of ['/assets/../secret.txt', '/assets/%2e%2e/secret.txt', '/assets/..%2fsecret.txt', '/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/secret.txt', '/assets/..%5csecret.txt']) {
    const r = await dash.request(p);
    assert.equal(r.status, 404, `${p}: ${r.status}`);
    assert.doesNotMatch(r.body, /SECRET-OUTSIDE-ASSETS|root:/, p);
  }
});

/** Lines of a streamed answer, as they arrive. */
async function* lines(res: AsyncIterable<unknown>): AsyncGenerator<string> {
  let buf = '';
  for await (const c of res) {
    buf += (c as Buffer).toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) { yield buf.slice(0, nl); buf = buf.slice(nl + 1); }
  }
}

test('the /api proxy: the container list, a stop (POST), the events stream as it happens', async () => {
  const id = d.dockerOk(['run', '-d', '--name', 'web', 'busybox', 'sleep', '600']).trim();
  const list = await dash.request('/api/containers/json?all=1');
  assert.equal(list.status, 200, explain());
  assert.equal(list.headers['content-type'], 'application/json');
  assert.equal(list.headers['cache-control'], 'no-store');
  const web = (JSON.parse(list.body) as { Id: string; Names: string[]; State: string }[]).find((c) => c.Id === id);
  assert.deepEqual(web && [web.Names, web.State], [['/web'], 'running']);
  const missing = await dash.request('/api/containers/nope/json');
  assert.equal(missing.status, 404);
  assert.match(JSON.parse(missing.body).message, /No such container: nope/);

  const events = await dash.open('/api/events?filters=%7B%22type%22%3A%5B%22container%22%5D%7D');
  assert.equal(events.statusCode, 200);
  const stream = lines(events);
  const stop = await dash.request('/api/containers/web/stop?t=0', { method: 'POST', headers: { Origin: dash.base } });
  assert.equal(stop.status, 204, `${stop.body}\n${explain()}`);
  assert.equal(d.dockerOk(['inspect', '-f', '{{.State.Status}}', 'web']).trim(), 'exited');
  const seen: string[] = [];
  for await (const line of stream) {
    const e = JSON.parse(line) as { Action: string; Actor: { ID: string } };
    if (e.Actor.ID === id) seen.push(e.Action);
    if (seen.includes('die')) break;
  }
  events.destroy();
  assert.ok(seen.includes('kill') || seen.includes('die'), `the stop's events streamed: ${seen.join(',')}`);
  d.dockerOk(['start', 'web']);
});

test('/api/berth/stats: one line a second with every running container and its numbers; a bad interval is refused', async () => {
  const id = d.dockerOk(['run', '-d', '--name', 'busy', 'busybox', 'sh', '-c', 'while :; do :; done']).trim();
  try {
    const res = await dash.open('/api/berth/stats');
    assert.equal(res.statusCode, 200, explain());
    assert.equal(res.headers['content-type'], 'application/json');
    const got: BerthStatsLine[] = [];
    for await (const line of lines(res)) {
      got.push(JSON.parse(line) as BerthStatsLine);
      const busy = got.at(-1)!.containers.find((c) => c.Id === id);
      if (busy && busy.CPUPercent > 10) break;
      assert.ok(got.length < 15, `the busy container's CPU % shows within 15 lines: ${JSON.stringify(got.at(-1))}`);
    }
    res.destroy();
    const last = got.at(-1)!;
    assert.ok(!Number.isNaN(Date.parse(last.time)));
    const busy = last.containers.find((c) => c.Id === id)!;
    assert.equal(busy.Name, 'busy');
    assert.ok(busy.MemoryUsage > 0 && busy.MemoryLimit >= busy.MemoryUsage && busy.Pids >= 1, JSON.stringify(busy));
    assert.ok(busy.NetRx >= 0 && busy.BlockRead >= 0, JSON.stringify(busy));
    assert.ok(last.containers.some((c) => c.Name === 'web'), 'every running container is in the line');
    // Two pages at once get the very same lines (one sampling per tick for both: the same sampling time).
    const [a, b] = await Promise.all([dash.open('/api/berth/stats'), dash.open('/api/berth/stats')]);
    const times = async (res: typeof a) => { const t: string[] = []; for await (const l of lines(res)) { t.push((JSON.parse(l) as BerthStatsLine).time); if (t.length === 3) break; } res.destroy(); return t; };
    const [ta, tb] = await Promise.all([times(a), times(b)]);
    assert.deepEqual(tb.slice(1), ta.slice(1), 'both clients got the lines of the same ticks');
    const bad = await dash.request('/api/berth/stats?interval=100');
    assert.equal(bad.status, 400);
    assert.match(bad.body, /interval: 100 ms is outside 500\.\.3600000/);
  } finally {
    d.dockerOk(['rm', '-f', id]);
  }
});

/** A terminal session: the bytes it showed, its text frames, how it closed. */
function terminal(o: { path: string; headers?: Record<string, string>; ca?: Buffer; base?: string }) {
  const base = o.base ?? dash.base;
  const ws = new WebSocket(base.replace(/^http/, 'ws') + o.path, { headers: o.headers ?? dash.ownHeaders(), ca: o.ca });
  const s = { ws, shown: '', text: [] as string[], status: 0, closed: undefined as { code: number } | undefined, opened: false };
  ws.on('open', () => { s.opened = true; });
  ws.on('message', (data: Buffer, isBinary: boolean) => { if (isBinary) s.shown += data.toString(); else s.text.push(data.toString()); });
  ws.on('unexpected-response', (_req, res) => { s.status = res.statusCode ?? 0; ws.terminate(); });
  ws.on('error', () => undefined);
  ws.on('close', (code) => { s.closed = { code }; });
  return s;
}

test('the terminal: a shell in the container shows `echo hi`, takes a resize, and says how it exited', async () => {
  const t = terminal({ path: '/ws/exec/web?cols=80&rows=24' });
  await until(() => t.shown.includes('# '), `the shell's prompt (${JSON.stringify(t.shown)} ${t.status} ${explain()})`);
  t.ws.send(Buffer.from('echo hi\n'));
  await until(() => /\r\nhi\r\n/.test(t.shown), `hi shown: ${JSON.stringify(t.shown)}`);
  t.ws.send(Buffer.from('stty size\n'));
  await until(() => /\r\n24 80\r\n/.test(t.shown), `the size asked for: ${JSON.stringify(t.shown)}`);
  t.ws.send(JSON.stringify({ type: 'resize', cols: 100, rows: 40 }));
  await new Promise((r) => setTimeout(r, 300));
  t.ws.send(Buffer.from('stty size\n'));
  await until(() => /\r\n40 100\r\n/.test(t.shown), `the resize reached the exec: ${JSON.stringify(t.shown)}`);
  t.ws.send(Buffer.from('exit 7\n'));
  await until(() => t.closed, 'the socket closed when the shell exited');
  assert.deepEqual(t.text, ['{"type":"exit","code":7}']);
  assert.equal(t.closed!.code, 1000);

  const once = terminal({ path: '/ws/exec/web?cols=80&rows=24&cmd=echo%20hi' });
  await until(() => once.closed, 'a one-command terminal ends');
  assert.match(once.shown, /hi\r\n/);
  assert.deepEqual(once.text, ['{"type":"exit","code":0}']);

  const nope = terminal({ path: '/ws/exec/nope?cols=80&rows=24' });
  await until(() => nope.closed, 'a terminal of a missing container ends');
  assert.match(nope.text[0] ?? '', /"type":"error".*No such container: nope/);
});

test('the terminal refuses a forged Origin, a missing Origin, no cookie and a bad size before upgrading', async () => {
  const cases: [string, Record<string, string>, string, number][] = [
    ['a forged Origin', dash.ownHeaders({ Origin: 'http://attacker.example' }), '/ws/exec/web?cols=80&rows=24', 403],
    ['no Origin', { Cookie: `${dash.cookieName}=${dash.session}` }, '/ws/exec/web?cols=80&rows=24', 403],
    ['cross-site', dash.ownHeaders({ 'Sec-Fetch-Site': 'cross-site' }), '/ws/exec/web?cols=80&rows=24', 403],
    ['no cookie', { Origin: dash.base }, '/ws/exec/web?cols=80&rows=24', 401],
    ['no size', dash.ownHeaders(), '/ws/exec/web', 400],
    ['another path', dash.ownHeaders(), '/ws/other', 404],
  ];
  for (const [what, headers, p, status] of cases) {
    const t = terminal({ path: p, headers });
    await until(() => t.status || t.closed, what);
    assert.equal(t.status, status, what);
    assert.equal(t.opened, false, `${what}: never upgraded`);
  }
});

test('TLS with a self-signed certificate, also on a non-loopback address; without TLS a non-loopback address is refused', async () => {
  const dir = tempDir('berth-dash-tls-');
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert,
    '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  const refused = spawnSync(process.execPath, [path.join(ROOT, 'bin/berth'), 'dashboard', '--addr', '0.0.0.0:0'], { env: d.env, encoding: 'utf8', timeout: 30_000 });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /--addr 0\.0\.0\.0:0 is not a loopback address: .*root on this host.*needs TLS \(--tls-cert and --tls-key\)/);

  const secure = await new TestDashboard(d, ['--addr', '0.0.0.0:0', '--tls-cert', cert, '--tls-key', key, '--web-root', webRoot], fs.readFileSync(cert)).start();
  try {
    assert.match(secure.url, /^https:\/\/0\.0\.0\.0:\d+\/\?token=/);
    // Reached through loopback, one of the names a wildcard address answers to.
    secure.base = `https://127.0.0.1:${new URL(secure.base).port}`;
    const signIn = await secure.signIn();
    assert.match(String(signIn.headers['set-cookie']), /; Secure$/);
    const ping = await secure.request('/api/_ping');
    assert.deepEqual([ping.status, ping.body], [200, 'OK']);
    assert.equal((await secure.request('/', { headers: { Origin: 'http://127.0.0.1:' + new URL(secure.base).port } })).status, 403, 'the http Origin is not the https dashboard\'s');
    const t = terminal({ base: secure.base, path: '/ws/exec/web?cols=80&rows=24&cmd=echo%20hi', headers: secure.ownHeaders(), ca: fs.readFileSync(cert) });
    await until(() => t.closed, `the terminal over wss ends (${t.status})`);
    assert.match(t.shown, /hi\r\n/);
    assert.deepEqual(t.text, ['{"type":"exit","code":0}']);
  } finally {
    await secure.stop();
  }
});
