// The dashboard in a real browser: Debian's chromium, headless, driven by puppeteer-core against a real berthd and a
// real `berth dashboard`. The token gate, a container started from the CLI appearing at once, its plots, logs and
// terminal, stopping it from the page, Compose projects and swarm services grouped, the other views, and bad input
// (a wrong token, another origin's requests, HTML in a label and a command shown as text). Screenshots of the main
// views go to test-artifacts/dashboard/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { Page } from 'puppeteer-core';
import { ROOT, TestDaemon } from '../helpers/daemon';
import { killSwarmEtcd, swarmPortArgs } from '../helpers/cluster';
import { TestDashboard } from '../helpers/dashboard';
import { TestBrowser } from '../helpers/browser';
import { composeDir, installComposePlugin } from '../helpers/compose';
import { until } from '../helpers/wait';

// Globals of the page, for the functions puppeteer runs in it (the tests compile without the DOM library).
interface PageElement { textContent: string | null; getAttribute(name: string): string | null }
declare const document: { title: string; querySelector(s: string): PageElement | null; querySelectorAll(s: string): Iterable<PageElement> & { length: number } };
declare const location: { hash: string };
declare const window: unknown;

const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'dashboard');
const HTML_LABEL = '<img src=x onerror="window.__pwned=1">';
const HTML_COMMAND = '<script>window.__pwned=2</script>';

