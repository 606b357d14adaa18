// Bad input to the build, network, volume, checkpoint, registry (pull, push, login, search) and bootstrap routes:
// malformed JSON, wrong JSON types, hostile or broken context tars, bad references and hosts, a registry answering
// garbage. Each gets a clear error naming the problem, nothing is stored from it, and /_ping still answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { TestDaemon, type ApiResponse } from '../helpers/daemon';
import { repoRoot } from '../helpers/paths';
import type { ErrorBody, JSONMessage } from '../helpers/api-types';
import { makeTar, type TarEntry } from '../unit/image-helpers';

const d = new TestDaemon('badapi');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-badapi-work-'));
/** A directory outside the daemon that hostile contexts aim at: it must stay empty. */
const canaryDir = path.join(work, 'canary');
fs.mkdirSync(canaryDir);

// A registry on 127.0.0.1 answering garbage, in a child process (the tests' curl calls block this one's loop).
// Besides garbage it serves well-formed images whose layers are hostile (escape by ../ or through a symlink) or whose
// layer does not match its config's diff ID.
const REGISTRY = `
const http = require('http');
const crypto = require('crypto');
const zlib = require('zlib');
const { makeTar } = require(process.argv[1]);
const mt = 'application/vnd.docker.distribution.manifest.v2+json';
const sha = (b) => 'sha256:' + crypto.createHash('sha256').update(b).digest('hex');
const images = {};
function image(name, layerTar, diffTar = layerTar) {
  const blob = zlib.gzipSync(layerTar);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha(diffTar)] }, config: { Cmd: ['sh'] } }));
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: mt,
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: config.length, digest: sha(config) },
    layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: blob.length, digest: sha(blob) }] }));
  images[name] = { manifest, blobs: { [sha(config)]: config, [sha(blob)]: blob } };
}
(async () => {
  image('escape', await makeTar([{ name: '../../../../../..' + process.argv[2] + '/pulled', data: 'x' }]));
  image('symlink', await makeTar([{ name: 'l', type: 'symlink', linkname: process.argv[2] }, { name: 'l/pulled', data: 'x' }]));
  image('difflie', await makeTar([{ name: 'a', data: 'a' }]), await makeTar([{ name: 'b', data: 'b' }]));
  image('oversize', await makeTar([{ name: 'a', data: 'a' }]));
  images.oversize.junk = true;
  start();
})();
function start() { http.createServer((req, res) => {
  if (req.url === '/v2/') { res.writeHead(200, { 'Docker-Distribution-API-Version': 'registry/2.0' }); return res.end('{}'); }
  const hit = /^\\/v2\\/(.+)\\/(manifests|blobs)\\/(.+)$/.exec(req.url);
  const im = hit && images[hit[1]];
  if (im && hit[2] === 'manifests') { res.writeHead(200, { 'Content-Type': mt }); return res.end(im.manifest); }
  if (im && im.blobs[hit[3]] && im.junk && hit[2] === 'blobs' && im.blobs[hit[3]][0] === 0x1f) {
    // The layer, then 256 MiB more than its manifest's size: the puller must stop at the size, not at the disk's end.
    res.writeHead(200); res.write(im.blobs[hit[3]]);
    let n = 0; const chunk = Buffer.alloc(1 << 20, 0x41);
    const w = () => { while (n < 256) { n++; if (!res.write(chunk)) return res.once('drain', w); } res.end(); };
    res.on('error', () => undefined);
    return w();
  }
  if (im && im.blobs[hit[3]]) { res.writeHead(200); return res.end(im.blobs[hit[3]]); }
  const repo = (/^\\/v2\\/(.+)\\/(manifests|blobs|tags)\\//.exec(req.url) || [])[1];
  if (repo === 'garbage') { res.writeHead(200, { 'Content-Type': mt }); return res.end('\\u0000not json'); }
  if (repo === 'huge') {
    res.writeHead(200, { 'Content-Type': mt });
    let n = 0; const chunk = Buffer.alloc(1 << 20, 0x20);
    const w = () => { while (n < 64) { n++; if (!res.write(chunk)) return res.once('drain', w); } res.end(); };
    return w();
  }
  if (repo === 'truncated') { res.writeHead(200, { 'Content-Type': mt, 'Content-Length': '500' }); res.write('{"schemaVersion":2,"config":{'); return setTimeout(() => res.destroy(), 50); }
  if (repo === 'wrongshape') { res.writeHead(200, { 'Content-Type': mt }); return res.end(JSON.stringify({ schemaVersion: 2, mediaType: mt, config: 5, layers: 'x' })); }
  if (repo === 'status500') { res.writeHead(500); return res.end('oops'); }
  res.writeHead(404, { 'Content-Type': 'application/json' });
  res.end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
}).listen(0, '127.0.0.1', function () {
  const main = this.address().port;
  // A second registry whose challenge names a realm that is not a URL.
  http.createServer((req, res) => { res.writeHead(401, { 'WWW-Authenticate': 'Bearer realm="http://[bad",service="x"' }); res.end(); })
    .listen(0, '127.0.0.1', function () { console.log(main + ' ' + this.address().port); });
}); }
`;
let badRealmHost: string;
let registry: ChildProcessByStdio<null, Readable, null> | undefined;
let regHost: string;

