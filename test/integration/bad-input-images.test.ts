// Bad input to the image API: malformed JSON, wrong types, bad references, unknown names, hostile tars for
// import and load. Each gets a clear 4xx naming the problem, nothing lands outside the store, /_ping still answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { TestDaemon, type ApiResponse } from '../helpers/daemon';
import { makeTar, type TarEntry } from '../unit/image-helpers';
import type { ErrorBody, JSONMessage } from '../helpers/api-types';

const d = new TestDaemon('badin');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-badin-work-'));
/** A directory outside the store that hostile tars aim at: it must stay empty. */
const canaryDir = path.join(work, 'canary');
fs.mkdirSync(canaryDir);

before(() => d.startWithBusybox());
after(async () => {
  await d.cleanup();
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(path.join(os.tmpdir(), `berth-busybox-${process.pid}.tar`), { force: true });
});

/** Raw HTTP with a binary body from a file: { status, body }. */
function post(urlPath: string, file: string, contentType = 'application/x-tar') {
  const r = spawnSync('curl', ['-s', '-o', '-', '-w', '\n%{http_code}', '--unix-socket', d.sock, '-X', 'POST', '-H', `Content-Type: ${contentType}`, '--data-binary', `@${file}`, `http://berth${urlPath}`], { encoding: 'utf8' });
  const i = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(i + 1)), body: r.stdout.slice(0, i) };
}

function assertAlive(what: string) {
  assert.ok(d.ping(), `daemon answers /_ping after ${what}`);
}

/** A 4xx whose JSON message matches `pattern`. */
function assertRefused(res: ApiResponse, status: number, pattern: RegExp, what: string) {
  assert.equal(res.status, status, `${what}: status ${res.status}, body ${res.body}`);
  // Clients older than API 1.24 get the error as plain text, as from dockerd.
  const msg = res.body.startsWith('{') ? (JSON.parse(res.body) as ErrorBody).message : res.body;
  assert.match(msg, pattern, what);
  assertAlive(what);
}

const store = () => path.join(d.dataRoot, 'image');
function storeState() {
  const list = (p: string) => (fs.existsSync(p) ? fs.readdirSync(p).sort() : []);
  return { layers: list(path.join(store(), 'layers')), blobs: list(path.join(store(), 'blobs', 'sha256')), ingest: list(path.join(store(), 'ingest')), tmp: list(path.join(store(), 'tmp')), images: d.dockerOk(['images', '-aq', '--no-trunc']) };
}

