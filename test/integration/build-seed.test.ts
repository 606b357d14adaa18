// The seed talks' Dockerfiles (examples/) built with the docker CLI v28 (classic builder) and run on a real berthd:
// a static site on busybox httpd, and a Node.js app FROM debian:bookworm-slim, a base image Berth makes from
// Debian's mirror with mmdebstrap (no registry is reachable), with nodejs and npm from Debian's packages and
// express from the npm registry, served with -p and answered on 127.0.0.1. The node test is slow (minutes).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { TestDaemon, ROOT } from '../helpers/daemon';
import { until } from '../helpers/wait';
import { tempDir } from '../helpers/tmp';
import type { ImageInspect } from '../helpers/api-types';

// Bootstrap tarballs are kept across runs and daemons: the mirror is read once, not per test run.
process.env.BERTH_BOOTSTRAP_CACHE = process.env.BERTH_BOOTSTRAP_CACHE || '/var/tmp/berth-bootstrap-cache';
const d = new TestDaemon('build-seed');

function buildOk(args: string[], timeout = 300_000) {
  const r = d.docker(['build', ...args], { timeout });
  if (r.code !== 0) throw new Error(`docker build ${args.join(' ')} exited ${r.code}:\n${r.stdout}${r.stderr}`);
  return r.stdout;
}
const curl = (port: number) => spawnSync('curl', ['-s', '--max-time', '5', `http://127.0.0.1:${port}/`], { encoding: 'utf8' }).stdout;

/** 8080 as in the talk when it is free, else a free port (other tests and daemons share this host). */
async function freePort(preferred: number): Promise<number> {
  const tryPort = (p: number) => new Promise<number | undefined>((resolve) => {
    const s = net.createServer().once('error', () => resolve(undefined)).listen(p, '127.0.0.1', () => s.close(() => resolve((s.address() as net.AddressInfo | null)?.port ?? p)));
  });
  const port = (await tryPort(preferred)) ?? (await tryPort(0));
  if (port === undefined) throw new Error('no free port');
  return port;
}

/**
 * The node app's context: examples/node-app as it is, unless this host reaches the npm registry through a
 * TLS-inspecting proxy whose CA only the host trusts (/usr/local/share/ca-certificates): then a copy with that CA
 * given to npm (NODE_EXTRA_CA_CERTS) after the apt step, the only change to the talk's Dockerfile.
 */
function nodeAppContext() {
  const src = path.join(ROOT, 'examples/node-app');
  const caDir = '/usr/local/share/ca-certificates';
  const cas = fs.existsSync(caDir) ? fs.readdirSync(caDir).filter((n) => n.endsWith('.crt')) : [];
  if (!cas.length) return src;
  const ctx = tempDir('berth-seed-node-');
  fs.cpSync(src, ctx, { recursive: true });
  fs.writeFileSync(path.join(ctx, 'host-ca.crt'), cas.map((n) => fs.readFileSync(path.join(caDir, n), 'utf8')).join('\n'));
  const df = fs.readFileSync(path.join(src, 'Dockerfile'), 'utf8');
  assert.match(df, /^WORKDIR \/app$/m);
  fs.writeFileSync(path.join(ctx, 'Dockerfile'), df.replace(/^WORKDIR \/app$/m,
    'COPY host-ca.crt /usr/local/share/ca-certificates/host-ca.crt\nENV NODE_EXTRA_CA_CERTS=/usr/local/share/ca-certificates/host-ca.crt\nWORKDIR /app'));
  return ctx;
}

before(async () => { await d.startWithBusybox(); });
after(async () => { await d.cleanup(); });

test('the static site on busybox httpd builds, runs with -p and answers', async () => {
  const out = buildOk(['-t', 'seed/static', path.join(ROOT, 'examples/static-site')]);
  assert.match(out, /Successfully tagged seed\/static:latest/);
  const port = await freePort(8081);
  const id = d.dockerOk(['run', '-d', '-p', `${port}:80`, 'seed/static']).trim();
  try {
    const page = await until(() => { const b = curl(port); return b.includes('<h1>') && b; }, 'the static site to answer', 100).catch((err: Error) => {
      // What the container and berthd did, for a failure CI shows only the test output of.
      throw new Error(`${err.message} on 127.0.0.1:${port}\n${d.docker(['ps', '-a']).stdout}\n${d.docker(['logs', id]).stdout}\n${d.logTail()}`);
    });
    assert.match(page, /Hello from a static site on Berth/);
  } finally {
    d.docker(['rm', '-f', id]);
  }
});

test('the Node.js app: debian:bookworm-slim bootstrapped, nodejs and npm from Debian, express from npm, served with -p', { timeout: 1_800_000 }, async () => {
  assert.notEqual(d.docker(['image', 'inspect', 'debian:bookworm-slim']).code, 0, 'not local to begin with');
  const ctx = nodeAppContext();
  const out = buildOk(['-t', 'seed/node', ctx], 1_500_000);
  assert.match(out, /making it from Debian's mirror/);
  assert.match(out, /Bootstrapped debian:bookworm-slim|Using the cached bootstrap/);
  assert.match(out, /Setting up nodejs/);
  assert.match(out, /added \d+ packages?/);
  assert.match(out, /Successfully tagged seed\/node:latest/);

  // The base is an ordinary image now, dated SOURCE_DATE_EPOCH (0); bootstrap on demand finds it made.
  const base = (JSON.parse(d.dockerOk(['image', 'inspect', 'debian:bookworm-slim'])) as ImageInspect[])[0];
  assert.equal(base.Created, '1970-01-01T00:00:00Z');
  assert.deepEqual(base.Config.Cmd, ['bash']);
  const again = d.berth(['image', 'bootstrap', '-q', 'debian:bookworm-slim']);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(again.stdout.trim(), base.Id);
  const bad = d.berth(['image', 'bootstrap', 'alpine:3']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /only Debian's official images/);

  const port = await freePort(8080);
  const id = d.dockerOk(['run', '-d', '-p', `${port}:3000`, 'seed/node']).trim();
  try {
    const body = await until(() => { const b = curl(port); return b.includes('Hello') && b; }, 'the express app to answer', 300);
    assert.match(body, /^Hello from express on Berth \(node v\d+\.\d+\.\d+\)\n$/);
  } finally {
    d.docker(['rm', '-f', id]);
  }
  // A rebuild is all cache.
  const cached = buildOk(['-t', 'seed/node', ctx]);
  assert.doesNotMatch(cached, /Running in/);
  assert.ok(fs.existsSync(process.env.BERTH_BOOTSTRAP_CACHE ?? ''));
});
