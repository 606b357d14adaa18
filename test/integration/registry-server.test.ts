// Berth's registry (`berth registry serve`) against the OCI distribution spec v1.1 over real HTTP: blobs, uploads
// (monolithic, chunked, resumed, cancelled, mounted), manifests with content negotiation, tags, catalog, referrers,
// deletion and GC, the spec's errors for bad input (nothing kept, the server keeps serving), a server killed
// mid-upload, htpasswd and token auth, TLS, and S3 storage on s3rver.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import * as crypto from 'node:crypto';
import { execFile, execFileSync } from 'node:child_process';
import { TestRegistry, sha256, selfSignedCert, htpasswd } from '../helpers/registry';
import S3rver from 's3rver';
import { tempDir } from '../helpers/tmp';
import { repoRoot } from '../helpers/paths';
import type { Index } from '../../src/wire/oci';

/** GET /v2/<name>/tags/list. */
interface TagList {
  name: string;
  tags: string[];
}

/** A token endpoint's grant. */
interface TokenGrant {
  token: string;
}

/** GET /v2/_catalog. */
interface Catalog {
  repositories: string[];
}

const reg = new TestRegistry(['--delete']);
before(async () => { await reg.start(); });
after(async () => { await reg.cleanup(); });

const url = (p: string) => `${reg.url}${p}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

/** The spec's error body. */
interface ErrorsBody {
  errors: { code: string; message: string; detail?: unknown }[];
}

async function errorCode(res: Response) {
  const body = await res.json() as ErrorsBody;
  assert.ok(Array.isArray(body.errors) && body.errors.length, `an error body: ${JSON.stringify(body)}`);
  return body.errors[0].code;
}

/** Monolithic upload: POST then PUT ?digest= with the content. */
async function pushBlob(repo: string, data: Buffer | string, base = reg.url, headers: Record<string, string> = {}) {
  const start = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers });
  assert.equal(start.status, 202);
  const loc = new URL(start.headers.get('location')!, base);
  loc.searchParams.set('digest', sha256(data));
  const put = await fetch(loc, { method: 'PUT', body: data, headers: { ...headers, 'Content-Type': 'application/octet-stream' } });
  assert.equal(put.status, 201, await put.text());
  return sha256(data);
}

/** An image manifest (config + layers) whose blobs are pushed first. */
/** How pushImage builds the image: its media type, layers, registry, headers, and extra manifest fields. */
interface PushImageOpts {
  mediaType?: string;
  layers?: Buffer[];
  base?: string;
  headers?: Record<string, string>;
  extra?: Record<string, unknown>;
}

async function pushImage(repo: string, tag: string, { mediaType = DOCKER_MANIFEST, layers = [crypto.randomBytes(64)], base = reg.url, headers = {}, extra = {} }: PushImageOpts = {}) {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: layers.map(sha256) } }));
  const configDigest = await pushBlob(repo, config, base, headers);
  const layerDescs: { mediaType: string; size: number; digest: string }[] = [];
  for (const l of layers) layerDescs.push({ mediaType: mediaType === DOCKER_MANIFEST ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : 'application/vnd.oci.image.layer.v1.tar+gzip', size: l.length, digest: await pushBlob(repo, l, base, headers) });
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType,
    config: { mediaType: mediaType === DOCKER_MANIFEST ? 'application/vnd.docker.container.image.v1+json' : 'application/vnd.oci.image.config.v1+json', size: config.length, digest: configDigest },
    layers: layerDescs, ...extra,
  }));
  const res = await fetch(`${base}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: manifest, headers: { ...headers, 'Content-Type': mediaType } });
  assert.equal(res.status, 201, await res.text());
  assert.equal(res.headers.get('docker-content-digest'), sha256(manifest));
  return { digest: sha256(manifest), manifest, config, configDigest, layerDigests: layerDescs.map((l) => l.digest) };
}

/** Every blob data file under an fs registry root, by digest. */
function storedBlobs(root: string) {
  const dir = path.join(root, 'docker/registry/v2/blobs/sha256');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).flatMap((p) => fs.readdirSync(path.join(dir, p)).filter((h) => fs.existsSync(path.join(dir, p, h, 'data'))).map((h) => `sha256:${h}`));
}