test('malformed requests and unknown names get a clear 4xx; the daemon keeps answering', async () => {
  const cases: [string, string, unknown, number, RegExp][] = [
    ['GET', '/images/nosuch/json', undefined, 404, /No such image: nosuch:latest/],
    ['GET', '/images/sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef/json', undefined, 404, /No such image/],
    ['GET', '/images/nosuch/history', undefined, 404, /No such image/],
    ['DELETE', '/images/nosuch', undefined, 404, /No such image/],
    ['DELETE', '/images/UPPER', undefined, 400, /invalid reference format/],
    ['POST', '/images/busybox/tag?repo=Bad%2F%2FName', undefined, 400, /invalid reference format/],
    ['POST', '/images/busybox/tag?repo=ok&tag=bad:tag', undefined, 400, /invalid reference format/],
    ['POST', '/images/busybox/tag?repo=ok&tag=' + 'x'.repeat(200), undefined, 400, /invalid reference format/],
    ['POST', '/images/busybox/tag', undefined, 400, /repository name must have at least one component/],
    ['POST', '/images/nosuch/tag?repo=x', undefined, 404, /No such image/],
    ['GET', '/images/json?filters=%7Bbad', undefined, 400, /invalid filter/],
    ['GET', '/images/json?filters=%5B1%5D', undefined, 400, /invalid filter/],
    ['GET', '/images/json?filters=%7B%22dangling%22%3A%5B%22maybe%22%5D%7D', undefined, 400, /invalid filter 'dangling=maybe'/],
    ['GET', '/images/json?filters=%7B%22nokey%22%3A%5B%22x%22%5D%7D', undefined, 400, /invalid filter 'nokey'/],
    ['GET', '/images/json?filters=%7B%22before%22%3A%5B%22nosuch%22%5D%7D', undefined, 404, /No such image/],
    ['GET', '/images/json?filters=%7B%22until%22%3A%5B%22yesterday%22%5D%7D', undefined, 400, /failed to parse value as time or duration/],
    ['POST', '/images/prune?filters=%7B%22dangling%22%3A%5B%22x%22%5D%7D', undefined, 400, /invalid filter/],
    ['GET', '/images/get?names=nosuch', undefined, 404, /No such image/],
    ['GET', '/images/get?names=BAD', undefined, 400, /invalid reference format/],
    ['GET', '/images/get', undefined, 400, /no images specified/],
    ['POST', '/images/create', undefined, 400, /fromImage or fromSrc is required/],
    ['POST', '/images/create?fromSrc=-&repo=BAD', undefined, 400, /invalid reference format/],
    ['POST', '/images/create?fromSrc=-&repo=ok&changes=BOGUS%20x', undefined, 400, /bogus is not a valid change command/],
    ['POST', '/images/create?fromSrc=-&changes=EXPOSE%20notaport', undefined, 400, /invalid containerPort/],
    ['POST', '/images/create?fromSrc=http%3A%2F%2Fexample.invalid%2Fx.tar', undefined, 400, /not supported/],
    // A registry that does not answer: Docker's 500 with the dial error (Docker Hub is not reachable from every test host).
    ['POST', '/images/create?fromImage=127.0.0.1:1/nosuch', undefined, 500, /Get "http:\/\/127\.0\.0\.1:1\/v2\/": .*ECONNREFUSED/],
    ['POST', '/images/create?fromImage=UPPER', undefined, 400, /invalid reference format/],
    ['POST', '/commit?container=nosuch', '{}', 404, /No such container: nosuch/],
    ['POST', '/commit?container=c1', '{bad json', 400, /invalid JSON/],
    ['GET', '/images/%E0%A4%A/json', undefined, 400, /invalid escape/],
    ['GET', '/v1.99/images/json', undefined, 400, /client version 1.99 is too new/],
    ['GET', '/v1.11/images/json', undefined, 400, /client version 1.11 is too old. Minimum supported API version is 1.12/],
    ['PUT', '/images/json', undefined, 405, /method not allowed/],
  ];
  for (const [method, url, body, status, pattern] of cases) {
    assertRefused(d.api(method, url, body), status, pattern, `${method} ${url}`);
  }
  // A request target Node's HTTP parser takes but no URL parser does: answered, not left hanging.
  const odd = spawnSync('curl', ['-s', '-m', '10', '-o', '-', '-w', '\n%{http_code}', '--unix-socket', d.sock, '--request-target', 'http://[bad/_ping', 'http://berth/'], { encoding: 'utf8' });
  assert.equal(odd.stdout.trim().split('\n').pop(), '400');
  assertAlive('a bad request target');
  // Wrong types in a commit body (the container config): refused or ignored, never a crash.
  d.dockerOk(['create', '--name', 'c1', 'busybox', 'true']);
  for (const body of ['{"Cmd": 5}', '{"Env": "x"}', '[1,2]', '"str"', 'null']) {
    const r = d.api('POST', '/commit?container=c1', body);
    assert.ok(r.status < 500, `commit with ${body}: ${r.status} ${r.body}`);
    assertAlive(`commit with ${body}`);
  }
  d.dockerOk(['rm', 'c1']);
  d.dockerOk(['image', 'prune', '-f']);
  // The CLI reports the daemon's words.
  const r = d.docker(['image', 'inspect', 'nosuch']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /No such image: nosuch/);
  const bad = d.docker(['rmi', 'Upper:tag']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /invalid reference format/);
});

/** Hostile or broken tars; each aims at `canaryDir` or above the store. */
function hostileTars(): [string, TarEntry[] | string | null, RegExp][] {
  const rel = path.relative('/', canaryDir); // "tmp/berth-badin-work-x/canary"
  const up = '../'.repeat(20);
  return [
    ['a ../ entry', [{ name: `${up}${rel}/dotdot`, data: 'x' }], /escapes the target directory/],
    ['an entry climbing out through a/../..', [{ name: 'a/', type: 'directory' }, { name: `a/${up}${rel}/nested`, data: 'x' }], /escapes the target directory/],
    ['an absolute path', [{ name: `${canaryDir}/absolute`, data: 'x' }], /absolute path/],
    ['a symlink pointing outside, then a write through it', [{ name: 'link', type: 'symlink', linkname: `${up}${rel}` }, { name: 'link/through', data: 'x' }], /escapes the target directory/],
    ['a write through an absolute symlink', [{ name: 'abs', type: 'symlink', linkname: canaryDir }, { name: 'abs/through', data: 'x' }], /is a symlink|absolute symlink/],
    ['a hard link pointing outside', [{ name: 'hard', type: 'link', linkname: `${up}etc/passwd` }], /escapes the target directory/],
    ['a hard link to an absolute path', [{ name: 'hard', type: 'link', linkname: '/etc/passwd' }], /absolute path/],
    ['a whiteout of ".."', [{ name: '.wh...', data: '' }], /invalid whiteout name|escapes/],
    ['a truncated tar', null, /invalid tar archive|Unexpected end/],
    ['garbage', 'garbage', /invalid tar archive|neither manifest.json/],
  ];
}