/** A plain request to the dashboard, with the headers given (no browser: nothing added). */
function request(url: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => { body += b.toString(); });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the dashboard in chromium', { timeout: 300_000 }, () => {
  let d: TestDaemon;
  let dash: TestDashboard;
  const browser = new TestBrowser();
  let page: Page;
  let evil: http.Server | undefined;
  const explain = () => `${d.logTail()}\nberth dashboard's stderr:\n${dash?.stderr ?? ''}`;
  const state = (name: string) => d.dockerOk(['inspect', '-f', '{{.State.Status}}', name]).trim();
  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
  const go = async (hash: string) => { await page.evaluate((h) => { location.hash = h; }, hash); };
  const attr = (selector: string, name: string) => page.$eval(selector, (el, n) => el.getAttribute(n), name).catch(() => null);

  before(async () => {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    d = new TestDaemon('dashboard', { args: swarmPortArgs() });
    await d.startWithBusybox();
    dash = await new TestDashboard(d).start();
    await browser.start();
    page = await browser.newPage();
  });
  after(async () => {
    evil?.close();
    await browser.stop();
    await dash?.stop();
    killSwarmEtcd(d.dataRoot);
    await d.cleanup();
  });

  test('the token gate: nothing without the token, a wrong token gets no cookie, the right one signs in', async () => {
    for (const p of ['/', '/assets/dashboard.js', '/api/containers/json', '/api/berth/stats']) {
      const r = await request(`${dash.base}${p}`);
      assert.equal(r.status, 401, `${p} without the cookie: ${r.status} ${r.body}`);
    }
    const wrong = await request(`${dash.base}/?token=${'0'.repeat(64)}`);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers['set-cookie'], undefined, 'a wrong token sets no cookie');
    const res = await page.goto(`${dash.base}/?token=nope`);
    assert.equal(res?.status(), 401);
    assert.equal(await page.$('[data-testid=container-count]'), null, 'no page behind a wrong token');
    await page.goto(dash.url);
    assert.equal(new URL(page.url()).search, '', 'the token leaves the address bar');
    await page.waitForSelector('[data-testid=container-count][data-loaded=true]', { timeout: 10_000 });
  });

  test('a container started from the CLI appears within a second; its sparklines draw', async () => {
    d.dockerOk(['volume', 'create', 'dashvol']);
    d.dockerOk(['run', '-d', '--name', 'live1', '--memory', '64m', '-v', 'dashvol:/data', '-p', '127.0.0.1::80', '-l', `note=${HTML_LABEL}`, 'busybox', 'sh', '-c',
      'i=0; while true; do echo "out $i"; echo "err $i" >&2; i=$((i+1)); sleep 0.3; done']);
    const started = Date.now();
    await page.waitForSelector('[data-testid=container-row][data-name=live1][data-state=running]', { timeout: 1000 });
    assert.ok(Date.now() - started <= 1000, `shown after ${Date.now() - started} ms`);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=container-row][data-name=live1] [data-testid=spark-cpu]')?.getAttribute('data-points')) >= 2, { timeout: 10_000 });
    await page.waitForFunction(() => Number(document.querySelector('[data-testid=container-row][data-name=live1] [data-testid=spark-mem]')?.getAttribute('data-points')) >= 2, { timeout: 10_000 });
    const port = await page.$eval('[data-testid=container-row][data-name=live1] .ports a', (a) => a.getAttribute('href'));
    assert.match(port ?? '', /^http:\/\/127\.0\.0\.1:\d+\/$/, 'a published port is a link');
    await shot('containers');
  });

  test('the detail view: plots draw points, the memory limit among them; inspect data shows HTML as text', async () => {
    const id = await attr('[data-testid=container-row][data-name=live1]', 'data-id');
    await go(`#/containers/${id}`);
    for (const plot of ['plot-cpu', 'plot-mem', 'plot-net', 'plot-blk']) {
      // Network and block I/O are rates: a point needs two samples.
      await page.waitForFunction((p) => Number(document.querySelector(`[data-testid=${p}]`)?.getAttribute('data-points')) >= 2, { timeout: 15_000 }, plot);
    }
    assert.match(await page.$eval('[data-testid=plot-mem]', (el) => el.textContent ?? ''), /limit/);
    const inspect = await page.$eval('[data-testid=inspect]', (el) => el.textContent ?? '');
    assert.ok(inspect.includes(HTML_LABEL.replace(/"/g, '\\"')), 'the label is shown as text in the inspect data');
    assert.equal(await page.$('img[src=x]'), null, 'no element was made from the label');
    assert.equal(await page.evaluate(() => (window as { __pwned?: number }).__pwned), undefined);
  });

  test('logs follow, stdout and stderr told apart; search and timestamps', async () => {
    await page.waitForSelector('[data-testid=log-line][data-stream=stderr]', { timeout: 10_000 });
    const count = () => page.$$eval('[data-testid=log-line][data-stream=stdout]', (els) => els.length);
    const first = await count();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=log-line][data-stream=stdout]').length > n + 2, { timeout: 10_000 }, first);
    await page.type('[data-testid=logs-search]', 'err 1');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=log-line]')].every((l) => l.textContent!.includes('err 1')), { timeout: 5000 });
    assert.ok(await page.$$eval('[data-testid=log-line]', (els) => els.length > 0 && els.every((l) => l.getAttribute('data-stream') === 'stderr')));
    await page.click('[data-testid=logs-timestamps]');
    await page.waitForFunction(() => /^\d{4}-\d\d-\d\dT/.test(document.querySelector('[data-testid=log-line] .ts')?.textContent ?? ''), { timeout: 5000 });
    await shot('container-detail');
  });

  test('the terminal runs echo and shows its output; a resize reaches the shell', async () => {
    await page.click('[data-testid=open-terminal]');
    await page.waitForSelector('[data-testid=terminal] .xterm-rows', { timeout: 10_000 });
    const screen = () => page.$eval('[data-testid=terminal] .xterm-rows', (el) => el.textContent ?? '');
    await until(async () => /[#$] ?$/.test((await screen()).trim()) || (await screen()).includes('#'), 'the shell prompt', 100);
    await page.click('[data-testid=terminal]');
    await page.keyboard.type('echo dash-$((6*7))\n');
    await until(async () => (await screen()).includes('dash-42'), `echo's output in the terminal: ${await screen()}`, 100);
    const size = async (tag: string) => {
      await page.keyboard.type(`echo ${tag} $(stty size) ${tag}\n`);
      const text = await until(async () => new RegExp(`${tag} (\\d+) (\\d+) ${tag}`).exec(await screen()), `stty size (${tag})`, 100);
      return `${text[1]}x${text[2]}`;
    };
    const before = await size('S1');
    await page.setViewport({ width: 900, height: 900 });
    await new Promise((r) => setTimeout(r, 500));
    const afterResize = await size('S2');
    assert.notEqual(afterResize, before, 'the shell sees the new size');
    await page.setViewport({ width: 1400, height: 900 });
    await shot('terminal');
  });

  test('another origin is refused: its requests stop nothing and its WebSocket does not open', async () => {
    for (const origin of ['http://evil.example', 'http://127.0.0.1:1']) {
      const r = await request(`${dash.base}/api/containers/live1/stop`, { method: 'POST', headers: { Origin: origin } });
      assert.equal(r.status, 403, `Origin ${origin}: ${r.status}`);
    }
    // Another port of 127.0.0.1 is the same site (its requests carry the SameSite cookie) but not the same origin.
    evil = http.createServer((_req, res) => {
      res.setHeader('Content-Type', 'text/html');
      res.end(`<!doctype html><script>
        fetch(${JSON.stringify(`${dash.base}/api/containers/live1/kill`)}, { method: 'POST', credentials: 'include', mode: 'no-cors' }).catch(() => {});
        const ws = new WebSocket(${JSON.stringify(`${dash.base.replace('http', 'ws')}/ws/exec/live1?cols=80&rows=24&cmd=kill%201`)});
        ws.onopen = () => { document.title = 'opened'; };
        ws.onclose = () => { if (document.title !== 'opened') document.title = 'refused'; };
      </script>`);
    });
    await new Promise<void>((r) => evil!.listen(0, '127.0.0.1', r));
    const other = await browser.newPage();
    await other.goto(`http://127.0.0.1:${(evil.address() as { port: number }).port}/`);
    await other.waitForFunction(() => document.title !== '', { timeout: 10_000 });
    assert.equal(await other.title(), 'refused');
    await other.close();
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(state('live1'), 'running', explain());
  });

  test('stop from the page stops the container', async () => {
    await go('#/containers');
    const row = '[data-testid=container-row][data-name=live1]';
    await page.waitForSelector(`${row} [data-testid=action-stop]`);
    await page.click(`${row} [data-testid=action-stop]`);
    await page.waitForSelector('[data-testid=confirm-ok]');
    await page.click('[data-testid=confirm-ok]');
    await page.waitForSelector(`${row}[data-state=exited]`, { timeout: 30_000 });
    assert.equal(state('live1'), 'exited', explain());
  });

  test('a Compose project and a swarm service each group their containers', async () => {
    const dir = composeDir({ 'compose.yaml': 'services:\n  web:\n    image: busybox\n    command: sleep 3600\n  db:\n    image: busybox\n    command: sleep 3600\n' });
    // The docker CLI's compose plugin: `bin/berth compose` from the CLI bundle fails to create networks on main today
    // (the bundle's DaemonError is not compose's, so a 404 is not seen as one).
    installComposePlugin(d);
    const up = d.docker(['compose', '-f', path.join(dir, 'compose.yaml'), '-p', 'shop', 'up', '-d'], { timeout: 120_000 });
    assert.equal(up.code, 0, `compose up: ${up.stderr}\n${explain()}`);
    d.dockerOk(['swarm', 'init', '--advertise-addr', '127.0.0.1']);
    d.dockerOk(['service', 'create', '--name', 'websvc', '--replicas', '1', '--detach', 'busybox', 'sleep', '3600']);
    d.dockerOk(['run', '-d', '--name', 'htmlcmd', 'busybox', 'sh', '-c', `echo '${HTML_COMMAND}'; sleep 3600`]);
    const order = () => page.$$eval('[data-testid=group], [data-testid=container-row]', (els) => els.map((e) => e.getAttribute('data-testid') === 'group'
      ? `[${e.getAttribute('data-kind')}:${e.getAttribute('data-group')}]` : e.getAttribute('data-name')!));
    const rows = await until(async () => {
      const o = await order();
      return o.includes('[service:websvc]') && o.filter((n) => n.startsWith('shop-')).length === 2 && o;
    }, 'the project and the service in the table', 300);
    const shop = rows.indexOf('[compose:shop]');
    assert.ok(shop >= 0, rows.join(' '));
    assert.deepEqual(rows.slice(shop + 1, shop + 3).sort(), ['shop-db-1', 'shop-web-1'], rows.join(' '));
    const svc = rows.indexOf('[service:websvc]');
    assert.match(rows[svc + 1] ?? '', /^websvc\.1\./, rows.join(' '));
    assert.ok(!rows.slice(svc + 2).some((n) => n.startsWith('websvc.')), rows.join(' '));
    await page.waitForSelector('[data-testid=container-row][data-name=htmlcmd]');
    await page.type('[data-testid=containers-filter]', 'script');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=container-row]').length === 1, { timeout: 5000 });
    assert.equal(await attr('[data-testid=container-row]', 'data-name'), 'htmlcmd', 'filtered on the command');
    await page.click('[data-testid=containers-filter]', { count: 3 });
    await page.keyboard.press('Backspace');
    await page.waitForSelector('[data-testid=group][data-group=shop]');
    await shot('containers-grouped');
    await go('#/containers/htmlcmd');
    await page.waitForFunction((t) => [...document.querySelectorAll('[data-testid=log-line]')].some((l) => l.textContent === t), { timeout: 10_000 }, HTML_COMMAND);
    assert.equal(await page.$('[data-testid=logs] script'), null, 'the output is text, not markup');
    assert.equal(await page.evaluate(() => (window as { __pwned?: number }).__pwned), undefined);
  });

  test('cluster: the node, the service with 1/1 running, its task on the node', async () => {
    await page.waitForSelector('[data-testid=nav-cluster]', { timeout: 10_000 });
    await go('#/cluster');
    await page.waitForSelector('[data-testid=node-row][data-state=ready]', { timeout: 15_000 });
    await page.waitForSelector('[data-testid=service-row][data-name=websvc][data-running="1"][data-desired="1"]', { timeout: 30_000 });
    await page.waitForSelector('[data-testid=node-row] [data-testid=task-row][data-service=websvc][data-state=running]', { timeout: 15_000 });
    await shot('cluster');
  });

  test('images, volumes and networks, with what uses them; the events feed filters', async () => {
    await go('#/images');
    await page.waitForSelector('[data-testid=image-row]', { timeout: 10_000 }).catch(async (err: Error) => {
      throw new Error(`${err.message}; the view shows: ${await page.$eval('main', (el) => el.textContent ?? '').catch(() => '?')}`);
    });
    assert.match(await page.$eval('main', (el) => el.textContent ?? ''), /busybox:latest/);
    await shot('images');
    await go('#/volumes');
    await page.waitForFunction(() => /live1/.test(document.querySelector('[data-testid=volume-row][data-name=dashvol]')?.textContent ?? ''), { timeout: 10_000 });
    await shot('volumes');
    await go('#/networks');
    await page.waitForFunction(() => /shop-web-1/.test(document.querySelector('[data-testid=network-row][data-name=shop_default]')?.textContent ?? ''), { timeout: 10_000 });
    await shot('networks');
    await go('#/events');
    await page.waitForSelector('[data-testid=event-row]', { timeout: 10_000 });
    await page.type('[data-testid=events-filter]', 'container stop live1');
    await page.waitForFunction(() => {
      const rows = [...document.querySelectorAll('[data-testid=event-row]')];
      return rows.length > 0 && rows.every((r) => r.getAttribute('data-type') === 'container' && r.textContent!.includes('live1'));
    }, { timeout: 5000 });
    assert.ok(await page.$('[data-testid=event-row][data-action=stop]'), 'the stop made from the page is in the feed');
    await shot('events');
  });
});