/** A raw HTTP answer: status, headers, body as text. */
interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw HTTP request, path sent as given (fetch would normalize "..").*/
function raw(method: string, p: string, { headers = {}, body }: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const u = new URL(reg.url);
    const req = http.request({ host: u.hostname, port: u.port, method, path: p, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('/v2/ answers with the API version header; unknown paths get 404', async () => {
  const res = await fetch(url('/v2/'));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
  assert.equal((await fetch(url('/nothing'))).status, 404);
});

test('blobs: monolithic uploads (POST+PUT and POST ?digest=), HEAD, GET and ranged GET', async () => {
  const data = Buffer.from('0123456789abcdefghij');
  const digest = await pushBlob('mono/a', data);
  const head = await fetch(url(`/v2/mono/a/blobs/${digest}`), { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(data.length));
  assert.equal(head.headers.get('docker-content-digest'), digest);
  assert.equal(await (await fetch(url(`/v2/mono/a/blobs/${digest}`))).text(), data.toString());
  const part = await fetch(url(`/v2/mono/a/blobs/${digest}`), { headers: { Range: 'bytes=5-9' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 5-9/${data.length}`);
  assert.equal(await part.text(), '56789');
  const tail = await fetch(url(`/v2/mono/a/blobs/${digest}`), { headers: { Range: 'bytes=15-' } });
  assert.equal(await tail.text(), 'fghij');
  assert.equal((await fetch(url(`/v2/mono/a/blobs/${digest}`), { headers: { Range: 'bytes=50-60' } })).status, 416);
  // Single-request monolithic upload.
  const other = Buffer.from('single request');
  const one = await fetch(url(`/v2/mono/a/blobs/uploads/?digest=${sha256(other)}`), { method: 'POST', body: other, headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(one.status, 201);
  assert.equal(one.headers.get('location'), `/v2/mono/a/blobs/${sha256(other)}`);
  // A blob of another repository is not visible here.
  const missing = await fetch(url(`/v2/mono/b/blobs/${digest}`));
  assert.equal(missing.status, 404);
  assert.equal(await errorCode(missing), 'BLOB_UNKNOWN');
});

test('blobs: chunked upload with Content-Range, status for resuming, out-of-order chunk refused, then completed', async () => {
  const data = crypto.randomBytes(3000);
  const start = await fetch(url('/v2/chunked/x/blobs/uploads/'), { method: 'POST' });
  assert.equal(start.status, 202);
  let loc = new URL(start.headers.get('location')!, reg.url);
  assert.match(start.headers.get('docker-upload-uuid') ?? '', /^[0-9a-f-]{36}$/);
  const p1 = await fetch(loc, { method: 'PATCH', body: data.subarray(0, 1000), headers: { 'Content-Range': '0-999', 'Content-Type': 'application/octet-stream' } });
  assert.equal(p1.status, 202);
  assert.equal(p1.headers.get('range'), '0-999');
  loc = new URL(p1.headers.get('location')!, reg.url);
  // The upload's status says where to resume.
  const status = await fetch(loc);
  assert.equal(status.status, 204);
  assert.equal(status.headers.get('range'), '0-999');
  const wrong = await fetch(loc, { method: 'PATCH', body: data.subarray(2000), headers: { 'Content-Range': '2000-2999', 'Content-Type': 'application/octet-stream' } });
  assert.equal(wrong.status, 416);
  const p2 = await fetch(loc, { method: 'PATCH', body: data.subarray(1000, 2000), headers: { 'Content-Range': '1000-1999', 'Content-Type': 'application/octet-stream' } });
  assert.equal(p2.status, 202);
  assert.equal(p2.headers.get('range'), '0-1999');
  // The closing PUT carries the last chunk.
  const done = new URL(p2.headers.get('location')!, reg.url);
  done.searchParams.set('digest', sha256(data));
  const put = await fetch(done, { method: 'PUT', body: data.subarray(2000), headers: { 'Content-Range': '2000-2999', 'Content-Type': 'application/octet-stream' } });
  assert.equal(put.status, 201);
  assert.deepEqual(Buffer.from(await (await fetch(url(`/v2/chunked/x/blobs/${sha256(data)}`))).arrayBuffer()), data);
  // The upload is gone once complete.
  assert.equal((await fetch(loc)).status, 404);
});

test('blobs: an upload can be cancelled; a wrong digest is DIGEST_INVALID and nothing is kept', async () => {
  const start = await fetch(url('/v2/cancel/me/blobs/uploads/'), { method: 'POST' });
  const loc = new URL(start.headers.get('location')!, reg.url);
  await fetch(loc, { method: 'PATCH', body: 'some bytes', headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal((await fetch(loc, { method: 'DELETE' })).status, 204);
  const gone = await fetch(loc);
  assert.equal(gone.status, 404);
  assert.equal(await errorCode(gone), 'BLOB_UPLOAD_UNKNOWN');

  const before = storedBlobs(reg.root);
  const data = Buffer.from('the content');
  const s2 = await fetch(url('/v2/bad/digest/blobs/uploads/'), { method: 'POST' });
  const l2 = new URL(s2.headers.get('location')!, reg.url);
  l2.searchParams.set('digest', sha256('something else'));
  const put = await fetch(l2, { method: 'PUT', body: data, headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(put.status, 400);
  assert.equal(await errorCode(put), 'DIGEST_INVALID');
  assert.deepEqual(storedBlobs(reg.root), before);
  assert.equal((await fetch(url(`/v2/bad/digest/blobs/${sha256(data)}`), { method: 'HEAD' })).status, 404);
  assert.equal((await fetch(url(`/v2/bad/digest/blobs/${sha256('something else')}`), { method: 'HEAD' })).status, 404);
  // The failed upload is discarded, not left to resume into the same mistake.
  assert.equal((await fetch(l2)).status, 404);
  // A malformed digest is refused the same way.
  const s3 = await fetch(url('/v2/bad/digest/blobs/uploads/'), { method: 'POST' });
  const l3 = new URL(s3.headers.get('location')!, reg.url);
  l3.searchParams.set('digest', 'sha256:xyz');
  const bad = await fetch(l3, { method: 'PUT', body: data });
  assert.equal(bad.status, 400);
  assert.equal(await errorCode(bad), 'DIGEST_INVALID');
});

test('blobs: a truncated upload keeps nothing of the chunk and the upload resumes from its last good offset', async () => {
  const start = await fetch(url('/v2/trunc/x/blobs/uploads/'), { method: 'POST' });
  const loc = new URL(start.headers.get('location')!, reg.url);
  const first = crypto.randomBytes(100);
  await fetch(loc, { method: 'PATCH', body: first, headers: { 'Content-Type': 'application/octet-stream' } });
  // A client that promises 1000 bytes, sends 300 and hangs up.
  await new Promise((resolve) => {
    const sock = net.connect(Number(loc.port), loc.hostname, () => {
      sock.write(`PATCH ${loc.pathname}${loc.search} HTTP/1.1\r\nHost: ${loc.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000\r\n\r\n`);
      sock.write(crypto.randomBytes(300));
      setTimeout(() => { sock.destroy(); resolve(undefined); }, 300);
    });
    sock.on('error', () => resolve(undefined));
  });
  await new Promise((r) => setTimeout(r, 300));
  const status = await fetch(loc);
  assert.equal(status.status, 204);
  assert.equal(status.headers.get('range'), '0-99');
  const rest = crypto.randomBytes(50);
  const done = new URL(loc);
  done.searchParams.set('digest', sha256(Buffer.concat([first, rest])));
  const put = await fetch(done, { method: 'PUT', body: rest, headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(put.status, 201);
  // A PATCH whose Content-Length disagrees with its Content-Range is SIZE_INVALID.
  const s2 = await fetch(url('/v2/trunc/x/blobs/uploads/'), { method: 'POST' });
  const l2 = new URL(s2.headers.get('location')!, reg.url);
  const mismatch = await fetch(l2, { method: 'PATCH', body: 'abc', headers: { 'Content-Range': '0-9', 'Content-Type': 'application/octet-stream' } });
  assert.equal(mismatch.status, 400);
  assert.equal(await errorCode(mismatch), 'SIZE_INVALID');
  assert.equal((await fetch(url('/v2/'))).status, 200);
});

test('blobs: cross-repository mount (201), and an ordinary upload when the source lacks the blob (202)', async () => {
  const data = Buffer.from('shared layer');
  const digest = await pushBlob('mount/src', data);
  const m = await fetch(url(`/v2/mount/dst/blobs/uploads/?mount=${digest}&from=mount/src`), { method: 'POST' });
  assert.equal(m.status, 201);
  assert.equal(m.headers.get('location'), `/v2/mount/dst/blobs/${digest}`);
  assert.equal((await fetch(url(`/v2/mount/dst/blobs/${digest}`), { method: 'HEAD' })).status, 200);
  const none = await fetch(url(`/v2/mount/dst2/blobs/uploads/?mount=${sha256('absent')}&from=mount/src`), { method: 'POST' });
  assert.equal(none.status, 202);
  assert.ok(none.headers.get('location')?.startsWith('/v2/mount/dst2/blobs/uploads/'));
});

test('manifests: PUT and GET by tag and digest, HEAD, content negotiation over the four media types', async () => {
  const docker = await pushImage('man/docker', 'v1');
  const got = await fetch(url('/v2/man/docker/manifests/v1'), { headers: { Accept: `${DOCKER_MANIFEST}, ${OCI_MANIFEST}` } });
  assert.equal(got.status, 200);
  assert.equal(got.headers.get('content-type'), DOCKER_MANIFEST);
  assert.equal(got.headers.get('docker-content-digest'), docker.digest);
  assert.deepEqual(Buffer.from(await got.arrayBuffer()), docker.manifest);
  const head = await fetch(url(`/v2/man/docker/manifests/${docker.digest}`), { method: 'HEAD', headers: { Accept: DOCKER_MANIFEST } });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), String(docker.manifest.length));
  // A client that accepts only OCI types is not handed a Docker manifest.
  const ociOnly = await fetch(url('/v2/man/docker/manifests/v1'), { headers: { Accept: OCI_MANIFEST } });
  assert.equal(ociOnly.status, 404);
  assert.equal(await errorCode(ociOnly), 'MANIFEST_UNKNOWN');

  const oci = await pushImage('man/oci', 'v1', { mediaType: OCI_MANIFEST });
  assert.equal((await fetch(url('/v2/man/oci/manifests/v1'), { headers: { Accept: OCI_MANIFEST } })).headers.get('content-type'), OCI_MANIFEST);
  for (const [type, repo] of [[OCI_INDEX, 'man/oci'], [DOCKER_LIST, 'man/oci']]) {
    const index = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: type,
      manifests: [{ mediaType: OCI_MANIFEST, size: oci.manifest.length, digest: oci.digest, platform: { architecture: 'amd64', os: 'linux' } }],
    }));
    const tag = type === OCI_INDEX ? 'index' : 'list';
    const put = await fetch(url(`/v2/${repo}/manifests/${tag}`), { method: 'PUT', body: index, headers: { 'Content-Type': type } });
    assert.equal(put.status, 201, await put.text());
    const back = await fetch(url(`/v2/${repo}/manifests/${tag}`), { headers: { Accept: type } });
    assert.equal(back.headers.get('content-type'), type);
    assert.equal(back.headers.get('docker-content-digest'), sha256(index));
  }
  const unknown = await fetch(url('/v2/man/oci/manifests/nope'));
  assert.equal(unknown.status, 404);
  assert.equal(await errorCode(unknown), 'MANIFEST_UNKNOWN');
});

test('manifests: a missing blob, an unknown media type, bad JSON and a mismatched digest are refused, nothing kept', async () => {
  const missing = sha256('never pushed');
  const cfg = await pushBlob('bad/man', Buffer.from('{}'));
  const body = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: DOCKER_MANIFEST,
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 2, digest: cfg },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 12, digest: missing }],
  }));
  const res = await fetch(url('/v2/bad/man/manifests/t1'), { method: 'PUT', body, headers: { 'Content-Type': DOCKER_MANIFEST } });
  assert.equal(res.status, 400);
  assert.equal(await errorCode(res), 'MANIFEST_BLOB_UNKNOWN');
  assert.equal((await fetch(url(`/v2/bad/man/manifests/${sha256(body)}`))).status, 404);
  assert.ok(!storedBlobs(reg.root).includes(sha256(body)));

  const weird = await fetch(url('/v2/bad/man/manifests/t2'), { method: 'PUT', body: Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/x-unknown' })), headers: { 'Content-Type': 'application/x-unknown' } });
  assert.equal(weird.status, 400);
  assert.equal(await errorCode(weird), 'MANIFEST_INVALID');
  const notJson = await fetch(url('/v2/bad/man/manifests/t3'), { method: 'PUT', body: '{not json', headers: { 'Content-Type': DOCKER_MANIFEST } });
  assert.equal(notJson.status, 400);
  assert.equal(await errorCode(notJson), 'MANIFEST_INVALID');
  const good = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] }));
  const byWrongDigest = await fetch(url(`/v2/bad/man/manifests/${sha256('other')}`), { method: 'PUT', body: good, headers: { 'Content-Type': OCI_INDEX } });
  assert.equal(byWrongDigest.status, 400);
  assert.equal(await errorCode(byWrongDigest), 'DIGEST_INVALID');
  const tags = await fetch(url('/v2/bad/man/tags/list'));
  if (tags.status === 200) assert.deepEqual((await tags.json() as TagList).tags, []);
  else assert.equal(await errorCode(tags), 'NAME_UNKNOWN');
  assert.equal((await fetch(url('/v2/'))).status, 200);
});

test('names: a repository with "..", upper case or an empty component is NAME_INVALID and nothing is made', async () => {
  for (const p of ['/v2/a/../b/blobs/uploads/', '/v2/../../etc/blobs/uploads/', '/v2/a/%2e%2e/b/blobs/uploads/', '/v2/Upper/x/blobs/uploads/', '/v2/a//b/blobs/uploads/']) {
    const r = await raw('POST', p);
    assert.equal(r.status, 400, `${p}: ${r.body}`);
    assert.equal((JSON.parse(r.body) as ErrorsBody).errors[0].code, 'NAME_INVALID', p);
  }
  const r = await raw('GET', '/v2/a/../../manifests/latest');
  assert.equal(r.status, 400);
  const repos = fs.readdirSync(path.join(reg.root, 'docker/registry/v2/repositories'));
  assert.ok(!repos.includes('..') && !repos.includes('Upper') && !repos.includes('etc'), repos.join(','));
  assert.ok(!fs.existsSync(path.join(reg.root, 'docker/registry/v2/etc')));
  assert.equal((await fetch(url('/v2/'))).status, 200);
});

test('a malformed percent-escape in a digest or tag is a 400 naming it, not a server error', async () => {
  for (const [p, code] of [['/v2/esc/manifests/%E0', 'MANIFEST_INVALID'], ['/v2/esc/blobs/%', 'DIGEST_INVALID'], ['/v2/esc/referrers/%zz', 'DIGEST_INVALID']]) {
    const r = await raw('GET', p);
    assert.equal(r.status, 400, `${p}: ${r.body}`);
    const err = (JSON.parse(r.body) as ErrorsBody).errors[0];
    assert.equal(err.code, code, p);
    assert.match(err.message, /malformed percent-encoding/, p);
  }
});

test('tags list and catalog paginate with n/last and a Link header', async () => {
  for (const t of ['t3', 't1', 't5', 't2', 't4']) await pushImage('page/me', t, { layers: [] });
  const all = await (await fetch(url('/v2/page/me/tags/list'))).json();
  assert.deepEqual(all, { name: 'page/me', tags: ['t1', 't2', 't3', 't4', 't5'] });
  const p1 = await fetch(url('/v2/page/me/tags/list?n=2'));
  assert.deepEqual((await p1.json() as TagList).tags, ['t1', 't2']);
  const link = p1.headers.get('link') ?? '';
  assert.match(link, /^<\/v2\/page\/me\/tags\/list\?n=2&last=t2>; rel="next"$/);
  const p2 = await (await fetch(url(link.slice(1, link.indexOf('>'))))).json() as TagList;
  assert.deepEqual(p2.tags, ['t3', 't4']);
  assert.deepEqual((await (await fetch(url('/v2/page/me/tags/list?n=2&last=t4'))).json() as TagList).tags, ['t5']);
  const unknown = await fetch(url('/v2/no/such/tags/list'));
  assert.equal(unknown.status, 404);
  assert.equal(await errorCode(unknown), 'NAME_UNKNOWN');
  const cat = await (await fetch(url('/v2/_catalog'))).json() as Catalog;
  assert.ok(cat.repositories.includes('page/me') && cat.repositories.includes('man/docker'), JSON.stringify(cat));
  const c1 = await fetch(url('/v2/_catalog?n=1'));
  assert.equal((await c1.json() as Catalog).repositories.length, 1);
  assert.match(c1.headers.get('link') ?? '', /rel="next"/);
});

test('referrers: a manifest with a subject is listed (with OCI-Subject), filtered by artifactType', async () => {
  const subject = await pushImage('ref/img', 'v1', { mediaType: OCI_MANIFEST });
  const empty = Buffer.from('{}');
  const emptyDigest = await pushBlob('ref/img', empty);
  const sig = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: OCI_MANIFEST, artifactType: 'application/vnd.example.signature',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', size: 2, digest: emptyDigest }, layers: [],
    subject: { mediaType: OCI_MANIFEST, size: subject.manifest.length, digest: subject.digest },
    annotations: { who: 'test' },
  }));
  const put = await fetch(url(`/v2/ref/img/manifests/${sha256(sig)}`), { method: 'PUT', body: sig, headers: { 'Content-Type': OCI_MANIFEST } });
  assert.equal(put.status, 201);
  assert.equal(put.headers.get('oci-subject'), subject.digest);
  const list = await fetch(url(`/v2/ref/img/referrers/${subject.digest}`));
  assert.equal(list.status, 200);
  assert.equal(list.headers.get('content-type'), OCI_INDEX);
  const idx = await list.json() as Index;
  assert.equal(idx.manifests.length, 1);
  assert.equal(idx.manifests[0].digest, sha256(sig));
  assert.equal(idx.manifests[0].artifactType, 'application/vnd.example.signature');
  assert.deepEqual(idx.manifests[0].annotations, { who: 'test' });
  const filtered = await fetch(url(`/v2/ref/img/referrers/${subject.digest}?artifactType=application/other`));
  assert.equal(filtered.headers.get('oci-filters-applied'), 'artifactType');
  assert.deepEqual((await filtered.json() as Index).manifests, []);
  assert.deepEqual((await (await fetch(url(`/v2/ref/img/referrers/${sha256('nothing')}`))).json() as Index).manifests, []);
});

test('deletion (enabled by --delete) and garbage collection: unreferenced blobs go, shared ones stay', async () => {
  const shared = crypto.randomBytes(256);
  const a = await pushImage('gc/a', 'v1', { layers: [shared, crypto.randomBytes(256)] });
  const b = await pushImage('gc/b', 'v1', { layers: [shared] });
  assert.equal((await fetch(url('/v2/gc/a/manifests/v1'), { method: 'DELETE' })).status, 202);
  assert.equal((await fetch(url('/v2/gc/a/manifests/v1'))).status, 404);
  const del = await fetch(url(`/v2/gc/a/manifests/${a.digest}`), { method: 'DELETE' });
  assert.equal(del.status, 202);
  await reg.stop();
  const out = execFileSync(path.join(repoRoot, 'bin/berth'), ['registry', 'gc', '--root', reg.root], { encoding: 'utf8' });
  assert.match(out, /blobs marked/);
  await reg.start();
  const blobs = storedBlobs(reg.root);
  assert.ok(!blobs.includes(a.layerDigests[1]), 'the layer only a deleted manifest used is gone');
  assert.ok(!blobs.includes(a.digest), 'the deleted manifest is gone');
  assert.ok(blobs.includes(sha256(shared)) && blobs.includes(b.configDigest) && blobs.includes(b.digest), 'what gc/b uses stays');
  assert.equal((await fetch(url(`/v2/gc/b/blobs/${sha256(shared)}`))).status, 200);
  assert.equal((await fetch(url('/v2/gc/b/manifests/v1'))).status, 200);
});

test('a server killed mid-upload exposes no torn blob; after a restart the upload resumes or starts over', async () => {
  const data = crypto.randomBytes(8 * 1024 * 1024);
  const start = await fetch(url('/v2/kill/me/blobs/uploads/'), { method: 'POST' });
  const loc = new URL(start.headers.get('location')!, reg.url);
  const first = data.subarray(0, 1024 * 1024);
  await fetch(loc, { method: 'PATCH', body: first, headers: { 'Content-Type': 'application/octet-stream' } });
  // The second chunk is streamed slowly; the server is killed while it arrives.
  const sock = net.connect(Number(loc.port), loc.hostname);
  sock.on('error', () => undefined);
  await new Promise((r) => sock.once('connect', r));
  sock.write(`PATCH ${loc.pathname} HTTP/1.1\r\nHost: ${loc.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${data.length - first.length}\r\n\r\n`);
  sock.write(data.subarray(first.length, first.length + 2 * 1024 * 1024));
  await new Promise((r) => setTimeout(r, 500));
  await reg.kill9();
  sock.destroy();
  assert.ok(!storedBlobs(reg.root).includes(sha256(data)));
  await reg.start();
  assert.equal((await fetch(url(`/v2/kill/me/blobs/${sha256(data)}`), { method: 'HEAD' })).status, 404);
  const status = await fetch(loc);
  assert.equal(status.status, 204);
  const range = status.headers.get('range') ?? '';
  const have = Number(range.split('-')[1]) + 1;
  assert.equal(have, first.length, `the interrupted chunk is not counted (${range})`);
  const put = new URL(loc);
  put.searchParams.set('digest', sha256(data));
  const done = await fetch(put, { method: 'PUT', body: data.subarray(have), headers: { 'Content-Type': 'application/octet-stream' } });
  assert.equal(done.status, 201);
  assert.deepEqual(Buffer.from(await (await fetch(url(`/v2/kill/me/blobs/${sha256(data)}`))).arrayBuffer()), data);
});

test('htpasswd basic auth: challenge, wrong password refused, the right one lets through', async () => {
  const dir = tempDir('berth-reg-basic-');
  const r = new TestRegistry(['--htpasswd', htpasswd(path.join(dir, 'htpasswd'), 'alice', 'wonderland')]);
  await r.start();
  try {
    const anon = await fetch(`${r.url}/v2/`);
    assert.equal(anon.status, 401);
    assert.match(anon.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    const basic = (u: string, p: string) => ({ Authorization: `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}` });
    const bad = await fetch(`${r.url}/v2/`, { headers: basic('alice', 'nope') });
    assert.equal(bad.status, 401);
    assert.equal(await errorCode(bad), 'UNAUTHORIZED');
    assert.equal((await fetch(`${r.url}/v2/`, { headers: basic('alice', 'wonderland') })).status, 200);
    await pushBlob('auth/x', Buffer.from('with basic auth'), r.url, basic('alice', 'wonderland'));
    assert.equal((await fetch(`${r.url}/v2/auth/x/blobs/${sha256('with basic auth')}`)).status, 401);
  } finally {
    await r.cleanup();
  }
});

test('bearer tokens: challenge with scope, tokens per repository and action, bad and foreign tokens refused', async () => {
  const dir = tempDir('berth-reg-token-');
  const acl = path.join(dir, 'acl.json');
  fs.writeFileSync(acl, JSON.stringify([{ account: 'bob', name: 'bob/*', actions: ['*'] }, { account: 'anonymous', name: 'public/*', actions: ['pull'] }]));
  const r = new TestRegistry(['--htpasswd', htpasswd(path.join(dir, 'htpasswd'), 'bob', 'builder'), '--token-key', path.join(dir, 'key.pem'), '--acl', acl]);
  await r.start();
  try {
    const ch = await fetch(`${r.url}/v2/bob/app/manifests/latest`);
    assert.equal(ch.status, 401);
    const challenge = ch.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer realm="[^"]+\/token",service="berth-registry",scope="repository:bob\/app:pull"$/);
    const basic: Record<string, string> = { Authorization: `Basic ${Buffer.from('bob:builder').toString('base64')}` };
    const tokenFor = async (scope: string, headers = basic) => {
      const res = await fetch(`${r.url}/token?service=berth-registry&scope=${encodeURIComponent(scope)}`, { headers });
      const body: TokenGrant | string = res.status === 200 ? await res.json() as TokenGrant : await res.text();
      return { status: res.status, body };
    };
    assert.equal((await tokenFor('repository:bob/app:pull', { Authorization: `Basic ${Buffer.from('bob:wrong').toString('base64')}` })).status, 401);
    const t = await tokenFor('repository:bob/app:pull,push');
    assert.equal(t.status, 200);
    const bearer = { Authorization: `Bearer ${(t.body as TokenGrant).token}` };
    await pushBlob('bob/app', Buffer.from('token pushed'), r.url, bearer);
    // The token is for bob/app only.
    const other = await fetch(`${r.url}/v2/bob/other/blobs/uploads/`, { method: 'POST', headers: bearer });
    assert.equal(other.status, 401);
    assert.match(other.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
    // Outside the policy, the token endpoint grants nothing.
    const denied = await tokenFor('repository:alice/x:push');
    assert.equal(denied.status, 200);
    const useDenied = await fetch(`${r.url}/v2/alice/x/blobs/uploads/`, { method: 'POST', headers: { Authorization: `Bearer ${(denied.body as TokenGrant).token}` } });
    assert.equal(useDenied.status, 401);
    for (const bad of ['garbage', (t.body as TokenGrant).token.slice(0, -4) + 'AAAA', Buffer.from('{"alg":"none"}').toString('base64url') + '.e30.']) {
      const res = await fetch(`${r.url}/v2/bob/app/blobs/${sha256('token pushed')}`, { headers: { Authorization: `Bearer ${bad}` } });
      assert.equal(res.status, 401);
      assert.equal(await errorCode(res), 'UNAUTHORIZED');
      assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    }
    assert.equal((await fetch(`${r.url}/v2/bob/app/blobs/${sha256('token pushed')}`, { headers: bearer })).status, 200);
    // Anonymous pulls of public/* get a token (no credentials), pushes do not.
    const anon = await tokenFor('repository:public/x:pull,push', {});
    assert.deepEqual(anon.body && (JSON.parse(Buffer.from((anon.body as TokenGrant).token.split('.')[1], 'base64url').toString()) as { access: unknown }).access, [{ type: 'repository', name: 'public/x', actions: ['pull'] }]);
  } finally {
    await r.cleanup();
  }
});

test('TLS from a certificate and key', async () => {
  const dir = tempDir('berth-reg-tls-');
  const { cert, key } = selfSignedCert(dir);
  const r = new TestRegistry(['--tls-cert', cert, '--tls-key', key]);
  await r.start();
  try {
    assert.ok(r.url.startsWith('https://'));
    const get = (ca: Buffer | undefined) => new Promise<http.IncomingMessage>((resolve, reject) => {
      https.get(`${r.url}/v2/`, { ca }, (res) => { res.resume(); resolve(res); }).on('error', reject);
    });
    const res = await get(fs.readFileSync(cert));
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['docker-distribution-api-version'], 'registry/2.0');
    await assert.rejects(get(undefined), /self.signed|unable to verify|certificate/i);
  } finally {
    await r.cleanup();
  }
});

test('S3 storage on s3rver: uploads, manifests, a wrong digest keeps nothing', async () => {
  const s3dir = tempDir('berth-s3rver-');
  const s3 = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: s3dir, configureBuckets: [{ name: 'registry' }] });
  const addr = await s3.run();
  const s3flags = ['--storage', 's3', '--s3-endpoint', `http://127.0.0.1:${addr.port}`, '--s3-bucket', 'registry', '--s3-access-key', 'S3RVER', '--s3-secret-key', 'S3RVER'];
  const r = new TestRegistry([...s3flags, '--delete']);
  await r.start();
  try {
    const big = crypto.randomBytes(6 * 1024 * 1024);
    const start = await fetch(`${r.url}/v2/s3/img/blobs/uploads/`, { method: 'POST' });
    const loc = new URL(start.headers.get('location')!, r.url);
    const p1 = await fetch(loc, { method: 'PATCH', body: big.subarray(0, 5 * 1024 * 1024), headers: { 'Content-Type': 'application/octet-stream' } });
    assert.equal(p1.status, 202);
    const done = new URL(p1.headers.get('location')!, r.url);
    done.searchParams.set('digest', sha256(big));
    assert.equal((await fetch(done, { method: 'PUT', body: big.subarray(5 * 1024 * 1024) })).status, 201);
    const back = Buffer.from(await (await fetch(`${r.url}/v2/s3/img/blobs/${sha256(big)}`)).arrayBuffer());
    assert.ok(back.equals(big));
    const part = await fetch(`${r.url}/v2/s3/img/blobs/${sha256(big)}`, { headers: { Range: 'bytes=10-19' } });
    assert.ok(Buffer.from(await part.arrayBuffer()).equals(big.subarray(10, 20)));
    const img = await pushImage('s3/img', 'v1', { base: r.url });
    assert.equal((await fetch(`${r.url}/v2/s3/img/manifests/v1`, { headers: { Accept: DOCKER_MANIFEST } })).headers.get('docker-content-digest'), img.digest);
    assert.deepEqual((await (await fetch(`${r.url}/v2/s3/img/tags/list`)).json() as TagList).tags, ['v1']);
    const s2 = await fetch(`${r.url}/v2/s3/img/blobs/uploads/`, { method: 'POST' });
    const l2 = new URL(s2.headers.get('location')!, r.url);
    l2.searchParams.set('digest', sha256('not this'));
    const bad = await fetch(l2, { method: 'PUT', body: 'the content' });
    assert.equal(bad.status, 400);
    assert.equal(await errorCode(bad), 'DIGEST_INVALID');
    assert.equal((await fetch(`${r.url}/v2/s3/img/blobs/${sha256('the content')}`, { method: 'HEAD' })).status, 404);
    // Nothing of it in the bucket either.
    const objects: string[] = [];
    const walk = (d: string) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { if (e.isDirectory()) walk(path.join(d, e.name)); else objects.push(path.join(d, e.name)); } };
    walk(s3dir);
    assert.ok(objects.some((o) => o.includes(sha256(big).slice(7))), 'the bucket holds the blob');
    assert.ok(!objects.some((o) => o.includes(sha256('the content').slice(7))));
    // Deletion and GC on S3: the deleted image's layer leaves the bucket; nothing else of v1 was shared.
    assert.equal((await fetch(`${r.url}/v2/s3/img/manifests/${img.digest}`, { method: 'DELETE' })).status, 202);
    await r.stop();
    // Not execFileSync: s3rver runs in this process and must answer meanwhile.
    const gc = await new Promise<string>((resolve, reject) => execFile(path.join(repoRoot, 'bin/berth'), ['registry', 'gc', ...s3flags], { encoding: 'utf8' }, (err, out) => (err ? reject(err) : resolve(out))));
    assert.match(gc, /freed \d+ bytes/);
    objects.length = 0;
    walk(s3dir);
    assert.ok(!objects.some((o) => o.includes(img.layerDigests[0].slice(7))), 'the unreferenced layer is gone from the bucket');
  } finally {
    await r.cleanup();
    await s3.close();
  }
});