async function tarFile(name: string, entries: TarEntry[] | string | null) {
  const file = path.join(work, `${name.replace(/\W+/g, '-')}.tar`);
  if (entries === null) {
    const full = await makeTar([{ name: 'big', data: crypto.randomBytes(64 << 10) }]);
    fs.writeFileSync(file, full.subarray(0, 10_000));
  } else if (typeof entries === 'string') {
    fs.writeFileSync(file, Buffer.alloc(4096, entries));
  } else {
    fs.writeFileSync(file, await makeTar(entries));
  }
  return file;
}

test('import refuses hostile tars with a clear error, writing nothing outside the store', async () => {
  const before = storeState();
  for (const [what, entries, pattern] of hostileTars()) {
    const file = await tarFile(`import-${what}`, entries);
    const res = post('/images/create?fromSrc=-&repo=hostile&tag=1', file);
    if (what === 'garbage') {
      // Docker takes any byte stream as a tar; garbage is a tar with a bad header.
      assertRefused(res, 400, /invalid tar archive/, `import of ${what}`);
    } else {
      assertRefused(res, 400, pattern, `import of ${what}`);
    }
    assert.deepEqual(fs.readdirSync(canaryDir), [], `nothing written outside by ${what}`);
    // Nothing of it stays in the store either: no image, no layer, no blob, no temporary file.
    assert.deepEqual(storeState(), before, `store unchanged after ${what}`);
  }
  // Through the CLI, the same words.
  const cli = d.docker(['import', await tarFile('cli-dotdot', hostileTars()[0][1]), 'hostile:cli']);
  assert.notEqual(cli.code, 0);
  assert.match(cli.stderr, /refusing to unpack tar entry ".*dotdot": path escapes the target directory/);
  assert.deepEqual(fs.readdirSync(canaryDir), []);
});

/** A docker-archive (Docker 25+ layout) with one image whose only layer is `layerTar`; `mutate` edits its parts. */
/** The parts of a docker-archive before `mutate`: a sound config, the default manifest, no extra entries. */
interface BaseParts {
  config: { architecture: string; os: string; rootfs: { type: string; diff_ids: string[] }; config: { Cmd: string[] } };
  manifest: null;
  extra: TarEntry[];
}

/** The parts after it: anything, hostile ones included. */
interface ArchiveParts {
  config: unknown;
  manifest: unknown;
  extra: TarEntry[];
}

type Mutate = (parts: BaseParts) => ArchiveParts;

async function dockerArchive(layerTar: Buffer, mutate: Mutate = (x) => x) {
  const diffId = 'sha256:' + crypto.createHash('sha256').update(layerTar).digest('hex');
  const parts = mutate({
    config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [diffId] }, config: { Cmd: ['sh'] } },
    manifest: null,
    extra: [],
  });
  const configBytes = Buffer.from(typeof parts.config === 'string' ? parts.config : JSON.stringify(parts.config));
  const configHex = crypto.createHash('sha256').update(configBytes).digest('hex');
  const manifest = parts.manifest ?? [{ Config: `blobs/sha256/${configHex}`, RepoTags: ['loaded:bad'], Layers: [`blobs/sha256/${diffId.slice(7)}`] }];
  return makeTar([
    { name: 'blobs/', type: 'directory', mode: 0o755 },
    { name: 'blobs/sha256/', type: 'directory', mode: 0o755 },
    { name: `blobs/sha256/${configHex}`, data: configBytes },
    { name: `blobs/sha256/${diffId.slice(7)}`, data: layerTar },
    { name: 'manifest.json', data: typeof manifest === 'string' ? manifest : JSON.stringify(manifest) },
    ...parts.extra,
  ]);
}