before(async () => {
  const reg = spawn(process.execPath, ['-e', REGISTRY, path.join(repoRoot, 'dist-test/test/unit/image-helpers.js'), canaryDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  registry = reg;
  const ports = (await new Promise<string>((resolve) => reg.stdout.once('data', (b: Buffer) => resolve(String(b).trim())))).split(' ');
  regHost = `127.0.0.1:${ports[0]}`;
  badRealmHost = `127.0.0.1:${ports[1]}`;
  await d.startWithBusybox();
});
after(async () => {
  if (registry) registry.kill();
  await d.cleanup();
  fs.rmSync(work, { recursive: true, force: true });
  fs.rmSync(path.join(os.tmpdir(), `berth-busybox-${process.pid}.tar`), { force: true });
});

/** Raw HTTP with a body from a file: { status, body }. */
function post(urlPath: string, file: string, contentType = 'application/x-tar') {
  const r = spawnSync('curl', ['-s', '-m', '120', '-o', '-', '-w', '\n%{http_code}', '--unix-socket', d.sock, '-X', 'POST', '-H', `Content-Type: ${contentType}`, '--data-binary', `@${file}`, `http://berth${urlPath}`], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const i = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(i + 1)), body: r.stdout.slice(0, i) };
}

/** The status and JSON message match, and the daemon still answers. */
function assertRefused(res: ApiResponse, status: number, pattern: RegExp, what: string) {
  assert.equal(res.status, status, `${what}: status ${res.status}, body ${res.body.slice(0, 500)}`);
  assert.match((JSON.parse(res.body) as ErrorBody).message, pattern, what);
  assert.ok(d.ping(), `daemon answers /_ping after ${what}`);
}

/** A streamed reply (build, push) that ends with an error message matching `pattern`. */
function assertStreamError(res: ApiResponse, pattern: RegExp, what: string) {
  assert.equal(res.status, 200, `${what}: ${res.body.slice(0, 500)}`);
  const last = JSON.parse(res.body.trim().split('\n').pop() ?? '') as JSONMessage;
  assert.match(last.error ?? '', pattern, `${what}: ${res.body.slice(-500)}`);
  assert.ok(d.ping(), `daemon answers /_ping after ${what}`);
}

/** One refused request: method, URL, body, the status and message expected, and any headers. */
type RefusedCase = [string, string, unknown, number, RegExp, Record<string, string>?];

function runCases(cases: RefusedCase[]) {
  for (const [method, url, body, status, pattern, headers] of cases) {
    assertRefused(d.api(method, url, body, headers), status, pattern, `${method} ${url} ${body ?? ''}`);
  }
}

const enc = encodeURIComponent;
const b64 = (s: string) => Buffer.from(s).toString('base64');

test('networks: bad JSON, wrong types, bad IPAM and unknown ids are refused; nothing is created from them', () => {
  const before = d.dockerOk(['network', 'ls', '-q']).split('\n').sort();
  runCases([
    ['POST', '/networks/create', '{bad', 400, /invalid JSON in request body/],
    ['POST', '/networks/create', '[1]', 400, /^json: cannot unmarshal array into Go value of type network.CreateRequest$/],
    ['POST', '/networks/create', '{}', 400, /network name must not be empty/],
    ['POST', '/networks/create', '{"Name":5}', 400, /cannot unmarshal number into Go struct field CreateRequest.Name of type string/],
    ['POST', '/networks/create', '{"Name":"  "}', 400, /network name must not be empty/],
    ['POST', '/networks/create', '{"Name":"bridge"}', 403, /operation is not permitted on predefined bridge network/],
    ['POST', '/networks/create', '{"Name":"n1","Internal":"yes"}', 400, /CreateRequest.Internal of type bool/],
    ['POST', '/networks/create', '{"Name":"n1","Options":{"a":5}}', 400, /^json: cannot unmarshal number into Go struct field CreateRequest.Options of type string$/],
    ['POST', '/networks/create', '{"Name":"n1","Labels":[1]}', 400, /CreateRequest.Labels of type map\[string\]string/],
    ['POST', '/networks/create', '{"Name":"n1","IPAM":{"Config":"x"}}', 400, /^json: cannot unmarshal string into Go struct field IPAM.IPAM.Config of type \[\]network.IPAMConfig$/],
    ['POST', '/networks/create', '{"Name":"n1","IPAM":{"Config":[5]}}', 400, /^json: cannot unmarshal number into Go struct field IPAM.IPAM.Config of type network.IPAMConfig$/],
    ['POST', '/networks/create', '{"Name":"n1","IPAM":{"Config":[{"Subnet":5}]}}', 400, /Go struct field IPAMConfig.IPAM.Config.Subnet of type string$/],
    ['POST', '/networks/create', '{"Name":"n1","IPAM":{"Config":[{"Subnet":"notasubnet"}]}}', 400, /invalid subnet notasubnet/],
    ['POST', '/networks/create', '{"Name":"n1","IPAM":{"Config":[{"Subnet":"10.199.0.0/99"}]}}', 400, /invalid subnet 10.199.0.0\/99/],
    ['POST', '/networks/create', '{"Name":"n1","IPAM":{"Config":[{"Subnet":"10.199.0.0/16","Gateway":"bad"}]}}', 400, /invalid gateway bad/],
    ['POST', '/networks/create', '{"Name":"n1","IPAM":{"Config":[{"Subnet":"10.199.0.0/16","Gateway":"1.2.3.4"}]}}', 400, /invalid gateway 1.2.3.4: it is not a host address of subnet/],
    ['POST', '/networks/create', '{"Name":"n1","IPAM":{"Config":[{"Subnet":"10.199.0.0/16","IPRange":"10.198.0.0/24"}]}}', 400, /invalid ip-range 10.198.0.0\/24: it is not inside subnet/],
    ['POST', '/networks/create', '{"Name":"n1","Driver":"nosuch"}', 404, /could not find plugin nosuch/],
    ['POST', '/networks/create', '{"Name":"n1","IPAM":{"Driver":"nosuch"}}', 404, /could not find plugin nosuch/],
    ['POST', '/networks/nosuch/connect', '{"Container":"x"}', 404, /network nosuch not found/],
    ['POST', '/networks/bridge/connect', '{bad', 400, /invalid JSON in request body/],
    ['POST', '/networks/bridge/connect', '{}', 400, /a container name or ID is required/],
    ['POST', '/networks/bridge/connect', '[1]', 400, /^json: cannot unmarshal array into Go value of type network.ConnectOptions$/],
    ['POST', '/networks/bridge/connect', '{"Container":5}', 400, /Go struct field ConnectOptions.Container of type string$/],
    ['POST', '/networks/bridge/connect', '{"Container":"x","EndpointConfig":"y"}', 400, /Go struct field ConnectOptions.EndpointConfig of type network.EndpointSettings$/],
    ['POST', '/networks/bridge/connect', '{"Container":"nosuch"}', 404, /No such container: nosuch/],
    ['POST', '/networks/bridge/connect', '{"Container":"x","EndpointConfig":{"IPAMConfig":"x"}}', 400, /Go struct field EndpointSettings.EndpointConfig.IPAMConfig of type network.EndpointIPAMConfig$/],
    ['POST', '/networks/bridge/connect', '{"Container":"x","EndpointConfig":{"Aliases":"x"}}', 400, /Go struct field EndpointSettings.EndpointConfig.Aliases of type \[\]string$/],
    ['POST', '/networks/bridge/connect', '{"Container":"x","EndpointConfig":{"Aliases":[5]}}', 400, /cannot unmarshal number into Go struct field EndpointSettings.EndpointConfig.Aliases of type string$/],
    ['POST', '/networks/bridge/connect', '{"Container":"x","EndpointConfig":{"DriverOpts":[1]}}', 400, /Go struct field EndpointSettings.EndpointConfig.DriverOpts of type map\[string\]string$/],
    ['POST', '/networks/bridge/connect', '{"Container":"x","EndpointConfig":{"IPAMConfig":{"IPv4Address":5}}}', 400, /Go struct field EndpointIPAMConfig.EndpointConfig.IPAMConfig.IPv4Address of type string$/],
    ['POST', '/networks/create', '{"Name":"n1","Options":{"com.docker.network.driver.mtu":"abc"}}', 400, /failed to parse com.docker.network.driver.mtu value: abc/],
    ['POST', '/networks/create', '{"Name":"n1","Options":{"com.docker.network.bridge.enable_icc":"maybe"}}', 400, /failed to parse com.docker.network.bridge.enable_icc value: maybe/],
    ['POST', '/networks/create', '{"Name":"n1","Options":{"com.docker.network.bridge.host_binding_ipv4":"x"}}', 400, /failed to parse com.docker.network.bridge.host_binding_ipv4 value: x/],
    ['POST', '/networks/create', '{"Name":"n1","Options":{"com.docker.network.bridge.name":"a/b"}}', 400, /invalid bridge name "a\/b"/],
    ['POST', '/networks/bridge/disconnect', '{"Container":"x","Force":"yes"}', 400, /Go struct field DisconnectOptions.Force of type bool$/],
    ['POST', '/networks/bridge/disconnect', 'null', 400, /a container name or ID is required/],
    ['DELETE', '/networks/nosuch', undefined, 404, /network nosuch not found/],
    ['GET', '/networks/nosuch', undefined, 404, /network nosuch not found/],
    ['GET', `/networks?filters=${enc('{bad')}`, undefined, 400, /invalid filter/],
    ['POST', `/networks/prune?filters=${enc('{"x":["y"]}')}`, undefined, 400, /invalid filter 'x'/],
  ]);
  assert.deepEqual(d.dockerOk(['network', 'ls', '-q']).split('\n').sort(), before, 'no network made from bad input');
  assert.match(d.dockerFail(['network', 'create', '--subnet', 'nonsense', 'n2']), /invalid subnet nonsense/);
  assert.match(d.dockerFail(['network', 'create', '-o', 'com.docker.network.driver.mtu=abc', 'n2']), /failed to parse com.docker.network.driver.mtu value: abc/);
  // Good options still make a network.
  d.dockerOk(['network', 'create', '-o', 'com.docker.network.driver.mtu=1400', '-o', 'com.docker.network.bridge.enable_icc=false', 'n3']);
  d.dockerOk(['network', 'rm', 'n3']);
});

test('volumes: bad names (../, /, too long), bad driver opts and wrong types are refused; nothing is left on disk', () => {
  const volDir = path.join(d.dataRoot, 'volumes');
  const before = fs.existsSync(volDir) ? fs.readdirSync(volDir).sort() : [];
  runCases([
    ['POST', '/volumes/create', '{bad', 400, /invalid JSON in request body/],
    ['POST', '/volumes/create', '[1]', 400, /^json: cannot unmarshal array into Go value of type volume.CreateOptions$/],
    // Found by the API fuzzer (seed 7): a number for a name reached the filesystem and answered 500.
    ['POST', '/volumes/create', '{"Name":2147483648}', 400, /^json: cannot unmarshal number into Go struct field CreateOptions.Name of type string$/],
    ['POST', '/volumes/create', '{"Labels":{"a":1}}', 400, /^json: cannot unmarshal number into Go struct field CreateOptions.Labels of type string$/],
    ['POST', '/volumes/create', '{"Name":"../x"}', 400, /"..\/x" includes invalid characters for a local volume name/],
    ['POST', '/volumes/create', '{"Name":"a/b"}', 400, /"a\/b" includes invalid characters/],
    ['POST', '/volumes/create', '{"Name":".."}', 400, /includes invalid characters/],
    ['POST', '/volumes/create', '{"Name":"."}', 400, /volume name is too short/],
    ['POST', '/volumes/create', JSON.stringify({ Name: 'a'.repeat(300) }), 400, /volume name is too long: at most 236 characters, got 300/],
    ['POST', '/volumes/create', '{"Name":"v1","Driver":"nosuch"}', 404, /plugin "nosuch" not found/],
    ['POST', '/volumes/create', '{"Name":"v1","DriverOpts":{"bogus":"x"}}', 400, /invalid option: "bogus"/],
    ['POST', '/volumes/create', '{"Name":"v1","DriverOpts":{"o":"size=1"}}', 400, /missing required option: "device"/],
    ['POST', '/volumes/create', '{"Name":"v1","DriverOpts":"x"}', 400, /CreateOptions.DriverOpts of type map\[string\]string/],
    ['POST', '/volumes/create', '{"Name":"v1","DriverOpts":{"type":5}}', 400, /CreateOptions.DriverOpts/],
    ['POST', '/volumes/create', '{"Name":"v1","Labels":[1]}', 400, /CreateOptions.Labels/],
    ['GET', `/volumes/${enc('../../etc')}`, undefined, 404, /no such volume/],
    ['DELETE', `/volumes/${enc('../x')}`, undefined, 404, /no such volume/],
    ['GET', `/volumes?filters=${enc('{bad')}`, undefined, 400, /invalid filter/],
    ['POST', `/volumes/prune?filters=${enc('{"all":["maybe"]}')}`, undefined, 400, /invalid filter 'all'/],
  ]);
  assert.deepEqual(fs.existsSync(volDir) ? fs.readdirSync(volDir).sort() : [], before, 'nothing left in the volume store');
  // The longest name that fits works end to end: created, then removed.
  const longest = 'b'.repeat(236);
  d.dockerOk(['volume', 'create', longest]);
  d.dockerOk(['volume', 'rm', longest]);
  assert.match(d.dockerFail(['volume', 'create', 'x'.repeat(237)]), /volume name is too long/);
});

test('container create: wrong types and bad names in its network and mount config are refused', () => {
  const before = d.dockerOk(['ps', '-aq']);
  const create = (body: object): [string, string, string] => ['POST', '/containers/create', JSON.stringify({ Image: 'busybox', ...body })];
  runCases([
    [...create({ NetworkingConfig: { EndpointsConfig: 'x' } }), 400, /NetworkingConfig.EndpointsConfig of type map/],
    // Go's words: the innermost struct, then the field path from the body's root (api/shapes/decode.ts).
    [...create({ NetworkingConfig: { EndpointsConfig: { bridge: 5 } } }), 400, /cannot unmarshal number into Go struct field NetworkingConfig.NetworkingConfig.EndpointsConfig of type network.EndpointSettings$/],
    [...create({ NetworkingConfig: { EndpointsConfig: { bridge: { Aliases: [5] } } } }), 400, /cannot unmarshal number into Go struct field EndpointSettings.NetworkingConfig.EndpointsConfig.Aliases of type string$/],
    // Found by the API fuzzer: a label that is not a string was stored and broke `docker ps` for every client.
    [...create({ Labels: { a: ['x'] } }), 400, /cannot unmarshal array into Go struct field CreateRequest.Labels of type string$/],
    [...create({ HostConfig: { Memory: 1.5 } }), 400, /cannot unmarshal number 1.5 into Go struct field HostConfig.HostConfig.Memory of type int64$/],
    [...create({ NetworkingConfig: { EndpointsConfig: { nosuchnet: {} } } }), 400, /network nosuchnet not found/],
    [...create({ HostConfig: { Mounts: 'x' } }), 400, /HostConfig.Mounts of type \[\]mount.Mount/],
    [...create({ HostConfig: { Mounts: [5] } }), 400, /HostConfig.Mounts/],
    [...create({ HostConfig: { Mounts: [{ Type: 'volume', Source: 'vv', Target: '/x', VolumeOptions: 'x' }] } }), 400, /HostConfig.Mounts/],
    [...create({ HostConfig: { Mounts: [{ Type: 'volume', Source: '../x', Target: '/x' }] } }), 400, /"..\/x" includes invalid characters for a local volume name/],
    [...create({ HostConfig: { Binds: ['a/b:/x'] } }), 400, /"a\/b" includes invalid characters/],
    [...create({ HostConfig: { Binds: [`${'a'.repeat(300)}:/x`] } }), 400, /volume name is too long/],
  ]);
  assert.equal(d.dockerOk(['ps', '-aq']), before, 'no container made from bad input');
  assert.equal(d.dockerOk(['volume', 'ls', '-q']), '', 'no volume made from bad input');
});

test('checkpoints: bad names, bodies and directories are refused', () => {
  d.dockerOk(['create', '--name', 'ck1', 'busybox', 'sleep', '100']);
  runCases([
    ['GET', '/containers/nosuch/checkpoints', undefined, 404, /No such container: nosuch/],
    ['POST', '/containers/ck1/checkpoints', '{bad', 400, /invalid JSON in request body/],
    ['POST', '/containers/ck1/checkpoints', '[1]', 400, /^json: cannot unmarshal array into Go value of type checkpoint.CreateOptions$/],
    ['POST', '/containers/ck1/checkpoints', '{}', 400, /invalid checkpoint ID ""/],
    ['POST', '/containers/ck1/checkpoints', '{"CheckpointID":5}', 400, /^json: cannot unmarshal number into Go struct field CreateOptions.CheckpointID of type string$/],
    ['POST', '/containers/ck1/checkpoints', '{"CheckpointID":"../x"}', 400, /invalid checkpoint ID "..\/x"/],
    ['POST', '/containers/ck1/checkpoints', '{"CheckpointID":"a/b"}', 400, /invalid checkpoint ID "a\/b"/],
    ['POST', '/containers/ck1/checkpoints', '{"CheckpointID":"ok"}', 409, /is not running/],
    ['DELETE', `/containers/ck1/checkpoints/${enc('../../x')}`, undefined, 400, /invalid checkpoint ID "..\/..\/x"/],
    ['DELETE', '/containers/ck1/checkpoints/nosuch', undefined, 404, /checkpoint nosuch does not exist for container ck1/],
    ['GET', `/containers/ck1/checkpoints?dir=${enc('../../')}`, undefined, 400, /checkpoint directory must be an absolute path/],
    ['GET', `/containers/ck1/checkpoints?dir=/${'a'.repeat(300)}`, undefined, 400, /checkpoint directory path is too long/],
    ['POST', '/containers/ck1/checkpoints', JSON.stringify({ CheckpointID: 'ok', CheckpointDir: `/${'a/'.repeat(2100)}` }), 400, /checkpoint directory path is too long/],
    ['POST', `/containers/ck1/start?checkpoint=${enc('../x')}`, undefined, 400, /invalid checkpoint ID "..\/x"/],
    ['POST', '/containers/ck1/start?checkpoint=nosuch', undefined, 404, /checkpoint nosuch does not exist/],
  ]);
  d.dockerOk(['rm', 'ck1']);
});

test('login, search, push and bootstrap: bad bodies, auth headers, hosts, filters and refs are refused', () => {
  runCases([
    ['POST', '/auth', '{bad', 400, /invalid JSON in request body/],
    ['POST', '/auth', '[1]', 400, /^json: cannot unmarshal array into Go value of type registry.AuthConfig$/],
    ['POST', '/auth', '{}', 400, /serveraddress is required/],
    ['POST', '/auth', '{"username":5,"serveraddress":"x"}', 400, /AuthConfig.username of type string/],
    ['POST', '/auth', '{"serveraddress":{}}', 400, /AuthConfig.serveraddress of type string/],
    ['POST', '/auth', '{"serveraddress":"::bad::"}', 400, /invalid registry address "::bad::"/],
    ['POST', '/auth', '{"serveraddress":"http://[bad"}', 400, /invalid registry address "\[bad"/],
    ['POST', '/auth', '{"serveraddress":"127.0.0.1:99999"}', 400, /invalid registry address "127.0.0.1:99999"/],
    ['POST', '/auth', '{"username":"u","password":"p","serveraddress":"127.0.0.1:1"}', 500, /127\.0\.0\.1:1.*ECONNREFUSED/],
    ['GET', '/images/search', undefined, 400, /term is required/],
    ['GET', '/images/search?term=x&limit=abc', undefined, 400, /invalid value for limit/],
    ['GET', '/images/search?term=x&limit=-5', undefined, 400, /outside the range/],
    ['GET', `/images/search?term=x&filters=${enc('{bad')}`, undefined, 400, /invalid filter/],
    ['GET', `/images/search?term=x&filters=${enc('{"stars":["abc"]}')}`, undefined, 400, /invalid filter 'stars=abc'/],
    ['GET', `/images/search?term=x&filters=${enc('{"is-official":["maybe"]}')}`, undefined, 400, /invalid filter 'is-official=maybe'/],
    ['GET', `/images/search?term=x&filters=${enc('{"nokey":["x"]}')}`, undefined, 400, /invalid filter 'nokey'/],
    ['GET', `/images/search?term=${enc('::x/y')}`, undefined, 400, /invalid registry address "::x"/],
    ['POST', '/images/busybox/push', undefined, 400, /invalid X-Registry-Auth header: not base64-encoded JSON/, { 'X-Registry-Auth': b64('{bad') }],
    ['POST', '/images/busybox/push', undefined, 400, /invalid X-Registry-Auth header: json: cannot unmarshal number into Go struct field AuthConfig.username/, { 'X-Registry-Auth': b64('{"username":5}') }],
    ['POST', '/images/nosuch/push', undefined, 404, /An image does not exist locally with the tag: nosuch/],
    ['POST', '/images/BAD/push', undefined, 400, /invalid reference format/],
    ['POST', '/images/bootstrap', undefined, 400, /ref is required/],
    ['POST', '/images/bootstrap?ref=BAD', undefined, 400, /cannot bootstrap BAD: only Debian's official images/],
    ['POST', `/images/bootstrap?ref=${enc('debian:../../x')}`, undefined, 400, /cannot bootstrap debian:..\/..\/x/],
    ['POST', '/images/bootstrap?ref=ubuntu:22.04', undefined, 400, /only Debian's official images/],
  ]);
  // Through the CLI: a bad search filter is named before any registry is asked.
  assert.match(d.dockerFail(['search', '--filter', 'stars=many', 'x']), /invalid filter 'stars=many'/);
});

test('pull: bad references and hosts, and a registry answering garbage, get clear errors; no image is stored', () => {
  const before = d.dockerOk(['images', '-aq', '--no-trunc']);
  runCases([
    ['POST', `/images/create?fromImage=${regHost}/garbage&tag=latest`, undefined, 400, /the manifest of 127\.0\.0\.1:\d+\/garbage:latest is not JSON/],
    ['POST', `/images/create?fromImage=${regHost}/wrongshape&tag=latest`, undefined, 400, /config and layers must be sha256 descriptors/],
    ['POST', `/images/create?fromImage=${regHost}/huge&tag=latest`, undefined, 500, /reading the manifest of .*huge:latest from http:\/\/127\.0\.0\.1:\d+: response larger than/],
    ['POST', `/images/create?fromImage=${regHost}/truncated&tag=latest`, undefined, 500, /reading the manifest of .*truncated:latest .*closed the connection before the end/],
    ['POST', `/images/create?fromImage=${regHost}/status500&tag=latest`, undefined, 500, /unexpected HTTP status: 500/],
    ['POST', `/images/create?fromImage=${regHost}/nosuch&tag=latest`, undefined, 404, /manifest for .*nosuch:latest not found/],
    ['POST', `/images/create?fromImage=${badRealmHost}/x&tag=latest`, undefined, 500, /bearer token realm "http:\/\/\[bad" is not a URL/],
    ['POST', '/auth', JSON.stringify({ username: 'u', password: 'p', serveraddress: badRealmHost }), 500, /bearer token realm "http:\/\/\[bad" is not a URL/],
    ['POST', `/images/create?fromImage=${regHost}/x&platform=${enc('bad//')}`, undefined, 400, /invalid platform "bad\/\/"/],
    ['POST', `/images/create?fromImage=${regHost}/x&tag=latest&platform=${enc('bad//')}`, undefined, 400, /invalid platform "bad\/\/"/],
    ['POST', `/images/create?fromImage=${enc('127.0.0.1:99999/x')}&tag=latest`, undefined, 400, /invalid registry address "127.0.0.1:99999"/],
    ['POST', `/images/create?fromImage=${regHost}/x@sha256:zz`, undefined, 400, /invalid reference format/],
    ['POST', '/images/create?fromImage=x&tag=bad:tag', undefined, 400, /invalid reference format/],
    ['POST', `/images/create?fromImage=${'a'.repeat(300)}`, undefined, 400, /must not be more than 255 characters/],
  ]);
  // Well-formed images with hostile layers: refused while unpacking, nothing written outside, nothing stored.
  const stream = (r: string) => post(`/images/create?fromImage=${regHost}/${r}&tag=latest`, '/dev/null');
  assertStreamError(stream('escape'), /refusing to unpack tar entry ".*\/pulled": path escapes the target directory/, 'pull of a layer with ../');
  assertStreamError(stream('symlink'), /refusing to unpack tar entry "l\/pulled": parent l is a symlink/, 'pull of a layer writing through a symlink');
  assertStreamError(stream('difflie'), /does not unpack to the diff ID its image config names: digest mismatch/, 'pull of a layer that is not its diff ID');
  assertStreamError(stream('oversize'), /sent more than the \d+ bytes its manifest gives/, 'pull of a layer longer than its manifest says');
  assert.deepEqual(fs.readdirSync(canaryDir), [], 'nothing written outside by a pull');
  assert.equal(d.dockerOk(['images', '-aq', '--no-trunc']), before, 'no image stored from a bad pull');
  assert.match(d.dockerFail(['pull', `${regHost}/garbage`]), /is not JSON/);
});

test('build: broken, compressed-garbage and hostile contexts and bad parameters are refused; nothing escapes', async () => {
  const file = async (name: string, data: Buffer | TarEntry[]) => {
    const p = path.join(work, name);
    fs.writeFileSync(p, Buffer.isBuffer(data) ? data : await makeTar(data));
    return p;
  };
  const good = await file('good.tar', [{ name: 'Dockerfile', data: 'FROM busybox\nRUN true\n' }]);
  const rel = path.relative('/', canaryDir);
  const up = '../'.repeat(20);
  const big = await makeTar([{ name: 'Dockerfile', data: 'FROM busybox\n' }, { name: 'big', data: Buffer.alloc(100_000, 'z') }]);
  const cases: [string, string, number, RegExp][] = [
    ['garbage', await file('garbage.bin', Buffer.alloc(5000, 'g')), 400, /the build context is not a tar archive/],
    ['a tar cut inside a file', await file('cut.tar', big.subarray(0, 30_000)), 400, /invalid tar archive/],
    ['a cut gzip', await file('cut.tgz', zlib.gzipSync(fs.readFileSync(good)).subarray(0, 40)), 400, /the build context is not a valid compressed archive: unexpected end of file/],
    ['a corrupt gzip', await file('bad.tgz', Buffer.from('1f8b0800676172626167656761726261676567', 'hex')), 400, /the build context is not a valid compressed archive/],
    ['a ../ entry', await file('dotdot.tar', [{ name: 'Dockerfile', data: 'FROM busybox\n' }, { name: `${up}${rel}/dotdot`, data: 'x' }]), 400, /path escapes the target directory/],
    ['no Dockerfile', await file('nodf.tar', [{ name: 'x', data: 'y' }]), 400, /Cannot locate specified Dockerfile: Dockerfile/],
    ['a binary Dockerfile', await file('bin.tar', [{ name: 'Dockerfile', data: Buffer.from([0x50, 0xff, 0xfe, 0x00, 0x01, 0x0a]) }]), 400, /dockerfile parse error on line 1: unknown instruction/],
  ];
  for (const [what, f, status, pattern] of cases) assertRefused(post('/build', f), status, pattern, `build of ${what}`);
  // A symlink out of the context, then a write through it: refused when COPY . unpacks, nothing written outside.
  const sl = await file('symlink.tar', [{ name: 'Dockerfile', data: 'FROM busybox\nCOPY . /\n' }, { name: 'up', type: 'symlink', linkname: `${up}${rel}` }, { name: 'up/through', data: 'x' }]);
  assertStreamError(post('/build', sl), /symlink target .* escapes the target directory/, 'build through a symlink out');
  // A symlink to a host file: COPY resolves it inside the context, where it is not.
  const host = await file('hostlink.tar', [{ name: 'Dockerfile', data: 'FROM busybox\nCOPY link /x\n' }, { name: 'link', type: 'symlink', linkname: '/etc/passwd' }]);
  assertStreamError(post('/build', host), /COPY failed: file not found in build context/, 'COPY of a symlink to a host file');
  assert.deepEqual(fs.readdirSync(canaryDir), [], 'nothing written outside by a build');
  // A huge RUN line fails as a step, the daemon keeps going.
  const huge = await file('huge.tar', [{ name: 'Dockerfile', data: `FROM busybox\nRUN echo ${'a'.repeat(3_000_000)}\n` }]);
  assertStreamError(post('/build?nocache=1', huge), /returned a non-zero code|argument list too long/, 'a 3 MB RUN line');
  const params: [string, RegExp][] = [
    [`buildargs=${enc('{bad')}`, /error reading build args/],
    [`buildargs=${enc('[1]')}`, /error reading build args: json: cannot unmarshal array into Go value of type map\[string\]\*string/],
    [`buildargs=${enc('{"a":5}')}`, /error reading build args: json: cannot unmarshal number into Go value of type string/],
    ['labels=notjson', /error reading labels/],
    [`labels=${enc('{"a":[1]}')}`, /error reading labels/],
    ['cachefrom=notjson', /error reading cache-from/],
    ['ulimits=bad', /error reading ulimit settings/],
    ['memory=abc', /parsing "abc": invalid syntax/],
    [`t=${enc('BAD//x')}`, /invalid reference format/],
    [`t=${enc('x@sha256:' + '0'.repeat(64))}`, /refusing to create a tag with a digest reference/],
    [`dockerfile=${enc('../../etc/passwd')}`, /forbidden path outside the build context/],
    [`platform=${enc('bad//')}`, /platform bad\/\/ is not supported/],
    ['target=nosuch', /target stage "nosuch" could not be found/],
    ['version=9', /invalid version "9"/],
  ];
  const images = d.dockerOk(['images', '-q']);
  for (const [q, pattern] of params) assertRefused(post(`/build?${q}`, good), 400, pattern, `build with ${q}`);
  assert.equal(d.dockerOk(['images', '-q']), images, 'a refused -t tags nothing');
  assert.match(d.dockerFail(['build', '-t', 'Bad//Tag', '-'], { input: 'FROM busybox\n' }), /invalid reference format/);
});

test('the daemon logged no uncaught exception or programming error for any of it', () => {
  const log = fs.readFileSync(d.logFile, 'utf8');
  assert.doesNotMatch(log, /TypeError|ReferenceError|RangeError|uncaught|unhandled/i, log.slice(-3000));
  assert.ok(d.ping());
});