test('load refuses hostile archives and hostile layers inside good archives; nothing outside is written', async () => {
  const before = storeState();
  const check = (file: string, pattern: RegExp, what: string) => {
    // As dockerd: a 200 whose JSON stream ends in the error (docker-py's images.load() raises ImageLoadError on it).
    const res = post('/images/load?quiet=1', file);
    assert.equal(res.status, 200, `load of ${what}: status ${res.status}, body ${res.body}`);
    const last = JSON.parse(res.body.trim().split('\n').pop() ?? '') as JSONMessage;
    assert.match(last.errorDetail?.message ?? '', pattern, `load of ${what}: ${res.body}`);
    assertAlive(`load of ${what}`);
    assert.deepEqual(fs.readdirSync(canaryDir), [], `nothing written outside by ${what}`);
    assert.deepEqual(storeState(), before, `store unchanged after ${what}`);
  };
  // The archive itself is hostile.
  for (const [what, entries, pattern] of hostileTars()) {
    if (/whiteout/.test(what)) continue; // an archive has no whiteouts
    check(await tarFile(`load-${what}`, entries), pattern, `an archive with ${what}`);
  }
  // A good archive whose layer is hostile.
  for (const [what, entries, pattern] of hostileTars().filter((c): c is [string, TarEntry[], RegExp] => Array.isArray(c[1]))) {
    const file = path.join(work, 'layer-hostile.tar');
    fs.writeFileSync(file, await dockerArchive(await makeTar(entries)));
    check(file, pattern, `a layer with ${what}`);
  }
  // A manifest naming files outside the archive, malformed JSON, fields of the wrong type.
  const layer = await makeTar([{ name: 'f', data: 'x' }]);
  const variants: [string, Mutate, RegExp, ((manifest: string) => string)?][] = [
    ['a manifest path outside the archive', (p) => ({ ...p, manifest: [{ Config: '../../../etc/passwd', Layers: [] }] }), /escapes the target directory/],
    ['a manifest layer through a symlink outside', (p) => ({ ...p, manifest: [{ Config: 'out/passwd', Layers: [] }], extra: [{ name: 'out', type: 'symlink', linkname: '../../../../../../etc' }] }), /escapes the target directory/],
    ['a manifest that is not JSON', (p) => ({ ...p, manifest: '{not json' }), /invalid archive: manifest.json/],
    ['a manifest that is an object', (p) => ({ ...p, manifest: '{}' }), /expected a list/],
    ['Layers of the wrong type', (p) => ({ ...p, manifest: [{ Config: 'blobs/sha256/x', Layers: 'x' }] }), /Layers must be a list/],
    ['RepoTags of the wrong type', (p) => ({ ...p, manifest: [{ Config: 'blobs/sha256/x', RepoTags: [5], Layers: [] }] }), /RepoTags must be a list of strings/],
    ['a bad tag', (p) => p, /invalid reference format/, (m) => m.replace('loaded:bad', 'LOADED:bad')],
    ['a config that is not JSON', (p) => ({ ...p, config: '{oops' }), /invalid archive: .*JSON|Unexpected token|Expected/],
    ['a config without rootfs', (p) => ({ ...p, config: { os: 'linux' } }), /no rootfs/],
    ['diff_ids of the wrong type', (p) => ({ ...p, config: { os: 'linux', rootfs: { type: 'layers', diff_ids: 'x' } } }), /diff_ids must be a list of sha256 digests/],
    ['Env of the wrong type', (p) => ({ ...p, config: { ...p.config, config: { Env: 'A=1' } } }), /config.Env must be a list of strings/],
    ['history of the wrong type', (p) => ({ ...p, config: { ...p.config, history: {} } }), /history must be a list/],
    ['a layer whose diff ID does not match', (p) => ({ ...p, config: { ...p.config, rootfs: { type: 'layers', diff_ids: ['sha256:' + '0'.repeat(64)] } } }), /invalid diffID for layer 0|digest mismatch/],
    ['fewer layers than diff IDs', (p) => ({ ...p, config: { ...p.config, rootfs: { type: 'layers', diff_ids: [p.config.rootfs.diff_ids[0], p.config.rootfs.diff_ids[0]] } } }), /layers length mismatch/],
  ];
  for (const [what, mutate, pattern, post2] of variants) {
    let bytes = await dockerArchive(layer, mutate);
    if (post2) {
      // Rewrite the manifest text in place (same length keeps the tar valid).
      const text = bytes.toString('latin1');
      bytes = Buffer.from(post2(text), 'latin1');
    }
    const file = path.join(work, 'variant.tar');
    fs.writeFileSync(file, bytes);
    check(file, pattern, what);
  }
  // The CLI shows the daemon's message.
  const r = d.docker(['load', '-i', await tarFile('cli-load', hostileTars()[0][1])]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /escapes the target directory/);
  // And a valid archive still loads afterwards.
  const good = path.join(work, 'good.tar');
  fs.writeFileSync(good, await dockerArchive(layer));
  assert.equal(d.dockerOk(['load', '-i', good]), 'Loaded image: loaded:bad\n');
  d.dockerOk(['rmi', 'loaded:bad']);
  assert.deepEqual(storeState(), before);
});
